import { onlineNodes, ringAddr } from '../../qemu/lib/cluster.js';
import { until, type Guest } from '../../qemu/lib/index.js';
import { host } from '../../qemu/lib/sys.js';
import { OCF_GEN } from './host-prep.js';
import { parseCrmMon, parseStatus, resultLines, where, type ClusterState, type OpRecord, type ResultLine } from './history.js';

/**
 * The HA-NFS pair in QEMU guests: DRBD set up by hand the way an admin does it once, Pacemaker
 * and Corosync started by hand (no systemd in the guests), and reads of the cluster's state.
 */

export const VIP = '10.99.0.100';
/** The floating IP's host name: statd's identity and the name clients mount from (in /etc/hosts everywhere). */
export const VIP_NAME = 'nfs-vip';
export const MOUNTPOINT = '/srv/nfs';
export const EXPORT = `${MOUNTPOINT}/export`;
export const DRBD_RES = 'r0';
export const GROUP = ['fs', 'nfs', 'ip'] as const;

/**
 * The bed's DRBD resource file: what `ocf-gen drbd-conf --drbd-version 8.4` writes for these
 * nodes (DRBD's own fencing as LINBIT documents it for Pacemaker: `fencing resource-and-stonith`
 * in `disk {}`, drbd-utils' 8.4 handlers crm-fence-peer.sh / crm-unfence-peer.sh; protocol C;
 * internal meta data), over the servers' replication link (eth1), plus three lines for the bed:
 * - `ping-timeout 50` (5 s instead of 0.5 s): TCG speed only (an emulated guest on a busy host
 *   misses a PingAck by seconds — measured: 2 s was missed at load average ~8 — and drops a
 *   healthy connection); a cut link is still detected within seconds.
 * - `resync-rate 100M; c-plan-ahead 0;`: a fixed, fast resync of the small test disks.
 * OCFKIT_E2E_DRBD_HANDLERS=9 swaps in the .9.sh handlers, to measure them (docs/readme/e2e.md).
 */
export function drbdResource(n1: Guest, n2: Guest, disk: string): string {
  const addr = (g: Guest) => g.replIp ?? g.ip;
  const sets = { drbd_resource: DRBD_RES, node1: n1.name, node2: n2.name, address1: addr(n1), address2: addr(n2), disk, device: '/dev/drbd0' };
  const generated = host(OCF_GEN, ['drbd-conf', '--drbd-version', '8.4', ...Object.entries(sets).flatMap(([k, v]) => ['--set', `${k}=${v}`])], { timeoutMs: 120_000 }).stdout;
  const insert = (text: string, after: string, lines: string) => {
    if (!text.includes(after)) throw new Error(`ocf-gen drbd-conf output lacks ${JSON.stringify(after)}:\n${text}`);
    return text.replace(after, `${after}${lines}`);
  };
  let conf = insert(generated, '    fencing resource-and-stonith;\n', '    resync-rate 100M;\n    c-plan-ahead 0;\n');
  conf = insert(conf, '  net {\n', '    ping-timeout 50;\n');
  if (process.env.OCFKIT_E2E_DRBD_HANDLERS === '9') conf = conf.replace(/crm-(un)?fence-peer\.sh/g, 'crm-$1fence-peer.9.sh');
  return conf;
}
const DRBD_GLOBAL = 'global {\n  usage-count no;\n}\ncommon {\n}\n';

/** /etc/hosts gets the floating IP's name (the guest's init rewrites the file at every boot). */
export async function addVipName(g: Guest): Promise<void> {
  const hosts = (await g.readFile('/etc/hosts')).toString();
  if (!hosts.split('\n').some((l) => l.split(/\s+/)[1] === VIP_NAME)) await g.writeFile('/etc/hosts', `${hosts.replace(/\n?$/, '\n')}${VIP} ${VIP_NAME}\n`);
}

/**
 * Installs the package as an admin does on every node (`dpkg -i`), then checks that what
 * Pacemaker will run is the build under test: the executable's sha256, every
 * resource.d/ocfkit link, dpkg's own record, and the packaged ocf-gen.
 */
