import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const SCRIPTS = join(ROOT, 'scripts', 'qemu');
/** Files whose bytes define the image; their sha256 names the cache entry. */
export const RECIPE = [join(SCRIPTS, 'build-image.sh'), join(SCRIPTS, 'initramfs-init')];
/** Outside the repo; override with OCFKIT_QEMU_CACHE. */
export const CACHE_DIR = process.env.OCFKIT_QEMU_CACHE ?? '/var/cache/ocfkit-qemu';

export interface GuestImage {
  dir: string;
  kernel: string;
  initrd: string;
  /** ext4 root, read-only; every guest writes to its own qcow2 overlay on top. */
  root: string;
  /** Kernel package, package versions, build time. */
  manifest: string;
}

/** sha256 of the recipe files (same as `cat build-image.sh initramfs-init | sha256sum`). */
export function recipeKey(): string {
  const h = createHash('sha256');
  for (const f of RECIPE) h.update(readFileSync(f));
  return h.digest('hex');
}

function imageAt(dir: string): GuestImage {
  return { dir, kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.img'), root: join(dir, 'root.img'), manifest: join(dir, 'manifest.txt') };
}

/** The cached image if it is complete (manifest.txt is written last, then the dir is renamed into place). */
export function cachedImage(): GuestImage | undefined {
  const img = imageAt(join(CACHE_DIR, recipeKey()));
  return existsSync(img.manifest) ? img : undefined;
}

/**
 * Returns the guest image, building it first when the cache has none for this recipe
 * (a few minutes: downloads Debian packages). Concurrent callers wait on the build's lock.
 * `log` receives the build's progress lines.
 */
export async function ensureImage(o: { timeoutMs?: number; log?: (line: string) => void } = {}): Promise<GuestImage> {
  const have = cachedImage();
  if (have) return have;
  const key = recipeKey();
  const timeoutMs = o.timeoutMs ?? 20 * 60_000;
  const lines: string[] = [];
  await new Promise<void>((resolveBuild, reject) => {
    const child = spawn('bash', [join(SCRIPTS, 'build-image.sh'), CACHE_DIR, key], { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`building the guest image took over ${timeoutMs} ms`));
    }, timeoutMs);
    const onData = (b: Buffer) => {
      for (const line of b.toString('utf8').split('\n').filter(Boolean)) {
        lines.push(line);
        o.log?.(line);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolveBuild();
      else reject(new Error(`build-image.sh failed (exit ${code}):\n${lines.slice(-40).join('\n')}`));
    });
  });
  const built = cachedImage();
  if (!built) throw new Error(`build-image.sh succeeded but ${join(CACHE_DIR, key)} has no manifest.txt`);
  return built;
}
