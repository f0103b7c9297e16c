// Heartbeat v1 haresources (+ ha.cf) → cluster spec: each resource form, the
// line → group mapping, nodes and auto_failback from ha.cf, and that nothing
// unmappable is dropped without a word.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCib } from '../../src/cib/build.js';
import { CibError } from '../../src/cib/errors.js';
import { importHaresources } from '../../src/cib/haresources.js';
import { validateSpec } from '../../src/cib/spec-load.js';

const root = mkdtempSync(join(tmpdir(), 'ocfkit-cib-haresources-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** Writes haresources (and ha.cf unless null) into a fresh directory; returns the haresources path. */
function setup(haresources: string, hacf: string | null = 'node a\nnode b\n'): string {
  const dir = join(root, String(++n));
  mkdirSync(dir);
  writeFileSync(join(dir, 'haresources'), haresources);
  if (hacf !== null) writeFileSync(join(dir, 'ha.cf'), hacf);
  return join(dir, 'haresources');
}

const imp = (hr: string, o = { skipUnmapped: false }) => importHaresources(hr, undefined, o);
function issues(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof CibError) return e.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
    throw e;
  }
  throw new Error('expected a CibError');
}
/** The imported spec must build (the same checks as any spec). */
const builds = (spec: unknown) => buildCib(validateSpec({ raw: spec, provenance: new Map() }), { origin: [] });

