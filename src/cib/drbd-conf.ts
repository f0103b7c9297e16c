// The DRBD resource file that goes with the ha-nfs CIB, with DRBD's own
// fencing as LINBIT documents it for Pacemaker: `fencing
// resource-and-stonith` (I/O freezes until the peer is fenced or known
// outdated) and the crm-fence-peer handler, which forbids promotion on the
// peer with a location constraint while it may be out of date; the unfence
// handler lifts it once the peer has resynced. DRBD 8.4 puts `fencing` in
// `disk {}` and unfences after-resync-target; DRBD 9 puts it in `net {}` and
// has unfence-peer.

import { isIP } from 'node:net';
import { CibError, type Issue } from './errors.js';
import { parseSetArgs } from './spec-load.js';

export const DRBD_VERSIONS = ['9', '8.4'] as const;
export type DrbdVersion = (typeof DRBD_VERSIONS)[number];

interface Setting {
  default: string;
  description: string;
  check: (v: string) => string | undefined;
}

const name = (v: string) => (/^[A-Za-z0-9_.+-]{1,63}$/.test(v) ? undefined : 'letters, digits and _.+- only');
const hostName = (v: string) => (/^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$/.test(v) ? undefined : 'not a host name (as `uname -n` prints it)');
const address = (v: string) => (isIP(v) ? undefined : 'not an IPv4/IPv6 address');
const absPath = (v: string) => (/^\/[^\s;{}"#]*$/.test(v) && !v.split('/').includes('..') ? undefined : 'not an absolute path (no blanks, ;{}"# or ..)');
const port = (v: string) => (/^\d{1,5}$/.test(v) && Number(v) >= 1 && Number(v) <= 65535 ? undefined : 'not a port (1-65535)');
const drbdDevice = (v: string) => (/^\/dev\/drbd\d{1,6}$/.test(v) ? undefined : 'not a DRBD device (/dev/drbdN)');
const metaDisk = (v: string) => (v === 'internal' ? undefined : absPath(v));

/** Names shared with the ha-nfs template (node1, node2, drbd_resource, device), so one set of --set works for both. */
export const DRBD_SETTINGS: Record<string, Setting> = {
  drbd_resource: { default: 'r0', description: 'DRBD resource name (drbd_resource of the CIB)', check: name },
  node1: { default: 'node1', description: 'first node, as `uname -n` prints it', check: hostName },
  node2: { default: 'node2', description: 'second node', check: hostName },
  address1: { default: '192.0.2.11', description: "node1's replication address (a dedicated link is best)", check: address },
  address2: { default: '192.0.2.12', description: "node2's replication address", check: address },
  port: { default: '7789', description: 'TCP port of the replication link', check: port },
  device: { default: '/dev/drbd0', description: 'DRBD device (the Filesystem device of the CIB)', check: drbdDevice },
  disk: { default: '/dev/vdb', description: 'backing disk on each node', check: absPath },
  meta_disk: { default: 'internal', description: 'where DRBD keeps its meta-data: internal, or a device', check: metaDisk },
};

export function renderDrbdConf(sets: string[], version: DrbdVersion): string {
  const issues: Issue[] = [];
  const v: Record<string, string> = Object.fromEntries(Object.entries(DRBD_SETTINGS).map(([k, s]) => [k, s.default]));
  for (const s of parseSetArgs(sets)) {
    const setting = DRBD_SETTINGS[s.key];
    if (!setting) {
      issues.push({ path: `--set ${s.key}`, message: `unknown setting (settings: ${Object.keys(DRBD_SETTINGS).join(', ')})` });
      continue;
    }
    const problem = setting.check(s.value);
    if (problem) issues.push({ path: `--set ${s.key}`, message: `${problem}: ${JSON.stringify(s.value)}` });
    else v[s.key] = s.value;
  }
  if (v.node1 === v.node2) issues.push({ path: '--set node2', message: `the same node as node1 (${v.node1})` });
  if (v.address1 === v.address2) issues.push({ path: '--set address2', message: `the same address as address1 (${v.address1})` });
  if (issues.length) throw new CibError(issues);

  const addr = (a: string) => (isIP(a) === 6 ? `ipv6 [${a}]:${v.port}` : `${a}:${v.port}`);
  const nine = version === '9';
  const lines = [
    `# /etc/drbd.d/${v.drbd_resource}.res — written by ocf-gen drbd-conf (DRBD ${version}), for the ha-nfs CIB.`,
    '# DRBD fencing with Pacemaker: a node that loses its peer freezes I/O (resource-and-stonith)',
    "# until crm-fence-peer has placed a constraint that keeps the peer from being promoted,",
    '# and the cluster has fenced it; the constraint is lifted once the peer has resynced.',
    '# Needs stonith-enabled=true in the CIB (ocf-gen cib --set fence_agent=…).',
    `resource ${v.drbd_resource} {`,
    `  device ${v.device};`,
    `  disk ${v.disk};`,
    `  meta-disk ${v.meta_disk};`,
    ...(nine ? [] : ['  disk {', '    fencing resource-and-stonith;', '  }']),
    '  net {',
    '    protocol C;',
    ...(nine ? ['    fencing resource-and-stonith;'] : []),
    '  }',
    '  handlers {',
    // drbd-utils ships a pair per generation. The .9.sh scripts query `drbdsetup events2`, which
    // an 8.4 module lacks, from inside the handler; the 8.4 pair reads /proc/drbd (what the
    // end-to-end bed runs on a real 8.4 module: docs/readme/e2e.md).
    ...(nine
      ? ['    fence-peer "/usr/lib/drbd/crm-fence-peer.9.sh";', '    unfence-peer "/usr/lib/drbd/crm-unfence-peer.9.sh";']
      : ['    fence-peer "/usr/lib/drbd/crm-fence-peer.sh";', '    after-resync-target "/usr/lib/drbd/crm-unfence-peer.sh";']),
    '  }',
    `  on ${v.node1} {`,
    `    address ${addr(v.address1!)};`,
    ...(nine ? ['    node-id 0;'] : []),
    '  }',
    `  on ${v.node2} {`,
    `    address ${addr(v.address2!)};`,
    ...(nine ? ['    node-id 1;'] : []),
    '  }',
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

export function formatDrbdSettings(): string {
  const rows = Object.entries(DRBD_SETTINGS);
  const w0 = Math.max(...rows.map(([k]) => k.length), 7);
  const w1 = Math.max(...rows.map(([, s]) => s.default.length), 7);
  return `${[`${'setting'.padEnd(w0)}  ${'default'.padEnd(w1)}  meaning`, ...rows.map(([k, s]) => `${k.padEnd(w0)}  ${s.default.padEnd(w1)}  ${s.description}`)].join('\n')}\n`;
}
