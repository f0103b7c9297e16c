/**
 * The end-to-end bed a second time with the shell agents ocfkit replaces (OCFKIT_E2E_AGENTS=shell,
 * `npm run bench:failover`): resource-agents' ocf:heartbeat:{Filesystem,nfsserver,IPaddr2} and
 * drbd-utils' ocf:linbit:drbd, on the same CIB apart from the provider and what differs.
 *
 * What differs is what ocfkit's nfsserver does by itself and the heartbeat agent leaves to others:
 * - the export: ocfkit's `exports` parameter becomes an ocf:heartbeat:exportfs primitive `export`,
 *   after nfs in the group;
 * - the reboot notifications NFSv3 clients reclaim their locks on: heartbeat's nfsserver sends them
 *   at its start, before the floating IP exists, and sm-notify cannot bind to the address and gives
 *   up (ocfkit's waits for it). resource-agents' own answer is nfs_no_notify=true and an
 *   ocf:heartbeat:nfsnotify primitive after the IP (Red Hat's HA-NFS guide): `notify`, last.
 * Ids of drbd, drbd-clone, fs, nfs, ip and nfs-group stay, so the suite's checks still find them.
 * Operations are the shell agents' own meta-data defaults, as ocf-gen takes ocfkit's from its agents'.
 */

export type AgentsUnderTest = 'ocfkit' | 'shell';

/** OCFKIT_E2E_AGENTS: ocfkit (default) or shell. */
export function agentsUnderTest(env: NodeJS.ProcessEnv = process.env): AgentsUnderTest {
  const v = env.OCFKIT_E2E_AGENTS ?? 'ocfkit';
  if (v !== 'ocfkit' && v !== 'shell') throw new Error(`OCFKIT_E2E_AGENTS=${v}: use ocfkit or shell`);
  return v;
}

/** The group's members in the shell stack, in start order. */
export const SHELL_GROUP = ['fs', 'nfs', 'export', 'ip', 'notify'] as const;

interface OpDefault {
  name: string;
  timeout: number;
  interval?: number;
  role?: 'Promoted' | 'Unpromoted';
}
const op = (name: string, timeout: number, interval?: number, role?: OpDefault['role']): OpDefault => ({ name, timeout, interval, role });

interface ShellAgent {
  provider: string;
  type: string;
  /** Every parameter of its meta-data. */
  params: readonly string[];
  /** Its meta-data's operations (start, stop, promote/demote/notify where it has them, monitors). */
  ops: readonly OpDefault[];
}

/**
 * The shell agents as their meta-data prints them (resource-agents 1:4.12.0-2 and drbd-utils 9.22.0-1,
 * Debian 12: what the guests run; test/e2e/shell-stack.test.ts compares with the host's where it has them).
 */
export const SHELL_AGENTS: Record<string, ShellAgent> = {
  drbd: {
    provider: 'linbit',
    type: 'drbd',
    params: ['drbd_resource', 'drbdconf', 'adjust_master_score', 'stop_outdates_secondary', 'ignore_missing_notifications', 'wfc_timeout', 'remove_master_score_if_peer_primary', 'fail_promote_early_if_peer_primary', 'unfence_if_all_uptodate', 'unfence_extra_args', 'require_drbd_module_version_ge', 'require_drbd_module_version_lt', 'connect_only_after_promote'],
    ops: [op('start', 240), op('stop', 100), op('promote', 90), op('demote', 90), op('notify', 90), op('monitor', 20, 10, 'Promoted'), op('monitor', 20, 20, 'Unpromoted')],
  },
  Filesystem: {
    provider: 'heartbeat',
    type: 'Filesystem',
    params: ['device', 'directory', 'fstype', 'options', 'statusfile_prefix', 'run_fsck', 'fast_stop', 'force_clones', 'force_unmount'],
    ops: [op('start', 60), op('stop', 60), op('monitor', 40, 20)],
  },
  nfsserver: {
    provider: 'heartbeat',
    type: 'nfsserver',
    params: ['nfs_init_script', 'nfsv4_only', 'nfs_no_notify', 'nfs_notify_foreground', 'nfs_smnotify_retry_time', 'nfs_server_scope', 'nfs_ip', 'nfs_shared_infodir', 'rpcpipefs_dir'],
    ops: [op('start', 40), op('stop', 20), op('monitor', 20, 10)],
  },
  exportfs: {
    provider: 'heartbeat',
    type: 'exportfs',
    params: ['clientspec', 'options', 'directory', 'fsid', 'unlock_on_stop', 'wait_for_leasetime_on_stop', 'rmtab_backup'],
    ops: [op('start', 40), op('stop', 120), op('monitor', 20, 10)],
  },
  IPaddr2: {
    provider: 'heartbeat',
    type: 'IPaddr2',
    params: ['ip', 'nic', 'cidr_netmask', 'broadcast', 'iflabel', 'lvs_support', 'lvs_ipv6_addrlabel', 'lvs_ipv6_addrlabel_value', 'mac', 'clusterip_hash', 'unique_clone_address', 'arp_interval', 'arp_count', 'arp_count_refresh', 'arp_bg', 'arp_sender', 'send_arp_opts', 'flush_routes', 'run_arping', 'nodad', 'noprefixroute', 'preferred_lft', 'network_namespace'],
    ops: [op('start', 20), op('stop', 20), op('monitor', 20, 10)],
  },
  nfsnotify: {
    provider: 'heartbeat',
    type: 'nfsnotify',
    params: ['source_host', 'notify_args'],
    ops: [op('start', 90), op('stop', 90), op('monitor', 90, 30)],
  },
};

