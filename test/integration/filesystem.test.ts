import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mountAt, readMounts } from '../../src/sys/mountinfo.js';
import { runAgent, type RunAgentOptions } from '../helpers/agent.js';
import { cleanupLoopDisks, makeLoopDisk, mountsUnder, unmountAll, type Fstype, type LoopDisk } from '../helpers/loop.js';
import { have, isRoot, sh, uniqueName } from '../helpers/system.js';

/**
 * ocf:ocfkit:Filesystem against real ext4 and xfs on loop devices, run as
 * Pacemaker runs it (the built executable, env -i, action as argument).
 */

beforeAll(() => {
  if (!isRoot()) throw new Error('these tests need root (loop devices, mount)');
  for (const tool of ['losetup', 'mkfs.ext4', 'mkfs.xfs', 'mount', 'umount', 'fsck', 'dd', 'blkid', 'dumpe2fs', 'tune2fs']) {
    if (!have(tool)) throw new Error(`${tool} is missing: install e2fsprogs, xfsprogs, util-linux, coreutils`);
  }
});
afterAll(() => cleanupLoopDisks());

const fs = (action: string, params: Record<string, string | number | boolean>, o: Omit<RunAgentOptions, 'params'> = {}) =>
  runAgent('Filesystem', action, { instance: 'fs-it', ...o, params });
const probe = (params: Record<string, string | number | boolean>) => fs('monitor', params, { meta: { interval: 0 } });
const monitor = (params: Record<string, string | number | boolean>, level = 0) =>
  fs('monitor', params, { meta: { interval: 10_000 }, env: level ? { OCF_CHECK_LEVEL: String(level) } : {} });
const mounted = (dir: string) => mountAt(dir, readMounts());

describe.each(['ext4', 'xfs'] as Fstype[])('%s on a loop device', (fstype) => {
  let disk: LoopDisk;
  let params: { device: string; directory: string; fstype: string };
  beforeAll(() => {
    disk = makeLoopDisk({ fstype });
    // A mount point with blanks: mountinfo spells it "my\040data", the agent must still find it.
    params = { device: disk.device, directory: join(disk.dir, 'my data'), fstype };
  });
  afterAll(() => disk?.destroy());

  it('probe says not running, start mounts (creating the mount point), monitor and probe say running', () => {
    expect(probe(params).code).toBe(7);
    expect(monitor(params).code).toBe(7);
    const start = fs('start', params);
    expect(start.code, start.stderr).toBe(0);
    expect(mounted(params.directory)).toMatchObject({ source: disk.device, fstype });
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).toContain(`${disk.dir}/my\\040data`);
    expect(monitor(params).code).toBe(0);
    expect(probe(params).code).toBe(0);
  });

  it('a second start succeeds without a second mount', () => {
    const r = fs('start', params);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/already mounted/);
    expect(readMounts().filter((m) => m.mountPoint === params.directory)).toHaveLength(1);
  });

  it('check level 10 reads the device, check level 20 writes and reads back the status file', () => {
    const r10 = monitor(params, 10);
    expect(r10.code, r10.stderr).toBe(0);
    const r20 = monitor(params, 20);
    expect(r20.code, r20.stderr).toBe(0);
    const status = join(params.directory, '.Filesystem_status', `fs-it_${hostname()}`);
    expect(readFileSync(status, 'utf8')).toMatch(/^fs-it /);
  });

  it('an unsupported check level is a configuration error', () => {
    expect(monitor(params, 15)).toMatchObject({ code: 6, reason: expect.stringMatching(/unsupported monitor level 15/) });
  });

  it('remounted read-only: depth 0 still succeeds, depth 20 fails with the reason', () => {
    sh('mount', ['-o', 'remount,ro', params.directory]);
    try {
      expect(monitor(params).code).toBe(0);
      const r = monitor(params, 20);
      expect(r.code).toBe(1);
      expect(r.reason).toMatch(/status file .*Read-only file system/i);
    } finally {
      sh('mount', ['-o', 'remount,rw', params.directory]);
    }
    expect(monitor(params, 20).code).toBe(0);
  });

  it('stop unmounts; a second stop succeeds; monitor and probe say not running', () => {
    const r = fs('stop', params);
    expect(r.code, r.stderr).toBe(0);
    expect(mounted(params.directory)).toBeUndefined();
    expect(fs('stop', params).code).toBe(0);
    expect(monitor(params).code).toBe(7);
    expect(probe(params).code).toBe(7);
  });
});

