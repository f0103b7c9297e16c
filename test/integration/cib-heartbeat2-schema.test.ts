// ocfkit's own schema of the Heartbeat 2 CIB (schemas/heartbeat-2-cib.rng),
// written from the rules of Heartbeat 2.1's crm.dtd, which is not ours to
// ship. It must accept what Heartbeat accepted and refuse what it refused:
// every case below is checked with xmllint against our schema always, and
// against the original crm.dtd where ../shared/schemas has it (CI); there the
// two verdicts must agree on every document. Without ../shared the
// cross-check is skipped and says so.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOcfGen, HAVE_ORIGINAL_DTD, HB2_ORIGINAL_DTD, hb2Verdicts, ocfGen, requireTools, tempDir, write } from './cib-helpers.js';

const tmp = tempDir('cib-hb2-schema');
afterAll(() => tmp.cleanup());

/** A Heartbeat 2.1 CIB using most of the DTD: rules with date expressions, lifetimes, op attributes, status with lrm. */
const RICH = `<?xml version="1.0"?>
<cib admin_epoch="0" epoch="3" num_updates="1" have_quorum="true" dc_uuid="u1" crm_feature_set="2.0" generated="true">
  <configuration>
    <crm_config>
      <cluster_property_set id="opts">
        <rule id="opts-rule" score="INFINITY" boolean_op="or">
          <date_expression id="opts-date" operation="date_spec"><date_spec id="opts-spec" hours="9-17" weekdays="1-5"/></date_expression>
        </rule>
        <attributes><nvpair id="o1" name="stonith_enabled" value="false"/><nvpair id="o2" name="symmetric_cluster"/></attributes>
      </cluster_property_set>
    </crm_config>
    <nodes>
      <node id="u1" uname="a" type="normal" description="first"><instance_attributes id="a-ia"><attributes/></instance_attributes></node>
      <node id="u2" uname="b" type="member"/>
    </nodes>
    <resources>
      <group id="g" ordered="yes" collocated="1" restart_type="restart">
        <primitive id="ip" class="ocf" provider="heartbeat" type="IPaddr" multiple_active="block" is_managed="true">
          <operations>
            <op id="ip-mon" name="monitor" interval="10s" timeout="20s" start_delay="5s" disabled="no" prereq="quorum" on_fail="restart" role="Started">
              <instance_attributes id="ip-mon-ia"><attributes><nvpair id="ip-mon-lvl" name="OCF_CHECK_LEVEL" value="10"/></attributes></instance_attributes>
            </op>
          </operations>
          <instance_attributes id="ip-ia"><attributes><nvpair id="ip-ip" name="ip" value="10.0.0.1"/></attributes></instance_attributes>
        </primitive>
        <primitive id="web" class="lsb" type="apache"/>
      </group>
      <clone id="pingd-clone" globally_unique="false" notify="0" interleave="true">
        <primitive id="pingd" class="heartbeat" type="pingd"/>
      </clone>
      <master_slave id="ms" notify="yes" ordered="false">
        <meta_attributes id="ms-ma"><attributes><nvpair id="ms-mm" name="master_max" value="1"/></attributes></meta_attributes>
        <primitive id="drbd" class="ocf" provider="heartbeat" type="drbd"/>
      </master_slave>
      <primitive id="fence" class="stonith" type="external/ipmi"/>
    </resources>
    <constraints>
      <rsc_location id="loc" rsc="g" node="a" score="100"/>
      <rsc_location id="loc-rule" rsc="ms">
        <lifetime id="loc-life"><rule id="loc-life-rule"><date_expression id="loc-until" operation="lt" end="2030-01-01"/></rule></lifetime>
        <rule id="loc-r" role="Master" score="-INFINITY">
          <expression id="loc-e" attribute="pingd" operation="not_defined"/>
          <expression id="loc-e2" attribute="#uname" operation="eq" value="b" type="string"/>
        </rule>
      </rsc_location>
      <rsc_order id="ord" from="g" action="start" type="after" to="ms" to_action="promote" score="INFINITY" symmetrical="true"/>
      <rsc_colocation id="col" from="g" to="ms" to_role="Master" score="INFINITY" node_attribute="#uname"/>
    </constraints>
  </configuration>
  <status>
    <node_state id="u1" uname="a" ha="active" crmd="online" join="member" expected="member" in_ccm="true">
      <transient_attributes id="u1"><instance_attributes id="status-u1"><attributes><nvpair id="s1" name="pingd" value="100"/></attributes></instance_attributes></transient_attributes>
      <lrm id="u1"><lrm_resources><lrm_resource id="web" class="lsb" type="apache">
        <lrm_rsc_op id="web_start_0" operation="start" op_status="0" rc_code="0" call_id="4" crm_feature_set="2.0" interval="0" transition_magic="0:0;1:2:3"/>
      </lrm_resource></lrm_resources></lrm>
    </node_state>
  </status>
</cib>
`;

