// Spec → model → XML: operations from the agents' own declarations, ids,
// determinism, validate-with, and the checks that keep a CIB from being
// wrong in ways only a failover would show.

import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { AGENTS } from '../../agents/index.js';
import { defaultOps } from '../../src/cib/agent-ops.js';
import { buildCib, parseKeyValues } from '../../src/cib/build.js';
import { parseDialect, type Dialect } from '../../src/cib/dialects.js';
import { CibError } from '../../src/cib/errors.js';
import { generate, writeCib } from '../../src/cib/generate.js';
import { primitives, type Op } from '../../src/cib/model.js';
import { validateSpec } from '../../src/cib/spec-load.js';

const dialect = (s: string) => parseDialect(s) as Dialect;

function build(raw: unknown, origin: string[] = ['test']) {
  return buildCib(validateSpec({ raw, provenance: new Map() }), { origin });
}

/** Issues of a failing build, as "path: message" lines. */
function problemsOf(raw: unknown): string[] {
  try {
    build(raw);
  } catch (e) {
    if (e instanceof CibError) return e.issues.map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  throw new Error('expected the spec to be refused');
}

const DUMMY = { agent: 'ocf:heartbeat:Dummy' };

/** Every id="…" in an XML text. */
const idsOf = (xml: string) => [...xml.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]!);

describe('the ha-nfs template', () => {
  const g = generate({});

  it('builds a complete CIB: two nodes, promotable DRBD with notify, the group, colocation and order', () => {
    const xml = g.xml;
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).toMatch(/validate-with="pacemaker-3.7"/);
    expect(g.cib.nodes.map((n) => n.uname)).toEqual(['node1', 'node2']);
    const clone = g.cib.resources.find((r) => r.kind === 'clone')!;
    expect(clone.kind === 'clone' && clone.child.id).toBe('drbd');
    expect(clone.meta.pairs.map((p) => `${p.name}=${p.value}`)).toEqual(expect.arrayContaining(['promotable=true', 'notify=true', 'promoted-max=1', 'clone-max=2']));
    const group = g.cib.resources.find((r) => r.kind === 'group')!;
    expect(group.kind === 'group' && group.members.map((m) => `${m.id}:${m.provider}:${m.type}`)).toEqual(['fs:ocfkit:Filesystem', 'nfs:ocfkit:nfsserver', 'ip:ocfkit:IPaddr2']);
    expect(g.cib.constraints).toEqual([
      expect.objectContaining({ type: 'colocation', rsc: 'nfs-group', withRsc: 'drbd-clone', withRscRole: 'Promoted', score: 'INFINITY' }),
      expect.objectContaining({ type: 'order', first: 'drbd-clone', firstAction: 'promote', then: 'nfs-group', thenAction: 'start', kind: 'Mandatory' }),
    ]);
  });

  it('is deterministic and its ids are unique across the whole file, in every dialect', () => {
    for (const d of ['pacemaker-3', 'pacemaker-3.5', 'pacemaker-1.0', 'heartbeat-2']) {
      const a = generate({ schema: d }).xml;
      expect(generate({ schema: d }).xml).toBe(a);
      const ids = idsOf(a.replace(/<node [^>]*>/g, '')); // node ids are not XML ids
      expect(new Set(ids).size, d).toBe(ids.length);
      for (const id of ids) expect(id).toMatch(/^[A-Za-z_][A-Za-z0-9_.-]*$/);
    }
  });

  it("takes operation timeouts and intervals from the agents' own declarations (or the documented fallback while an agent has none)", () => {
    for (const p of primitives(g.cib.resources)) {
      const decl = AGENTS[p.type]!;
      const declared = Object.keys(decl.actions).length > 0;
      const start = p.ops.find((o) => o.name === 'start')!;
      const stop = p.ops.find((o) => o.name === 'stop')!;
      if (declared) {
        expect(start.timeout, `${p.type} start`).toBe(decl.actions.start!.timeout * 1000);
        expect(stop.timeout, `${p.type} stop`).toBe(decl.actions.stop!.timeout * 1000);
        const monitors = decl.actions.monitor!.ops ?? [decl.actions.monitor!];
        for (const o of p.ops.filter((x) => x.name === 'monitor')) {
          const m = monitors.find((x) => (x.role ?? undefined) === o.role) ?? monitors[0]!;
          expect(o.timeout, `${p.type} monitor ${o.role ?? ''}`).toBe(m.timeout * 1000);
          if (m.interval) expect(o.interval, `${p.type} monitor ${o.role ?? ''}`).toBe(m.interval * 1000);
        }
      } else {
        expect(start.timeout).toBeGreaterThan(0);
      }
    }
    const drbd = [...primitives(g.cib.resources)].find((p) => p.type === 'drbd')!;
    const names = drbd.ops.map((o) => `${o.name}${o.role ? `/${o.role}` : ''}`);
    expect(names).toEqual(['start', 'stop', 'promote', 'demote', 'notify', 'monitor/Promoted', 'monitor/Unpromoted']);
    const intervals = drbd.ops.filter((o) => o.name === 'monitor').map((o) => o.interval);
    expect(new Set(intervals).size).toBe(2); // Pacemaker needs one interval per role
  });

  it('says in the XML that it has no fencing, and the comment is well-formed XML even with "--" in it', () => {
    expect(g.xml).toMatch(/<!-- [^]*NO FENCING[^]*-->/);
    const r = build({ nodes: ['a'], resources: { d: DUMMY } }, ['from my--spec.yaml']);
    const xml = writeCib(r.cib, dialect('pacemaker-3'));
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).toContain('my- -spec.yaml');
  });

  it('--epoch and --admin-epoch land in the root element', () => {
    const x = generate({ epoch: 42, adminEpoch: 3 }).xml;
    expect(x).toMatch(/<cib crm_feature_set="3.0.14" validate-with="pacemaker-3.7" epoch="42" num_updates="0" admin_epoch="3">/);
  });
});

