// Reading CIB XML of every dialect back into the model (fast-xml-parser):
// round trips keep everything, Heartbeat 2's spellings are understood, and
// what cannot be carried is an error naming the element.

import { describe, expect, it } from 'vitest';
import { type Dialect, parseDialect } from '../../src/cib/dialects.js';
import { CibError } from '../../src/cib/errors.js';
import { generate, writeCib } from '../../src/cib/generate.js';
import { getNv, primitives } from '../../src/cib/model.js';
import { parseTree, readCibXml } from '../../src/cib/read-xml.js';
import { scanIds } from '../../src/cib/check-xml.js';

const dialect = (s: string) => parseDialect(s) as Dialect;
const body = (xml: string) => xml.slice(xml.indexOf('<cib '));

function issues(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof CibError) return e.issues.map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  throw new Error('expected a CibError');
}

/** A minimal CIB around a configuration fragment. */
const cib = (conf: string, root = '<cib admin_epoch="0" epoch="3" num_updates="0">') => `${root}<configuration>${conf}</configuration><status/></cib>`;

describe('round trips', () => {
  const SPEC_SETS = [[], ['fence_agent=fence_ipmilan', 'fence_node1=ip=10.0.0.1', 'fence_node2=ip=10.0.0.2'], ['resources.fs.ops[0].name=monitor', 'resources.fs.ops[0].interval=1min', 'resources.fs.ops[0].depth=10']];
  for (const sets of SPEC_SETS) {
    for (const via of ['pacemaker-3', 'pacemaker-3.5', 'pacemaker-1.0', 'heartbeat-2']) {
      it(`ha-nfs ${sets.length ? `(${sets[0]}…) ` : ''}→ ${via} → read → pacemaker-3 keeps the configuration`, () => {
        const original = generate({ sets });
        const mid = writeCib(structuredClone(original.cib), dialect(via));
        const { cib: back, notes } = readCibXml(mid, 'mid.xml');
        if (via === 'heartbeat-2') {
          // Heartbeat node ids are names; the convert command renumbers them for corosync.
          for (const n of back.nodes) delete n.id;
        }
        let again = body(writeCib(back, dialect('pacemaker-3')));
        // heartbeat-2 spells out globally_unique=false (its DTD defaults to true).
        if (via === 'heartbeat-2') again = again.replace(/\s*<nvpair id="drbd-clone-meta_attributes-globally-unique" name="globally-unique" value="false"\/>/, '');
        expect(again).toBe(body(original.xml));
        if (via !== 'heartbeat-2') expect(notes).toEqual([]);
      });
    }
  }
});

