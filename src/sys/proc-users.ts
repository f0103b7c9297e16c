import { open, readdir, readFile, readlink } from 'node:fs/promises';
import { race } from '../ocf/deadline.js';
import { parseStat as parseProcStat, processStartTime, readStat } from './processes.js';
import { mountOfPath, parseMountinfo, type MountEntry } from './mountinfo.js';

export { mountOfPath };

/**
 * Which processes keep a mount busy, found by walking /proc the way the
 * kernel itself knows it — never by stat()ing a path.
 *
 * `fuser -m` and `lsof` stat() every file a process has open to compare
 * st_dev; one file on a dead NFS server and they hang, and the stop with
 * them. Here each fact comes from /proc:
 *
 * - readlink of /proc/<pid>/{cwd,root,exe,fd/N} returns the kernel's name
 *   for the path (d_path over the dentry cache: no filesystem is asked);
 * - /proc/<pid>/fdinfo/N gives the open file's `mnt_id`, the id in the first
 *   field of mountinfo: an open file is matched to the exact mount;
 * - /proc/<pid>/maps gives each mapped file's device (major:minor) and path;
 * - a cwd/root/exe path that resolves (longest mount point prefix in the
 *   process's mount table) to the target is confirmed by its mount id too:
 *   see linkMountId. That keeps a process which entered the directory before
 *   our filesystem covered it (it sits on the parent filesystem) untouched.
 *   Paths on any other mount are never opened.
 *
 * A process in another mount namespace (container, PrivateTmp service) sees
 * its own copies of our mounts; a busy copy that receives our unmount by
 * propagation makes the unmount fail too. Its fds and links are matched by
 * mount id against the target and its propagation copies. Where only its
 * path text is available (memory maps, a link that could not be confirmed)
 * that is inference: `mode: 'safe'` reports such processes as unproven and
 * leaves them alone.
 *
 * Reads are asynchronous so the caller can bound the walk (reading `maps`
 * takes the process's mmap lock, killably).
 */

export type UseKind = 'cwd' | 'root' | 'exe' | 'fd' | 'map';

export interface MountUse {
  kind: UseKind;
  /** The path as the kernel names it. */
  path: string;
  fd?: number;
  /** mnt_id: the kernel's mount id (fdinfo); path: the path resolved through the mount table. */
  proof: 'mnt_id' | 'path';
}

export interface ProcUser {
  pid: number;
  /** /proc/<pid>/stat starttime: tells a reused pid apart before it is signalled. */
  startTime: string;
  /** Short name (comm) from /proc/<pid>/stat. */
  comm: string;
  kernelThread: boolean;
  /** In a mount namespace other than ours. */
  foreignNamespace: boolean;
  uses: MountUse[];
}

export interface ScanOptions {
  /** 'safe': only proven uses; path inference in other mount namespaces is reported, not trusted. */
  mode: 'all' | 'safe';
  /** pids never reported (the agent itself). */
  exclude?: number[];
  /** The /proc to walk (unit tests pass a fake tree). */
  proc?: string;
  /** Our mount namespace (readlink /proc/self/ns/mnt) and mount table. */
  ownNamespace?: string;
  ownMounts?: MountEntry[];
  concurrency?: number;
  /** Limit for opening one cwd/root/exe link to read its mount id (see linkMountId). */
  confirmTimeoutMs?: number;
  /** Replaces linkMountId (unit tests with a fake /proc). */
  mountIdOf?: (link: string) => Promise<number | 'gone' | 'unknown'>;
}

export interface ScanResult {
  users: ProcUser[];
  /** Processes that seem to use the mount, by evidence 'safe' mode does not act on. */
  unproven: ProcUser[];
}

const peerGroup = (m: MountEntry, tag: 'shared' | 'master') => m.optionalFields.find((f) => f.startsWith(`${tag}:`))?.slice(tag.length + 1);

/**
 * `entry` (in another namespace's table) is a copy of `target` that receives
 * its unmount by propagation: same filesystem and root, and a peer or slave of
 * target's peer group.
 */
export function isPropagatedCopy(entry: MountEntry, target: MountEntry): boolean {
  const group = peerGroup(target, 'shared');
  if (!group || entry.majorMinor !== target.majorMinor || entry.root !== target.root) return false;
  return peerGroup(entry, 'shared') === group || peerGroup(entry, 'master') === group;
}