describe('default operations', () => {
  const ms = (ops: Op[]) => ops.map((o) => `${o.name}${o.role ? `/${o.role}` : ''} ${o.interval / 1000}s ${o.timeout! / 1000}s`);

  it('heartbeat agents of the HA-NFS kind: their resource-agents meta-data', () => {
    expect(ms(defaultOps('ocf', 'heartbeat', 'Filesystem', { promotable: false, notify: false }))).toEqual(['start 0s 60s', 'stop 0s 60s', 'monitor 20s 40s']);
    expect(ms(defaultOps('ocf', 'linbit', 'drbd', { promotable: true, notify: true }))).toEqual([
      'start 0s 240s',
      'stop 0s 100s',
      'promote 0s 90s',
      'demote 0s 90s',
      'notify 0s 90s',
      'monitor/Promoted 10s 20s',
      'monitor/Unpromoted 20s 20s',
    ]);
  });

  it('anything else: 20 s, a monitor every 10 s (60 s for fence devices); promotable gets one monitor per role', () => {
    expect(ms(defaultOps('lsb', undefined, 'cron', { promotable: false, notify: false }))).toEqual(['start 0s 20s', 'stop 0s 20s', 'monitor 10s 20s']);
    expect(ms(defaultOps('stonith', undefined, 'fence_ipmilan', { promotable: false, notify: false }))).toEqual(['start 0s 20s', 'stop 0s 20s', 'monitor 60s 20s']);
    expect(ms(defaultOps('ocf', 'pacemaker', 'Stateful', { promotable: true, notify: false }))).toEqual([
      'start 0s 20s',
      'stop 0s 20s',
      'promote 0s 20s',
      'demote 0s 20s',
      'monitor/Promoted 10s 20s',
      'monitor/Unpromoted 11s 20s',
    ]);
  });

  it('spec ops replace the default of the same name and role, or are added', () => {
    const r = build({ nodes: ['a'], resources: { d: { ...DUMMY, ops: [{ name: 'monitor', interval: '30s', timeout: 60, 'on-fail': 'block' }, { name: 'monitor', interval: '5min', depth: 10 }] } } });
    const d = [...primitives(r.cib.resources)][0]!;
    expect(d.ops.filter((o) => o.name === 'monitor').map((o) => [o.interval, o.timeout, o.onFail, o.depth])).toEqual([
      [30_000, 60_000, 'block', undefined],
      [300_000, undefined, undefined, 10],
    ]);
    const xml = writeCib(r.cib, dialect('pacemaker-3'));
    expect(xml).toContain('<op id="d-monitor-interval-300s" name="monitor" interval="300s">');
    expect(xml).toContain('name="OCF_CHECK_LEVEL" value="10"');
  });

  it('two ops with the same name and interval are refused', () => {
    expect(problemsOf({ nodes: ['a'], resources: { d: { ...DUMMY, ops: [{ name: 'monitor', interval: 10, role: 'Started' }] } } })).toEqual([
      "resources.d.ops: two 'monitor' operations with interval 10s: Pacemaker needs a different interval for each (e.g. per role)",
    ]);
  });
});