describe('Heartbeat 2 spellings', () => {
  it('from/to orders in both directions, colocation roles, #uname rules, nodes with UUIDs', () => {
    const { cib: c } = readCibXml(
      cib(`<crm_config/><nodes><node id="u-1" uname="a" type="normal"/></nodes>
        <resources>
          <master_slave id="ms"><primitive id="d" class="ocf" provider="heartbeat" type="drbd"/></master_slave>
          <primitive id="fs" class="ocf" provider="heartbeat" type="Filesystem"/>
          <primitive id="ip" class="ocf" provider="heartbeat" type="IPaddr2"/>
        </resources>
        <constraints>
          <rsc_order id="o1" from="fs" action="start" to="ms" to_action="promote" type="after"/>
          <rsc_order id="o2" from="fs" to="ip" type="before" score="0"/>
          <rsc_colocation id="c1" from="fs" to="ms" to_role="master" score="INFINITY"/>
          <rsc_location id="l1" rsc="ms"><rule id="r1" score="100" role="Master"><expression id="e1" attribute="#uname" operation="eq" value="a"/></rule></rsc_location>
        </constraints>`),
      'hb.xml',
    );
    expect(c.nodes).toEqual([{ id: 'u-1', uname: 'a', attributes: { pairs: [] } }]);
    expect(c.constraints).toEqual([
      { type: 'order', id: 'o1', first: 'ms', firstAction: 'promote', then: 'fs', thenAction: 'start', kind: 'Mandatory' },
      { type: 'order', id: 'o2', first: 'fs', firstAction: 'start', then: 'ip', thenAction: 'start', kind: 'Optional' },
      { type: 'colocation', id: 'c1', rsc: 'fs', withRsc: 'ms', score: 'INFINITY', withRscRole: 'Promoted' },
      {
        type: 'location',
        id: 'l1',
        rsc: 'ms',
        rules: [{ id: 'r1', score: '100', role: 'Promoted', expressions: [{ id: 'e1', attribute: '#uname', operation: 'eq', value: 'a' }] }],
      },
    ]);
  });

  it('cluster options: underscores → dashes, the ones Pacemaker keeps elsewhere move, runtime ones are dropped — each with a note', () => {
    const r = readCibXml(
      cib(`<crm_config><cluster_property_set id="cbo"><attributes>
          <nvpair id="o1" name="stonith_enabled" value="true"/>
          <nvpair id="o2" name="no_quorum_policy" value="ignore"/>
          <nvpair id="o3" name="default_resource_stickiness" value="200"/>
          <nvpair id="o4" name="default_action_timeout" value="60s"/>
          <nvpair id="o5" name="transition_idle_timeout" value="60"/>
          <nvpair id="o6" name="dc-version" value="2.1.3"/>
        </attributes></cluster_property_set></crm_config><nodes/><resources/><constraints/>`),
      'hb.xml',
    );
    expect(r.cib.properties.pairs).toEqual([
      { id: 'o1', name: 'stonith-enabled', value: 'true' },
      { id: 'o2', name: 'no-quorum-policy', value: 'ignore' },
    ]);
    expect(r.cib.rscDefaults.pairs).toEqual([{ id: 'o3', name: 'resource-stickiness', value: '200' }]);
    expect(r.cib.opDefaults.pairs).toEqual([{ id: 'o4', name: 'timeout', value: '60s' }]);
    expect(r.notes.join('\n')).toMatch(/default_resource_stickiness becomes the resource default resource-stickiness/);
    expect(r.notes.join('\n')).toMatch(/transition_idle_timeout=60 is left out: Pacemaker has no transition idle timeout/);
    expect(r.notes.join('\n')).toMatch(/dc-version=2.1.3 is left out: the cluster sets it/);
  });

  it('no stonith_enabled: Heartbeat 2 did not fence by default, so the conversion says stonith-enabled=false', () => {
    const r = readCibXml(cib('<crm_config/><nodes/><resources/><constraints/>'), 'hb.xml');
    expect(getNv(r.cib.properties, 'stonith-enabled')).toBe('false');
    expect(r.notes.join('\n')).toMatch(/stonith_enabled is not set/);
    const p = readCibXml(cib('<crm_config/><nodes/><resources/><constraints/>', '<cib validate-with="pacemaker-3.7" admin_epoch="0" epoch="1" num_updates="0">'), 'p.xml');
    expect(getNv(p.cib.properties, 'stonith-enabled')).toBeUndefined();
  });

  it('resource options as XML attributes or instance attributes become meta attributes; ops keep their settings', () => {
    const r = readCibXml(
      cib(`<crm_config/><nodes/><resources>
        <primitive id="p" class="ocf" provider="heartbeat" type="Dummy" resource_stickiness="50" restart_type="ignore">
          <instance_attributes id="p-ia"><attributes>
            <nvpair id="p-1" name="state" value="/x"/>
            <nvpair id="p-2" name="target_role" value="stopped"/>
          </attributes></instance_attributes>
          <operations>
            <op id="p-start" name="start" timeout="30" prereq="fencing"/>
            <op id="p-mon" name="monitor" interval="10" timeout="20" start_delay="5s" disabled="true" on_fail="restart">
              <instance_attributes id="p-mon-ia"><attributes><nvpair id="p-mon-depth" name="OCF_CHECK_LEVEL" value="10"/></attributes></instance_attributes>
            </op>
          </operations>
        </primitive>
        <group id="g" ordered="true" collocated="false"><primitive id="q" class="lsb" type="cron"/></group>
        <clone id="c" notify="true"><primitive id="z" class="lsb" type="atd"/></clone>
      </resources><constraints/>`),
      'hb.xml',
    );
    const [p, q, z] = [...primitives(r.cib.resources)];
    expect(p!.params.pairs).toEqual([{ id: 'p-1', name: 'state', value: '/x' }]);
    expect(p!.meta.pairs).toEqual([
      { id: 'p-meta_attributes-resource-stickiness', name: 'resource-stickiness', value: '50' },
      { id: 'p-2', name: 'target-role', value: 'Stopped' },
      { id: 'p-meta_attributes-requires', name: 'requires', value: 'fencing' },
    ]);
    expect(p!.ops).toEqual([
      { id: 'p-start', name: 'start', interval: 0, timeout: 30_000 },
      { id: 'p-mon', name: 'monitor', interval: 10_000, timeout: 20_000, onFail: 'restart', startDelay: 5000, enabled: false, depth: 10, depthId: 'p-mon-depth' },
    ]);
    expect(q!.id).toBe('q');
    expect(z!.id).toBe('z');
    const g = r.cib.resources[1]!;
    expect(g.meta.pairs).toEqual([{ id: 'g-meta_attributes-collocated', name: 'collocated', value: 'false' }]);
    const c = r.cib.resources[2]!;
    expect(c.meta.pairs.map((x) => `${x.name}=${x.value}`)).toEqual(['notify=true']);
    expect(r.notes.join('\n')).toMatch(/does not set globally_unique: Heartbeat 2's DTD defaults it to true, Pacemaker to false/);
    expect(r.notes.join('\n')).toMatch(/target_role is a resource option \(meta attribute\) in Pacemaker/);
  });
});

describe('Pacemaker spellings', () => {
  it('order score → kind; <master> and promotable clones; legacy role and meta names', () => {
    const r = readCibXml(
      cib(
        `<crm_config/><nodes><node id="1" uname="a" type="normal"/></nodes><resources>
          <master id="m"><meta_attributes id="m-ma"><nvpair id="m-1" name="master-max" value="1"/></meta_attributes><primitive id="s" class="ocf" provider="pacemaker" type="Stateful"/></master>
          <primitive id="x" class="ocf" provider="heartbeat" type="Dummy"/>
        </resources><constraints>
          <rsc_order id="o1" first="m" first-action="promote" then="x" score="0"/>
          <rsc_order id="o2" first="m" then="x" score="INFINITY"/>
          <rsc_colocation id="c" rsc="x" with-rsc="m" with-rsc-role="Master" score="INFINITY"/>
        </constraints>`,
        '<cib validate-with="pacemaker-1.0" admin_epoch="1" epoch="9" num_updates="4">',
      ),
      'p10.xml',
    );
    expect(r.source).toBe('pacemaker-1');
    expect(r.cib.epoch).toBe(9);
    expect(r.cib.adminEpoch).toBe(1);
    const m = r.cib.resources[0]!;
    expect(m.meta.pairs.map((x) => `${x.name}=${x.value}`)).toEqual(['promotable=true', 'promoted-max=1']);
    expect(r.cib.constraints.map((c) => (c.type === 'order' ? c.kind : c.type === 'colocation' ? c.withRscRole : ''))).toEqual(['Optional', 'Mandatory', 'Promoted']);
  });
});

describe('what cannot be carried', () => {
  it('names the element; nothing is silently dropped', () => {
    expect(
      issues(() =>
        readCibXml(
          cib(`<crm_config/><nodes/><resources>
            <primitive id="p" class="ocf" provider="heartbeat" type="Dummy" frobnicate="yes"/>
            <bundle id="b"/>
          </resources><constraints>
            <rsc_order id="s1"><resource_set id="rs"><resource_ref id="p"/></resource_set></rsc_order>
            <rsc_colocation id="c1" rsc="p" with-rsc="ghost"/>
            <rsc_location id="l1" rsc="p"><rule id="r1" score="1"><date_expression id="d1" operation="gt" start="2020-01-01"/></rule></rsc_location>
          </constraints><acls/>`),
          'x.xml',
        ),
      ),
    ).toEqual([
      'x.xml: <resources> <primitive id="p">: attribute frobnicate="yes" is not supported by ocf-gen',
      'x.xml: <resources> <bundle id="b">: is not supported by ocf-gen',
      'x.xml: <rsc_order id="s1">: resource sets are not supported by ocf-gen: rewrite it as constraints between pairs of resources',
      'x.xml: <rsc_location id="l1"> <date_expression id="d1">: is not supported by ocf-gen (only node attribute expressions)',
      'x.xml: <acls>: is not supported by ocf-gen (it converts crm_config, nodes, resources, constraints, rsc_defaults and op_defaults)',
      'x.xml: <rsc_colocation id="c1">: refers to \'ghost\', which is not a resource here',
    ]);
  });

  it('duplicate ids and invalid resource ids are errors; invalid ids nothing refers to are regenerated with a note', () => {
    expect(
      issues(() => readCibXml(cib('<crm_config/><nodes/><resources><primitive id="p" class="lsb" type="a"/><primitive id="p" class="lsb" type="b"/><primitive id="9x" class="lsb" type="c"/></resources><constraints/>'), 'd.xml')),
    ).toEqual([
      "d.xml: <primitive id=\"9x\">: '9x' is not a valid XML id: rename the resource (and its constraints) first",
    ]);
    expect(issues(() => readCibXml(cib('<crm_config/><nodes/><resources><primitive id="p" class="lsb" type="a"/><primitive id="p" class="lsb" type="b"/></resources><constraints/>'), 'd.xml'))).toEqual([
      "primitive 'p': duplicate id 'p' (already used by primitive 'p')",
    ]);
    const r = readCibXml(cib('<crm_config/><nodes/><resources><primitive id="p" class="lsb" type="a"><meta_attributes id="uuid:1"><attributes><nvpair id="uuid:2" name="priority" value="1"/></attributes></meta_attributes></primitive></resources><constraints/>'), 'u.xml');
    expect(r.cib.resources[0]!.meta).toEqual({ id: 'p-meta_attributes', pairs: [{ id: 'p-meta_attributes-priority', name: 'priority', value: '1' }] });
    expect(r.notes.join('\n')).toMatch(/<meta_attributes id="uuid:1">: not a valid XML id for Pacemaker; a new id is generated/);
  });

  it('not XML, not a CIB', () => {
    expect(issues(() => readCibXml('<cib><configuration>', 'a.xml'))[0]).toMatch(/^a\.xml:1:\d+: not well-formed XML: /);
    expect(issues(() => readCibXml('<html/>', 'b.xml'))).toEqual(['b.xml: not a CIB: the root element is <html>, not <cib>']);
  });
});

describe('scanIds (what a DTD cannot check)', () => {
  it('finds duplicate ids and constraints naming no resource', () => {
    const root = parseTree(cib('<crm_config/><nodes><node id="n" uname="n" type="normal"/></nodes><resources><primitive id="n" class="lsb" type="a"/><primitive id="x" class="lsb" type="b"><operations><op id="x" name="monitor"/></operations></primitive></resources><constraints><rsc_order id="o" from="x" to="y"/></constraints>'), 'f.xml');
    expect(scanIds(root, 'f.xml')).toEqual([
      { path: 'f.xml: <op id="x">', message: 'duplicate id (also used by <primitive>)' },
      { path: 'f.xml: <rsc_order id="o">', message: 'to="y" is not a resource here' },
    ]);
  });
});