describe('devices', () => {
  let disk: LoopDisk | undefined;
  afterEach(() => {
    disk?.destroy();
    disk = undefined;
  });

  it('finds the device by -L label and -U uuid (without udev: blkid)', () => {
    const label = uniqueName('ocfk');
    disk = makeLoopDisk({ fstype: 'ext4', label });
    const uuid = sh('blkid', ['-c', '/dev/null', '-s', 'UUID', '-o', 'value', disk.device]).stdout.trim();
    expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
    for (const device of [`-L ${label}`, `-U ${uuid}`]) {
      const params = { device, directory: join(disk.dir, 'mnt'), fstype: 'ext4' };
      const start = fs('start', params);
      expect(start.code, start.stderr).toBe(0);
      expect(mounted(params.directory)?.source).toBe(disk.device);
      // The monitor compares the device number start noted: no blkid (it would read the device).
      const m = fs('monitor', params, { meta: { interval: 10_000 }, env: { HA_debug: '1' } });
      expect(m.code, m.stderr).toBe(0);
      expect(m.stderr).not.toMatch(/running: blkid/);
      expect(monitor(params, 10).code).toBe(0);
      expect(fs('stop', params).code).toBe(0);
      expect(mounted(params.directory)).toBeUndefined();
    }
    expect(fs('start', { device: `-L ${label}-none`, directory: join(disk.dir, 'mnt'), fstype: 'ext4' })).toMatchObject({ code: 5, reason: expect.stringMatching(/no filesystem with LABEL=/) });
  });

  it('a device that does not exist: start fails with 5, probe says not running, stop succeeds', () => {
    disk = makeLoopDisk({});
    const params = { device: '/dev/ocfkit-no-such-device', directory: join(disk.dir, 'mnt'), fstype: 'ext4' };
    expect(fs('start', params)).toMatchObject({ code: 5, reason: expect.stringMatching(/does not exist/) });
    expect(probe(params).code).toBe(7);
    expect(fs('stop', params).code).toBe(0);
    expect(mountsUnder(disk.dir)).toEqual([]);
  });

  it('a detached loop device (node present, no medium): start fails with 5 and mounts nothing', () => {
    disk = makeLoopDisk({ fstype: 'ext4' });
    const device = disk.device;
    const params = { device, directory: join(disk.dir, 'mnt'), fstype: 'ext4' };
    disk.detach();
    const r = fs('start', params);
    expect(r).toMatchObject({ code: 5, reason: expect.stringMatching(/has no medium/) });
    expect(mountsUnder(disk.dir)).toEqual([]);
  });

  it('a device without a filesystem: mount fails, start fails with 1 and the reason', () => {
    disk = makeLoopDisk({});
    const params = { device: disk.device, directory: join(disk.dir, 'mnt'), fstype: 'ext4' };
    const r = fs('start', params);
    expect(r.code).toBe(1);
    expect(r.reason).toMatch(new RegExp(`cannot mount ${disk.device} on ${params.directory}`));
    expect(mountsUnder(disk.dir)).toEqual([]);
  });

  it('run_fsck=force checks the filesystem on start, auto does not (ext4 journals)', () => {
    disk = makeLoopDisk({ fstype: 'ext4' });
    const state = () => /^Filesystem state:\s*(.*)$/m.exec(sh('dumpe2fs', ['-h', disk!.device]).stdout)?.[1]?.trim();
    // Mark the filesystem as having errors: only a real fsck clears the flag.
    sh('tune2fs', ['-E', 'force_fsck', disk.device]);
    expect(state()).toBe('clean with errors');
    const params = { device: disk.device, directory: join(disk.dir, 'mnt'), fstype: 'ext4' };

    const auto = fs('start', params);
    expect(auto.code, auto.stderr).toBe(0);
    expect(auto.stderr).not.toMatch(/filesystem check/);
    expect(fs('stop', params).code).toBe(0);
    expect(state()).toBe('clean with errors');

    const forced = fs('start', { ...params, run_fsck: 'force' });
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toMatch(/starting filesystem check on/);
    expect(forced.stderr).toMatch(/fsck: .*(clean|files|blocks)/);
    expect(fs('stop', params).code).toBe(0);
    expect(state()).toBe('clean');
  });

  it('a device already mounted elsewhere is not mounted a second time', () => {
    disk = makeLoopDisk({ fstype: 'xfs' });
    const other = join(disk.dir, 'manual');
    mkdirSync(other);
    sh('mount', [disk.device, other]);
    const params = { device: disk.device, directory: join(disk.dir, 'mnt'), fstype: 'xfs' };
    expect(fs('start', params)).toMatchObject({ code: 1, reason: expect.stringMatching(new RegExp(`already mounted on ${other}`)) });
    expect(mounted(params.directory)).toBeUndefined();
  });
});

