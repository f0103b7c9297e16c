import { spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountAt, readMounts } from '../../src/sys/mountinfo.js';
import { AGENTS_EXE, runAgent } from '../helpers/agent.js';
import { startHangFs, type HangFs } from '../helpers/hangfs.js';
import { cleanupLoopDisks, makeLoopDisk, mountsUnder, unmountAll, type LoopDisk } from '../helpers/loop.js';
import { isRoot, sh, uniqueName } from '../helpers/system.js';

/**
 * Issue 14 against ocf:ocfkit:Filesystem, each defect reproduced the way the
 * audit found it: real mounts, a link planted by an unprivileged user, a hung
 * FUSE mount, a mount helper whose child mounts after the agent gave up.
 */

beforeAll(() => {
  if (!isRoot()) throw new Error('these tests need root (loop devices, mount, FUSE, setpriv)');
});
afterAll(() => cleanupLoopDisks());

const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--'];
const asNobody = (cmd: string, ...args: string[]) => sh(NOBODY[0]!, [...NOBODY.slice(1), cmd, ...args]);
const mounted = (dir: string) => mountAt(dir, readMounts());

describe('device values that mount(8) would read as options (item 8)', () => {
  let dir: string;
  let fstab: string;
  beforeAll(() => {
    dir = makeLoopDisk().dir;
    fstab = join(dir, 'attacker.fstab');
    mkdirSync(join(dir, 'target'));
    // What --fstab=<file> would make mount(8) mount: a filesystem no parameter names.
    writeFileSync(fstab, `tmpfs ${join(dir, 'mnt')} tmpfs size=1m 0 0\ntmpfs ${join(dir, 'target')} tmpfs size=1m 0 0\n`);
  });
  afterAll(() => unmountAll(mountsUnder(dir)));

  it.each(['-v', '-oremount', '--fstab=FSTAB', '--bind'])('device=%s: 6 at validate-all and start, nothing mounted', (raw) => {
    const device = raw.replace('FSTAB', fstab);
    const params = { device, directory: join(dir, 'mnt'), fstype: 'tmpfs' };
    for (const action of ['validate-all', 'start']) {
      const r = runAgent('Filesystem', action, { instance: 'fs-dash', params });
      expect(r.code, r.stderr).toBe(6);
      expect(r.reason).toMatch(/parameter 'device': must not start with "-"/);
    }
    expect(mountsUnder(dir)).toEqual([]);
  });

  it('the label and UUID forms of mount(8) are still accepted', () => {
    for (const device of ['-L data', '-Ldata', '--label=data', '-U 0a1b', '--uuid=0a1b']) {
      const r = runAgent('Filesystem', 'validate-all', { instance: 'fs-dash', params: { device, directory: join(dir, 'mnt'), fstype: 'ext4' } });
      expect(r.code, `${device}: ${r.stderr}`).not.toBe(6);
    }
  });
});

describe('the depth-20 status file on a world-writable mount root (item 2)', () => {
  let disk: LoopDisk;
  let mp: string;
  let secretDir: string;
  let secret: string;
  const params = () => ({ device: disk.device, directory: mp, fstype: 'ext4' });
  const instance = 'fs-status';
  const statusName = `${instance}_${hostname()}`;
  const monitor20 = () => runAgent('Filesystem', 'monitor', { instance, params: params(), meta: { interval: 10_000 }, env: { OCF_CHECK_LEVEL: '20' } });
  const SECRET = 'root-only content\n';

  beforeAll(() => {
    disk = makeLoopDisk({ fstype: 'ext4' });
    chmodSync(disk.dir, 0o755);
    mp = join(disk.dir, 'mnt');
    secretDir = join(disk.dir, 'root-only');
    mkdirSync(secretDir, { mode: 0o700 });
    secret = join(secretDir, statusName);
    expect(runAgent('Filesystem', 'start', { instance, params: params() }).code).toBe(0);
    chmodSync(mp, 0o777); // a share's root that every user may write
  });
  afterAll(() => disk?.destroy());
  const reset = () => {
    rmSync(join(mp, '.Filesystem_status'), { recursive: true, force: true });
    writeFileSync(secret, SECRET, { mode: 0o600 });
  };

  it('a link planted by nobody as the status file is not written through', () => {
    reset();
    asNobody('mkdir', join(mp, '.Filesystem_status'));
    asNobody('ln', '-s', secret, join(mp, '.Filesystem_status', statusName));
    const r = monitor20();
    expect(readFileSync(secret, 'utf8')).toBe(SECRET);
    expect(r.code).toBe(1);
    expect(r.reason).toMatch(/status file .*\.Filesystem_status.*owned by uid 65534/);
  });

  it('a link planted by nobody as the status directory is not written through', () => {
    reset();
    rmSync(secret);
    asNobody('ln', '-s', secretDir, join(mp, '.Filesystem_status'));
    const r = monitor20();
    expect(existsSync(secret)).toBe(false);
    expect(r.code).toBe(1);
    expect(r.reason).toMatch(/\.Filesystem_status is not a directory \(a symbolic link\?\)/);
  });

  it('a link as the file inside our own directory is refused too; a clean directory works, owned by root', () => {
    reset();
    mkdirSync(join(mp, '.Filesystem_status'), { mode: 0o700 });
    sh('ln', ['-s', secret, join(mp, '.Filesystem_status', statusName)]);
    const r = monitor20();
    expect(readFileSync(secret, 'utf8')).toBe(SECRET);
    expect(r.code).toBe(1);
    reset();
    const ok = monitor20();
    expect(ok.code, ok.stderr).toBe(0);
    const st = lstatSync(join(mp, '.Filesystem_status', statusName));
    expect([st.isFile(), st.uid, st.size]).toEqual([true, 0, 4096]);
  });
});

