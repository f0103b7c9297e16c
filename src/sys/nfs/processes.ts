import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { Deadline } from '../../ocf/deadline.js';
import { parseStat as parseProcStat, type ProcStat } from '../proc-stat.js';

/**
 * Processes by name, read from /proc (what pidof/pgrep do, without forking
 * them): monitor looks for rpc.mountd, rpc.statd and nfsd's kernel threads
 * this way.
 */

export type Proc = Pick<ProcStat, 'pid' | 'comm' | 'ppid' | 'kernelThread' | 'state'>;

/** /proc/<pid>/stat, the fields process lookups by name need. */
export function parseStat(text: string): Proc | undefined {
  const s = parseProcStat(text);
  return s && { pid: s.pid, comm: s.comm, ppid: s.ppid, kernelThread: s.kernelThread, state: s.state };
}

const pids = (): number[] => {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) if (/^\d+$/.test(d)) out.push(Number(d));
  return out;
};

const readProc = (pid: number, what: string): string | undefined => {
  try {
    return readFileSync(`/proc/${pid}/${what}`, 'utf8');
  } catch {
    return undefined; // gone meanwhile, or not ours to read
  }
};

/** Live processes (zombies left out) whose comm is one of `names`, in one pass over /proc. */
export function findProcesses(names: readonly string[]): Proc[] {
  const want = new Set(names);
  const out: Proc[] = [];
  for (const pid of pids()) {
    // comm is short and cheap; stat only for the ones we want.
    const comm = readProc(pid, 'comm')?.replace(/\n$/, '');
    if (comm === undefined || !want.has(comm)) continue;
    const stat = readProc(pid, 'stat');
    const p = stat ? parseStat(stat) : undefined;
    if (p && p.state !== 'Z') out.push(p);
  }
  return out;
}

/** argv of a process (empty for kernel threads and vanished processes). */
export function cmdline(pid: number): string[] {
  const raw = readProc(pid, 'cmdline') ?? '';
  return raw.split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
}

/** The value following `flag` (or given as --flag=value) in argv. */
export function argValue(argv: readonly string[], ...flags: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (flags.includes(a)) return argv[i + 1];
    for (const f of flags) if (f.startsWith('--') && a.startsWith(`${f}=`)) return a.slice(f.length + 1);
  }
  return undefined;
}

/** The process exists and is not a zombie (dead, waiting for its parent to collect it). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = readProc(pid, 'stat');
  return stat !== undefined && parseStat(stat)?.state !== 'Z';
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/**
 * Ends processes: `sig` (SIGTERM by default), up to `graceMs` for them to go,
 * then SIGKILL and up to `graceMs` again; every wait inside the op deadline.
 * Returns the pids still alive at the end (none when it worked).
 */
export async function terminate(pidsToEnd: readonly number[], deadline: Deadline, opts: { sig?: NodeJS.Signals; graceMs?: number } = {}): Promise<number[]> {
  let left = pidsToEnd.filter(alive);
  const grace = opts.graceMs ?? 5000;
  for (const sig of [opts.sig ?? 'SIGTERM', 'SIGKILL'] as const) {
    if (left.length === 0) break;
    for (const pid of left) signal(pid, sig);
    const stopAt = Date.now() + deadline.bound(grace);
    while (left.length && Date.now() < stopAt) {
      await deadline.sleep(Math.min(100, Math.max(1, stopAt - Date.now())));
      left = left.filter(alive);
    }
  }
  return left;
}

/** A process's open paths (cwd, root, fds, mapped files) below `dir`: who keeps a mount busy. */
export function pathsBelow(pid: number, dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const hits = new Set<string>();
  const check = (p: string | undefined, what: string) => {
    if (p && (p === dir || p.startsWith(prefix))) hits.add(`${what} ${p}`);
  };
  const link = (p: string) => {
    try {
      return readlinkSync(p);
    } catch {
      return undefined;
    }
  };
  check(link(`/proc/${pid}/cwd`), 'cwd');
  check(link(`/proc/${pid}/root`), 'root');
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) check(link(`/proc/${pid}/fd/${fd}`)?.replace(/ \(deleted\)$/, ''), `fd ${fd}`);
  } catch {
    // gone or not readable
  }
  for (const line of (readProc(pid, 'maps') ?? '').split('\n')) {
    const path = line.split(/\s+/).slice(5).join(' ');
    check(path || undefined, 'mapped');
  }
  return [...hits];
}

/** "rpc.statd[812] (cwd /var/lib/nfs), …" for everything that holds `dir` open. */
export function holdersOf(dir: string): string[] {
  const out: string[] = [];
  for (const pid of pids()) {
    if (pid === process.pid) continue;
    const hits = pathsBelow(pid, dir);
    if (hits.length) out.push(`${readProc(pid, 'comm')?.trim() ?? '?'}[${pid}] (${hits.slice(0, 2).join(', ')})`);
  }
  return out;
}
