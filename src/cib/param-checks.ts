// Checks on resource parameters that need no cluster node: the declared
// parameters of ocfkit's agents (names, required ones, their own value
// checks), plus value checks for the HA-NFS agents' well-known parameters,
// which also apply to the heartbeat/linbit agents of the same name. A
// mistake here would otherwise only surface as a failed start at 3 a.m.

import { isIP } from 'node:net';
import { AGENTS } from '../../agents/index.js';
import type { Problems } from './errors.js';
import { joinPath } from './errors.js';

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
const drbdName: Check = (v) => (/^[A-Za-z0-9_.+-]+$/.test(v) ? undefined : 'not a DRBD resource name');

/** By agent type (any of the ocfkit/heartbeat/linbit providers). */
const CHECKS: Record<string, Record<string, Check>> = {
  IPaddr2: { ip: ipAddr, cidr_netmask: prefix, nic: ifName },
  IPaddr: { ip: ipAddr, cidr_netmask: prefix, nic: ifName },
  Filesystem: { device, directory: absPath },
  nfsserver: { nfs_shared_infodir: absPath, nfs_ip: ipList },
  exportfs: { directory: absPath, fsid },
  drbd: { drbd_resource: drbdName },
};

const PROVIDERS_CHECKED = new Set(['ocfkit', 'heartbeat', 'linbit']);

/**
 * Checks `params` (already text, empties removed) of one primitive and
 * records problems at `resources.<id>.params.<name>`.
 */
export function checkParams(
  rscId: string,
  cls: string,
  provider: string | undefined,
  type: string,
  params: Record<string, string>,
  problems: Problems,
): void {
  const at = (name?: string) => joinPath(name === undefined ? ['resources', rscId, 'params'] : ['resources', rscId, 'params', name]);
  if (cls !== 'ocf' || !provider || !PROVIDERS_CHECKED.has(provider)) return;

  const decl = provider === 'ocfkit' ? AGENTS[type] : undefined;
  const declared = decl && Object.keys(decl.params).length ? decl.params : undefined;
  const failed = new Set<string>();
  if (declared) {
    for (const name of Object.keys(params)) {
      if (!(name in declared)) problems.add(at(name), `unknown parameter of ocf:ocfkit:${type} (known: ${Object.keys(declared).join(', ')})`);
    }
    for (const [name, p] of Object.entries(declared)) {
      const value = params[name];
      if (value === undefined) {
        if (p.required && p.default === undefined) problems.add(at(name), `required by ocf:ocfkit:${type}`);
        continue;
      }
      const r = p.schema.safeParse(value);
      if (r.success) continue;
      failed.add(name);
      const message = r.error.issues[0]?.message ?? 'invalid value';
      problems.add(at(name), message.includes(value) ? message : `${message}: ${JSON.stringify(value)}`);
    }
  }
  const checks = CHECKS[type];
  if (!checks) return;
  for (const [name, check] of Object.entries(checks)) {
    const value = params[name];
    if (value === undefined || failed.has(name)) continue;
    const problem = check(value, params);
    if (problem) problems.add(at(name), `${problem}: ${JSON.stringify(value)}`);
  }
}
