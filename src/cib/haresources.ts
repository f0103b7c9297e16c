// Heartbeat v1 (/etc/ha.d/haresources + ha.cf) → a cluster spec.
//
//   node1 drbddisk::r0 Filesystem::/dev/drbd0::/data::ext3 nfs-kernel-server IPaddr::10.0.0.100/24/eth0
//
// Each line is one resource group that prefers its first word's node and
// starts left to right. drbddisk (and datadisk, its DRBD 0.6/0.7 name) becomes a promotable ocf:ocfkit:drbd clone
// the group is colocated with (Promoted) and ordered after (promote); the
// rest become the group's members in the line's order. Anything that cannot
// be mapped is reported with its file:line — never silently dropped.

import { isIP } from 'node:net';
import { existsSync } from 'node:fs';
import { readInput } from './input.js';
import { basename, dirname, join } from 'node:path';
import { CibError, type Issue, type Notes } from './errors.js';
import { claimUniqueId } from './ids.js';
import { isTrue } from './model.js';

interface Mapped {
  agent: string;
  params: Record<string, string>;
  base: string;
}

/** Heartbeat v1 resource.d scripts with an OCF equivalent in resource-agents, and how their ::arguments map. */
const V1_SCRIPTS: Record<string, { agent: string; args: string[]; base: string }> = {
  MailTo: { agent: 'ocf:heartbeat:MailTo', args: ['email', 'subject'], base: 'mailto' },
  Delay: { agent: 'ocf:heartbeat:Delay', args: ['startdelay', 'stopdelay'], base: 'delay' },
  IPsrcaddr: { agent: 'ocf:heartbeat:IPsrcaddr', args: ['ipaddress'], base: 'ipsrcaddr' },
  portblock: { agent: 'ocf:heartbeat:portblock', args: ['protocol', 'portno', 'action'], base: 'portblock' },
  LVM: { agent: 'ocf:heartbeat:LVM', args: ['volgrpname'], base: 'lvm' },
  apache: { agent: 'ocf:heartbeat:apache', args: ['configfile'], base: 'apache' },
  Xinetd: { agent: 'ocf:heartbeat:Xinetd', args: ['service'], base: 'xinetd' },
};

/** Init scripts that together are the NFS server; ocf:ocfkit:nfsserver runs all of it. */
const NFS_SCRIPTS = new Set(['nfs-kernel-server', 'nfs-common', 'nfslock', 'nfs', 'nfs-server', 'nfsserver']);

function prefixFromMask(mask: string): number | undefined {
  if (/^\d{1,2}$/.test(mask)) return Number(mask) <= 32 ? Number(mask) : undefined;
  if (isIP(mask) !== 4) return undefined;
  const bits = mask
    .split('.')
    .map((o) => Number(o).toString(2).padStart(8, '0'))
    .join('');
  return /^1*0*$/.test(bits) ? bits.indexOf('0') === -1 ? 32 : bits.indexOf('0') : undefined;
}

/** IPaddr/IPaddr2 argument: ip[/prefix-or-mask[/nic[:label][/broadcast]]]. */
function mapIp(arg: string): Mapped | string {
  const [ip = '', mask, nic, broadcast] = arg.split('/');
  if (isIP(ip) !== 4) return `'${ip}' is not an IPv4 address`;
  const params: Record<string, string> = { ip };
  if (mask !== undefined && mask !== '') {
    const p = prefixFromMask(mask);
    if (p === undefined) return `'${mask}' is neither a prefix length nor a netmask`;
    params.cidr_netmask = String(p);
  }
  if (nic) {
    const [dev, label] = nic.split(':');
    params.nic = dev!;
    if (label) params.iflabel = label;
  }
  if (broadcast) params.broadcast = broadcast;
  return { agent: 'ocf:ocfkit:IPaddr2', params, base: `ip-${ip}` };
}

interface LineOf {
  text: string;
  line: number;
}

/** Lines with `\` continuations joined and comments removed, keeping the first line number. */
function logicalLines(text: string): LineOf[] {
  const out: LineOf[] = [];
  let acc = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    if (!acc) start = i + 1;
    const line = raw.replace(/(^|\s)#.*$/, '$1');
    if (/\\\s*$/.test(line)) {
      acc += `${line.replace(/\\\s*$/, '')} `;
      return;
    }
    acc += line;
    if (acc.trim()) out.push({ text: acc.trim(), line: start });
    acc = '';
  });
  if (acc.trim()) out.push({ text: acc.trim(), line: start });
  return out;
}

interface HaCf {
  nodes: string[];
  autoFailback?: string;
  notes: Notes;
}