export async function installPackage(g: Guest, debOnShare: string, sha256: string): Promise<void> {
  await g.run(['dpkg', '-i', debOnShare], { timeoutMs: 600_000 });
  const status = await g.run(['dpkg-query', '-W', '-f', '${Status} ${Version}', 'ocfkit']);
  if (!/^install ok installed \S+$/.test(status.trim())) throw new Error(`${g.name}: dpkg-query ocfkit: ${status}`);
  const sum = (await g.run(['sha256sum', '/usr/lib/ocf/lib/ocfkit/ocfkit-agents'], { timeoutMs: 180_000 })).split(' ')[0];
  if (sum !== sha256) throw new Error(`${g.name}: installed agents ${sum} are not the build under test ${sha256}`);
  for (const a of ['drbd', 'Filesystem', 'nfsserver', 'IPaddr2']) {
    const link = (await g.run(['readlink', `/usr/lib/ocf/resource.d/ocfkit/${a}`])).trim();
    if (link !== '../../lib/ocfkit/ocfkit-agents') throw new Error(`${g.name}: ocf:ocfkit:${a} links to ${link}`);
  }
  // dpkg's file list owns them (so an upgrade or removal takes them along).
  const owned = await g.run(['dpkg', '-S', '/usr/lib/ocf/resource.d/ocfkit/drbd']);
  if (!owned.startsWith('ocfkit: ')) throw new Error(`${g.name}: dpkg -S resource.d/ocfkit/drbd: ${owned}`);
  await g.run(['ocf-gen', '--version'], { timeoutMs: 180_000 });
}

const text = async (g: Guest, argv: string[], timeoutMs = 60_000) => (await g.run(argv, { timeoutMs })).trim();

/**
 * The admin's one-time DRBD setup: meta data on both disks, connect, declare n1's (empty) data
 * good and sync it to n2 in full, make the filesystem with the export directory, then take DRBD
 * down again so that Pacemaker starts it. Returns how long the initial sync took (ms).
 */
export async function initDrbd(n1: Guest, n2: Guest, log: (l: string) => void): Promise<{ syncMs: number }> {
  for (const g of [n1, n2]) {
    await g.writeFile(`/etc/drbd.d/${DRBD_RES}.res`, drbdResource(n1, n2, g.dataDevice ?? '/dev/vdb'));
    await g.writeFile('/etc/drbd.d/global_common.conf', DRBD_GLOBAL);
    await g.run(['drbdadm', 'create-md', '--force', DRBD_RES], { timeoutMs: 120_000 });
    await g.run(['drbdadm', 'up', DRBD_RES], { timeoutMs: 120_000 });
  }
  for (const g of [n1, n2]) await until(async () => (await text(g, ['drbdadm', 'cstate', DRBD_RES])) === 'Connected', { timeoutMs: 120_000, what: `${g.name}: DRBD Connected` });
  const t0 = Date.now();
  await n1.run(['drbdadm', 'primary', '--force', DRBD_RES], { timeoutMs: 120_000 });
  // The filesystem goes on while the sync runs (DRBD serves the Primary's blocks meanwhile).
  await n1.run(['mkfs.ext4', '-q', '-L', 'nfsdata', '/dev/drbd0'], { timeoutMs: 300_000 });
  await n1.run(['mkdir', '-p', MOUNTPOINT]);
  await n1.run(['mount', '/dev/drbd0', MOUNTPOINT], { timeoutMs: 120_000 });
  // 1777: root on the client is squashed to nobody (the template's export options keep root_squash).
  await n1.run(['install', '-d', '-m', '1777', EXPORT]);
  await n1.run(['umount', MOUNTPOINT], { timeoutMs: 120_000 });
  for (const g of [n1, n2]) {
    await until(async () => (await text(g, ['drbdadm', 'dstate', DRBD_RES])) === 'UpToDate/UpToDate', { timeoutMs: 600_000, intervalMs: 2000, what: `${g.name}: initial DRBD sync done` });
  }
  const syncMs = Date.now() - t0;
  log(`e2e: initial DRBD sync (and mkfs) took ${syncMs} ms`);
  await n1.run(['drbdadm', 'secondary', DRBD_RES], { timeoutMs: 120_000 });
  for (const g of [n1, n2]) await g.run(['drbdadm', 'down', DRBD_RES], { timeoutMs: 120_000 });
  return { syncMs };
}

/** What crm_mon says now (throws when crm_mon fails). */
export async function clusterState(g: Guest): Promise<ClusterState> {
  const r = await g.exec(['crm_mon', '-1', '--output-as=xml'], { timeoutMs: 90_000 });
  if (r.code !== 0) throw new Error(`${g.name}: crm_mon → ${r.code}: ${r.stderr.trim()}`);
  return parseCrmMon(r.stdout);
}

/** Every operation record in the CIB's status section. */
export async function operations(g: Guest): Promise<OpRecord[]> {
  return parseStatus(await g.run(['cibadmin', '--query', '--scope', 'status'], { timeoutMs: 90_000 }));
}

/**
 * The whole stack on `node`: DRBD Promoted there (and nowhere else), the group's members (fs, nfs,
 * ip; the shell agents' stack has more: shell-stack.ts) Started there, nothing failed.
 */
export function stackOn(s: ClusterState, node: string, members: readonly string[] = GROUP): boolean {
  if (s.placements.some((p) => p.failed)) return false;
  if (where(s, 'drbd', 'Promoted').join() !== node) return false;
  return members.every((id) => where(s, id, 'Started').join() === node);
}