/** Each breaks one rule of the DTD: [what, from, to] applied to RICH. */
const BROKEN: Array<[string, string | RegExp, string]> = [
  ['cib without epoch', ' epoch="3"', ''],
  ['have_quorum not a truth value', 'have_quorum="true"', 'have_quorum="maybe"'],
  ['unknown attribute on cib', 'generated="true"', 'flavour="x"'],
  ['nodes before crm_config', /(<crm_config>[^]*<\/crm_config>)(\s*)(<nodes>[^]*<\/nodes>)/, '$3$2$1'],
  ['no constraints section', /<constraints>[^]*<\/constraints>/, ''],
  ['no status', /<status>[^]*<\/status>/, ''],
  ['node without type', ' type="member"', ''],
  ['node type remote', 'type="member"', 'type="remote"'],
  ['primitive class systemd', 'class="lsb" type="apache"', 'class="systemd" type="apache"'],
  ['primitive without type', ' type="pingd"', ''],
  ['restart_type not ignore/restart', 'restart_type="restart"', 'restart_type="always"'],
  ['multiple_active unknown', 'multiple_active="block"', 'multiple_active="stop"'],
  ['op without name', ' name="monitor"', ''],
  ['op role Promoted', 'role="Started"', 'role="Promoted"'],
  ['op on_fail standby', 'on_fail="restart"', 'on_fail="standby"'],
  ['op prereq unknown', 'prereq="quorum"', 'prereq="always"'],
  ['nvpair outside <attributes>', '<attributes><nvpair id="ip-ip" name="ip" value="10.0.0.1"/></attributes>', '<nvpair id="ip-ip" name="ip" value="10.0.0.1"/>'],
  ['rule after <attributes>', /(<rule id="opts-rule"[^]*?<\/rule>)(\s*)(<attributes>.*?<\/attributes>)/, '$3$2$1'],
  ['nvpair without name', ' name="symmetric_cluster"', ''],
  ['master_slave in a group', '<primitive id="web" class="lsb" type="apache"/>', '<master_slave id="x"/>'],
  ['group without id', '<group id="g" ', '<group '],
  ['clone globally_unique not a truth value', 'globally_unique="false"', 'globally_unique="nope"'],
  ['rsc_order without to', ' to="ms" to_action', ' to_action'],
  ['rsc_order type first', 'type="after"', 'type="first"'],
  ['rsc_colocation score missing', 'to_role="Master" score="INFINITY"', 'to_role="Master"'],
  ['rsc_location without rsc', 'rsc="g" node="a"', 'node="a"'],
  ['lifetime after rule', /(<lifetime[^]*?<\/lifetime>)(\s*)(<rule id="loc-r"[^]*?<\/rule>)/, '$3$2$1'],
  ['expression operation like', 'operation="not_defined"', 'operation="like"'],
  ['expression type integer', 'type="string"', 'type="integer"'],
  ['expression with a child', '<expression id="loc-e" attribute="pingd" operation="not_defined"/>', '<expression id="loc-e" attribute="pingd" operation="not_defined"><rule id="z"/></expression>'],
  ['boolean_op xor', 'boolean_op="or"', 'boolean_op="xor"'],
  ['date_expression operation between', 'operation="lt" end=', 'operation="between" end='],
  ['date_spec moon on a duration', '<date_spec id="opts-spec" hours="9-17" weekdays="1-5"/>', '<date_spec id="opts-spec"/><duration id="d1" moon="1"/>'],
  ['text inside resources', '<primitive id="fence"', 'oops <primitive id="fence"'],
  ['node_state crmd up', 'crmd="online"', 'crmd="up"'],
  ['lrm_rsc_op without rc_code', ' rc_code="0"', ''],
  ['lrm without lrm_resources', /<lrm_resources>[^]*<\/lrm_resources>/, ''],
];

const docs = new Map<string, string>();

beforeAll(() => {
  requireTools('xmllint');
  buildOcfGen();
  const add = (name: string, xml: string) => {
    const f = tmp.file(`${docs.size}.xml`);
    write(f, xml);
    docs.set(name, f);
  };
  add('rich Heartbeat 2.1 CIB', RICH);
  const gen = ocfGen(['cib', '--schema', 'heartbeat-2', '--set', 'fence_agent=external/ipmi', '--set', 'fence_node1=hostname=node1 ipaddr=10.0.0.11', '--set', 'fence_node2=hostname=node2 ipaddr=10.0.0.12']);
  expect(gen.code, gen.stderr).toBe(0);
  add('ocf-gen cib --schema heartbeat-2 (with fencing)', gen.stdout);
  for (const [what, from, to] of BROKEN) {
    const xml = RICH.replace(from, to);
    if (xml === RICH) throw new Error(`mutation "${what}" changes nothing`);
    add(`broken: ${what}`, xml);
  }
});

describe('ocfkit schema of the Heartbeat 2 CIB (schemas/heartbeat-2-cib.rng)', () => {
  it('accepts a Heartbeat 2.1 CIB using most of the DTD, and what ocf-gen writes', () => {
    for (const name of ['rich Heartbeat 2.1 CIB', 'ocf-gen cib --schema heartbeat-2 (with fencing)']) {
      const v = hb2Verdicts(docs.get(name)!);
      expect(v.ours.code, `${name}\n${v.ours.stderr}`).toBe(0);
    }
  });

  for (const [what] of BROKEN) {
    it(`refuses: ${what}`, () => {
      const v = hb2Verdicts(docs.get(`broken: ${what}`)!);
      expect(v.ours.code, `${what}: our schema accepted it`).not.toBe(0);
    });
  }
});

describe('cross-check with Heartbeat 2.1\'s original crm.dtd', () => {
  it.skipIf(!HAVE_ORIGINAL_DTD)(`agrees with ${HB2_ORIGINAL_DTD} on every document${HAVE_ORIGINAL_DTD ? '' : ' (SKIPPED: the file is missing; CI has it in ../shared/schemas)'}`, () => {
    const disagree: string[] = [];
    for (const [name, file] of docs) {
      const v = hb2Verdicts(file);
      if ((v.ours.code === 0) !== (v.original!.code === 0)) disagree.push(`${name}: ours ${v.ours.code === 0 ? 'valid' : 'invalid'}, crm.dtd ${v.original!.code === 0 ? 'valid' : `invalid (${v.original!.stderr.trim().split('\n')[0]})`}`);
    }
    expect(disagree).toEqual([]);
  });
});