describe('the mount point', () => {
  let disk: LoopDisk;
  beforeAll(() => {
    disk = makeLoopDisk({ fstype: 'ext4' });
  });
  afterAll(() => disk?.destroy());
  afterEach(() => unmountAll(mountsUnder(disk.dir)));

  it('something else mounted there: start refuses with the reason, probe says not running, monitor fails, stop leaves it alone', () => {
    const dir = join(disk.dir, 'taken');
    mkdirSync(dir, { recursive: true });
    sh('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'ocfkit-other', dir]);
    const params = { device: disk.device, directory: dir, fstype: 'ext4' };
    const r = fs('start', params);
    expect(r.code).toBe(1);
    expect(r.reason).toMatch(/already has ocfkit-other \(tmpfs\) mounted on it: not mounting/);
    expect(readMounts().filter((m) => m.mountPoint === dir).map((m) => m.fstype)).toEqual(['tmpfs']);
    expect(probe(params).code).toBe(7);
    expect(monitor(params)).toMatchObject({ code: 1, reason: expect.stringMatching(/another filesystem, ocfkit-other \(tmpfs\)/) });
    expect(fs('stop', params).code).toBe(0);
    expect(mounted(dir)?.fstype).toBe('tmpfs');
  });

  it('mounts below the directory would be hidden: start refuses', () => {
    const dir = join(disk.dir, 'parent');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    sh('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'ocfkit-sub', join(dir, 'sub')]);
    expect(fs('start', { device: disk.device, directory: dir, fstype: 'ext4' })).toMatchObject({ code: 1, reason: expect.stringMatching(/would hide/) });
    expect(mounted(dir)).toBeUndefined();
  });

  it('stop unmounts nested mounts and bind mounts of the device first', () => {
    const params = { device: disk.device, directory: join(disk.dir, 'data'), fstype: 'ext4' };
    expect(fs('start', params).code).toBe(0);
    mkdirSync(join(params.directory, 'nested'));
    mkdirSync(join(params.directory, 'exported'));
    sh('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'ocfkit-nested', join(params.directory, 'nested')]);
    const bind = join(disk.dir, 'export');
    mkdirSync(bind);
    sh('mount', ['--bind', join(params.directory, 'exported'), bind]);
    writeFileSync(join(bind, 'through-bind'), 'x');

    const r = fs('stop', params);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/unmounting .*\/nested first/);
    expect(r.stderr).toMatch(/unmounting .*\/export first/);
    expect(mountsUnder(disk.dir)).toEqual([]);
    // The file written through the bind mount is on the filesystem: it was one filesystem, cleanly unmounted.
    expect(fs('start', params).code).toBe(0);
    expect(readFileSync(join(params.directory, 'exported', 'through-bind'), 'utf8')).toBe('x');
    expect(fs('stop', params).code).toBe(0);
  });

  it('bind mount resource: options=bind,ro, fstype none', () => {
    const data = { device: disk.device, directory: join(disk.dir, 'src'), fstype: 'ext4' };
    expect(fs('start', data).code).toBe(0);
    mkdirSync(join(data.directory, 'share'), { recursive: true });
    const bind = { device: join(data.directory, 'share'), directory: join(disk.dir, 'bound'), fstype: 'none', options: 'bind,ro' };
    const r = fs('start', bind);
    expect(r.code, r.stderr).toBe(0);
    expect(mounted(bind.directory)).toMatchObject({ root: '/share', majorMinor: mounted(data.directory)!.majorMinor });
    expect(mounted(bind.directory)!.options).toContain('ro');
    expect(monitor(bind).code).toBe(0);
    expect(monitor(bind, 10).code).toBe(0); // not a block device: a no-op
    expect(fs('stop', bind).code).toBe(0);
    expect(mounted(bind.directory)).toBeUndefined();
    expect(mounted(data.directory)).toBeDefined(); // the bind resource never unmounts its source
    expect(fs('stop', data).code).toBe(0);
  });
});