describe('a directory under a hung mount (item 4)', () => {
  let hfs: HangFs;
  beforeAll(async () => {
    hfs = await startHangFs();
  });
  afterAll(async () => {
    await hfs?.destroy();
  });

  it('probe, recurring monitor and stop answer from mountinfo alone, within their timeout', { timeout: 180_000 }, async () => {
    const params = { device: '/dev/nonexistent-ocfkit', directory: join(hfs.mountPoint, 'sub'), fstype: 'ext4' };
    hfs.hang();
    // An agent that walks the path sits in the hung mount in D state, deaf to signals: after the
    // outer limit the server is aborted (every waiting request fails), so the test fails instead of hanging.
    const op = async (action: string, interval: number) => {
      const env = ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'OCF_RESOURCE_INSTANCE=fs-hung-dir', 'OCF_RESKEY_CRM_meta_timeout=5000', `OCF_RESKEY_CRM_meta_interval=${interval}`];
      for (const [k, v] of Object.entries(params)) env.push(`OCF_RESKEY_${k}=${v}`);
      const child = spawn('env', ['-i', ...env, AGENTS_EXE, 'Filesystem', action], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      let hung = false;
      const timer = setTimeout(() => {
        hung = true;
        void hfs.abort();
      }, 30_000);
      const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      clearTimeout(timer);
      expect(hung, `${action} (interval ${interval}) hung in the mount`).toBe(false);
      return { code, reason: /^ocf-exit-reason:(.*)$/m.exec(stderr)?.[1] };
    };
    expect((await op('monitor', 0)).code).toBe(7);
    expect((await op('monitor', 10_000)).code).toBe(7);
    expect((await op('stop', 0)).code).toBe(0);
    // start and validate-all must walk the path: they do it in bounded children and fail in time.
    const start = await op('start', 0);
    expect(start.code).toBeGreaterThan(0);
    expect(start.reason).toBeTruthy();
  });
});

describe('a mount helper that leaves a child behind (item 5)', () => {
  // mount(8) runs /sbin/mount.<type> for an unknown type; this one forks a child that mounts
  // 8 s later (after the agent's 5 s deadline) and hangs itself, as a mount.nfs4 or FUSE helper
  // waiting for a server does.
  const fstype = uniqueName('ocfkitorphan');
  const helper = `/sbin/mount.${fstype}`;
  let dir: string;
  beforeAll(() => {
    dir = makeLoopDisk().dir;
    writeFileSync(helper, `#!/bin/sh\n( sleep 8; mount -t tmpfs -o size=1m ocfkit-orphan "$2" ) &\nexec sleep 60\n`, { mode: 0o755 });
  });
  afterAll(() => {
    rmSync(helper, { force: true });
    unmountAll(mountsUnder(dir));
  });

  it('start killed at its deadline takes the helper and its child with it; nothing mounts behind our back', { timeout: 60_000 }, async () => {
    const params = { device: 'ocfkit-orphan', directory: join(dir, 'mnt'), fstype, run_fsck: 'no' };
    const began = Date.now();
    const start = runAgent('Filesystem', 'start', { instance: 'fs-orphan', params, meta: { timeout: 5000 } });
    expect(start.code).toBe(1);
    expect(start.reason).toMatch(/^mount .*: killed after/);
    const stop = runAgent('Filesystem', 'stop', { instance: 'fs-orphan', params, meta: { timeout: 5000 } });
    expect(stop.code).toBe(0);
    // Well past the moment the orphan would have mounted (8 s after start began).
    await new Promise((r) => setTimeout(r, Math.max(0, began + 11_000 - Date.now())));
    expect(mounted(join(dir, 'mnt'))).toBeUndefined();
  });
});
