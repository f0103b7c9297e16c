import { existsSync } from 'node:fs';
import { fail } from '../../ocf/exit-codes.js';
import { NFS_STATE_DIR } from './infodir.js';
import { nfsdThreads } from './nfsd.js';
import type { Ops } from './ops.js';
import { argValue, cmdline, findProcesses, inOurNamespaces, mountUsers, recordedProcesses, terminate, type Proc } from './processes.js';
import { statdArgs, statdArgvMatches, type StatdConfig } from './statd.js';

/**
 * The NFS daemons, started and stopped directly (no init system): what
 * Debian's nfs-common and nfs-kernel-server scripts do, with every wait
 * bounded by the op deadline and checked through /proc.
 */

export const DAEMON = {
  rpcbind: 'rpcbind',
  statd: 'rpc.statd',
  mountd: 'rpc.mountd',
  idmapd: 'rpc.idmapd',
  /** NFSv4 client tracking daemon (nfs-utils ≥ 2.3.3). */
  nfsdcld: 'nfsdcld',
  smNotify: 'sm-notify',
  /** nfsd's kernel threads. */
  nfsd: 'nfsd',
} as const;

/**
 * Processes named `comm` in our PID and network namespaces: the daemons of
 * this node's NFS server. Those of containers (other PID namespaces) and of
 * other network namespaces serve someone else and are never counted or
 * stopped here.
 */
export const running = (comm: string): Proc[] => findProcesses([comm]).filter((p) => !p.kernelThread && inOurNamespaces(p.pid));
export const nfsdKernelThreads = (): Proc[] => findProcesses([DAEMON.nfsd]).filter((p) => p.kernelThread);

/** Waits (bounded) until `check` holds; false when it never did. */
async function settle(ops: Ops, check: () => boolean, limitMs: number): Promise<boolean> {
  try {
    await ops.deadline.until('wait', () => check() || undefined, { limitMs, intervalMs: 100 });
    return true;
  } catch {
    return check();
  }
}

/** Starts a daemon that forks into the background, and waits until its process shows. */
export async function startDaemon(ops: Ops, comm: string, cmd: string, args: string[], limitMs = 10_000): Promise<void> {
  ops.log.info(`starting ${comm}`);
  await ops.run(cmd, args);
  if (!(await settle(ops, () => running(comm).length > 0, limitMs))) throw fail.generic(`${comm} exited right after it started (see the system log)`);
}

/** Ends every process in `procs`; fails naming those that survive SIGKILL. */
export async function stopProcesses(ops: Ops, what: string, procs: Proc[]): Promise<void> {
  if (!procs.length) return;
  ops.log.info(`stopping ${what} (pid ${procs.map((p) => p.pid).join(', ')})`);
  const left = await terminate(procs, ops.deadline);
  if (left.length) throw fail.generic(`${what} (pid ${left.join(', ')}) does not end, even with SIGKILL`);
}

export async function ensureRpcbind(ops: Ops): Promise<void> {
  if (running(DAEMON.rpcbind).length) return;
  // -w: warm start, keeps registrations of daemons that are already running (Debian's default).
  await startDaemon(ops, DAEMON.rpcbind, 'rpcbind', ['-w']);
}

/**
 * A statd we started: our fixed arguments (--no-notify and an explicit -P)
 * with the configured identity and state directory. A statd started at boot
 * (`rpc.statd`, no arguments) is the node's, not ours.
 */
export function isOurStatd(argv: readonly string[], c: StatdConfig): boolean {
  return argv.includes('--no-notify') && argValue(argv, '-P', '--state-directory-path') !== undefined && statdArgvMatches(argv, c) === undefined;
}

