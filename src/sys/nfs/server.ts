import { existsSync } from 'node:fs';
import { fail } from '../../ocf/exit-codes.js';
import {
  DAEMON,
  ensureRpcbind,
  isOurStatd,
  mountdArgs,
  nfsdCommand,
  running,
  startIdmapd,
  nfsdcldArgs,
  nfsdcldElsewhere,
  startNfsdcld,
  startMountd,
  startNfsd,
  startStatd,
  stopIdmapd,
  stopNfsdcld,
  stopMountd,
  stopNfsd,
  stopStatd,
  waitNfsdUp,
  WITH_HOSTNAME,
  withScope,
} from './daemons.js';
import { nfsdThreads, setLockdPort } from './nfsd.js';
import type { Ops } from './ops.js';
import { cmdline, forgetProcesses, recordProcesses } from './processes.js';
import { statdArgs, type StatdConfig } from './statd.js';
import { dropinPath, execStartDropin, isSystemdPid1, removeDropins, systemctl, writeDropins } from './systemd.js';

/**
 * Starting and stopping the NFS server daemons in one of three ways:
 * - direct: the agent runs rpcbind, rpc.statd, rpc.mountd, rpc.nfsd itself
 *   (no init system, e.g. containers, minimal installs);
 * - systemd: PID 1 is systemd, the distribution's units do it, configured by
 *   runtime drop-ins;
 * - init-script: nfs_init_script starts/stops nfsd and mountd (no systemd);
 *   rpcbind and statd stay with the agent, which needs statd's identity.
 */
export type Backend = 'direct' | 'systemd' | 'init-script';

export function chooseBackend(initScript: string | undefined): Backend {
  if (isSystemdPid1()) return 'systemd';
  return initScript ? 'init-script' : 'direct';
}

export interface ServerConfig {
  backend: Backend;
  initScript?: string;
  v4only: boolean;
  threads?: number;
  nfsdArgs: string[];
  /** NFSv4 server scope (the UTS node name nfsd is started with). */
  scope?: string;
  mountdPort?: number;
  lockdTcpPort?: number;
  lockdUdpPort?: number;
  statd: StatdConfig;
  pipefsDir: string;
  /** Pid files (in HA_RSCTMP) of the daemons this resource started or took over: what stop may end. */
  records: { mountd: string; idmapd: string; nfsdcld: string };
  /** /var/lib/nfs is the shared directory (nfsdcld's database goes there). */
  bound: boolean;
  /** The full path of a program, or undefined when it is not installed. */
  find: (prog: string) => string | undefined;
}

const UNITS = {
  rpcbind: 'rpcbind.service',
  statd: 'rpc-statd.service',
  statdNotify: 'rpc-statd-notify.service',
  mountd: 'nfs-mountd.service',
  server: 'nfs-server.service',
  cld: 'nfsdcld.service',
};

function setLockdPorts(ops: Ops, c: ServerConfig): void {
  for (const [proto, port] of [
    ['tcp', c.lockdTcpPort],
    ['udp', c.lockdUdpPort],
  ] as const) {
    if (port !== undefined && !setLockdPort(proto, port)) ops.log.warn(`cannot set the lockd ${proto} port: /proc/sys/fs/nfs/nlm_${proto}port is missing`);
  }
}

/** The runtime drop-ins that carry our settings into the distribution's units. */
export function systemdDropins(c: ServerConfig): Record<string, string> {
  // Absolute paths for the units; a missing program keeps its name (systemd then says it is missing).
  const path = (prog: string) => c.find(prog) ?? prog;
  const [nfsdCmd, nfsdArgv] = nfsdCommand({ v4only: c.v4only, threads: c.threads, args: c.nfsdArgs });
  const nfsd = [path(nfsdCmd), ...nfsdArgv];
  const server = c.scope ? [path('unshare'), '--uts', '--', path('sh'), '-c', WITH_HOSTNAME, 'nfsd-scope', c.scope, ...nfsd] : nfsd;
  const dropins: Record<string, string> = {
    [UNITS.server]: execStartDropin(server),
    [UNITS.mountd]: execStartDropin([path('rpc.mountd'), ...mountdArgs({ v4only: c.v4only, port: c.mountdPort })]),
  };
  if (!c.v4only) dropins[UNITS.statd] = execStartDropin([path('rpc.statd'), ...statdArgs(c.statd)]);
  const cld = c.find('nfsdcld');
  if (cld) dropins[UNITS.cld] = execStartDropin([cld, ...nfsdcldArgs(c.pipefsDir)]);
  return dropins;
}

async function startWithSystemd(ops: Ops, c: ServerConfig): Promise<void> {
  let reload = writeDropins(systemdDropins(c));
  const statdMismatch = running(DAEMON.statd).some((p) => !isOurStatd(cmdline(p.pid), c.statd));
  // The boot-time sm-notify unit would notify from the node's own address before the floating one is up.
  if (!existsSync(`/run/systemd/system/${UNITS.statdNotify}`)) {
    await systemctl(ops, ['mask', '--runtime', UNITS.statdNotify], false);
    reload = true;
  }
  if (reload) await systemctl(ops, ['daemon-reload']);
  if (!c.v4only) {
    await systemctl(ops, ['start', UNITS.rpcbind]);
    // restart: a statd already running from boot does not have our identity.
    await systemctl(ops, [statdMismatch ? 'restart' : 'start', UNITS.statd]);
  }
  // restart: an nfsdcld from boot keeps its database on the local disk (nfsd not running yet picks it up anew).
  if ((nfsdThreads() ?? 0) === 0 && (await nfsdcldElsewhere(ops, c.bound)).length) await systemctl(ops, ['restart', UNITS.cld], false);
  await systemctl(ops, ['start', UNITS.server]);
  await waitNfsdUp(ops, `systemctl start ${UNITS.server}`);
}