/** ocfkit parameters the shell agents have no counterpart of, and why dropping them is right here. */
const DROPPED_ON_PURPOSE: Record<string, string> = {
  statd_hostname: "heartbeat's nfsserver has none (its rpc.statd runs under the node's name); the notifications carry the floating IP's name from nfsnotify's source_host",
  exports: 'moved into the exportfs primitive "export"',
};

type Param = readonly [name: string, value: string];

const unescapeXml = (s: string) => s.replace(/&(lt|gt|quot|apos|amp);/g, (_m, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]!);
const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** One export of ocfkit's `exports` as exportfs' parameters; only the single `dir client(options)` entry the ha-nfs template writes. */
export function exportfsParams(exportsValue: string): Param[] {
  const entries = exportsValue.split(/[;\n]/).map((e) => e.trim()).filter((e) => e !== '' && !e.startsWith('#'));
  if (entries.length !== 1) throw new Error(`shellStackCib: one export expected in nfs's exports (one exportfs primitive), found ${entries.length}: ${JSON.stringify(exportsValue)}`);
  const m = /^(\/\S*)\s+([^\s()]+)\(([^()]*)\)$/.exec(entries[0]!);
  if (!m) throw new Error(`shellStackCib: not a "<directory> <client>(<options>)" export: ${JSON.stringify(entries[0])}`);
  const [, directory, clientspec, opts] = m as unknown as [string, string, string, string];
  const options = opts.split(',').filter((o) => o !== '');
  const fsid = options.find((o) => o.startsWith('fsid='))?.slice('fsid='.length);
  if (!fsid) throw new Error(`shellStackCib: the export has no fsid= (exportfs requires one): ${JSON.stringify(entries[0])}`);
  return [
    ['directory', directory],
    ['clientspec', clientspec],
    ['options', options.filter((o) => !o.startsWith('fsid=')).join(',')],
    ['fsid', fsid],
    // The clients' NLM locks on the export are released on stop (/proc/fs/nfsd/unlock_filesystem), so the
    // filesystem can be unmounted; resource-agents 4.12's default, set here for older versions' sake.
    ['unlock_on_stop', 'true'],
  ];
}

