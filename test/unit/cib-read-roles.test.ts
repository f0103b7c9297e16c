// The reader's constraint check (checkReferences) does what its comment says:
// roles and promote/demote only on promotable clones, in every dialect's
// spelling, as the spec path (build.ts) refuses them.
import { describe, expect, it } from 'vitest';
import { CibError } from '../../src/cib/errors.js';
import { readCibXml } from '../../src/cib/read-xml.js';

function issues(xml: string): string[] {
  try {
    readCibXml(xml, 'f.xml');
  } catch (e) {
    if (e instanceof CibError) return e.issues.map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  return [];
}

const RESOURCES = `<primitive id="a" class="ocf" provider="heartbeat" type="Dummy"/><primitive id="b" class="ocf" provider="heartbeat" type="Dummy"/>
  <clone id="ms"><meta_attributes id="ms-meta"><nvpair id="ms-p" name="promotable" value="true"/></meta_attributes><primitive id="d" class="ocf" provider="heartbeat" type="Stateful"/></clone>`;
const pacemaker = (constraints: string) =>
  `<cib validate-with="pacemaker-3.7" admin_epoch="0" epoch="1"><configuration><crm_config/><nodes/><resources>${RESOURCES}</resources><constraints>${constraints}</constraints></configuration><status/></cib>`;

describe('roles and promote/demote in a CIB read for convert', () => {
  it('are refused on a resource that is not a promotable clone', () => {
    expect(
      issues(
        pacemaker(`<rsc_colocation id="c" rsc="a" with-rsc="b" score="INFINITY" with-rsc-role="Promoted"/>
          <rsc_order id="o" first="b" first-action="promote" then="a"/>
          <rsc_location id="l" rsc="a" role="Unpromoted" node="n1" score="100"/>`),
      ),
    ).toEqual([
      `f.xml: <rsc_colocation id="c">: with-rsc-role Promoted needs a promotable clone, and 'b' is not one`,
      `f.xml: <rsc_order id="o">: first-action promote needs a promotable clone, and 'b' is not one`,
      `f.xml: <rsc_location id="l">: role Unpromoted needs a promotable clone, and 'a' is not one`,
    ]);
  });

  it('are read on a promotable clone, also in Heartbeat 2 spelling (master_slave, Master, action=promote)', () => {
    expect(
      issues(
        pacemaker(`<rsc_colocation id="c" rsc="a" with-rsc="ms" score="INFINITY" with-rsc-role="Promoted"/>
          <rsc_order id="o" first="ms" first-action="promote" then="a"/>`),
      ),
    ).toEqual([]);
    const hb2 = `<cib admin_epoch="0" epoch="1"><configuration><crm_config/><nodes/><resources>
      <primitive id="a" class="ocf" provider="heartbeat" type="Dummy"/>
      <master_slave id="ms"><primitive id="d" class="ocf" provider="heartbeat" type="Stateful"/></master_slave></resources>
      <constraints><rsc_colocation id="c" from="a" to="ms" to_role="Master" score="INFINITY"/><rsc_order id="o" from="a" to="ms" action="start" to_action="promote" type="after"/>
      <rsc_colocation id="bad" from="ms" to="a" to_role="Master" score="INFINITY"/></constraints></configuration><status/></cib>`;
    expect(issues(hb2)).toEqual([`f.xml: <rsc_colocation id="bad">: with-rsc-role Promoted needs a promotable clone, and 'a' is not one`]);
  });
});