/** One line of /proc/<pid>/maps: device (decimal major:minor), inode, path. */
export function parseMapsLine(line: string): { majorMinor: string; inode: string; path: string } | undefined {
  // address perms offset dev inode [spaces] path
  const m = /^\S+ \S+ \S+ ([0-9a-f]+):([0-9a-f]+) (\d+)\s+(.*)$/.exec(line);
  if (!m) return undefined;
  return { majorMinor: `${Number.parseInt(m[1]!, 16)}:${Number.parseInt(m[2]!, 16)}`, inode: m[3]!, path: m[4]! };
}

/** comm, state, starttime and kernel-thread flag from /proc/<pid>/stat. */
export function parseStat(text: string): { comm: string; state: string; startTime: string; kernelThread: boolean } | undefined {
  const s = parseProcStat(text);
  return s && { comm: s.comm, state: s.state, startTime: s.startTime, kernelThread: s.kernelThread };
}

/** O_PATH: a handle on the path itself; nothing of the file is opened or read. */
const O_PATH = 0o10000000;

/**
 * The mount id of what a /proc/<pid>/{cwd,root,exe} link points to: open it
 * with O_PATH and read our own fdinfo. Following a /proc magic link jumps
 * straight to the kernel's (mount, dentry) pair without a lookup, and O_PATH
 * calls no open or getattr of the filesystem; only NFS-like filesystems may
 * revalidate the dentry then. It is called only for paths that already
 * resolve to the mount being stopped, never for other mounts, and is bounded.
 */
async function linkMountId(link: string, timeoutMs: number): Promise<number | 'gone' | 'unknown'> {
  const opening = open(link, O_PATH);
  const read = opening.then(async (fh) => {
    try {
      const info = await readFile(`/proc/self/fdinfo/${fh.fd}`, 'utf8');
      const id = /^mnt_id:\s*(\d+)/m.exec(info)?.[1];
      return id === undefined ? ('unknown' as const) : Number(id);
    } finally {
      await fh.close();
    }
  });
  try {
    return await race(read, timeoutMs, 'unknown' as const);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ESRCH' ? 'gone' : 'unknown';
  }
}

const quiet = async <T>(p: Promise<T>): Promise<T | undefined> => {
  try {
    return await p;
  } catch {
    return undefined; // the process exited, closed the fd, or is not ours to read
  }
};

async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