/**
 * The units stop hands to systemd: only what this resource runs here. Our
 * drop-ins (written at start, in /run) say the units run with our settings;
 * without them, nfs-server only when this node's server is ours to stop
 * (shared directory bound, nfsd threads in our network namespace) and
 * rpc-statd only when the statd running is ours: a node's own statd (and
 * the node's own idle units) stay.
 */
export function systemdUnitsToStop(o: { v4only: boolean; ourDropins: boolean; serverRunsHere: boolean; ourStatd: boolean }): string[] {
  const units: string[] = [];
  if (o.ourDropins || o.serverRunsHere) units.push(UNITS.server, UNITS.cld);
  if (!o.v4only && (o.ourDropins || o.ourStatd)) units.push(UNITS.statd);
  return units;
}

async function stopWithSystemd(ops: Ops, c: ServerConfig, serverRunsHere: boolean): Promise<void> {
  const ourDropins = existsSync(dropinPath(UNITS.server));
  const ourStatd = running(DAEMON.statd).some((p) => isOurStatd(cmdline(p.pid), c.statd));
  for (const unit of systemdUnitsToStop({ v4only: c.v4only, ourDropins, serverRunsHere, ourStatd })) await systemctl(ops, ['stop', unit], false);
  let reload = removeDropins([UNITS.server, UNITS.mountd, UNITS.statd, UNITS.cld]);
  if (existsSync(`/run/systemd/system/${UNITS.statdNotify}`)) {
    await systemctl(ops, ['unmask', '--runtime', UNITS.statdNotify], false);
    reload = true;
  }
  if (reload) await systemctl(ops, ['daemon-reload'], false);
}

async function initScript(ops: Ops, c: ServerConfig, action: 'start' | 'stop'): Promise<void> {
  const script = c.initScript!;
  const [cmd, args] = withScope(action === 'start' ? c.scope : undefined, script, [action]);
  const r = await ops.run(cmd, args, { check: false });
  if (r.code !== 0 && action === 'start') throw fail.generic(`${script} start: exit ${r.code}: ${r.stderr.trim().split('\n').pop() ?? ''}`);
}

/**
 * Starts what serves NFS, in dependency order: rpcbind and statd (NFSv3
 * locking; not for NFSv4 only), lockd's ports, mountd, nfsd, idmapd.
 * Each step leaves what already runs alone.
 */
export async function startDaemons(ops: Ops, c: ServerConfig): Promise<void> {
  setLockdPorts(ops, c);
  if (c.backend === 'systemd') return startWithSystemd(ops, c);

  if (!c.v4only) {
    await ensureRpcbind(ops);
    await startStatd(ops, c.statd);
  }
  // nfsd picks its NFSv4 client tracking when it starts: nfsdcld must be there first.
  if ((nfsdThreads() ?? 0) === 0 && (await startNfsdcld(ops, { pipefsDir: c.pipefsDir, bound: c.bound, which: c.find }))) recordProcesses(c.records.nfsdcld, running(DAEMON.nfsdcld));
  if (c.backend === 'init-script') {
    await initScript(ops, c, 'start');
    await waitNfsdUp(ops, `${c.initScript} start`);
    if (!running(DAEMON.mountd).length) throw fail.generic(`${c.initScript} start did not start rpc.mountd`);
  } else {
    await startMountd(ops, { v4only: c.v4only, port: c.mountdPort });
    await startNfsd(ops, { v4only: c.v4only, threads: c.threads, args: c.nfsdArgs, scope: c.scope });
  }
  // The mountd that now serves this server is the resource's (started here, or taken over): stop ends it.
  recordProcesses(c.records.mountd, running(DAEMON.mountd));
  if (await startIdmapd(ops, c.pipefsDir)) recordProcesses(c.records.idmapd, running(DAEMON.idmapd));
}

/**
 * Stops nfsd (killing stuck threads), mountd, statd, and idmapd when this
 * resource started it. `bound`: our shared directory is bound over
 * /var/lib/nfs (then the server running here is ours, whoever started it).
 */
export async function stopDaemons(ops: Ops, c: ServerConfig, o: { bound: boolean }): Promise<void> {
  const serverRunsHere = o.bound || (nfsdThreads() ?? 0) > 0;
  if (c.backend === 'systemd') await stopWithSystemd(ops, c, serverRunsHere);
  // The distribution's script stops whatever NFS server the node runs: only when it is ours.
  else if (c.backend === 'init-script' && serverRunsHere) await initScript(ops, c, 'stop');
  // Whatever the backend left behind: threads that refuse to die, daemons started otherwise.
  await stopNfsd(ops);
  await stopMountd(ops, c.records.mountd, { serverRunsHere });
  forgetProcesses(c.records.mountd);
  await stopStatd(ops, c.statd, o);
  await stopIdmapd(ops, c.records.idmapd);
  forgetProcesses(c.records.idmapd);
  await stopNfsdcld(ops, c.records.nfsdcld, o);
  forgetProcesses(c.records.nfsdcld);
}
