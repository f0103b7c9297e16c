import { readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { race, type Deadline } from '../../ocf/deadline.js';
import { cmdline, parseStat as parseProcStat, processStartTime, type ProcStat } from '../processes.js';
import { mountAt } from '../mountinfo.js';
import { describeUses, findMountUsers, type ProcUser } from '../proc-users.js';
import { writeFileAtomic } from './files.js';

/**
 * Processes by name, read from /proc (what pidof/pgrep do, without forking
 * them): monitor looks for rpc.mountd, rpc.statd and nfsd's kernel threads
 * this way.
 */

export type Proc = Pick<ProcStat, 'pid' | 'comm' | 'ppid' | 'kernelThread' | 'state'> & {
  /** /proc/<pid>/stat starttime: with the pid, names one process for good (a reused pid is another one). */
  startTime?: string;
};

/** /proc/<pid>/stat, the fields process lookups by name need. */
export function parseStat(text: string): Proc | undefined {
  const s = parseProcStat(text);
  return s && procOf(s);
}

const withStartTime = (text: string): Proc | undefined => {
  const s = parseProcStat(text);
  return s && procOf(s, s.startTime);
};

const procOf = (s: ProcStat, startTime?: string): Proc => ({ pid: s.pid, comm: s.comm, ppid: s.ppid, kernelThread: s.kernelThread, state: s.state, ...(startTime === undefined ? {} : { startTime }) });

const nsLink = (pid: number | 'self', ns: 'pid' | 'net'): string | undefined => {
  try {
    return readlinkSync(`/proc/${pid}/ns/${ns}`);
  } catch {
    return undefined;
  }
};

/**
 * Does `pid` run in our PID and network namespaces? A daemon of a container
 * (another PID namespace) or of another network namespace is not this
 * node's NFS server: it serves other clients on other addresses, and is
 * never ours to count or to stop. Unknown (unreadable) is "no".
 */
export function inOurNamespaces(pid: number): boolean {
  for (const ns of ['pid', 'net'] as const) {
    const ours = nsLink('self', ns);
    if (ours === undefined || nsLink(pid, ns) !== ours) return false;
  }
  return true;
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

/** Live processes (zombies left out) whose comm is one of `names`, in one pass over /proc, in any namespace. */
export function findProcesses(names: readonly string[]): Proc[] {
  const want = new Set(names);
  const out: Proc[] = [];
  for (const pid of pids()) {
    // comm is short and cheap; stat only for the ones we want.
    const comm = readProc(pid, 'comm')?.replace(/\n$/, '');
    if (comm === undefined || !want.has(comm)) continue;
    const stat = readProc(pid, 'stat');
    const p = stat ? withStartTime(stat) : undefined;
    if (p && p.state !== 'Z') out.push(p);
  }
  return out;
}

export { cmdline };

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
export const alive = (pid: number): boolean => processStartTime(pid) !== undefined;

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
 * A pid that now belongs to another process (start time changed) is left
 * alone. Returns the pids still alive at the end (none when it worked).
 */
export async function terminate(toEnd: readonly (number | Proc)[], deadline: Deadline, opts: { sig?: NodeJS.Signals; graceMs?: number } = {}): Promise<number[]> {
  const procs: Proc[] = toEnd.map((p) => (typeof p === 'number' ? { pid: p, comm: '', ppid: 0, kernelThread: false, state: '' } : p));
  const live = (p: Proc) => alive(p.pid) && sameProcess(p);
  let left = procs.filter(live);
  const grace = opts.graceMs ?? 5000;
  for (const sig of [opts.sig ?? 'SIGTERM', 'SIGKILL'] as const) {
    if (left.length === 0) break;
    for (const p of left) if (sameProcess(p)) signal(p.pid, sig);
    await deadline.poll(() => (left = left.filter(live)).length === 0, { intervalMs: 100, limitMs: grace });
  }
  return left.map((p) => p.pid);
}

/**
 * The daemons this resource started (or took over) are recorded in a pid
 * file of its own in HA_RSCTMP (root's, cleared at boot): "pid starttime"
 * per line. A recorded process counts only while the same process (pid and
 * start time) still runs.
 */
export function recordProcesses(file: string, procs: readonly Proc[]): void {
  const text = procs.map((p) => `${p.pid} ${p.startTime ?? processStartTime(p.pid) ?? ''}\n`).join('');
  writeFileAtomic(dirname(file), basename(file), text, { uid: 0, gid: 0, mode: 0o644 });
}

/** The processes `file` recorded that still run (same start time), named `comm`. */
export function recordedProcesses(file: string, comm: string): Proc[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: Proc[] = [];
  for (const line of text.split('\n')) {
    const [pid, start] = line.trim().split(/\s+/);
    if (!pid || !/^\d+$/.test(pid)) continue;
    const stat = readProc(Number(pid), 'stat');
    const p = stat ? withStartTime(stat) : undefined;
    if (p && p.state !== 'Z' && p.comm === comm && p.startTime === start) out.push(p);
  }
  return out;
}

export function forgetProcesses(file: string): void {
  rmSync(file, { force: true });
}

/** Still the same process (pid not reused meanwhile)? */
export function sameProcess(p: Proc): boolean {
  return p.startTime === undefined || processStartTime(p.pid) === p.startTime;
}

/**
 * Processes that use the mount at `dir` (the topmost one there), proven by
 * the kernel's mount ids (src/sys/proc-users.ts: no path text, no stat of
 * the filesystem), bounded by `limitMs`. Empty when nothing is mounted there.
 */
export async function mountUsers(dir: string, limitMs: number): Promise<ProcUser[]> {
  const target = mountAt(dir);
  if (!target) return [];
  const r = await race(findMountUsers(target, { mode: 'safe' }), Math.max(1, limitMs), undefined);
  return r?.users ?? [];
}

/** "rpc.statd[812] (cwd /var/lib/nfs), …" for everything that holds the mount at `dir`. */
export async function holdersOf(dir: string, limitMs: number): Promise<string[]> {
  return (await mountUsers(dir, limitMs)).map((u) => `${u.comm}[${u.pid}] (${describeUses(u.uses, 2)})`);
}