const PRIMITIVE = /^([ \t]*)<primitive id="([^"]+)" class="ocf" provider="ocfkit" type="([^"]+)">\n([\s\S]*?)^\1<\/primitive>\n/gm;
const INSTANCE_ATTRIBUTES = /^[ \t]*<instance_attributes\b[^>]*>\n[\s\S]*?<\/instance_attributes>\n/m;
const OPERATIONS = /^[ \t]*<operations>\n[\s\S]*?<\/operations>\n/m;

function renderPrimitive(p: { indent: string; id: string; agent: ShellAgent; params: readonly Param[]; rest?: string }): string {
  const i = p.indent;
  const attrs = `${p.id}-instance_attributes`;
  const nv = p.params.map(([n, v]) => `${i}    <nvpair id="${attrs}-${n}" name="${n}" value="${escapeXml(v)}"/>\n`).join('');
  const ops = p.agent.ops
    .map((o) => `${i}    <op id="${p.id}-${o.name}-interval-${o.interval ?? 0}s" name="${o.name}" interval="${o.interval ?? 0}s" timeout="${o.timeout}s"${o.role ? ` role="${o.role}"` : ''}/>\n`)
    .join('');
  return (
    `${i}<primitive id="${p.id}" class="ocf" provider="${p.agent.provider}" type="${p.agent.type}">\n` +
    (p.params.length ? `${i}  <instance_attributes id="${attrs}">\n${nv}${i}  </instance_attributes>\n` : '') +
    (p.rest ?? '') +
    `${i}  <operations>\n${ops}${i}  </operations>\n` +
    `${i}</primitive>\n`
  );
}

export interface ShellStackCib {
  xml: string;
  /** What was left out and why, for the log: "nfs: statd_hostname (…)". */
  dropped: string[];
}

/**
 * ocf-gen's ha-nfs CIB with the shell agents in place of ocfkit's (see the top of this file).
 * `nfsInitScript` becomes nfsserver's nfs_init_script (the bed's stand-in, see shell-nodes.ts);
 * `notifyName` nfsnotify's source_host (default: nfs_ip): the name the clients mount, since a client's
 * statd matches a notification's mon_name against the server name it monitors.
 * Throws on anything it does not know how to carry over, rather than dropping it unseen.
 */
export function shellStackCib(xml: string, o: { nfsInitScript?: string; notifyName?: string } = {}): ShellStackCib {
  const dropped: string[] = [];
  const found = new Set<string>();
  let nfsIp: string | undefined;
  let out = xml.replace(PRIMITIVE, (_m, indent: string, id: string, type: string, body: string) => {
    const agent = SHELL_AGENTS[type];
    if (!agent || type === 'exportfs' || type === 'nfsnotify') throw new Error(`shellStackCib: no shell agent for ocf:ocfkit:${type} (primitive ${id})`);
    found.add(type);
    const attrs = INSTANCE_ATTRIBUTES.exec(body)?.[0] ?? '';
    const params: Param[] = [...attrs.matchAll(/<nvpair id="[^"]*" name="([^"]*)" value="([^"]*)"\/>/g)].map((m) => [m[1]!, unescapeXml(m[2]!)] as const);
    // Children other than instance_attributes and operations (meta_attributes…) stay as they were.
    const rest = body.replace(INSTANCE_ATTRIBUTES, '').replace(OPERATIONS, '');
    const kept = params.filter(([n]) => {
      if (agent.params.includes(n)) return true;
      const why = DROPPED_ON_PURPOSE[n];
      if (!why) throw new Error(`shellStackCib: ${id}: ocf:${agent.provider}:${agent.type} has no parameter ${n} (and the rewrite does not know what to do with it)`);
      if (n !== 'exports') dropped.push(`${id}: ${n} (${why})`);
      return false;
    });
    if (type !== 'nfsserver') return renderPrimitive({ indent, id, agent, params: kept, rest });

    const value = (n: string) => params.find(([k]) => k === n)?.[1];
    const exportsValue = value('exports');
    nfsIp = value('nfs_ip');
    if (exportsValue === undefined || nfsIp === undefined) throw new Error(`shellStackCib: ${id} needs exports and nfs_ip (for the exportfs and nfsnotify primitives)`);
    const set: Param[] = [['nfs_no_notify', 'true'], ...(o.nfsInitScript ? [['nfs_init_script', o.nfsInitScript] as const] : [])];
    const nfsParams = [...kept.filter(([n]) => !set.some(([k]) => k === n)), ...set];
    return renderPrimitive({ indent, id, agent, params: nfsParams, rest }) + renderPrimitive({ indent, id: 'export', agent: SHELL_AGENTS.exportfs!, params: exportfsParams(exportsValue) });
  });
  for (const t of ['drbd', 'Filesystem', 'nfsserver', 'IPaddr2']) if (!found.has(t)) throw new Error(`shellStackCib: no ocf:ocfkit:${t} primitive in the CIB`);
  if (/provider="ocfkit"/.test(out)) throw new Error('shellStackCib: an ocf:ocfkit primitive is left that the rewrite did not recognise');

  // nfsnotify last in the group, after the IP: the notifications go out from the address once it is up.
  const ip = /^([ \t]*)<primitive id="ip" class="ocf" provider="heartbeat" type="IPaddr2">\n[\s\S]*?^\1<\/primitive>\n/m.exec(out);
  if (!ip) throw new Error('shellStackCib: no primitive "ip" to put the nfsnotify primitive after');
  const notify = renderPrimitive({ indent: ip[1]!, id: 'notify', agent: SHELL_AGENTS.nfsnotify!, params: [['source_host', o.notifyName ?? nfsIp!]] });
  out = out.slice(0, ip.index + ip[0].length) + notify + out.slice(ip.index + ip[0].length);

  const group = /<group id="nfs-group">[\s\S]*?<\/group>/.exec(out)?.[0] ?? '';
  const order = [...group.matchAll(/<primitive id="([^"]+)"/g)].map((m) => m[1]);
  if (order.join() !== SHELL_GROUP.join()) throw new Error(`shellStackCib: nfs-group holds ${order.join(', ')}, not ${SHELL_GROUP.join(', ')}`);
  out = out.replace(/(<cib\b)/, '<!-- OCFKIT_E2E_AGENTS=shell: rewritten for the shell agents by test/e2e/lib/shell-stack.ts -->\n$1');
  return { xml: out, dropped };
}
