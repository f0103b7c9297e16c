// The guest image: built from Debian's archive with the packages and kernel modules the tier
// needs, cached by its recipe (a second run skips the build), and never left half-built.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cachedImage, ensureImage, qemuAvailability, recipeKey, sleep, until } from './lib/index.js';
import { SCRIPTS } from './lib/image.js';

const avail = qemuAvailability();
if (!avail.ok) console.warn(`QEMU tier skipped: ${avail.reason}`);

const PACKAGES = ['drbd-utils', 'nfs-kernel-server', 'nfs-common', 'rpcbind', 'pacemaker', 'corosync', 'pacemaker-cli-utils', 'resource-agents', 'iproute2', 'tcpdump', 'iputils-arping', 'kmod', 'procps', 'util-linux', 'e2fsprogs', 'xfsprogs', 'psmisc', 'libxml2-utils', 'fence-agents', 'ipmitool'];

describe.skipIf(!avail.ok)('QEMU guest image', () => {
  test('is built (or found) in the cache under the sha256 of its recipe, with the packages the guests need', async () => {
    const t0 = Date.now();
    const wasCached = cachedImage() !== undefined;
    const img = await ensureImage({ log: (l) => console.log(l) });
    console.log(`image: ${wasCached ? 'found in the cache' : 'built'} in ${Date.now() - t0} ms: ${img.dir}`);
    expect(img.dir.endsWith(recipeKey())).toBe(true);
    const manifest = readFileSync(img.manifest, 'utf8');
    expect(manifest).toMatch(/^kernel linux-image-6\.1\.0-\d+-amd64 /m);
    for (const p of PACKAGES) expect(manifest, p).toMatch(new RegExp(`^${p} \\S+$`, 'm'));
    for (const f of [img.kernel, img.initrd, img.root]) expect(existsSync(f), f).toBe(true);
    // The modules are inside the root image (read without mounting it).
    const kver = /^kernel \S+ (\S+)$/m.exec(manifest)![1]!;
    const ls = (dir: string) => spawnSync('debugfs', ['-R', `ls -l /usr/lib/modules/${kver}/kernel/${dir}`, img.root], { encoding: 'utf8' }).stdout;
    expect(ls('drivers/block/drbd')).toMatch(/drbd\.ko/);
    expect(ls('fs/nfsd')).toMatch(/nfsd\.ko/);
    expect(ls('fs/nfs')).toMatch(/nfsv4\.ko/);
    expect(ls('fs/xfs')).toMatch(/xfs\.ko/);
    // A second request is a cache hit: no build.
    const t1 = Date.now();
    let built = false;
    await ensureImage({ log: () => (built = true) });
    expect(built).toBe(false);
    console.log(`image: cache hit in ${Date.now() - t1} ms`);
  }, 20 * 60_000);

  test('a killed build leaves no half image; the next build removes its leftovers', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'ocfkit-qemu-cache-test-'));
    const key = 'f'.repeat(64);
    try {
      const child = spawn('bash', [join(SCRIPTS, 'build-image.sh'), cache, key], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      let log = '';
      child.stderr.on('data', (d: Buffer) => (log += d.toString()));
      const exited = new Promise<void>((r) => child.on('exit', () => r()));
      // Kill it (its whole process group) once it is building in its temporary directory.
      await until(() => readdirSync(cache).some((f) => f.startsWith('.tmp-')) && log.includes('debootstrap'), { timeoutMs: 120_000, intervalMs: 200, what: 'the build to be under way' });
      await sleep(2000);
      process.kill(-child.pid!, 'SIGKILL');
      await exited;
      expect(existsSync(join(cache, key))).toBe(false);
      expect(readdirSync(cache).filter((f) => f.startsWith('.tmp-')).length).toBe(1);
      // Pretend the image is complete so the second run stops after its cleanup (no full build here).
      mkdirSync(join(cache, key));
      writeFileSync(join(cache, key, 'manifest.txt'), 'test\n');
      const again = spawnSync('bash', [join(SCRIPTS, 'build-image.sh'), cache, key], { encoding: 'utf8', timeout: 120_000 });
      expect(again.status).toBe(0);
      expect(again.stderr).toMatch(/removing leftover/);
      expect(again.stderr).toMatch(/already built/);
      expect(readdirSync(cache).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  }, 300_000);
});