describe('checks with the exact place', () => {
  it('references: unknown resources, resources used twice, constraints on a cloned primitive, unknown nodes', () => {
    const issues = problemsOf({
      nodes: ['a', 'b'],
      resources: { x: DUMMY, y: DUMMY, z: DUMMY },
      groups: { g: ['x', 'nope'], h: ['x'] },
      clones: { c: { resource: 'y' } },
      constraints: {
        location: [{ rsc: 'g', node: 'c', score: 10 }],
        colocation: [{ rsc: 'z', 'with-rsc': 'y' }],
        order: [{ first: 'z', then: 'z' }],
      },
    });
    expect(issues).toEqual([
      "groups.g.resources[1]: unknown resource 'nope'",
      "groups.h.resources[0]: 'x' is already in 'g'",
      "constraints.location[0].node: unknown node 'c' (nodes: a, b)",
      "constraints.colocation[0].with-rsc: 'y' is inside clone 'c': constrain the clone instead",
      "constraints.order[0]: 'z' cannot be ordered after itself",
    ]);
  });

  it('roles and promote/demote need a promotable clone', () => {
    const issues = problemsOf({
      nodes: ['a'],
      resources: { x: DUMMY, y: { ...DUMMY, ops: [{ name: 'monitor', role: 'Promoted', interval: 5 }] } },
      clones: { c: { resource: 'x' } },
      constraints: { order: [{ first: 'c', 'first-action': 'promote', then: 'y' }], location: [{ rsc: 'c', node: 'a', role: 'Master' }] },
    });
    expect(issues).toEqual([
      "resources.y.ops[0].role: role Promoted, but 'y' is not in a promotable clone",
      "constraints.location[0].role: role Promoted needs a promotable clone, and 'c' is not one",
      "constraints.order[0].first-action: first-action promote needs a promotable clone, and 'c' is not one",
    ]);
  });

  it('DRBD must be a promotable clone with notify, and a filesystem on it must follow the Promoted role', () => {
    expect(problemsOf({ nodes: ['a'], resources: { d: { agent: 'ocf:ocfkit:drbd', params: { drbd_resource: 'r0' } } } })).toEqual([
      'resources.d: ocf:ocfkit:drbd must run as a promotable clone (clones: {<id>: {resource: d, promotable: true, meta: {notify: true}}})',
    ]);
    const spec = {
      nodes: ['a', 'b'],
      resources: { d: { agent: 'ocf:linbit:drbd', params: { drbd_resource: 'r0' } }, fs: { agent: 'ocf:heartbeat:Filesystem', params: { device: '/dev/drbd/by-res/r0/0', directory: '/srv', fstype: 'ext4' } } },
      clones: { ms: { resource: 'd', promotable: true } },
    };
    expect(problemsOf(spec)).toEqual([
      'clones.ms.meta.notify: ocf:linbit:drbd needs notify=true on its clone',
      "resources.fs.params.device: /dev/drbd/by-res/r0/0 is a DRBD device, but nothing keeps 'fs' on the node where DRBD is Promoted: add constraints.colocation {rsc: fs, with-rsc: ms, with-rsc-role: Promoted, score: INFINITY}",
      "resources.fs.params.device: /dev/drbd/by-res/r0/0 is a DRBD device, but 'fs' may start before DRBD is promoted: add constraints.order {first: ms, first-action: promote, then: fs, then-action: start}",
    ]);
    const fixed = {
      ...spec,
      clones: { ms: { resource: 'd', promotable: true, meta: { notify: true } } },
      constraints: { colocation: [{ rsc: 'fs', 'with-rsc': 'ms', 'with-rsc-role': 'Promoted' }], order: [{ first: 'ms', 'first-action': 'promote', then: 'fs' }] },
    };
    expect(() => build(fixed)).not.toThrow();
  });

  it('parameter values: addresses, paths, devices, prefixes of the HA-NFS agents (any provider)', () => {
    const issues = problemsOf({
      nodes: ['a'],
      resources: {
        ip: { agent: 'ocf:heartbeat:IPaddr2', params: { ip: '10.0.0.256', cidr_netmask: '33', nic: 'eth 0' } },
        fs: { agent: 'ocf:heartbeat:Filesystem', params: { device: 'sdb1', directory: 'srv' } },
        nfs: { agent: 'ocf:heartbeat:nfsserver', params: { nfs_shared_infodir: 'state', nfs_ip: '10.0.0.1,nope' } },
        net: { agent: 'ocf:heartbeat:Filesystem', params: { device: 'server:/export', directory: '/mnt', fstype: 'nfs' } },
      },
    });
    expect(issues).toEqual([
      'resources.ip.params.ip: not an IPv4/IPv6 address: "10.0.0.256"',
      'resources.ip.params.cidr_netmask: not a prefix length (0-32): "33"',
      'resources.ip.params.nic: not a network interface name: "eth 0"',
      'resources.fs.params.device: not a device (/dev/…, UUID=…, LABEL=…, -U…, -L…) or server:/path: "sdb1"',
      'resources.fs.params.directory: not an absolute path: "srv"',
      'resources.nfs.params.nfs_shared_infodir: not an absolute path: "state"',
      'resources.nfs.params.nfs_ip: not a list of IPv4/IPv6 addresses: "10.0.0.1,nope"',
    ]);
  });

  it("ocfkit agents: names the agent declares, its required parameters, its own checks", () => {
    for (const [type, decl] of Object.entries(AGENTS)) {
      if (!Object.keys(decl.params).length) continue; // placeholder agent: nothing declared yet
      const issues = problemsOf({ nodes: ['a'], resources: { r: { agent: `ocf:ocfkit:${type}`, params: { no_such_param: 'x' } } } });
      expect(issues[0], type).toMatch(new RegExp(`^resources\\.r\\.params\\.no_such_param: unknown parameter of ocf:ocfkit:${type} \\(known: `));
    }
    expect(problemsOf({ nodes: ['a'], resources: { r: { agent: 'ocf:ocfkit:Nope' } } })).toEqual([
      `resources.r.agent: unknown agent ocf:ocfkit:Nope (ocfkit ships: ${Object.keys(AGENTS).join(', ')}): "ocf:ocfkit:Nope"`,
    ]);
    expect(problemsOf({ nodes: ['a'], resources: { r: { agent: 'IPaddr2' } } })[0]).toMatch(/^resources\.r\.agent: not an agent: use class:provider:type/);
  });

  it('ids: invalid, duplicated across sections; generated ids step aside', () => {
    expect(problemsOf({ nodes: ['a'], resources: { '1x': DUMMY } })).toEqual([
      "resources[\"1x\"]: '1x' is not a valid XML id (letters, digits, '_', '.', '-'; starting with a letter or '_')",
    ]);
    expect(problemsOf({ nodes: ['a'], resources: { x: DUMMY }, clones: { x: { resource: 'x' } } })).toEqual(["clones.x: duplicate id 'x' (already used by resources.x)"]);
    // A resource named like a generated id: the generated one moves to -1.
    const r = build({ nodes: ['a'], resources: { d: { ...DUMMY, params: { state: '/tmp/x' } }, 'd-instance_attributes': DUMMY } });
    const xml = writeCib(r.cib, dialect('pacemaker-3'));
    expect(xml).toContain('<instance_attributes id="d-instance_attributes-1">');
    const ids = idsOf(xml.replace(/<node [^>]*>/g, ''));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('nodes: duplicate names and ids; ids for all or none', () => {
    expect(problemsOf({ nodes: ['a', 'a'], resources: {} })).toEqual(["nodes[1].name: duplicate node 'a'"]);
    expect(problemsOf({ nodes: [{ name: 'a', id: 1 }, 'b'], resources: {} })).toEqual(['nodes: give an id to every node or to none (ids default to 1, 2… in corosync nodelist order)']);
  });

  it('fencing: one device per node; parameters as name=value text; unknown nodes refused', () => {
    const r = build({ nodes: ['a', 'b'], resources: {}, fencing: { agent: 'fence_ipmilan', devices: [{ node: 'a', params: 'ip=10.0.0.1 password="x y"' }, { node: 'b', params: { ip: '10.0.0.2' } }] } });
    const xml = writeCib(r.cib, dialect('pacemaker-3'));
    expect(xml).toContain('name="stonith-enabled" value="true"');
    expect(xml).toContain('<rsc_location id="location-fence-a-a--INFINITY" rsc="fence-a" node="a" score="-INFINITY"/>');
    expect(xml).toContain('name="password" value="x y"');
    expect(xml).not.toContain('NO FENCING');
    expect(problemsOf({ nodes: ['a'], resources: {}, fencing: { agent: 'fence_x', devices: [{ node: 'zz' }] } })).toEqual(["fencing.devices[0].node: unknown node 'zz' (nodes: a)"]);
    expect(problemsOf({ nodes: ['a'], resources: {}, fencing: { agent: '', devices: [{ node: 'a', params: 'ip=1' }] } })).toEqual(['fencing.agent: fence device parameters are given, but no fence agent']);
  });

  it('parseKeyValues reads name=value words with quotes', () => {
    expect(parseKeyValues(' a=1  b="two words" c=\'x=y\' d=')).toEqual({ a: '1', b: 'two words', c: 'x=y', d: '' });
    expect(parseKeyValues('a=1 oops')).toBe('cannot read "oops": write name=value pairs separated by spaces');
  });
});

describe('dialects', () => {
  const base = build({
    nodes: ['a', 'b'],
    resources: { s: { agent: 'ocf:pacemaker:Stateful' }, x: DUMMY },
    clones: { ms: { resource: 's', promotable: true, meta: { 'promoted-max': 1, 'target-role': 'Promoted' } } },
    constraints: {
      location: [{ rsc: 'ms', node: 'a', score: 50, role: 'Promoted' }, { rsc: 'x', rules: [{ score: -100, expressions: [{ attribute: 'site', operation: 'eq', value: 'b', type: 'integer' }] }] }],
      order: [{ first: 'ms', then: 'x', kind: 'Optional', symmetrical: false }],
    },
    'operation-defaults': { timeout: '30s' },
  }).cib;
  const parse = (xml: string) => new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml);

  it('pacemaker-3: Promoted in every place, rsc_location role=, kind=', () => {
    const xml = writeCib(structuredClone(base), dialect('pacemaker-3'));
    expect(xml).toContain('<rsc_location id="location-ms-a-50" rsc="ms" role="Promoted" node="a" score="50"/>');
    expect(xml).toContain('name="target-role" value="Promoted"');
    expect(xml).toContain('type="integer"');
    expect(xml).toContain('kind="Optional" symmetrical="false"');
    expect(xml).toContain('<op_defaults>');
  });

  it('pacemaker-1.0: <master>, Master/Slave, a location role becomes a rule, integer becomes number', () => {
    const xml = writeCib(structuredClone(base), dialect('pacemaker-1.0'));
    expect(xml).toContain('<master id="ms">');
    expect(xml).toContain('name="master-max"');
    expect(xml).toContain('name="target-role" value="Master"');
    expect(xml).toMatch(/<rsc_location id="location-ms-a-50" rsc="ms">\s*<rule id="location-ms-a-50-rule" score="50" role="Master">\s*<expression id="location-ms-a-50-rule-expr" attribute="#uname" operation="eq" value="a"\/>/);
    expect(xml).toContain('type="number"');
    expect(parse(xml).cib['validate-with']).toBe('pacemaker-1.0');
  });

  it('heartbeat-2: what has no equivalent is an error, not a silent drop', () => {
    const hb = (spec: unknown) => {
      try {
        writeCib(build(spec).cib, dialect('heartbeat-2'));
        return [];
      } catch (e) {
        return (e as CibError).issues.map((i) => `${i.path}: ${i.message}`);
      }
    };
    expect(hb({ nodes: ['a'], resources: { s: { agent: 'systemd:nfs-server' } } })).toEqual(["primitive 's': class systemd does not exist in Heartbeat 2 (classes: ocf, lsb, heartbeat, stonith)"]);
    expect(hb({ nodes: ['a'], resources: { x: DUMMY, y: DUMMY }, constraints: { order: [{ id: 'o', first: 'x', then: 'y', kind: 'Serialize' }] } })).toEqual(["order constraint 'o': kind Serialize has no heartbeat-2 equivalent"]);
    expect(hb({ nodes: ['a'], resources: {}, 'resource-defaults': { 'migration-threshold': 3 } })).toEqual([
      "resource default 'migration-threshold': has no heartbeat-2 equivalent (Heartbeat 2 knows: resource-stickiness, is-managed)",
    ]);
    expect(hb({ nodes: ['a'], resources: { x: { ...DUMMY, ops: [{ name: 'monitor', interval: 10, 'on-fail': 'standby' }] } } })).toEqual([
      "primitive 'x' operation 'monitor': on-fail=standby does not exist in Heartbeat 2 (ignore, block, stop, restart, fence)",
    ]);
    expect(hb({ nodes: ['a'], resources: { x: DUMMY }, 'operation-defaults': { timeout: '30s' } })).toEqual([]);
  });

  it('validate-with: pacemaker-3.7 unless pinned; a pin below what a feature needs is refused', () => {
    const withDemote = build({ nodes: ['a'], resources: { x: { ...DUMMY, ops: [{ name: 'monitor', interval: 10, 'on-fail': 'demote' }] } } }).cib;
    expect(writeCib(structuredClone(withDemote), dialect('pacemaker-3'))).toContain('validate-with="pacemaker-3.7"');
    expect(() => writeCib(structuredClone(withDemote), dialect('pacemaker-3.3'))).toThrow(/on-fail=demote needs pacemaker-3.4 or later/);
    expect(parseDialect('pacemaker-3.11')).toMatch(/unknown schema 'pacemaker-3.11'/);
  });
});