function readHaCf(file: string): HaCf {
  const text = readText(file);
  const nodes: string[] = [];
  let autoFailback: string | undefined;
  const notes: Notes = [];
  const other = new Set<string>();
  for (const { text: l, line } of logicalLines(text)) {
    const [key = '', ...args] = l.split(/\s+/);
    switch (key) {
      case 'node':
        nodes.push(...args);
        break;
      case 'auto_failback':
        autoFailback = args[0];
        break;
      case 'crm':
        if (isTrue(args[0]) || /^respawn$/i.test(args[0] ?? '')) {
          throw new CibError([{ path: `${file}:${line}`, message: `"crm ${args[0]}": this cluster is configured by its CIB (/var/lib/heartbeat/crm/cib.xml), not by haresources; convert that instead: ocf-gen convert cib.xml` }]);
        }
        break;
      case 'stonith':
      case 'stonith_host':
        notes.push(`note: ${file}:${line}: "${key}" is not converted: Heartbeat v1 STONITH plugins are not Pacemaker fence agents; configure fencing in the spec (fencing: agent/devices)`);
        break;
      case 'respawn':
      case 'ping':
      case 'ping_group':
        notes.push(`note: ${file}:${line}: "${l}" is not converted: connectivity checks are an ocf:pacemaker:ping clone with a location rule in Pacemaker`);
        break;
      default:
        other.add(key);
    }
  }
  if (other.size) notes.push(`note: ${file}: ${[...other].sort().join(', ')}: membership and messaging settings belong in corosync.conf, not in the CIB`);
  return { nodes, autoFailback, notes };
}

const readText = (file: string) => readInput(file);

export interface Imported {
  spec: Record<string, unknown>;
  notes: Notes;
  sources: string[];
}

