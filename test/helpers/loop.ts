import { spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMounts, type MountEntry } from '../../src/sys/mountinfo.js';
import { deviceState } from '../../src/sys/block.js';

/**
 * Real block devices for tests: a sparse image file in a private temporary
 * directory, attached to a loop device, optionally with ext4 or xfs on it.
 * Everything made here is recorded and removed by destroy()/cleanupLoopDisks(),
 * and, as a last resort, when the test process exits: mounts on the device or
 * below the directory are unmounted (lazily if they stay busy), the loop
 * device is detached, the directory removed.
 */

export type Fstype = 'ext4' | 'xfs';

export interface LoopDisk {
  /** Private temporary directory: the image lives here; use it for mount points too. */
  dir: string;
  image: string;
  /** /dev/loopN, or undefined once detached. */
  device: string;
  fstype?: Fstype;
  label?: string;
  /** Unmounts whatever is mounted from the device, then detaches it. Idempotent. */
  detach(): void;
  /** detach(), unmount anything left below `dir`, remove `dir`. Idempotent. */
  destroy(): void;
}

const live = new Set<LoopDisk>();

function run(cmd: string, args: string[], timeoutMs = 120_000): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function must(cmd: string, args: string[], timeoutMs?: number): string {
  const r = run(cmd, args, timeoutMs);
  if (r.code !== 0) throw new Error(`${[cmd, ...args].join(' ')} → exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Unmounts each entry, deepest first; a mount that stays busy is detached lazily so nothing is left behind. */
export function unmountAll(entries: MountEntry[]): void {
  const sorted = [...entries].sort((a, b) => b.mountPoint.split('/').length - a.mountPoint.split('/').length || b.id - a.id);
  for (const m of sorted) {
    if (!readMounts().some((e) => e.id === m.id)) continue;
    if (run('umount', ['-c', m.mountPoint], 30_000).code !== 0) run('umount', ['-l', '-c', m.mountPoint], 30_000);
  }
}

/** Mounts at or below `dir`. */
export function mountsUnder(dir: string): MountEntry[] {
  return readMounts().filter((m) => m.mountPoint === dir || m.mountPoint.startsWith(`${dir}/`));
}

/** Mounts of the filesystem on `device` (any mount point: the test's own, bind mounts, ones the agent made). */
export function mountsOf(device: string): MountEntry[] {
  const ds = deviceState(device);
  return readMounts().filter((m) => m.source === device || (ds.state === 'block' && m.majorMinor === ds.majorMinor));
}

/** True while `device` is attached to an image. */
export function isAttached(device: string): boolean {
  return backingFile(device) !== undefined;
}

/** The image behind a loop device, from sysfs. */
export function backingFile(device: string): string | undefined {
  try {
    return readFileSync(`/sys/block/${device.replace('/dev/', '')}/loop/backing_file`, 'utf8').trim().replace(/ \(deleted\)$/, '');
  } catch {
    return undefined;
  }
}

/**
 * A new loop device with an optional filesystem. `image`: attach this existing
 * file instead of a new sparse one in `dir` (it is not removed by destroy()).
 */
export function makeLoopDisk(opts: { fstype?: Fstype; sizeMiB?: number; label?: string; prefix?: string; image?: string } = {}): LoopDisk {
  const dir = mkdtempSync(join(tmpdir(), opts.prefix ?? 'ocfkit-loop-'));
  const image = opts.image ?? join(dir, 'disk.img');
  if (!opts.image) {
    // xfsprogs ≥ 5.19 refuses filesystems under 300 MB; the image is sparse, so size costs nothing.
    const size = (opts.sizeMiB ?? (opts.fstype === 'xfs' ? 320 : 64)) * 1024 * 1024;
    const fd = openSync(image, 'w');
    ftruncateSync(fd, size);
    closeSync(fd);
  }

  let device = '';
  const disk: LoopDisk = {
    dir,
    image,
    get device() {
      return device;
    },
    fstype: opts.fstype,
    label: opts.label,
    detach() {
      if (!device) return;
      // Only while the device is still ours: a detached loop number may already serve another test.
      if (backingIs(device, image)) unmountAll(mountsOf(device));
      if (backingIs(device, image)) run('losetup', ['-d', device]);
      // losetup -d on a still-open device only marks it for autoclear; wait for the detach to happen.
      for (let i = 0; i < 50 && backingIs(device, image); i++) run('sleep', ['0.1']);
      device = '';
    },
    destroy() {
      const dev = device;
      try {
        disk.detach();
      } finally {
        unmountAll(mountsUnder(dir));
        if (mountsUnder(dir).length === 0) rmSync(dir, { recursive: true, force: true });
        live.delete(disk);
        if (dev && backingIs(dev, image)) throw new Error(`loop device ${dev} is still attached to ${image}`);
      }
    },
  };
  live.add(disk);
  try {
    // Several test files may look for a free device at once: retry when another one took it first.
    for (let attempt = 0; ; attempt++) {
      const r = run('losetup', ['--find', '--show', image]);
      if (r.code === 0) {
        device = r.stdout.trim();
        break;
      }
      if (attempt >= 4) throw new Error(`losetup --find --show ${image}: ${r.stderr.trim()}`);
      run('sleep', ['0.2']);
    }
    if (opts.fstype === 'ext4') must('mkfs.ext4', ['-q', '-F', ...(opts.label ? ['-L', opts.label] : []), device]);
    if (opts.fstype === 'xfs') must('mkfs.xfs', ['-q', '-f', '-K', ...(opts.label ? ['-L', opts.label] : []), device]);
  } catch (e) {
    disk.destroy();
    throw e;
  }
  return disk;
}

const backingIs = (device: string, image: string) => backingFile(device) === image;

/** Destroys every disk this process made and has not destroyed yet (afterAll). */
export function cleanupLoopDisks(): void {
  const errors: unknown[] = [];
  for (const d of [...live]) {
    try {
      d.destroy();
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length) throw errors[0];
}

// Last resort when a test process ends without its afterAll (a crash, a timeout).
process.once('exit', () => {
  try {
    cleanupLoopDisks();
  } catch {
    // nothing more can be done at exit
  }
});
