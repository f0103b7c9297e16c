import { describe, expect, it } from 'vitest';
import { fenceConstraintIds, keepReason, parseFenceConstraints } from '../../src/sys/drbd/fence-constraint.js';

// As `cibadmin --query --xpath` prints what crm-fence-peer.9.sh placed (several matches are wrapped).
const QUERY = `<xpath-query>
  <rsc_location rsc="ms_r0" id="drbd-fence-by-handler-r0-ms_r0">
    <rule role="Master" score="-INFINITY" id="drbd-fence-by-handler-r0-rule-ms_r0">
      <expression attribute="#uname" operation="ne" value="node1" id="drbd-fence-by-handler-r0-expr-0-ms_r0"/>
      <expression attribute="#uname" operation="ne" value="node3" id="drbd-fence-by-handler-r0-expr-2-ms_r0"/>
    </rule>
  </rsc_location>
  <rsc_location rsc="ms_r1" id="drbd-fence-by-handler-r1-ms_r1">
    <rule role="Master" score="-INFINITY" id="drbd-fence-by-handler-r1-rule-ms_r1">
      <expression attribute="site" operation="ne" value="a&amp;b" id="drbd-fence-by-handler-r1-expr-0-ms_r1"/>
    </rule>
  </rsc_location>
</xpath-query>`;

describe('drbd fencing constraints (crm-fence-peer)', () => {
  const [r0, r1] = parseFenceConstraints(QUERY);

  it('parses id, clone, role, score and the nodes allowed', () => {
    expect(r0).toEqual({ id: 'drbd-fence-by-handler-r0-ms_r0', rsc: 'ms_r0', role: 'Master', score: '-INFINITY', allowed: ['node1', 'node3'], otherAttributes: false });
    expect(r1).toMatchObject({ rsc: 'ms_r1', allowed: [], otherAttributes: true });
  });

  it('the ids of the 9 and the 8.4 handlers', () => {
    expect(fenceConstraintIds('r0', 'ms_r0')).toEqual(['drbd-fence-by-handler-r0-ms_r0', 'drbd-fence-by-handler-ms_r0']);
  });

  it('may be lifted only by a node it allows, and never when it names nodes by another attribute', () => {
    expect(keepReason(r0!, 'node1')).toBeUndefined();
    expect(keepReason(r0!, 'NODE3')).toBeUndefined();
    expect(keepReason(r0!, 'node2')).toMatch(/does not allow node2/);
    expect(keepReason(r1!, 'node1')).toMatch(/node attribute/);
  });
});