export function importHaresources(file: string, haCfFile: string | undefined, o: { skipUnmapped: boolean }): Imported {
  const notes: Notes = [];
  const unmapped: Issue[] = [];
  const sources = [file];
  const text = readText(file);

  // ha.cf: given, or next to haresources.
  let haCf: HaCf | undefined;
  const cfPath = haCfFile ?? join(dirname(file), 'ha.cf');
  if (haCfFile !== undefined || existsSync(cfPath)) {
    haCf = readHaCf(cfPath);
    notes.push(...haCf.notes);
    sources.push(cfPath);
  }

  const ids = new Set<string>();
  const uniqueId = (base: string) => claimUniqueId(ids, base, 2);
  const resources: Record<string, { agent: string; params: Record<string, string> }> = {};
  const groups: Record<string, string[]> = {};
  const clones: Record<string, unknown> = {};
  const location: unknown[] = [];
  const colocation: unknown[] = [];
  const order: unknown[] = [];
  const preferred: string[] = [];
  const drbdSeen = new Map<string, string>();
  const lines = logicalLines(text);

  lines.forEach(({ text: l, line }, k) => {
    const where = `${file}:${line}`;
    const [node = '', ...tokens] = l.split(/\s+/);
    preferred.push(node);
    const members: string[] = [];
    const drbdClones: string[] = [];
    let nfs: string | undefined;
    let firstFsDir: string | undefined;
    let firstIp: string | undefined;
    const skip = (token: string, why: string) => unmapped.push({ path: where, message: `'${token}': ${why}` });

    for (const token of tokens) {
      const [name = '', ...args] = token.split('::');
      const bareIp = args.length === 0 && isIP(name.split('/')[0] ?? '') === 4;
      let mapped: Mapped | string | undefined;
      if (bareIp || name === 'IPaddr' || name === 'IPaddr2') {
        if (!bareIp && args.length !== 1) mapped = `${name} takes one argument: ip[/prefix[/nic[/broadcast]]]`;
        else mapped = mapIp(bareIp ? name : args[0]!);
        if (typeof mapped !== 'string') firstIp ??= mapped.params.ip;
      } else if (name === 'drbddisk' || name === 'datadisk') {
        // datadisk: DRBD 0.6/0.7's script for the same role as drbddisk.
        if (args.length !== 1 || !args[0]) {
          skip(token, `${name} without a resource name means all DRBD resources; name one (${name}::r0)`);
          continue;
        }
        const res = args[0];
        if (drbdSeen.has(res)) {
          skip(token, `DRBD resource ${res} is already used by ${drbdSeen.get(res)}`);
          continue;
        }
        drbdSeen.set(res, where);
        const id = uniqueId(`drbd-${res}`);
        const cloneId = uniqueId(`${id}-clone`);
        resources[id] = { agent: 'ocf:ocfkit:drbd', params: { drbd_resource: res } };
        clones[cloneId] = {
          resource: id,
          promotable: true,
          meta: { 'promoted-max': '1', 'promoted-node-max': '1', 'clone-max': '2', 'clone-node-max': '1', notify: 'true' },
        };
        if (members.length) notes.push(`note: ${where}: ${token} comes after ${members.join(', ')}; it is promoted before the whole group starts anyway`);
        drbdClones.push(cloneId);
        continue;
      } else if (name === 'Filesystem') {
        const [device, directory, fstype, options] = args;
        if (!device || !directory || args.length > 4) mapped = 'Filesystem takes device::directory[::fstype[::options]]';
        else {
          const params: Record<string, string> = { device, directory };
          if (fstype) params.fstype = fstype;
          if (options) params.options = options;
          mapped = { agent: 'ocf:ocfkit:Filesystem', params, base: `fs-${basename(directory) || 'root'}` };
          firstFsDir ??= directory;
        }
      } else if (NFS_SCRIPTS.has(name) && args.length === 0) {
        if (nfs) {
          notes.push(`note: ${where}: ${name} is part of ${nfs} (ocf:ocfkit:nfsserver runs rpc.statd and the NFS server together)`);
          continue;
        }
        mapped = { agent: 'ocf:ocfkit:nfsserver', params: {}, base: 'nfsserver' };
      } else if (V1_SCRIPTS[name]) {
        const v1 = V1_SCRIPTS[name];
        if (args.length > v1.args.length) mapped = `${name} takes at most ${v1.args.length} argument(s): ${v1.args.join('::')}`;
        else mapped = { agent: v1.agent, params: Object.fromEntries(args.map((a, i) => [v1.args[i]!, a])), base: v1.base };
      } else if (args.length === 0 && /^[A-Za-z0-9_.@+-]+$/.test(name)) {
        mapped = { agent: `lsb:${name}`, params: {}, base: name };
        notes.push(`note: ${where}: ${name} becomes lsb:${name}: its init script must follow LSB (status must report "not running" correctly)`);
      } else {
        mapped = args.length ? `the Heartbeat v1 resource script ${name} has no OCF equivalent ocf-gen knows` : 'not a resource name';
      }
      if (typeof mapped === 'string') {
        skip(token, mapped);
        continue;
      }
      const id = uniqueId(mapped.base);
      resources[id] = { agent: mapped.agent, params: mapped.params };
      if (mapped.agent === 'ocf:ocfkit:nfsserver') nfs = id;
      members.push(id);
    }

    if (nfs) {
      const p = resources[nfs]!.params;
      if (firstIp) p.nfs_ip = firstIp;
      if (firstFsDir) {
        p.nfs_shared_infodir = `${firstFsDir.replace(/\/$/, '')}/nfsinfo`;
        notes.push(
          `note: ${where}: ${nfs}: NFS state goes to ${p.nfs_shared_infodir} on the shared filesystem (the v1 HOWTOs moved /var/lib/nfs there by hand); change it with --set resources.${nfs}.params.nfs_shared_infodir=…`,
        );
      }
      notes.push(
        `note: ${where}: ${nfs}: haresources has no exports (v1 setups kept them in /etc/exports): give them as resources.${nfs}.params.exports (exports(5) syntax, each with a fixed fsid=) or exports_file (e.g. on the shared filesystem)`,
      );
    }

    const unit = members.length ? uniqueId(`group-${k + 1}`) : undefined;
    if (unit) groups[unit] = members;
    for (const c of drbdClones) {
      if (!unit) continue;
      colocation.push({ rsc: unit, 'with-rsc': c, 'with-rsc-role': 'Promoted', score: 'INFINITY' });
      order.push({ first: c, 'first-action': 'promote', then: unit, 'then-action': 'start' });
    }
    const target = unit ?? drbdClones[0];
    if (target && node) location.push(unit ? { rsc: target, node, score: 100 } : { rsc: target, role: 'Promoted', node, score: 100 });
  });

  if (unmapped.length) {
    if (!o.skipUnmapped) throw new CibError([...unmapped, { path: '', message: 'not converted: fix these lines, or pass --skip-unmapped to leave them out (they are listed as warnings then)' }]);
    for (const u of unmapped) notes.push(`warning: ${u.path}: ${u.message}: left out`);
  }
  if (!lines.length || !Object.keys(resources).length) throw new CibError([{ path: file, message: 'no resources found (expected lines like "node1 drbddisk::r0 Filesystem::/dev/drbd0::/data::ext3 IPaddr::10.0.0.100")' }]);

  let nodes: string[];
  if (haCf?.nodes.length) {
    nodes = [...new Set(haCf.nodes)];
    lines.forEach(({ line }, k) => {
      const n = preferred[k]!;
      if (!nodes.includes(n)) unmapped.push({ path: `${file}:${line}`, message: `preferred node '${n}' is not a node of ${cfPath} (${nodes.join(', ')})` });
    });
    if (unmapped.length && !o.skipUnmapped) throw new CibError(unmapped);
  } else {
    nodes = [...new Set(preferred)];
    if (nodes.length < 2) {
      throw new CibError([{ path: file, message: `only ${nodes.join(', ')} is named here: pass --ha-cf /etc/ha.d/ha.cf (its "node" lines name every cluster node)` }]);
    }
  }

  // auto_failback on: resources go back to the preferred node (no stickiness); off: they stay.
  const af = (haCf?.autoFailback ?? 'legacy').toLowerCase();
  let stickiness = '0';
  if (/^(off|no|false)$/.test(af)) stickiness = '100';
  else if (af === 'legacy') notes.push(`note: auto_failback ${haCf?.autoFailback ? 'legacy' : 'is not set (Heartbeat\'s default is legacy)'}: converted as "on" (resource-stickiness 0, resources return to the preferred node)`);

  return {
    spec: {
      nodes,
      'resource-defaults': { 'resource-stickiness': stickiness },
      resources,
      ...(Object.keys(groups).length ? { groups } : {}),
      ...(Object.keys(clones).length ? { clones } : {}),
      constraints: { location, colocation, order },
    },
    notes,
    sources,
  };
}
