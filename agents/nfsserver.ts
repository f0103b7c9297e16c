import { accessSync, constants, existsSync, lstatSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import * as z from 'zod/mini';
import { defineAgent, fail, OCF, param, type Ctx, type ParamValues } from '../src/ocf/index.js';
import { DAEMON, isOurStatd, ourSmNotify, running, stopNfsd, stopProcesses } from '../src/sys/nfs/daemons.js';
import { describeDiff, diffExports, readEtab, type ExportDiff } from '../src/sys/nfs/etab.js';
import { appliedOf, applyExports, forgetApplied, readApplied, recordApplied, reloadExports, unexportAll, unexportListed } from '../src/sys/nfs/exportfs.js';
import { normalizePath, pathProblem } from '../src/sys/nfs/files.js';
import { ExportSyntaxError, exportfsParamLines, parseExportTable, resolveExports, type Export } from '../src/sys/nfs/exports.js';
import { infodirProblem, isBound, NFS_STATE_DIR, onRootFilesystem, prepareInfodir } from '../src/sys/nfs/infodir.js';
import { bindInfodir, ensureNfsdFs, mountRpcPipefs, rpcPipefsMounted, unbindInfodir, unmountRpcPipefs } from '../src/sys/nfs/mounts.js';
import { kernelCanServeNfs, NFSD_FS, nfsdFsMounted, nfsdThreads, nfsdVersions, KERNEL_NFSV4_TIME, NFSV4_TIME_MAX, NFSV4_TIME_MIN, nfsv4Times, setNfsv4Times } from '../src/sys/nfs/nfsd.js';
import { addressesOf, hostNameOf, notifyFailure, startNotifier, stopNotifier } from '../src/sys/nfs/notify.js';
import { cmdline, inOurNamespaces, recordedProcesses } from '../src/sys/nfs/processes.js';
import { chooseBackend, startDaemons, stopDaemons, type ServerConfig } from '../src/sys/nfs/server.js';
import { isLocalAddress, NFS_SERVICES, nfs4Problems, rpcProblems } from '../src/sys/nfs/rpc-health.js';
import { prepareStatdDir, restoreNotifyList, snapshotNotifyList, statdDir, statdOwner, type StatdConfig } from '../src/sys/nfs/statd.js';
import { CLIENT_LIST, loadClientConnections, recordClientConnections, tickleTcp } from '../src/sys/nfs/tickle.js';

/**
 * A path parameter: absolute, without "." or ".." components (6 otherwise:
 * "/var/lib/nfs/../../etc" must not send mounts and directories elsewhere),
 * used in its normalised form ("//" and a trailing "/" removed).
 */
function pathParam<O extends Parameters<typeof param.string>[0]>(o: O) {
  const decl = param.string({ ...o, check: (v: string) => pathProblem(v) ?? o.check?.(normalizePath(v)) });
  return { ...decl, schema: z.pipe(decl.schema, z.transform(normalizePath)) } as unknown as typeof decl;
}
const port = (shortdesc: string, longdesc: string) => param.integer({ shortdesc, longdesc, min: 1, max: 65535 });

/** "10.0.0.5, 10.0.0.6" or "10.0.0.5 fd00::5" → addresses. */
const addressList = (v: string | undefined) => (v ?? '').split(/[\s,]+/).filter(Boolean);

/** Parameters: ocf:heartbeat:nfsserver's (names, defaults, meanings), plus the export table. */
const params = {
  nfs_init_script: pathParam({
    shortdesc: 'Init script for the NFS server',
    longdesc: `Init script that starts and stops nfsd and rpc.mountd (e.g. /etc/init.d/nfs-kernel-server), used only where PID 1 is not systemd. Unset (the default): the agent starts the daemons itself. rpcbind and rpc.statd are always started by the agent, which sets statd's identity. Debian's nfs-kernel-server script does not start nfsd while /etc/exports is empty.`,
  }),
  nfs_shared_infodir: pathParam({
    shortdesc: 'Shared directory for NFS state',
    check: (v) => (v === '/' ? 'must not be /' : undefined),
    longdesc: `Directory on the shared filesystem for the NFS server's state; bind-mounted over ${NFS_STATE_DIR} while the resource runs. Must fail over before this resource (the Filesystem resource of the group). Created with the layout nfs-utils expects (etab, rmtab, v4recovery, statd's sm, sm.bak, sm.ha). Unset: ${NFS_STATE_DIR} stays local (no lock recovery after failover).`,
  }),
  nfs_ip: param.string({
    shortdesc: 'Floating IP address(es) of the NFS service',
    longdesc: `Comma-separated floating IP addresses clients mount from. Reboot notifications (sm-notify) wait until all of them are configured on this node, and are sent as each of them (or as statd_hostname). The first is rpc.statd's name (-n) unless statd_hostname is set.`,
    check: (v) => {
      const bad = addressList(v).filter((a) => isIP(a) === 0);
      return bad.length ? `not an IP address: ${bad.join(', ')}` : undefined;
    },
  }),
  statd_hostname: param.string({
    shortdesc: 'Name rpc.statd and sm-notify use for this server',
    longdesc: 'The fixed name NFSv3 clients know this server by for locking: rpc.statd runs with it (-n) and reboot notifications carry it (sm-notify -v), sent once every address of nfs_ip is up. A host name must resolve (on the nodes and the clients) to a floating address; an address needs a host name (sm-notify sends names only). Unset: each address of nfs_ip, by its host name.',
    check: (v) => (/^[\w.:-]{1,255}$/.test(v) ? undefined : 'not a host name or address'),
  }),
  nfs_server_scope: param.string({
    shortdesc: 'NFSv4 server scope',
    longdesc: `RFC 8881 server scope, the same on every node, so NFSv4 clients reclaim their state after a failover (suggested: the floating IP address). nfsd is started with this as its UTS node name. Unset: the node's host name (no NFSv4 reclaim across nodes).`,
    check: (v) => (/^[\w.:-]{1,64}$/.test(v) ? undefined : 'use at most 64 letters, digits, ".", ":", "-" or "_"'),
  }),
  nfs_no_notify: param.boolean({ shortdesc: 'Do not notify NFSv3 clients on start', longdesc: 'Send no reboot notifications (sm-notify) to NFSv3 clients after a start.', default: false }),
  nfs_notify_foreground: param.boolean({
    shortdesc: 'Accepted for compatibility; ignored',
    longdesc: 'ocf:heartbeat:nfsserver runs sm-notify in the foreground with this. Here sm-notify always runs in the background once the floating address is up, never holding up start.',
    default: false,
    deprecated: true,
  }),
  nfs_smnotify_retry_time: param.integer({
    shortdesc: 'sm-notify retry time (minutes)',
    longdesc: 'How long sm-notify keeps retrying unresponsive clients, in minutes (sm-notify -m). Unset: sm-notify\'s default (15 minutes); 0: until it is stopped.',
    min: 0,
  }),
  nfs_notify_wait: param.integer({
    shortdesc: 'Wait for the floating address (seconds)',
    longdesc: 'How long, after start, the notifier waits for the addresses of nfs_ip to appear on this node before it gives up sending reboot notifications.',
    default: 300,
    min: 1,
  }),
  tickle_clients: param.boolean({
    shortdesc: 'Reset client connections after a takeover',
    longdesc: `Make NFS clients reconnect at once after a takeover instead of when their RPC times out (tens of seconds): the monitor records the clients' TCP connections to nfs_ip (port 2049, from /proc/net/tcp*) in nfs_shared_infodir/${CLIENT_LIST}; after a start elsewhere, once nfs_ip is up, the new node sends each of them a TCP "tickle" ACK from that address (resource-agents' tickle_tcp), the client answers, and the new node's kernel, which knows no such connection, resets it. Needs nfs_ip and nfs_shared_infodir.`,
    default: false,
  }),
  nfsv4_only: param.boolean({ shortdesc: 'NFSv4 only', longdesc: 'Serve NFSv4 only: no rpcbind, no rpc.statd, no NFSv3/MOUNT (rpc.nfsd and rpc.mountd with -N 2 -N 3).', default: false }),
  rpcpipefs_dir: pathParam({
    shortdesc: 'Mount point of rpc_pipefs',
    longdesc: `Where rpc_pipefs (the kernel's pipes to rpc.idmapd, rpc.gssd, nfsdcld) is mounted on start. Below ${NFS_STATE_DIR} (the default) it is mounted inside the bound shared directory and unmounted on stop; elsewhere (e.g. /run/rpc_pipefs) it is left mounted on stop, for the node's other NFS users.`,
    default: '/var/lib/nfs/rpc_pipefs',
    check: (v) => {
      if (v === NFS_STATE_DIR || v === '/') return `must not be ${v} itself`;
      // statd's user writes there: a link planted on the way would redirect the mount.
      const statdOwned = ['sm', 'sm.bak', 'sm.ha', 'statd'].find((d) => v === `${NFS_STATE_DIR}/${d}` || v.startsWith(`${NFS_STATE_DIR}/${d}/`));
      return statdOwned ? `must not be inside statd's directory ${NFS_STATE_DIR}/${statdOwned}` : undefined;
    },
  }),
  exports: param.string({
    shortdesc: 'Export table',
    longdesc: `The exports this resource owns, in exports(5) syntax, one per line or separated by ";": directory, optional "-defaults", then clients with options, e.g.
"/srv/nfs/data 192.168.0.0/24(rw,sync,no_root_squash,fsid=1); /srv/nfs/home 192.168.0.0/24(rw,sync)".
Exports without fsid= get one derived from the path (derive_fsid).`,
    reloadable: true,
  }),
  exports_file: pathParam({
    shortdesc: 'Export table file',
    longdesc: 'A file with exports in exports(5) syntax (e.g. on the shared filesystem), instead of or besides exports. Read on start, by monitor and by reload-agent.',
    reloadable: true,
  }),
  directory: param.string({
    shortdesc: 'Directory to export (ocf:heartbeat:exportfs style)',
    longdesc: 'A single export written with the parameters of ocf:heartbeat:exportfs: the directory (or several, separated by spaces), exported to clientspec with options and fsid. Adds to the exports table.',
    reloadable: true,
  }),
  clientspec: param.string({ shortdesc: 'Clients of directory', longdesc: 'The clients allowed to mount directory: one host, network (192.168.0.0/24), wildcard or @netgroup, as in exports(5).', reloadable: true }),
  options: param.string({ shortdesc: 'Export options of directory', longdesc: 'Export options for directory, as in exports(5), e.g. "rw,sync,no_root_squash".', reloadable: true }),
  fsid: param.string({
    shortdesc: 'fsid of directory',
    longdesc: 'The fsid of directory: a number (1..2147483647), a UUID, or "root" (0, the NFSv4 pseudo-root). With several directories, a number: they get fsid, fsid+1, …. Overrides an fsid= in options. Unset: derived from the path (derive_fsid).',
    reloadable: true,
  }),
  derive_fsid: param.boolean({
    shortdesc: 'Derive missing fsids from the path',
    longdesc: 'Give exports without fsid= a fixed fsid derived from the export path: FNV-1a 32-bit hash of the path, low 31 bits, 0 taken as 1. false: every export must have an fsid=.',
    default: true,
    reloadable: true,
  }),
  nfsd_threads: param.integer({ shortdesc: 'Number of nfsd threads', longdesc: 'nfsd threads to start. Unset: rpc.nfsd\'s default ([nfsd] threads in /etc/nfs.conf, else 8).', min: 1, max: 8192 }),
  nfsd_args: param.string({ shortdesc: 'rpc.nfsd options', longdesc: 'Extra options for rpc.nfsd, separated by spaces (e.g. "-V 4.2 -N 4.0").' }),
  nfsv4_grace_time: param.integer({
    shortdesc: 'NFSv4 grace period (s)',
    longdesc: `How long after nfsd starts (a takeover included) NFSv4 clients may reclaim their state and new OPENs and locks wait (${NFSD_FS}/nfsv4gracetime, set before nfsd starts). Must be at least the lease time: a client learns of the restart only when it next renews. Unset: the kernel's (90 s).`,
    min: NFSV4_TIME_MIN,
    max: NFSV4_TIME_MAX,
  }),
  nfsv4_lease_time: param.integer({
    shortdesc: 'NFSv4 lease time (s)',
    longdesc: `How often NFSv4 clients must renew their leases (${NFSD_FS}/nfsv4leasetime, set before nfsd starts); a shorter lease allows a shorter grace period, at the cost of more renewals. Unset: the kernel's (90 s).`,
    min: NFSV4_TIME_MIN,
    max: NFSV4_TIME_MAX,
  }),
  mountd_port: port('rpc.mountd port', 'Fixed port for rpc.mountd (-p), for firewalls.'),
  statd_port: port('rpc.statd port', 'Fixed port for rpc.statd\'s listeners (-p).'),
  statd_outgoing_port: port('sm-notify source port', 'Fixed source port for rpc.statd/sm-notify notifications (-o).'),
  lockd_tcp_port: port('lockd TCP port', 'Fixed TCP port for lockd (NLM), set before nfsd starts.'),
  lockd_udp_port: port('lockd UDP port', 'Fixed UDP port for lockd (NLM), set before nfsd starts.'),
};

export const nfsserver = defineAgent({
  name: 'nfsserver',
  version: '1.0.0',
  shortdesc: 'Manages an NFS server and its exports',
  longdesc: `
Runs the Linux kernel NFS server on the node that holds the shared storage,
so clients notice no failover: the NFS state directory (/var/lib/nfs: exports,
statd's client list and state number, NFSv4 client records) lives on the
shared filesystem and is bind-mounted over /var/lib/nfs; every export has a
fixed fsid (given, or derived from its path), so file handles stay valid on
the other node; rpc.statd runs with the floating address as its identity and
reboot notifications (sm-notify) go out from that address once it is up, so
NFSv3 clients reclaim their locks; the NFSv4 server scope can be set to the
same value on every node.

The export table is owned by this resource (parameters exports or
exports_file, in the syntax of exports(5)): applied on start, checked by
monitor (with its fsids), removed on stop. A change of the export table
(exports, exports_file, directory, clientspec, options, fsid, derive_fsid)
is applied in place by reload-agent: only the exports that differ are added,
re-exported or removed, the daemons keep running, no grace period.

A reboot notification that failed (a floating address that never came up
within nfs_notify_wait, sm-notify exiting non-zero) leaves the service
running but NFSv3 clients uninformed: the monitor then reports OCF 1.1's
degraded (190) with the cause as exit reason, where the executor announces
OCF 1.1 (Pacemaker 2.1 and later: crm_mon lists it, nothing is recovered);
0 elsewhere. The next start or stop clears it.

Compatible with ocf:heartbeat:nfsserver's parameters. Without systemd the
agent runs rpcbind, rpc.statd, rpc.mountd and rpc.nfsd itself (or
nfs_init_script); with systemd as PID 1 it uses the distribution's units.`,
  params,

  validate: (ctx) => {
    // Configuration (6: wrong on every node) first…
    checkedTable(ctx, { configOnly: true });
    const p = ctx.params;
    if (p.nfs_shared_infodir && ctx.meta.clone !== undefined) throw fail.configured('nfs_shared_infodir cannot be used in a clone: one node at a time owns the NFS state');
    if (p.nfs_shared_infodir && (p.nfs_shared_infodir === NFS_STATE_DIR || p.nfs_shared_infodir.startsWith(`${NFS_STATE_DIR}/`))) throw fail.configured(`nfs_shared_infodir must not be ${NFS_STATE_DIR} or below it`);
    const graceProblem = graceLeaseProblem(p);
    if (graceProblem) throw fail.configured(graceProblem);
    if (p.tickle_clients && (!p.nfs_shared_infodir || !addressList(p.nfs_ip).length)) throw fail.configured('tickle_clients needs nfs_ip and nfs_shared_infodir (the client list moves with the shared state)');
    // …then this node (5: another node may be fine).
    const table = checkedTable(ctx);
    for (const prog of requiredPrograms(p)) if (!which(prog)) throw fail.installed(`${prog} is not installed (nfs-kernel-server, nfs-common, rpcbind)`);
    if (p.nfs_init_script && !isExecutable(p.nfs_init_script)) throw fail.installed(`${p.nfs_init_script} is not an executable file`);
    if (p.tickle_clients && !tickleTcp(ctx.env)) throw fail.installed('tickle_clients needs tickle_tcp (resource-agents)');
    if (p.nfs_shared_infodir) {
      const problem = infodirProblem(p.nfs_shared_infodir);
      if (problem) throw fail.installed(problem);
      if (existsSync(p.nfs_shared_infodir) && onRootFilesystem(p.nfs_shared_infodir)) ctx.log.warn(`${p.nfs_shared_infodir} is on the root filesystem: is the shared filesystem mounted?`);
    }
    if (!kernelCanServeNfs()) throw fail.installed('this kernel has no NFS server (no nfsd module)');
  },

  actions: {
    start: { timeout: 40, validate: true, handler: start },
    stop: { timeout: 20, handler: stop },
    monitor: {
      timeout: 20,
      interval: 10,
      depth: 0,
      // depth 10: the services over RPC, as clients see them, on an interval of its own.
      ops: [
        { timeout: 20, interval: 10, depth: 0 },
        { timeout: 20, interval: 30, depth: 10 },
      ],
      handler: monitor,
    },
    // Pacemaker ≥ 2.1 (OCF 1.1): a change of only the export table's parameters (reloadable) runs this
    // instead of a restart. No legacy `reload`: Pacemaker 2.0 would use it for every non-unique parameter.
    // Not the whole validate: only the table can have changed, the rest is running (checked by its own start).
    'reload-agent': { timeout: 20, handler: reload },
  },
});

type Params = ParamValues<typeof params>;
type NfsCtx = Ctx<Params>;

// ---------------------------------------------------------------------------
// Configuration

interface Table {
  exports: Export[];
  problems: string[];
  /** The export table file could not be read (shared filesystem not mounted here?). */
  unreadable?: string;
}

/** The export table from `exports` and `exports_file`, with its fsids. */
function loadExports(ctx: NfsCtx, o: { mustExist: boolean }): Table {
  const p = ctx.params;
  try {
    const lines = [...(p.exports ? parseExportTable(p.exports) : []), ...exportfsParamLines(p)];
    if (p.exports_file) {
      let text: string | undefined;
      try {
        text = readFileSync(p.exports_file, 'utf8');
      } catch (e) {
        const why = `cannot read exports_file ${p.exports_file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
        if (o.mustExist) throw fail.installed(why);
        const partial = resolveExports(lines, { derive: p.derive_fsid });
        return { ...partial, unreadable: why };
      }
      lines.push(...parseExportTable(text, { file: p.exports_file }));
    }
    return resolveExports(lines, { derive: p.derive_fsid });
  } catch (e) {
    if (e instanceof ExportSyntaxError) return { exports: [], problems: [e.message] };
    throw e;
  }
}

/**
 * The export table, checked: 6 for what is wrong on every node (syntax,
 * fsid clashes), then (unless configOnly) 5 for this node (exports_file
 * unreadable, a directory missing).
 */
function checkedTable(ctx: NfsCtx, o: { configOnly?: boolean } = {}): Table {
  const config = loadExports(ctx, { mustExist: false });
  if (config.problems.length) throw fail.configured(config.problems.join('; '));
  if (o.configOnly) return config;
  const table = loadExports(ctx, { mustExist: true });
  const missing = [...new Set(table.exports.map((e) => e.dir))].filter((d) => !existsSync(d));
  if (missing.length) throw fail.installed(`export directories missing on this node: ${missing.join(', ')}`);
  return table;
}

const SBIN = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function which(prog: string): string | undefined {
  return SBIN.map((d) => join(d, prog)).find(isExecutable);
}

function requiredPrograms(p: Params): string[] {
  const progs = ['exportfs', 'rpc.nfsd', 'rpc.mountd', 'mount', 'umount'];
  if (!p.nfsv4_only) progs.push('rpcbind', 'rpc.statd');
  if (!p.nfsv4_only && !p.nfs_no_notify) progs.push('sm-notify', 'setsid', 'setpriv', 'ip');
  if (p.tickle_clients) progs.push('setsid', 'ip');
  if (p.nfs_server_scope) progs.push('unshare');
  return [...new Set(progs)];
}

function statdConfig(p: Params): StatdConfig {
  return { identity: p.statd_hostname ?? addressList(p.nfs_ip)[0], dir: statdDir(), port: p.statd_port, outgoingPort: p.statd_outgoing_port };
}

const rsc = (ctx: NfsCtx, what: string) => join(ctx.rsctmp, `nfsserver-${ctx.instance}.${what}`);

function serverConfig(ctx: NfsCtx): ServerConfig {
  const p = ctx.params;
  return {
    backend: chooseBackend(p.nfs_init_script),
    initScript: p.nfs_init_script,
    v4only: p.nfsv4_only,
    threads: p.nfsd_threads,
    nfsdArgs: (p.nfsd_args ?? '').split(/\s+/).filter(Boolean),
    scope: p.nfs_server_scope,
    mountdPort: p.mountd_port,
    lockdTcpPort: p.lockd_tcp_port,
    lockdUdpPort: p.lockd_udp_port,
    statd: statdConfig(p),
    pipefsDir: p.rpcpipefs_dir,
    records: { mountd: rsc(ctx, 'mountd.pid'), idmapd: rsc(ctx, 'idmapd.pid'), nfsdcld: rsc(ctx, 'nfsdcld.pid') },
    bound: p.nfs_shared_infodir ? isBound(p.nfs_shared_infodir) : false,
    find: which,
  };
}

// ---------------------------------------------------------------------------
// What runs here

interface Status {
  /** undefined: no shared directory configured. */
  bound?: boolean;
  threads: number;
  /** A mountd runs in our namespaces (it serves this node's clients). */
  mountd: boolean;
  /** The mountd this resource started or took over (recorded at start) still runs. */
  ourMountd: boolean;
  rpcbind: boolean;
  /** Our statd (identity and state directory as configured); undefined for NFSv4 only. */
  statd?: boolean;
  /** undefined: no export table. */
  exports?: ExportDiff;
  table: Table;
}

/** Everything monitor looks at, read from /proc and files, no forks. */
function status(ctx: NfsCtx): Status {
  const p = ctx.params;
  const table = loadExports(ctx, { mustExist: false });
  const statdCfg = statdConfig(p);
  return {
    bound: p.nfs_shared_infodir ? isBound(p.nfs_shared_infodir) : undefined,
    threads: nfsdThreads() ?? 0,
    mountd: running(DAEMON.mountd).length > 0,
    ourMountd: recordedProcesses(rsc(ctx, 'mountd.pid'), DAEMON.mountd).some((x) => inOurNamespaces(x.pid)),
    rpcbind: running(DAEMON.rpcbind).length > 0,
    statd: p.nfsv4_only ? undefined : running(DAEMON.statd).some((x) => isOurStatd(cmdline(x.pid), statdCfg)),
    exports: table.exports.length || table.unreadable ? diffExports(table.exports, readEtab()) : undefined,
    table,
  };
}

/** What is missing for "running", in words; empty when all is up. */
function missingPieces(s: Status, p: Params): string[] {
  const out: string[] = [];
  if (s.bound === false) out.push(`${p.nfs_shared_infodir} is not bound to ${NFS_STATE_DIR}`);
  if (s.threads <= 0) out.push('nfsd is not running (no threads)');
  if (!s.mountd) out.push('rpc.mountd is not running');
  if (!p.nfsv4_only && !s.rpcbind) out.push('rpcbind is not running');
  if (s.statd === false) out.push(`rpc.statd is not running with identity ${statdConfig(p).identity ?? '(host name)'} and state in ${statdDir()}`);
  if (s.table.unreadable) out.push(s.table.unreadable);
  if (s.exports && (s.exports.missing.length || s.exports.wrongFsid.length)) out.push(describeDiff(s.exports));
  return out;
}

/**
 * Any piece of this resource up? Only what is ours counts: our bound state
 * directory, nfsd (one per network namespace, it cannot be someone else's),
 * the mountd we recorded, a statd with our arguments, our exports. A node's
 * own boot-time statd, mountd or rpcbind, or a container's, are not.
 */
function anyPieceUp(s: Status): boolean {
  return s.bound === true || s.threads > 0 || s.ourMountd || s.statd === true || (s.exports?.present.length ?? 0) > 0 || (s.exports?.wrongFsid.length ?? 0) > 0;
}

// ---------------------------------------------------------------------------
// Actions

/**
 * 0 all up, 7 nothing up, 1 half up (naming what is missing). At
 * OCF_CHECK_LEVEL 10 and above (not in probes), all up must also answer
 * over RPC as clients see it.
 */
async function monitor(ctx: NfsCtx): Promise<number> {
  const s = status(ctx);
  const missing = missingPieces(s, ctx.params);
  if (missing.length === 0) {
    if (ctx.checkLevel >= 10 && !ctx.isProbe) await checkRpc(ctx);
    if (!ctx.isProbe) recordClients(ctx);
    // Not essential to serving, but NFSv3 clients were not told to reclaim their locks.
    const notify = notifyFailure(rsc(ctx, 'notify.failed'));
    if (notify && ctx.degraded) return ctx.degraded(OCF.SUCCESS, `reboot notification failed (${notify}): NFSv3 clients may not reclaim their locks until they retry`);
    return OCF.SUCCESS;
  }
  if (!anyPieceUp(s)) return OCF.NOT_RUNNING;
  throw fail.generic(`NFS server partly up: ${missing.join('; ')}`);
}

/**
 * rpcbind's registrations of nfsd, rpc.mountd and rpc.statd, and a NULL call
 * to each, from this process (no fork), on the first floating address once it
 * is configured here (it comes up after this resource), else on the loopback
 * address. Bounded by the op timeout.
 */
async function checkRpc(ctx: NfsCtx): Promise<void> {
  const p = ctx.params;
  let host = '127.0.0.1';
  for (const a of addressList(p.nfs_ip)) {
    if (await isLocalAddress(a)) {
      host = a;
      break;
    }
  }
  const limit = Math.max(100, ctx.deadline.bound(5000));
  const services = p.nfsv4_only ? [] : [NFS_SERVICES.nfs, NFS_SERVICES.mountd, NFS_SERVICES.statd];
  const problems = p.nfsv4_only ? await nfs4Problems(host, limit) : await rpcProblems(host, services, limit);
  if (problems.length) throw fail.generic(`NFS server does not answer over RPC: ${problems.join('; ')}`);
  ctx.log.debug(`RPC services answer on ${host}`);
}

/**
 * reload-agent: the export table changed (nothing else reloads). Applies
 * exactly the difference between what is exported and the new table with
 * exportfs: the daemons keep running, no grace period, clients of unchanged
 * exports notice nothing. The new table is checked (6: wrong everywhere, 5:
 * not usable on this node) before anything changes. With the shared state
 * directory bound every etab entry is ours; without, only the entries this
 * resource applied before (recorded at start and reload).
 */
async function reload(ctx: NfsCtx): Promise<number> {
  const p = ctx.params;
  const table = checkedTable(ctx);
  if (!anyPieceUp(status(ctx))) {
    ctx.log.info('NFS server is not running here: the next start applies the new export table');
    return OCF.SUCCESS;
  }
  const record = rsc(ctx, 'exports.json');
  const ownsAll = p.nfs_shared_infodir ? isBound(p.nfs_shared_infodir) : false;
  const previous = readApplied(record);
  if (!previous && !ownsAll) ctx.log.warn('no record of the exports applied before: exports dropped from the table stay exported until stop');
  mkdirSync(ctx.rsctmp, { recursive: true });
  // Recorded first with what this reload may add: an export made here is ours even if the reload fails halfway.
  const adding = appliedOf(table.exports).filter((a) => !previous?.some((x) => x.dir === a.dir && x.client === a.client));
  recordApplied(record, [...(previous ?? []), ...adding]);
  const done = await reloadExports(ctx, table.exports, previous, { ownsAll });
  recordApplied(record, appliedOf(table.exports));
  ctx.log.info(`export table reloaded: ${done.add.length} added, ${done.change.length} changed, ${done.remove.length} removed, ${done.unchanged.length} unchanged`);
  return OCF.SUCCESS;
}

async function start(ctx: NfsCtx): Promise<number> {
  const p = ctx.params;
  const table = loadExports(ctx, { mustExist: true });
  if (missingPieces(status(ctx), p).length === 0) {
    ctx.log.info('NFS server is already running');
    return OCF.SUCCESS;
  }
  mkdirSync(ctx.rsctmp, { recursive: true });
  // Lock state is lost only when nfsd (and lockd with it) starts afresh: only then are clients told to reclaim.
  let nfsdWasUp = (nfsdThreads() ?? 0) > 0;
  if (nfsdWasUp && p.nfs_shared_infodir && !isBound(p.nfs_shared_infodir)) {
    // An nfsd started without the shared state (e.g. by the distribution at boot): restart it with it.
    ctx.log.warn(`nfsd runs without ${p.nfs_shared_infodir} bound to ${NFS_STATE_DIR}: restarting it`);
    await stopNfsd(ctx);
    nfsdWasUp = false;
  }
  await ensureNfsdFs(ctx);

  if (p.nfs_shared_infodir) {
    if (!isBound(p.nfs_shared_infodir)) {
      // This node's own layout decides where statd's files go (Debian: /var/lib/nfs, Red Hat: /var/lib/nfs/statd).
      const sub = statdDir(NFS_STATE_DIR) === NFS_STATE_DIR ? '' : 'statd';
      const owner = statdOwner();
      const warn = (m: string) => ctx.log.warn(m);
      prepareInfodir(p.nfs_shared_infodir);
      prepareStatdDir(join(p.nfs_shared_infodir, sub), owner, sub !== '', warn);
      if (p.rpcpipefs_dir.startsWith(`${NFS_STATE_DIR}/`)) mkdirSync(join(p.nfs_shared_infodir, p.rpcpipefs_dir.slice(NFS_STATE_DIR.length)), { recursive: true });
    }
    await bindInfodir(ctx, p.nfs_shared_infodir);
  }
  await mountRpcPipefs(ctx, p.rpcpipefs_dir);

  const server = serverConfig(ctx);
  applyNfsv4Times(ctx, nfsdWasUp);
  if (!p.nfsv4_only) {
    const restored = restoreNotifyList(server.statd.dir, (m) => ctx.log.warn(m));
    if (restored.length) ctx.log.info(`clients to notify, from the saved list: ${restored.join(', ')}`);
  }
  ctx.log.info(`starting the NFS server (${server.backend})`);
  await startDaemons(ctx, server);
  warnAboutVersions(ctx);
  warnAboutNfsv4Times(ctx);

  if (table.exports.length) await applyExports(ctx, table.exports, { removeOthers: Boolean(p.nfs_shared_infodir) });
  recordApplied(rsc(ctx, 'exports.json'), appliedOf(table.exports));

  const missing = missingPieces(status(ctx), p);
  if (missing.length) throw fail.generic(`NFS server did not come up: ${missing.join('; ')}`);

  if (nfsdWasUp) ctx.log.info('nfsd kept running: no reboot notification (the clients\' locks are intact)');
  else {
    const tickle = clientsToReset(ctx);
    const notify = !p.nfsv4_only && !p.nfs_no_notify;
    if (notify || tickle) await scheduleNotify(ctx, server.statd.dir, { notify, tickle });
  }
  ctx.log.info(`NFS server started${table.exports.length ? ` with ${table.exports.length} export(s)` : ''}`);
  return OCF.SUCCESS;
}

/**
 * Reboot notifications: sent by a detached notifier once the floating
 * addresses are up (they start after this resource), as statd_hostname or as
 * each floating address. sm-notify needs names: a name that does not
 * resolve, or an address without a name, would notify nobody, so it is
 * reported here and left out.
 */
async function scheduleNotify(ctx: NfsCtx, dir: string, o: { notify: boolean; tickle?: { file: string; program: string } }): Promise<void> {
  const p = ctx.params;
  if (o.notify) snapshotNotifyList(dir, (m) => ctx.log.warn(m));
  const waitFor = addressList(p.nfs_ip);
  const wanted = !o.notify ? [] : p.statd_hostname ? [p.statd_hostname] : waitFor;
  const names: string[] = [];
  for (const name of wanted) {
    const limit = ctx.deadline.bound(3000);
    if (isIP(name)) {
      if (await hostNameOf(name, limit)) names.push(name);
      else ctx.log.error(`no reboot notification as ${name}: sm-notify needs a host name for it (add "${name} <name>" to /etc/hosts on the nodes, the same name on the clients)`);
      continue;
    }
    const addrs = await addressesOf(name, limit);
    if (!addrs.length) ctx.log.error(`no reboot notification as ${name}: it does not resolve on this node (sm-notify sends from its address)`);
    else {
      if (waitFor.length && !addrs.some((a) => waitFor.includes(a))) ctx.log.warn(`${name} resolves to ${addrs.join(', ')}, none of nfs_ip (${waitFor.join(', ')}): clients may not match the notification`);
      names.push(name);
    }
  }
  if (wanted.length && !names.length && !o.tickle) return;
  await startNotifier(ctx, {
    waitFor,
    names,
    statdDir: dir,
    retryMinutes: p.nfs_smnotify_retry_time,
    waitSeconds: p.nfs_notify_wait,
    pidFile: rsc(ctx, 'notify.pid'),
    failedFile: rsc(ctx, 'notify.failed'),
    tag: `nfsserver(${ctx.instance})`,
    statdOwner: ownerOfSm(dir),
    tickle: o.tickle,
  });
}

/**
 * The client connections recorded on the shared storage by the node that served before, copied to
 * this node's state for the notifier (tickle_clients). None: nothing to reset.
 */
function clientsToReset(ctx: NfsCtx): { file: string; program: string } | undefined {
  const p = ctx.params;
  const program = tickleTcp(ctx.env);
  if (!p.tickle_clients || !p.nfs_shared_infodir || !program) return undefined;
  const file = rsc(ctx, 'tickle');
  const n = loadClientConnections(p.nfs_shared_infodir, addressList(p.nfs_ip), file);
  ctx.log.info(n ? `${n} NFS client connection(s) recorded by the node that served before: resetting them once ${p.nfs_ip} is up` : 'no recorded NFS client connections to reset');
  return n ? { file, program } : undefined;
}

/**
 * tickle_clients: the clients connected to the floating addresses now, on the shared storage (only
 * when that changed). Never fails the operation: a list a little stale costs a late reconnect.
 */
function recordClients(ctx: NfsCtx, o: { keepIfNone?: boolean } = {}): void {
  const p = ctx.params;
  if (!p.tickle_clients || !p.nfs_shared_infodir) return;
  try {
    const n = recordClientConnections(p.nfs_shared_infodir, addressList(p.nfs_ip), o);
    ctx.log.debug(`${n} NFS client connection(s) to ${p.nfs_ip} recorded`);
  } catch (e) {
    ctx.log.warn(`could not record the NFS client connections in ${p.nfs_shared_infodir}: ${(e as Error).message}`);
  }
}

/** The owner of statd's sm/ (where sm/ is not a directory of its own: the distribution's statd user). */
function ownerOfSm(dir: string): { uid: number; gid: number } {
  try {
    const st = lstatSync(join(dir, 'sm'));
    if (st.isDirectory()) return { uid: st.uid, gid: st.gid };
  } catch {
    // no sm/: sm-notify has nothing to send either
  }
  return statdOwner();
}

function warnAboutVersions(ctx: NfsCtx): void {
  const v = nfsdVersions();
  if (ctx.params.nfsv4_only && v?.['3']) ctx.log.warn('nfsv4_only is set but nfsd serves NFSv3');
}

/** A grace period shorter than the lease lets a client miss the restart and lose its state; rpc.nfsd's own options would race ours. */
function graceLeaseProblem(p: Params): string | undefined {
  const lease = p.nfsv4_lease_time ?? KERNEL_NFSV4_TIME;
  if (p.nfsv4_grace_time !== undefined && p.nfsv4_grace_time < lease) {
    return `nfsv4_grace_time (${p.nfsv4_grace_time}s) is shorter than the lease time (${p.nfsv4_lease_time === undefined ? 'the kernel\'s ' : 'nfsv4_lease_time, '}${lease}s): clients could miss the grace period`;
  }
  if (p.nfsv4_lease_time !== undefined && p.nfsv4_grace_time === undefined && p.nfsv4_lease_time > KERNEL_NFSV4_TIME) {
    return `nfsv4_lease_time (${p.nfsv4_lease_time}s) is longer than the kernel's grace period (${KERNEL_NFSV4_TIME}s): set nfsv4_grace_time too`;
  }
  const own = (p.nfsd_args ?? '').split(/\s+/).find((a) => /^(-G|-L|--grace-time|--lease-time)(=|$)/.test(a) || /^-[GL]\d/.test(a));
  if (own && (p.nfsv4_grace_time !== undefined || p.nfsv4_lease_time !== undefined)) return `nfsd_args sets ${own} as well as nfsv4_grace_time/nfsv4_lease_time: use one`;
  return undefined;
}

/** Before nfsd starts: the kernel takes the times only while no nfsd runs. */
function applyNfsv4Times(ctx: NfsCtx, nfsdWasUp: boolean): void {
  const want = { grace: ctx.params.nfsv4_grace_time, lease: ctx.params.nfsv4_lease_time };
  if (want.grace === undefined && want.lease === undefined) return;
  if (nfsdWasUp) return; // warnAboutNfsv4Times says whether what runs differs
  for (const problem of setNfsv4Times(want)) ctx.log.warn(`cannot set the NFSv4 grace/lease time: ${problem}`);
}

/** What nfsd runs with, when it is not what the parameters ask (nfsd kept running, or /etc/nfs.conf's [nfsd] grace-time/lease-time won). */
function warnAboutNfsv4Times(ctx: NfsCtx): void {
  const now = nfsv4Times();
  const want = { grace: ctx.params.nfsv4_grace_time, lease: ctx.params.nfsv4_lease_time };
  for (const k of ['grace', 'lease'] as const) {
    if (want[k] !== undefined && now[k] !== undefined && now[k] !== want[k]) ctx.log.warn(`nfsd runs with an NFSv4 ${k} time of ${now[k]}s, not nfsv4_${k}_time=${want[k]}s: it applies from nfsd's next start`);
  }
}

async function stop(ctx: NfsCtx): Promise<number> {
  const p = ctx.params;
  const server = serverConfig(ctx);
  const bound = p.nfs_shared_infodir ? isBound(p.nfs_shared_infodir) : false;

  // Before nfsd closes them: the next node resets what was connected here.
  if (bound) recordClients(ctx, { keepIfNone: true });
  // sm-notify still retrying holds the state directory.
  await stopNotifier(ctx, rsc(ctx, 'notify.pid'), rsc(ctx, 'notify.failed'));
  rmSync(rsc(ctx, 'tickle'), { force: true });
  await stopProcesses(ctx, 'sm-notify', await ourSmNotify(ctx, server.statd.dir, { bound }));

  await stopDaemons(ctx, server, { bound });

  // With a shared state directory the whole etab is ours; without, only the table's entries.
  if (bound) await unexportAll(ctx);
  else {
    const table = loadExports(ctx, { mustExist: false });
    if (table.problems.length) ctx.log.warn(`export table: ${table.problems.join('; ')}: unexporting nothing`);
    else await unexportListed(ctx, table.exports);
  }
  forgetApplied(rsc(ctx, 'exports.json'));

  if (!p.nfsv4_only && existsSync(join(server.statd.dir, 'sm.ha'))) {
    const n = snapshotNotifyList(server.statd.dir, (m) => ctx.log.warn(m));
    ctx.log.debug(`saved ${n} client(s) to notify in ${server.statd.dir}/sm.ha`);
  }

  if (p.rpcpipefs_dir.startsWith(`${NFS_STATE_DIR}/`) && rpcPipefsMounted(p.rpcpipefs_dir)) await unmountRpcPipefs(ctx, p.rpcpipefs_dir);
  if (p.nfs_shared_infodir) await unbindInfodir(ctx, p.nfs_shared_infodir);

  if (nfsdFsMounted() && (nfsdThreads() ?? 0) > 0) throw fail.generic('nfsd is still running after stop');
  ctx.log.info('NFS server stopped');
  return OCF.SUCCESS;
}