/** Users of our bound /var/lib/nfs (proven by mount id) named `comm`, in our namespaces. */
async function holdersOfStateDir(ops: Ops, comm: string): Promise<Proc[]> {
  const users = await mountUsers(NFS_STATE_DIR, ops.deadline.bound(5000));
  return users.filter((u) => u.comm === comm && !u.kernelThread && inOurNamespaces(u.pid)).map((u) => ({ pid: u.pid, comm: u.comm, ppid: 0, kernelThread: false, state: '', startTime: u.startTime }));
}

const union = (a: Proc[], b: Proc[]) => [...a, ...b.filter((x) => !a.some((y) => y.pid === x.pid))];

/**
 * The statds stop ends: ours by their arguments, and, while our shared
 * state directory is bound over /var/lib/nfs, any statd that holds it
 * (it would keep the unbind from working).
 */
export async function ourStatds(ops: Ops, c: StatdConfig, o: { bound: boolean }): Promise<Proc[]> {
  const mine = running(DAEMON.statd).filter((p) => isOurStatd(cmdline(p.pid), c));
  return o.bound ? union(mine, await holdersOfStateDir(ops, DAEMON.statd)) : mine;
}

/**
 * rpc.statd with the shared identity. A statd running otherwise (the one
 * nfs-common started at boot) is replaced: only one statd can serve a host.
 */
export async function startStatd(ops: Ops, c: StatdConfig): Promise<void> {
  const all = running(DAEMON.statd);
  const good = all.filter((p) => isOurStatd(cmdline(p.pid), c));
  if (good.length && good.length === all.length) return;
  for (const p of all) if (!good.includes(p)) ops.log.info(`replacing rpc.statd[${p.pid}]: ${statdArgvMatches(cmdline(p.pid), c) ?? 'not started with our arguments'}`);
  await stopProcesses(ops, 'rpc.statd', all.filter((p) => !good.includes(p)));
  if (!good.length) await startDaemon(ops, DAEMON.statd, 'rpc.statd', statdArgs(c));
}

export async function stopStatd(ops: Ops, c: StatdConfig, o: { bound: boolean }): Promise<void> {
  await stopProcesses(ops, 'rpc.statd', await ourStatds(ops, c, o));
}

/**
 * sm-notify processes still notifying from our state directory (they keep it
 * busy): the notifier's (`-f -P <dir>`), and while our shared directory is
 * bound, any that holds it. A node's own boot-time sm-notify is left alone.
 */
export async function ourSmNotify(ops: Ops, dir: string, o: { bound: boolean }): Promise<Proc[]> {
  const mine = running(DAEMON.smNotify).filter((p) => {
    const argv = cmdline(p.pid);
    return argv.includes('-f') && argValue(argv, '-P', '--state-directory-path') === dir;
  });
  return o.bound ? union(mine, await holdersOfStateDir(ops, DAEMON.smNotify)) : mine;
}

export function mountdArgs(o: { v4only: boolean; port?: number }): string[] {
  const args: string[] = [];
  if (o.port !== undefined) args.push('-p', String(o.port));
  // NFSv4 only: mountd still answers the kernel's export upcalls, but registers no MOUNT service.
  if (o.v4only) args.push('-N', '2', '-N', '3');
  return args;
}

export async function startMountd(ops: Ops, o: { v4only: boolean; port?: number }): Promise<void> {
  if (running(DAEMON.mountd).length) return;
  await startDaemon(ops, DAEMON.mountd, 'rpc.mountd', mountdArgs(o));
}

/**
 * The mountds stop ends: the one this resource recorded at start, and, when
 * this node's NFS server is ours to stop (our shared directory bound, nfsd
 * threads running in our network namespace), every mountd of our
 * namespaces: the server is being stopped. Nothing else: a never-started
 * resource leaves a node's own mountd alone.
 */
export async function stopMountd(ops: Ops, record: string, o: { serverRunsHere: boolean }): Promise<void> {
  const recorded = recordedProcesses(record, DAEMON.mountd).filter((p) => inOurNamespaces(p.pid));
  await stopProcesses(ops, 'rpc.mountd', o.serverRunsHere ? union(recorded, running(DAEMON.mountd)) : recorded);
}