/** Where the group runs now (the node with the whole stack), or undefined. */
export function serviceNode(s: ClusterState, members: readonly string[] = GROUP): string | undefined {
  const [p] = where(s, 'drbd', 'Promoted');
  return p !== undefined && stackOn(s, p, members) ? p : undefined;
}

export async function waitStackOn(g: Guest, node: string, timeoutMs: number, members: readonly string[] = GROUP): Promise<ClusterState> {
  return until(
    async () => {
      const s = await clusterState(g);
      return stackOn(s, node, members) ? s : undefined;
    },
    { timeoutMs, intervalMs: 1000, what: `${g.name}: DRBD Promoted and ${members.join(', ')} Started on ${node}` },
  );
}

/** `crm_resource --wait`: no actions pending in the cluster (bounded). */
export async function settle(g: Guest, timeoutS: number): Promise<void> {
  const r = await g.exec(['crm_resource', '--wait', `--timeout=${timeoutS}s`], { timeoutMs: (timeoutS + 60) * 1000 });
  if (r.code !== 0) throw new Error(`${g.name}: crm_resource --wait --timeout=${timeoutS}s → ${r.code}${r.timedOut ? ' (timed out)' : ''}: ${r.stderr.trim()}`);
}

/**
 * A node that was powered off comes back as an admin brings it back: it boots, then Corosync and
 * Pacemaker are started on it (the guests have no init system to do it); its corosync.conf, its
 * CIB copy and the installed agents are on its disk from before.
 */
export async function rejoin(g: Guest, peers: Guest[], timeoutMs: number): Promise<void> {
  await addVipName(g);
  // /etc/corosync/corosync.conf survived on the root overlay; check it is the cluster's.
  const conf = (await g.readFile('/etc/corosync/corosync.conf')).toString();
  for (const x of [...peers, g]) if (!conf.includes(`ring0_addr: ${ringAddr(x)}\n`)) throw new Error(`${g.name}: corosync.conf after the reboot lacks ${x.name}`);
  await g.run(['install', '-d', '-o', 'hacluster', '-g', 'haclient', '-m', '750', '/run/crm']);
  await g.spawn(['corosync', '-f'], { log: '/var/log/corosync/corosync.out' });
  await until(async () => (await g.exec(['corosync-cfgtool', '-s'])).code === 0, { timeoutMs: 60_000, what: `corosync running on ${g.name}` });
  await g.spawn(['pacemakerd'], { log: '/var/log/pacemaker/pacemakerd.out' });
  const want = [...peers, g].map((x) => x.name).sort().join();
  await until(async () => (await onlineNodes(g)).sort().join() === want, { timeoutMs, intervalMs: 2000, what: `${g.name}: crm_mon shows ${want} online` });
}

/**
 * The client's clock minus the host's (seconds), from the quickest of a few round trips: the
 * client's logs are in its clock, events are timed on the host.
 */
export async function clockOffset(g: Guest): Promise<{ offset: number; uncertainty: number }> {
  let best: { offset: number; uncertainty: number } | undefined;
  for (let i = 0; i < 3; i++) {
    const t0 = Date.now();
    const out = await g.run(['date', '+%s.%N']);
    const t1 = Date.now();
    const guest = Number(out.trim());
    const u = (t1 - t0) / 2000;
    const offset = guest - (t0 + t1) / 2000;
    if (!best || u < best.uncertainty) best = { offset, uncertainty: u };
  }
  return best!;
}

/** A guest's last kernel messages and the tail of its Pacemaker log, for failure reports. */
export async function diagnostics(g: Guest): Promise<string> {
  if (!g.running) return `--- ${g.name}: not running`;
  const parts: string[] = [];
  const add = async (title: string, argv: string[]) => {
    const r = await g.exec(argv, { timeoutMs: 60_000 }).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
    parts.push(`--- ${g.name}: ${title} (exit ${r.code})\n${r.stdout.trimEnd()}${r.stderr.trim() ? `\n[stderr] ${r.stderr.trim()}` : ''}`);
  };
  await add('crm_mon -1 -rfA', ['crm_mon', '-1', '-r', '-f', '-A']);
  await add('/proc/drbd', ['cat', '/proc/drbd']);
  await add('operations and agent errors in pacemaker.log (tail)', ['sh', '-c', 'grep -a -E "ocf-exit-reason|error output|Result of|Timed Out|timed out" /var/log/pacemaker/pacemaker.log | tail -n 80']);
  await add('scheduler decisions (tail)', ['sh', '-c', `grep -a -E '${DECISIONS}' /var/log/pacemaker/pacemaker.log | tail -n 60`]);
  await add('dmesg (tail)', ['sh', '-c', 'dmesg | tail -n 40']);
  return parts.join('\n');
}

