// Checks of resource parameters that need no cluster node. The agent's
// meta-data is the source (agent-meta.ts): unknown names, required and
// unique parameters, for any agent; ocfkit's agents also check their values
// with their own declared checks, the ones they run at validate-all. The
// resource-agents agents of the HA-NFS stack say nothing of their values in
// their meta-data: for those, the few checks below catch what would otherwise
// only surface as a failed start at 3 a.m.

import { isIP } from 'node:net';
import { AGENTS } from '../../agents/index.js';
import type { AgentName } from './agent-name.js';
import type { AgentInfo } from './agent-meta.js';
import { joinPath, type Problems } from './errors.js';

type Check = (value: string, all: Record<string, string>) => string | undefined;

const absPath: Check = (v) => (v.startsWith('/') && !v.includes('\0') ? undefined : 'not an absolute path');
const ipAddr: Check = (v) => (isIP(v) ? undefined : 'not an IPv4/IPv6 address');
const ipList: Check = (v) => (v.split(/[\s,]+/).filter(Boolean).every((x) => isIP(x)) ? undefined : 'not a list of IPv4/IPv6 addresses');
const ifName: Check = (v) => (/^[A-Za-z0-9_.@-]{1,15}(:[A-Za-z0-9_]+)?$/.test(v) ? undefined : 'not a network interface name');
const prefix: Check = (v, all) => {
  const max = all.ip && isIP(all.ip) === 6 ? 128 : 32;
  if (/^\d{1,3}$/.test(v) && Number(v) <= max) return undefined;
  if (max === 32 && isIP(v) === 4) return undefined; // IPaddr2 also takes a dotted netmask
  return `not a prefix length (0-${max})`;
};
const NETWORK_FS = /^(nfs4?|cifs|smb3|glusterfs|ceph|fuse\..*|tmpfs|none|bind|overlay)$/;
const device: Check = (v, all) => {
  if (all.fstype && NETWORK_FS.test(all.fstype)) return undefined;
  if (v.startsWith('/') || /^-[UL]\S/.test(v) || /^(UUID|LABEL|PARTUUID|PARTLABEL)=\S/.test(v) || /^[^\s/:]+:\//.test(v)) return undefined;
  return 'not a device (/dev/…, UUID=…, LABEL=…, -U…, -L…) or server:/path';
};
const fsid: Check = (v) => (/^(\d+|root|[0-9a-f]{8}(-?[0-9a-f]{4}){3}-?[0-9a-f]{12})$/i.test(v) ? undefined : 'not an fsid (a number, a UUID or root)');

/** By agent type, for the heartbeat agents of these names (ocfkit's check their own values). */
const CHECKS: Record<string, Record<string, Check>> = {
  IPaddr2: { ip: ipAddr, cidr_netmask: prefix, nic: ifName },
  IPaddr: { ip: ipAddr, cidr_netmask: prefix, nic: ifName },
  Filesystem: { device, directory: absPath },
  nfsserver: { nfs_shared_infodir: absPath, nfs_ip: ipList },
  exportfs: { directory: absPath, fsid },
};

/**
 * Every check of the primitives' parameters (already text, empties removed), each problem at
 * `resources.<id>.params.<name>`. `infoOf` gives an agent's meta-data facts, when known.
 */
export function checkParams(prims: PrimitiveParams[], infoOf: (a: AgentName) => AgentInfo | undefined, problems: Problems): void {
  for (const p of prims) {
    const info = infoOf(p.agent);
    if (info) checkKnownAndRequired(p, info, problems);
    if (p.agent.class !== 'ocf') continue;
    if (p.agent.provider === 'ocfkit') checkDeclaredValues(p, problems);
    else if (p.agent.provider === 'heartbeat' || p.agent.provider === 'linbit') checkWellKnownValues(p, problems);
  }
  checkUnique(prims, infoOf, problems);
}

/** ocfkit's agents: each value through the agent's own parameter check. */
function checkDeclaredValues(p: PrimitiveParams, problems: Problems): void {
  const declared = AGENTS[p.agent.type]?.params ?? {};
  for (const [name, value] of Object.entries(p.params)) {
    const r = declared[name]?.schema.safeParse(value);
    if (!r || r.success) continue;
    const message = r.error.issues[0]?.message ?? 'invalid value';
    problems.add(paramPath(p.id, name), message.includes(value) ? message : `${message}: ${JSON.stringify(value)}`);
  }
}

function checkWellKnownValues(p: PrimitiveParams, problems: Problems): void {
  for (const [name, check] of Object.entries(CHECKS[p.agent.type] ?? {})) {
    const value = p.params[name];
    if (value === undefined) continue;
    const problem = check(value, p.params);
    if (problem) problems.add(paramPath(p.id, name), `${problem}: ${JSON.stringify(value)}`);
  }
}

export interface PrimitiveParams {
  id: string;
  agent: AgentName;
  params: Record<string, string>;
}

const paramPath = (id: string, name?: string) => joinPath(name === undefined ? ['resources', id, 'params'] : ['resources', id, 'params', name]);

/** Unknown and missing required parameters of one primitive, as pcs reports them. */
function checkKnownAndRequired(p: PrimitiveParams, info: AgentInfo, problems: Problems): void {
  // Fence devices also take Pacemaker's own pcmk_* parameters, which no fence agent's meta-data lists.
  const pacemakerOwn = (name: string) => p.agent.class === 'stonith' && name.startsWith('pcmk_');
  for (const name of Object.keys(p.params)) {
    if (!info.params.has(name) && !pacemakerOwn(name)) problems.add(paramPath(p.id, name), `unknown parameter of ${info.agent} (known: ${[...info.params.keys()].join(', ')}; from ${info.source})`);
  }
  for (const [name, pi] of info.params) {
    if (pi.required && !pi.hasDefault && p.params[name] === undefined) problems.add(paramPath(p.id, name), `required by ${info.agent} (from ${info.source})`);
  }
}

/**
 * No two primitives of one agent share the value of a unique parameter (or
 * the combined values of a unique-group), as pcs and crmsh refuse them: two
 * IPaddr2 with one ip would fight over the address.
 */
function checkUnique(prims: PrimitiveParams[], infoOf: (a: AgentName) => AgentInfo | undefined, problems: Problems): void {
  const seen = new Map<string, string>(); // agent + key + value → first primitive id
  for (const p of prims) {
    const info = infoOf(p.agent);
    if (!info) continue;
    const groups = new Map<string, string[]>();
    for (const [name, pi] of info.params) {
      if (pi.uniqueGroup) groups.set(`group ${pi.uniqueGroup}`, [...(groups.get(`group ${pi.uniqueGroup}`) ?? []), name]);
      else if (pi.unique) groups.set(`param ${name}`, [name]);
    }
    for (const [key, names] of groups) {
      if (names.some((n) => p.params[n] === undefined)) continue;
      const value = names.map((n) => p.params[n]!);
      const k = JSON.stringify([info.agent, key, value]);
      const first = seen.get(k);
      if (first === undefined) {
        seen.set(k, p.id);
        continue;
      }
      const what = names.length === 1 ? `${names[0]}=${JSON.stringify(value[0])}` : `${names.map((n, i) => `${n}=${JSON.stringify(value[i])}`).join(', ')} (unique group ${key.slice(6)})`;
      problems.add(paramPath(p.id, names[0]), `${what} is already used by resources.${first}: ${names.length === 1 ? 'the parameter is' : 'these parameters are'} unique for ${info.agent} (pcs and crmsh refuse two such resources)`);
    }
  }
}
