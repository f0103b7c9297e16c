import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mountAt, readMounts } from '../../src/sys/mountinfo.js';
import { runAgent } from '../helpers/agent.js';
import { cleanupLoopDisks, makeLoopDisk, mountsUnder, unmountAll, type LoopDisk } from '../helpers/loop.js';
import { isRoot, sh } from '../helpers/system.js';

/**
 * A busy stop: processes that use the mount are signalled (and logged),
 * everything else is left alone: a process on the parent directory, one that
 * sat in the mount point directory before the filesystem covered it, one on
 * another mount. Every process here is started by the test and stopped by PID.
 */

beforeAll(() => {
  if (!isRoot()) throw new Error('these tests need root (loop devices, mount)');
});
afterAll(() => cleanupLoopDisks());

const started: ChildProcess[] = [];
afterEach(() => {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

interface Proc {
  child: ChildProcess;
  pid: number;
  exited: Promise<NodeJS.Signals | number | null>;
}

/** A long sleep with its working directory at `cwd`, and optionally stdin opened on `holdFile` (no shell). */
function sleeper(cwd: string, holdFile?: string): Proc {
  const fd = holdFile ? openSync(holdFile, 'r') : undefined;
  try {
    const child = spawn('sleep', ['1000'], { cwd, stdio: [fd ?? 'ignore', 'ignore', 'ignore'] });
    return track(child);
  } finally {
    // The test process itself must not keep the file (and so the mount) open.
    if (fd !== undefined) closeSync(fd);
  }
}

/** A process that ignores SIGTERM (node, fixed literal script), cwd at `cwd`. */
function stubborn(cwd: string): Proc {
  const child = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); process.stdout.write('ready')"], { cwd, stdio: ['ignore', 'pipe', 'ignore'] });
  return track(child);
}

function track(child: ChildProcess): Proc {
  started.push(child);
  if (!child.pid) throw new Error('spawn failed');
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, sig) => resolve(sig ?? code)));
  return { child, pid: child.pid, exited };
}

const alive = (p: Proc) => p.child.exitCode === null && p.child.signalCode === null;
const settle = () => new Promise((r) => setTimeout(r, 200));

describe('busy stop', () => {
  let disk: LoopDisk;
  let params: Record<string, string>;
  beforeAll(() => {
    disk = makeLoopDisk({ fstype: 'ext4' });
    params = { device: disk.device, directory: join(disk.dir, 'data'), fstype: 'ext4' };
  });
  afterAll(() => disk?.destroy());
  afterEach(() => {
    for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    unmountAll(mountsUnder(disk.dir));
  });

  const fs = (action: string, extra: Record<string, string> = {}) => runAgent('Filesystem', action, { instance: 'fs-stop', params: { ...params, ...extra } });

  it('kills exactly the processes using the mount, logs each, unmounts, returns 0', async () => {
    // Sits in the mount point directory *before* the mount: on the parent filesystem, and must survive.
    mkdirSync(params.directory!, { recursive: true });
    const covered = sleeper(params.directory!);
    expect(fs('start').code).toBe(0);
    mkdirSync(join(params.directory!, 'work'));
    writeFileSync(join(params.directory!, 'held.txt'), 'held');
    // Another mount next to ours, with its own user: never touched.
    const otherMount = join(disk.dir, 'other');
    mkdirSync(otherMount);
    sh('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'ocfkit-other', otherMount]);

    const inCwd = sleeper(join(params.directory!, 'work'));
    const holdsFile = sleeper('/', join(params.directory!, 'held.txt'));
    const onParent = sleeper(disk.dir);
    const onOther = sleeper(otherMount);
    await settle();

    const r = fs('stop');
    expect(r.code, r.stderr).toBe(0);
    expect(mountAt(params.directory!, readMounts())).toBeUndefined();
    expect(await inCwd.exited).toBe('SIGTERM');
    expect(await holdsFile.exited).toBe('SIGTERM');
    await settle();
    expect(alive(onParent)).toBe(true);
    expect(alive(covered)).toBe(true);
    expect(alive(onOther)).toBe(true);

    // Every signalled pid is logged with its command line and what it used; nobody else is named.
    expect(r.stderr).toMatch(new RegExp(`sent SIGTERM to pid ${inCwd.pid} \\(sleep 1000: cwd ${params.directory}/work\\)`));
    expect(r.stderr).toMatch(new RegExp(`sent SIGTERM to pid ${holdsFile.pid} \\(sleep 1000: fd 0 ${params.directory}/held.txt\\)`));
    const signalled = [...r.stderr.matchAll(/sent \w+ to pid (\d+)/g)].map((m) => Number(m[1]));
    expect(new Set(signalled)).toEqual(new Set([inCwd.pid, holdsFile.pid]));
    expect(fs('stop').code).toBe(0);
  });

  it('force_unmount=safe: the same processes, proven by the kernel mount ids', async () => {
    expect(fs('start').code).toBe(0);
    writeFileSync(join(params.directory!, 'f'), 'x');
    const inCwd = sleeper(params.directory!);
    const holdsFile = sleeper('/', join(params.directory!, 'f'));
    const onParent = sleeper(disk.dir);
    await settle();
    const r = fs('stop', { force_unmount: 'safe' });
    expect(r.code, r.stderr).toBe(0);
    expect(await inCwd.exited).toBe('SIGTERM');
    expect(await holdsFile.exited).toBe('SIGTERM');
    await settle();
    expect(alive(onParent)).toBe(true);
  });

  it('force_unmount=false: stop fails naming the users and signals nobody', async () => {
    expect(fs('start').code).toBe(0);
    const inCwd = sleeper(params.directory!);
    await settle();
    const r = fs('stop', { force_unmount: 'false' });
    expect(r.code).toBe(1);
    expect(r.reason).toMatch(new RegExp(`force_unmount=false.*pid ${inCwd.pid} \\(sleep 1000: cwd ${params.directory}\\)`));
    expect(r.stderr).not.toMatch(/sent SIG/);
    await settle();
    expect(alive(inCwd)).toBe(true);
    inCwd.child.kill('SIGKILL');
    await inCwd.exited;
    expect(fs('stop', { force_unmount: 'false' }).code).toBe(0);
  });

  it('a process ignoring TERM gets KILL in the second half of the stop time (fast_stop: 6 s)', async () => {
    expect(fs('start').code).toBe(0);
    const p = stubborn(params.directory!);
    await new Promise((resolve) => p.child.stdout!.once('data', resolve));
    const r = fs('stop', { fast_stop: 'yes', signal_delay: '0.5' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`sent SIGTERM to pid ${p.pid} `));
    expect(r.stderr).toMatch(new RegExp(`sent SIGKILL to pid ${p.pid} `));
    expect(await p.exited).toBe('SIGKILL');
    expect(mountAt(params.directory!, readMounts())).toBeUndefined();
  });

  it('nested mounts: their users are found and the nested mount is unmounted first', async () => {
    expect(fs('start').code).toBe(0);
    const nested = join(params.directory!, 'nested');
    mkdirSync(nested);
    sh('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'ocfkit-nested', nested]);
    const inNested = sleeper(nested);
    const onParent = sleeper(disk.dir);
    await settle();
    const r = fs('stop');
    expect(r.code, r.stderr).toBe(0);
    expect(await inNested.exited).toBe('SIGTERM');
    expect(mountsUnder(params.directory!)).toEqual([]);
    await settle();
    expect(alive(onParent)).toBe(true);
  });
});
