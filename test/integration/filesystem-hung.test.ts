import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountAt, readMounts } from '../../src/sys/mountinfo.js';
import { runAgent } from '../helpers/agent.js';
import { startHangFs, type HangFs } from '../helpers/hangfs.js';
import { cleanupLoopDisks, makeLoopDisk, mountsUnder, type LoopDisk } from '../helpers/loop.js';
import { isRoot } from '../helpers/system.js';

/**
 * Hung storage must make operations fail, not hang. This kernel has no NFS
 * client, no device-mapper and no NBD, so the hang is made with FUSE: a test
 * server (hangfs) serves an image file and, on request, stops answering —
 * what a dead NFS server does to its clients. A loop device on that file is a
 * block device whose I/O then waits in the kernel, unkillable (D state).
 *
 * Each agent run gets a short op timeout (OCF_RESKEY_CRM_meta_timeout) and a
 * much longer outer limit: an agent that hung would be killed by the outer
 * limit and give no exit code, failing the test.
 */

beforeAll(() => {
  if (!isRoot()) throw new Error('these tests need root (FUSE, loop devices, mount)');
});
afterAll(() => cleanupLoopDisks());

const OP_TIMEOUT = 8000;
const OUTER_LIMIT = 60_000;

describe('a hung block device under the mount', () => {
  let hfs: HangFs;
  let disk: LoopDisk;
  let params: Record<string, string>;
  const fs = (action: string, level?: number, meta: Record<string, number> = {}) =>
    runAgent('Filesystem', action, {
      instance: 'fs-hung',
      params,
      meta: { timeout: OP_TIMEOUT, ...meta },
      env: level ? { OCF_CHECK_LEVEL: String(level) } : {},
      timeoutMs: OUTER_LIMIT,
    });

  beforeAll(async () => {
    hfs = await startHangFs();
    disk = makeLoopDisk({ image: hfs.file, fstype: 'ext4' });
    params = { device: disk.device, directory: join(disk.dir, 'data'), fstype: 'ext4' };
  });
  afterAll(async () => {
    // Abort first: that fails every waiting I/O, so the unmounts and the detach below cannot hang.
    try {
      await hfs?.abort();
      disk?.destroy();
    } finally {
      await hfs?.destroy();
    }
  });

  it('healthy: start, and monitors at depth 10 and 20 succeed', () => {
    expect(fs('start').code).toBe(0);
    expect(fs('monitor', 10, { interval: 10_000 }).code).toBe(0);
    expect(fs('monitor', 20, { interval: 10_000 }).code).toBe(0);
  });

  it('hung: depth 0 and the probe still answer from mountinfo; depth 10 and 20 fail with the timed-out command named', () => {
    hfs.hang();
    expect(fs('monitor', 0, { interval: 10_000 }).code).toBe(0);
    expect(fs('monitor', 0, { interval: 0 }).code).toBe(0);

    const r10 = fs('monitor', 10, { interval: 10_000 });
    expect(r10.code, r10.stderr).toBe(1);
    expect(r10.reason, r10.stderr).toMatch(new RegExp(`dd if=${disk.device} .*killed after`));

    const r20 = fs('monitor', 20, { interval: 10_000 });
    expect(r20.code, r20.stderr).toBe(1);
    expect(r20.reason, r20.stderr).toMatch(/status file .*\.Filesystem_status.*killed after/);
  });

  it('hung: stop fails with the reason instead of outliving its timeout', () => {
    const r = fs('stop');
    expect(r.code, r.stderr).toBe(1);
    // Either umount itself hangs and is abandoned, or it keeps finding the mount busy: the monitor's
    // abandoned dd is stuck inside open() (an in-flight syscall, invisible in /proc) or holds an fd.
    // (The command line may show as [dd] when reading it timed out under load.)
    expect(r.reason, r.stderr).toMatch(/umount .*killed after|cannot unmount .*\/data after [\d.]+s: (still used by pid \d+ \(\[?dd|.*no process found)/);
  });

  it('server gone (I/O errors instead of a hang): stop unmounts', async () => {
    await hfs.abort();
    const r = fs('stop');
    expect(r.code, r.stderr).toBe(0);
    expect(mountAt(params.directory!, readMounts())).toBeUndefined();
  });
});

describe('a dead mount elsewhere', () => {
  let hfs: HangFs;
  let disk: LoopDisk;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    hfs = await startHangFs();
    disk = makeLoopDisk({ fstype: 'xfs' });
  });
  afterAll(async () => {
    try {
      await hfs?.abort();
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      disk?.destroy();
    } finally {
      await hfs?.destroy();
    }
  });

  const sleeper = (cwd: string) => {
    const c = spawn('sleep', ['1000'], { cwd, stdio: 'ignore' });
    children.push(c);
    const exited = new Promise<string | number | null>((resolve) => c.once('exit', (code, sig) => resolve(sig ?? code)));
    return { c, pid: c.pid!, exited };
  };

  it('does not hang the busy stop: only the user of our mount is signalled', async () => {
    const params = { device: disk.device, directory: join(disk.dir, 'data'), fstype: 'xfs' };
    expect(runAgent('Filesystem', 'start', { params }).code).toBe(0);
    const ours = sleeper(params.directory);
    const onDeadMount = sleeper(hfs.mountPoint);
    await new Promise((r) => setTimeout(r, 200));
    hfs.hang();

    // What fuser -m or lsof would do (stat the process's cwd) now hangs: the mount really is dead.
    const statter = spawn('stat', ['-L', `/proc/${onDeadMount.pid}/cwd`], { stdio: 'ignore' });
    children.push(statter);
    const statDone = await Promise.race([new Promise((r) => statter.once('exit', () => r('exited'))), new Promise((r) => setTimeout(() => r('hung'), 1500))]);
    expect(statDone).toBe('hung');

    const r = runAgent('Filesystem', 'stop', { params, meta: { timeout: 20_000 }, timeoutMs: OUTER_LIMIT });
    expect(r.code, r.stderr).toBe(0);
    expect(await ours.exited).toBe('SIGTERM');
    expect(onDeadMount.c.exitCode).toBeNull();
    expect(onDeadMount.c.signalCode).toBeNull();
    expect(r.stderr).not.toMatch(new RegExp(`pid ${onDeadMount.pid}\\b`));
    expect(mountsUnder(params.directory)).toEqual([]);
  });
});