/**
 * Sets the NFSv4 server scope: nfsd takes it from the UTS node name of the
 * process that starts its threads, so rpc.nfsd runs in its own UTS namespace
 * with the scope as host name (a fixed script; values are arguments).
 */
export const WITH_HOSTNAME = 'printf "%s" "$1" > /proc/sys/kernel/hostname && shift && exec "$@"';

/** `cmd args` run with `scope` as its UTS node name (unchanged without a scope). */
export function withScope(scope: string | undefined, cmd: string, args: string[]): [string, string[]] {
  if (!scope) return [cmd, args];
  return ['unshare', ['--uts', '--', 'sh', '-c', WITH_HOSTNAME, 'nfsd-scope', scope, cmd, ...args]];
}

export function nfsdCommand(o: { v4only: boolean; threads?: number; args: string[]; scope?: string }): [string, string[]] {
  const args = [...(o.v4only ? ['-N', '2', '-N', '3'] : []), ...o.args];
  if (o.threads !== undefined) args.push(String(o.threads));
  return withScope(o.scope, 'rpc.nfsd', args);
}

/** Waits (bounded) for nfsd threads; fails when none come up. */
export async function waitNfsdUp(ops: Ops, how: string): Promise<void> {
  if (!(await settle(ops, () => (nfsdThreads() ?? 0) > 0, 15_000))) throw fail.generic(`${how} started no nfsd threads (/proc/fs/nfsd/threads is ${nfsdThreads() ?? 'missing'})`);
}

export async function startNfsd(ops: Ops, o: { v4only: boolean; threads?: number; args: string[]; scope?: string }): Promise<void> {
  if ((nfsdThreads() ?? 0) > 0) return;
  const [cmd, args] = nfsdCommand(o);
  ops.log.info(`starting nfsd${o.scope ? ` (server scope ${o.scope})` : ''}`);
  await ops.run(cmd, args);
  await waitNfsdUp(ops, 'rpc.nfsd');
}

/**
 * Stops nfsd: `rpc.nfsd 0`, then the threads that refuse to go get SIGKILL
 * (nfsd threads accept it: the old `killall -9 nfsd`, limited to kernel
 * threads named nfsd), every wait bounded.
 */
export async function stopNfsd(ops: Ops, graceMs = 10_000): Promise<void> {
  // Only our network namespace's count: nfsd threads of a container (another network namespace) are kernel
  // threads named nfsd too, and are not ours to stop.
  const up = () => (nfsdThreads() ?? 0) > 0;
  if (!up()) return;
  if (nfsdThreads() !== undefined) await ops.run('rpc.nfsd', ['0'], { check: false, timeoutMs: graceMs });
  if (await settle(ops, () => !up(), graceMs)) {
    // The count drops before the threads have exited; give them a moment (they may also be another
    // namespace's, so this only waits, bounded, and never fails).
    await settle(ops, () => nfsdKernelThreads().length === 0, Math.min(graceMs, 5000));
    return;
  }
  const threads = nfsdKernelThreads();
  ops.log.warn(`nfsd threads ${threads.map((p) => p.pid).join(', ')} did not stop: sending SIGKILL`);
  const left = await terminate(
    threads.map((p) => p.pid),
    ops.deadline,
    { sig: 'SIGKILL', graceMs },
  );
  if (left.length || (nfsdThreads() ?? 0) > 0) throw fail.generic(`nfsd threads do not stop (pids ${left.join(', ') || '?'}, /proc/fs/nfsd/threads ${nfsdThreads() ?? 'missing'})`);
}

export async function startIdmapd(ops: Ops, pipefsDir: string): Promise<boolean> {
  if (running(DAEMON.idmapd).length) return false;
  try {
    await startDaemon(ops, DAEMON.idmapd, 'rpc.idmapd', ['-p', pipefsDir], 5000);
    return true;
  } catch (e) {
    // NFSv4 with AUTH_SYS works with numeric ids without idmapd: a warning, not a failure.
    ops.log.warn(`rpc.idmapd did not start: ${(e as Error).message}`);
    return false;
  }
}