describe('haresources lines', () => {
  it('the classic DRBD+NFS line: promotable drbd, a group in line order, colocated with Promoted and ordered after promote, preferring its node', () => {
    const hr = setup('a drbddisk::r0 Filesystem::/dev/drbd0::/data::ext3 nfs-kernel-server IPaddr::10.0.0.100/24/eth0\n');
    const { spec } = imp(hr);
    expect(spec).toEqual({
      nodes: ['a', 'b'],
      'resource-defaults': { 'resource-stickiness': '0' },
      resources: {
        'drbd-r0': { agent: 'ocf:ocfkit:drbd', params: { drbd_resource: 'r0' } },
        'fs-data': { agent: 'ocf:ocfkit:Filesystem', params: { device: '/dev/drbd0', directory: '/data', fstype: 'ext3' } },
        nfsserver: { agent: 'ocf:ocfkit:nfsserver', params: { nfs_ip: '10.0.0.100', nfs_shared_infodir: '/data/nfsinfo' } },
        'ip-10.0.0.100': { agent: 'ocf:ocfkit:IPaddr2', params: { ip: '10.0.0.100', cidr_netmask: '24', nic: 'eth0' } },
      },
      groups: { 'group-1': ['fs-data', 'nfsserver', 'ip-10.0.0.100'] },
      clones: {
        'drbd-r0-clone': { resource: 'drbd-r0', promotable: true, meta: { 'promoted-max': '1', 'promoted-node-max': '1', 'clone-max': '2', 'clone-node-max': '1', notify: 'true' } },
      },
      constraints: {
        location: [{ rsc: 'group-1', node: 'a', score: 100 }],
        colocation: [{ rsc: 'group-1', 'with-rsc': 'drbd-r0-clone', 'with-rsc-role': 'Promoted', score: 'INFINITY' }],
        order: [{ first: 'drbd-r0-clone', 'first-action': 'promote', then: 'group-1', 'then-action': 'start' }],
      },
    });
    expect(() => builds(spec)).not.toThrow();
  });

  it('IP forms: bare address, dotted netmask, nic with label, broadcast, IPaddr2', () => {
    const hr = setup('a 10.0.0.1 IPaddr::10.0.0.2/255.255.0.0/eth1:0/10.0.255.255 IPaddr2::10.0.0.3/8\n');
    const { spec } = imp(hr);
    expect(spec.resources).toEqual({
      'ip-10.0.0.1': { agent: 'ocf:ocfkit:IPaddr2', params: { ip: '10.0.0.1' } },
      'ip-10.0.0.2': { agent: 'ocf:ocfkit:IPaddr2', params: { ip: '10.0.0.2', cidr_netmask: '16', nic: 'eth1', iflabel: '0', broadcast: '10.0.255.255' } },
      'ip-10.0.0.3': { agent: 'ocf:ocfkit:IPaddr2', params: { ip: '10.0.0.3', cidr_netmask: '8' } },
    });
  });

  it('comments, continuation lines, NFS scripts merged into one nfsserver, v1 scripts with OCF equivalents, init scripts as lsb:', () => {
    const hr = setup('# the NFS server\na \\\n  Filesystem::/dev/sdb1::/srv::xfs::noatime,nodiratime \\\n  nfs-common nfs-kernel-server nfslock MailTo::ops@example.com::NFS Delay::5 apache2\n');
    const { spec, notes } = imp(hr);
    expect(Object.entries(spec.resources as Record<string, { agent: string; params: Record<string, string> }>).map(([k, v]) => `${k} ${v.agent} ${JSON.stringify(v.params)}`)).toEqual([
      'fs-srv ocf:ocfkit:Filesystem {"device":"/dev/sdb1","directory":"/srv","fstype":"xfs","options":"noatime,nodiratime"}',
      'nfsserver ocf:ocfkit:nfsserver {"nfs_shared_infodir":"/srv/nfsinfo"}',
      'mailto ocf:heartbeat:MailTo {"email":"ops@example.com","subject":"NFS"}',
      'delay ocf:heartbeat:Delay {"startdelay":"5"}',
      'apache2 lsb:apache2 {}',
    ]);
    const text = notes.join('\n');
    expect(text).toMatch(/haresources:2: nfs-kernel-server is part of nfsserver/);
    expect(text).toMatch(/haresources:2: nfslock is part of nfsserver/);
    expect(text).toMatch(/apache2 becomes lsb:apache2/);
    expect(text).toMatch(/haresources has no exports/);
    expect(() => builds(spec)).not.toThrow();
  });

  it('one group per line, each preferring its own node; two DRBD resources', () => {
    const hr = setup('a drbddisk::r0 Filesystem::/dev/drbd0::/a::ext3 10.0.0.1\nb drbddisk::r1 Filesystem::/dev/drbd1::/b::ext3 10.0.0.2\n');
    const { spec } = imp(hr);
    expect(spec.groups).toEqual({ 'group-1': ['fs-a', 'ip-10.0.0.1'], 'group-2': ['fs-b', 'ip-10.0.0.2'] });
    expect((spec.constraints as { location: unknown[] }).location).toEqual([
      { rsc: 'group-1', node: 'a', score: 100 },
      { rsc: 'group-2', node: 'b', score: 100 },
    ]);
    expect(() => builds(spec)).not.toThrow();
  });

  it('what it cannot map is an error with file:line (all of them at once), or a warning with skipUnmapped', () => {
    const hr = setup('a drbddisk Filesystem::/dev/drbd0 Frob::1 IPaddr::999.1.1.1 IPv6addr::2001:db8::1\nb drbddisk::r0 drbddisk::r0 10.0.0.1\n');
    expect(issues(() => imp(hr))).toEqual([
      `${hr}:1: 'drbddisk': drbddisk without a resource name means all DRBD resources; name one (drbddisk::r0)`,
      `${hr}:1: 'Filesystem::/dev/drbd0': Filesystem takes device::directory[::fstype[::options]]`,
      `${hr}:1: 'Frob::1': the Heartbeat v1 resource script Frob has no OCF equivalent ocf-gen knows`,
      `${hr}:1: 'IPaddr::999.1.1.1': '999.1.1.1' is not an IPv4 address`,
      `${hr}:1: 'IPv6addr::2001:db8::1': the Heartbeat v1 resource script IPv6addr has no OCF equivalent ocf-gen knows`,
      `${hr}:2: 'drbddisk::r0': DRBD resource r0 is already used by ${hr}:2`,
      'not converted: fix these lines, or pass --skip-unmapped to leave them out (they are listed as warnings then)',
    ]);
    const { notes } = imp(hr, { skipUnmapped: true });
    expect(notes.filter((x) => x.startsWith('warning:'))).toHaveLength(6);
  });
});

