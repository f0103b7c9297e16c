import { fail } from '../../ocf/exit-codes.js';
import { NFS_STATE_DIR } from './infodir.js';
import { nfsdThreads } from './nfsd.js';
import type { Ops } from './ops.js';
import { argValue, cmdline, findProcesses, pathsBelow, terminate, type Proc } from './processes.js';
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
  smNotify: 'sm-notify',
  /** nfsd's kernel threads. */
  nfsd: 'nfsd',
} as const;

export const running = (comm: string): Proc[] => findProcesses([comm]).filter((p) => !p.kernelThread);
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
  const left = await terminate(
    procs.map((p) => p.pid),
    ops.deadline,
  );
  if (left.length) throw fail.generic(`${what} (pid ${left.join(', ')}) does not end, even with SIGKILL`);
}

export async function ensureRpcbind(ops: Ops): Promise<void> {
  if (running(DAEMON.rpcbind).length) return;
  // -w: warm start, keeps registrations of daemons that are already running (Debian's default).
  await startDaemon(ops, DAEMON.rpcbind, 'rpcbind', ['-w']);
}

/** statd processes that work on our state directory or hold files below /var/lib/nfs. */
export function ourStatds(c: StatdConfig): Proc[] {
  return running(DAEMON.statd).filter((p) => {
    const argv = cmdline(p.pid);
    return statdArgvMatches(argv, c) === undefined || (argValue(argv, '-P', '--state-directory-path') ?? NFS_STATE_DIR).startsWith(NFS_STATE_DIR) || pathsBelow(p.pid, NFS_STATE_DIR).length > 0;
  });
}

/**
 * rpc.statd with the shared identity. A statd running otherwise (the one
 * nfs-common started at boot) is replaced: only one statd can serve a host.
 */
export async function startStatd(ops: Ops, c: StatdConfig): Promise<void> {
  const all = running(DAEMON.statd);
  const good = all.filter((p) => statdArgvMatches(cmdline(p.pid), c) === undefined);
  if (good.length && good.length === all.length) return;
  for (const p of all) if (!good.includes(p)) ops.log.info(`replacing rpc.statd[${p.pid}]: ${statdArgvMatches(cmdline(p.pid), c)}`);
  await stopProcesses(ops, 'rpc.statd', all.filter((p) => !good.includes(p)));
  if (!good.length) await startDaemon(ops, DAEMON.statd, 'rpc.statd', statdArgs(c));
}

export async function stopStatd(ops: Ops, c: StatdConfig): Promise<void> {
  await stopProcesses(ops, 'rpc.statd', ourStatds(c));
}

/** sm-notify processes still notifying from our state directory (they keep it busy). */
export function ourSmNotify(dir: string): Proc[] {
  return running(DAEMON.smNotify).filter((p) => {
    const argv = cmdline(p.pid);
    return (argValue(argv, '-P', '--state-directory-path') ?? NFS_STATE_DIR) === dir || pathsBelow(p.pid, NFS_STATE_DIR).length > 0;
  });
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

export async function stopMountd(ops: Ops): Promise<void> {
  await stopProcesses(ops, 'rpc.mountd', running(DAEMON.mountd));
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
  const up = () => (nfsdThreads() ?? 0) > 0 || nfsdKernelThreads().length > 0;
  if (!up()) return;
  if (nfsdThreads() !== undefined) await ops.run('rpc.nfsd', ['0'], { check: false, timeoutMs: graceMs });
  if (await settle(ops, () => !up(), graceMs)) return;
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

export async function stopIdmapd(ops: Ops): Promise<void> {
  await stopProcesses(ops, 'rpc.idmapd', running(DAEMON.idmapd));
}