/** Where nfsdcld keeps its database: in the state directory, so on the shared storage while it is bound. */
export const NFSDCLD_STORAGE = `${NFS_STATE_DIR}/nfsdcld`;

/**
 * nfsdcld, before nfsd starts: the kernel then tracks NFSv4 clients through
 * it (upcall v2, kernel ≥ 5.2) instead of nfsdcltrack or the legacy
 * directory, hands it the clients allowed to reclaim when the grace period
 * begins, and ends the grace period as soon as all of them have reclaimed
 * (RECLAIM_COMPLETE) instead of after nfsv4gracetime. An nfsdcld already
 * running with its database elsewhere (the node's own, started before our
 * directory was bound) is replaced: a takeover would find no records.
 * Returns whether it started one. Without nfsdcld the kernel falls back by
 * itself: a warning, not a failure.
 */
export async function startNfsdcld(ops: Ops, o: { pipefsDir: string; bound: boolean; which: (prog: string) => string | undefined }): Promise<boolean> {
  const exe = o.which('nfsdcld');
  // rpc_pipefs's nfsd directory is where the kernel opens nfsd's pipe to it: without it nfsdcld has no one to serve.
  if (!exe || !existsSync(`${o.pipefsDir}/nfsd`)) return false;
  const stale = await nfsdcldElsewhere(ops, o.bound);
  if (stale.length) ops.log.info(`replacing nfsdcld ${stale.map((p) => p.pid).join(', ')}: its database is not in the shared ${NFS_STATE_DIR}`);
  await stopProcesses(ops, 'nfsdcld', stale);
  if (running(DAEMON.nfsdcld).length) return false;
  try {
    await startDaemon(ops, DAEMON.nfsdcld, exe, nfsdcldArgs(o.pipefsDir), 5000);
    return true;
  } catch (e) {
    ops.log.warn(`nfsdcld did not start (${(e as Error).message}): NFSv4 clients are tracked by nfsdcltrack or ${NFS_STATE_DIR}/v4recovery, and the grace period always lasts nfsv4gracetime`);
    return false;
  }
}

/** Running nfsdcld processes whose database is not in our bound state directory (none when nothing is bound: no shared state to miss). */
export async function nfsdcldElsewhere(ops: Ops, bound: boolean): Promise<Proc[]> {
  const all = running(DAEMON.nfsdcld);
  if (!bound || !all.length) return [];
  const holders = await holdersOfStateDir(ops, DAEMON.nfsdcld);
  return all.filter((p) => !holders.some((h) => h.pid === p.pid));
}

/** nfsdcld's arguments: rpc_pipefs where the agent mounted it, the database in the state directory. */
export const nfsdcldArgs = (pipefsDir: string) => ['-p', pipefsDir, '-s', NFSDCLD_STORAGE];

/** Ends the nfsdcld this resource started, and any that holds our bound state directory (it would keep the unbind from working). */
export async function stopNfsdcld(ops: Ops, record: string, o: { bound: boolean }): Promise<void> {
  const recorded = recordedProcesses(record, DAEMON.nfsdcld).filter((p) => inOurNamespaces(p.pid));
  await stopProcesses(ops, 'nfsdcld', o.bound ? union(recorded, await holdersOfStateDir(ops, DAEMON.nfsdcld)) : recorded);
}

/** Ends the rpc.idmapd this resource started (recorded at start); a node's own idmapd stays. */
export async function stopIdmapd(ops: Ops, record: string): Promise<void> {
  await stopProcesses(ops, 'rpc.idmapd', recordedProcesses(record, DAEMON.idmapd).filter((p) => inOurNamespaces(p.pid)));
}