describe('ha.cf', () => {
  it('nodes from node lines; auto_failback off keeps resources where they are; resource-affecting directives are reported', () => {
    const hr = setup('a 10.0.0.1\n', 'keepalive 2\nnode a b\nnode c\nauto_failback off\nstonith_host * external/ipmi a 10.0.0.9 admin pw\nping 10.0.0.254\n');
    const { spec, notes } = imp(hr);
    expect(spec.nodes).toEqual(['a', 'b', 'c']);
    expect(spec['resource-defaults']).toEqual({ 'resource-stickiness': '100' });
    const text = notes.join('\n');
    expect(text).toMatch(/ha\.cf:5: "stonith_host" is not converted/);
    expect(text).toMatch(/ha\.cf:6: "ping 10\.0\.0\.254" is not converted/);
    expect(text).toMatch(/ha\.cf: keepalive: membership and messaging settings belong in corosync\.conf/);
  });

  it('auto_failback on → no stickiness; legacy/unset → like on, with a note', () => {
    expect(imp(setup('a 10.0.0.1\n', 'node a b\nauto_failback on\n')).spec['resource-defaults']).toEqual({ 'resource-stickiness': '0' });
    const r = imp(setup('a 10.0.0.1\n', 'node a b\n'));
    expect(r.spec['resource-defaults']).toEqual({ 'resource-stickiness': '0' });
    expect(r.notes.join('\n')).toMatch(/auto_failback is not set \(Heartbeat's default is legacy\): converted as "on"/);
  });

  it('crm yes means the cluster has a CIB: convert that instead', () => {
    const hr = setup('a 10.0.0.1\n', 'node a b\ncrm yes\n');
    expect(issues(() => imp(hr))[0]).toMatch(/ha\.cf:2: "crm yes": this cluster is configured by its CIB .* ocf-gen convert cib\.xml$/);
  });

  it('without ha.cf one node is not a cluster; a preferred node missing from ha.cf is an error', () => {
    expect(issues(() => imp(setup('a 10.0.0.1\n', null)))).toEqual([expect.stringMatching(/only a is named here: pass --ha-cf \/etc\/ha\.d\/ha\.cf/)]);
    expect(imp(setup('a 10.0.0.1\nb 10.0.0.2\n', null)).spec.nodes).toEqual(['a', 'b']);
    const hr = setup('z 10.0.0.1\n', 'node a b\n');
    expect(issues(() => imp(hr))).toEqual([expect.stringMatching(/haresources:1: preferred node 'z' is not a node of .*ha\.cf \(a, b\)/)]);
  });

  it('empty or unreadable input', () => {
    expect(issues(() => imp(setup('# nothing\n')))[0]).toMatch(/no resources found/);
    expect(issues(() => importHaresources(join(root, 'nope'), undefined, { skipUnmapped: false }))).toEqual([`${join(root, 'nope')}: cannot read: ENOENT`]);
  });
});

describe('datadisk (DRBD 0.6/0.7)', () => {
  it('datadisk::<res> is read as drbddisk::<res>: the same spec, the same CIB', () => {
    const line = (script: string) => `a ${script}::r0 Filesystem::/dev/nb0::/data::ext3 nfs-kernel-server IPaddr::10.0.0.100/24/eth0\n`;
    const viaData = imp(setup(line('datadisk')));
    const viaDrbd = imp(setup(line('drbddisk')));
    expect(viaData.spec).toEqual(viaDrbd.spec);
    expect((viaData.spec as { resources: Record<string, unknown> }).resources['drbd-r0']).toEqual({ agent: 'ocf:ocfkit:drbd', params: { drbd_resource: 'r0' } });
    expect(builds(viaData.spec).cib.resources.map((r) => r.id)).toEqual(builds(viaDrbd.spec).cib.resources.map((r) => r.id));
  });

  it('datadisk without a resource is refused like drbddisk', () => {
    const hr = setup('a datadisk 10.0.0.1\n');
    expect(() => imp(hr)).toThrow(/'datadisk': datadisk without a resource name means all DRBD resources; name one \(datadisk::r0\)/);
  });
});