/** The scheduler's planned actions and their reasons, and the warnings around them. */
const DECISIONS = 'pacemaker-schedulerd.*(Actions: |Recover|Restart|Move |Demote|Promote|due to|warning|error)|pacemaker-controld.*(warning|error)';

/** The scheduler's last decisions on this node (the DC's log holds them), newest last. */
export const schedulerDecisions = (g: Guest, lines = 25) => logLines(g, DECISIONS, lines);

/** The last `lines` lines of this node's pacemaker.log matching `pattern` (grep -E), daemon name first. */
async function logLines(g: Guest, pattern: string, lines: number): Promise<string[]> {
  const r = await g.exec(['grep', '-a', '-E', '-h', pattern, '/var/log/pacemaker/pacemaker.log'], { timeoutMs: 90_000 });
  if (r.code > 1) throw new Error(`${g.name}: grep pacemaker.log → ${r.code}: ${r.stderr.trim()}`);
  return r.stdout.trimEnd().split('\n').slice(-lines).map((l) => l.replace(/^.*?(pacemaker-\w+)\s*\[\d+\]\s*/, '$1 '));
}

/** The controller's and CIB manager's messages about joins and the node histories written in them. */
const JOIN = "pacemaker-controld.*(join-[0-9]+|[Ss]ync'?ing|node history|Purged|Forgetting|Deleting|delete_resource|lrm_delete|do_dc_join|election)|pacemaker-based.*(cib_delete|[Ss]ync|Replac|-- /cib/status)";

/**
 * The controller's and CIB manager's lines about the join and the node histories written in it
 * (join rounds, whose CIB was synced, history deleted and rewritten), newest last: the evidence for
 * where a node's resource records went when a peer rejoined.
 */
export const joinLog = (g: Guest, lines = 40) => logLines(g, JOIN, lines);

/** Pacemaker's log lines for completed operations on this node, in order (see resultLines). */
export async function pacemakerResults(g: Guest): Promise<ResultLine[]> {
  // -a: a node that lost power (scenarios 3 and 6) keeps a run of NUL bytes where its last log
  // writes were; without it grep calls the file binary there and prints nothing after that point.
  const r = await g.exec(['grep', '-a', '-h', 'Result of ', '/var/log/pacemaker/pacemaker.log'], { timeoutMs: 90_000 });
  if (r.code > 1) throw new Error(`${g.name}: grep pacemaker.log → ${r.code}: ${r.stderr.trim()}`);
  return resultLines(r.stdout);
}

/** One fencing operation from Pacemaker's fence history (stonith_admin --history). */
export interface FenceEvent {
  target: string;
  action: string;
  status: string;
  /** Who asked (e.g. pacemaker-controld.123) and where. */
  origin: string;
  delegate: string;
  completed: string;
}

/**
 * The cluster's whole fence history as this node knows it (`stonith_admin --history '*' --verbose`:
 * without --verbose it shows only the last successful fence of each node).
 */
export async function fenceHistory(g: Guest): Promise<FenceEvent[]> {
  const r = await g.exec(['stonith_admin', '--history', '*', '--verbose', '--output-as=xml'], { timeoutMs: 90_000 });
  if (r.code !== 0) throw new Error(`${g.name}: stonith_admin --history → ${r.code}: ${r.stderr.trim()}`);
  const attr = (tag: string, name: string) => new RegExp(`\\b${name}="([^"]*)"`).exec(tag)?.[1] ?? '';
  return [...r.stdout.matchAll(/<fence_event\b[^>]*>/g)].map((m) => ({
    target: attr(m[0], 'target'),
    action: attr(m[0], 'action'),
    status: attr(m[0], 'status'),
    origin: attr(m[0], 'origin'),
    delegate: attr(m[0], 'delegate'),
    completed: attr(m[0], 'completed'),
  }));
}

/** DRBD's role of this node from /proc/drbd (8.4: "0: cs:Connected ro:Primary/Secondary ..."), or undefined. */
export async function drbdRole(g: Guest): Promise<string | undefined> {
  const r = await g.exec(['cat', '/proc/drbd'], { timeoutMs: 30_000 });
  return /\bro:(\w+)\//.exec(r.stdout)?.[1];
}

/** The location constraints DRBD's fence-peer handler placed (id drbd-fence-by-handler-*). */
export async function handlerConstraints(g: Guest): Promise<string[]> {
  const xml = await g.run(['cibadmin', '--query', '--scope', 'constraints'], { timeoutMs: 90_000 });
  return [...xml.matchAll(/<rsc_location\b[^>]*\bid="(drbd-fence-by-handler-[^"]*)"/g)].map((m) => m[1]!);
}