/** Processes using `target` (a mount of our mount table), by their cwd, root, exe, open files and memory maps. */
export async function findMountUsers(target: MountEntry, opts: ScanOptions): Promise<ScanResult> {
  const proc = opts.proc ?? '/proc';
  const exclude = new Set(opts.exclude ?? [process.pid]);
  const ownNs = opts.ownNamespace ?? (await quiet(readlink(`${proc}/self/ns/mnt`)));
  const ownMounts = opts.ownMounts ?? parseMountinfo(await readFile(`${proc}/self/mountinfo`, 'utf8'));
  const nsTables = new Map<string, Promise<MountEntry[] | undefined>>();

  const pids = (await readdir(proc)).filter((n) => /^\d+$/.test(n)).map(Number).filter((pid) => !exclude.has(pid));
  const users: ProcUser[] = [];
  const unproven: ProcUser[] = [];

  const scanPid = async (pid: number) => {
    const base = `${proc}/${pid}`;
    const stat = parseStat((await quiet(readFile(`${base}/stat`, 'utf8'))) ?? '');
    if (!stat) return;
    const ns = await quiet(readlink(`${base}/ns/mnt`));
    const foreign = ns !== undefined && ownNs !== undefined && ns !== ownNs;

    // The mount table the process's paths are read against, and the mount ids that count as the target there.
    let table = ownMounts;
    const ids = new Set([target.id]);
    if (foreign) {
      if (!nsTables.has(ns!)) nsTables.set(ns!, quiet(readFile(`${base}/mountinfo`, 'utf8')).then((t) => (t === undefined ? undefined : parseMountinfo(t))));
      const theirs = await nsTables.get(ns!);
      table = theirs ?? [];
      for (const e of table) if (isPropagatedCopy(e, target)) ids.add(e.id);
    }

    const proven: MountUse[] = [];
    const inferred: MountUse[] = [];
    const resolvesToTarget = (path: string | undefined): path is string => {
      if (!path?.startsWith('/')) return false;
      const m = mountOfPath(path, table);
      return !!m && ids.has(m.id);
    };

    // cwd/root/exe: the path text says "maybe ours"; the kernel's mount id decides (a process that
    // entered the directory before our filesystem covered it sits on the parent filesystem).
    for (const kind of ['cwd', 'root', 'exe'] as const) {
      const path = await quiet(readlink(`${base}/${kind}`));
      if (!resolvesToTarget(path)) continue;
      const mntId = await (opts.mountIdOf ?? ((l: string) => linkMountId(l, opts.confirmTimeoutMs ?? 2000)))(`${base}/${kind}`);
      if (mntId === 'gone') continue;
      if (mntId === 'unknown') (foreign ? inferred : proven).push({ kind, path, proof: 'path' });
      else if (ids.has(mntId)) proven.push({ kind, path, proof: 'mnt_id' });
    }

    const fds = (await quiet(readdir(`${base}/fd`))) ?? [];
    for (const name of fds) {
      const path = await quiet(readlink(`${base}/fd/${name}`));
      // pipe:[…], socket:[…], anon_inode:[…] live on kernel-internal mounts, never on ours.
      if (!path?.startsWith('/')) continue;
      const info = await quiet(readFile(`${base}/fdinfo/${name}`, 'utf8'));
      const mntId = info && /^mnt_id:\s*(\d+)/m.exec(info)?.[1];
      if (mntId !== undefined && mntId !== null && mntId !== '' && ids.has(Number(mntId))) proven.push({ kind: 'fd', fd: Number(name), path, proof: 'mnt_id' });
    }

    const maps = await quiet(readFile(`${base}/maps`, 'utf8'));
    const seen = new Set<string>();
    for (const line of maps?.split('\n') ?? []) {
      const m = parseMapsLine(line);
      // Same device (the file is on this filesystem) and a path on this mount.
      if (!m || m.inode === '0' || m.majorMinor !== target.majorMinor || seen.has(m.path)) continue;
      seen.add(m.path);
      if (resolvesToTarget(m.path)) (foreign ? inferred : proven).push({ kind: 'map', path: m.path, proof: 'path' });
    }

    const user = { pid, startTime: stat.startTime, comm: stat.comm, kernelThread: stat.kernelThread, foreignNamespace: foreign };
    if (proven.length || (opts.mode === 'all' && inferred.length)) users.push({ ...user, uses: [...proven, ...inferred] });
    else if (inferred.length) unproven.push({ ...user, uses: inferred });
  };

  await pool(pids, opts.concurrency ?? 16, scanPid);
  users.sort((a, b) => a.pid - b.pid);
  unproven.sort((a, b) => a.pid - b.pid);
  return { users, unproven };
}

/** The command line, for logs ("sleep 1000"); [comm] for kernel threads and processes without one. */
export async function commandLine(pid: number, comm: string, proc = '/proc'): Promise<string> {
  const raw = await quiet(readFile(`${proc}/${pid}/cmdline`, 'utf8'));
  const cmd = raw?.replace(/\0+$/, '').replace(/\0/g, ' ').trim();
  if (!cmd) return `[${comm}]`;
  return cmd.length > 200 ? `${cmd.slice(0, 197)}...` : cmd;
}

/** "cwd /srv/data, fd 3 /srv/data/db.lock, …" */
export function describeUses(uses: MountUse[], max = 3): string {
  const parts = uses.map((u) => (u.kind === 'fd' ? `fd ${u.fd} ${u.path}` : `${u.kind} ${u.path}`));
  return parts.length > max ? `${parts.slice(0, max).join(', ')}, +${parts.length - max} more` : parts.join(', ');
}

/**
 * Sends `signal` to a user found by the scan, unless its pid now belongs to
 * another process (start time changed), it is PID 1, or a kernel thread.
 * Returns false when nothing was sent.
 */
export async function signalUser(user: ProcUser, signal: NodeJS.Signals | number, proc = '/proc'): Promise<boolean> {
  if (user.pid <= 1 || user.kernelThread || user.pid === process.pid) return false;
  if (readStat(user.pid, proc)?.startTime !== user.startTime) return false;
  try {
    process.kill(user.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Whether the process the scan found still exists (same pid and start time, not a zombie). */
export async function isAlive(user: ProcUser, proc = '/proc'): Promise<boolean> {
  // A zombie holds no files and no cwd any more: gone, as far as the mount is concerned.
  return processStartTime(user.pid, proc) === user.startTime;
}
