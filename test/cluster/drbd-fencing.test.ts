// Tier 1 proof of DRBD's fencing constraint (issue #13.2) on a real two-node Pacemaker 2.1 cluster:
// with the constraint crm-fence-peer.9.sh places (never Promoted but on node2), Pacemaker promotes
// node2 although a location preference asks for node1, and the agent leaves the constraint alone
// (unfence_if_all_uptodate=false); switched to true (a reload), node2's Promoted monitor, with every
// disk UpToDate, removes it, and Pacemaker then promotes node1 as preferred. DRBD is the stand-in
// (test/cluster/lib/drbd-standin.ts); the offline proofs (peer unknown, a constraint forbidding the
// Primary, the 8.4 id) are in test/integration/drbd-fencing.test.ts.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drbdCloneXml, drbdStandinCalls, startDrbdStandinCluster, type DrbdStandinCluster } from './lib/drbd-standin.js';
import { sleep, TestCluster, unavailable, waitFor } from './lib/index.js';

const skip = unavailable();
if (skip) console.warn(`[tier1] SKIPPED: ${skip}`);

const CONSTRAINT = 'drbd-fence-by-handler-r0-ms_r0';

const cibXml = (standinDir: string) => `<configuration>
  <crm_config/>
  <nodes/>
  <resources>
${drbdCloneXml(standinDir, { wfc_timeout: '1', unfence_if_all_uptodate: 'false' })}
  </resources>
  <constraints>
    <rsc_location id="prefer-node1-promoted" rsc="ms_r0">
      <rule id="prefer-node1-promoted-rule" role="Promoted" score="100">
        <expression id="prefer-node1-promoted-expr" attribute="#uname" operation="eq" value="node1"/>
      </rule>
    </rsc_location>
    <rsc_location rsc="ms_r0" id="${CONSTRAINT}">
      <rule role="Master" score="-INFINITY" id="drbd-fence-by-handler-r0-rule-ms_r0">
        <expression attribute="#uname" operation="ne" value="node2" id="drbd-fence-by-handler-r0-expr-1-ms_r0"/>
      </rule>
    </rsc_location>
  </constraints>
</configuration>`;

describe.skipIf(skip)('drbd: the crm-fence-peer constraint on a running cluster', () => {
  let bed: DrbdStandinCluster | undefined;
  let cluster: TestCluster;
  let standinDir: string;

  beforeAll(async () => {
    bed = await startDrbdStandinCluster('drbd-fencing-', cibXml);
    ({ cluster, standinDir } = bed);
  }, 240_000);

  afterAll(() => bed?.teardown());

  const promotedOn = async () => (await cluster.status()).resources.filter((r) => r.id === 'drbd_r0' && r.role === 'Promoted').flatMap((r) => r.nodes);
  const constraintPresent = async () => (await cluster.exec('cibadmin', ['--query', '--xpath', `//rsc_location[@id='${CONSTRAINT}']`], { allowFail: true })).code === 0;

  it('promotes only the node the constraint allows, and keeps it while unfence_if_all_uptodate=false', async () => {
    await waitFor('drbd_r0 promoted', 120_000, async () => ((await promotedOn()).length ? true : undefined), 500);
    await cluster.settle();
    expect(await promotedOn()).toEqual(['node2']); // node1 is preferred, but forbidden
    // Several Promoted monitors (every 5 s) with every disk UpToDate: the constraint stays.
    await sleep(12_000);
    expect(await constraintPresent()).toBe(true);
    expect(await promotedOn()).toEqual(['node2']);
  }, 240_000);

  it('unfence_if_all_uptodate=true: the Primary lifts the stale constraint, and the preferred node is promoted', async () => {
    await cluster.exec('crm_resource', ['--resource', 'drbd_r0', '--set-parameter', 'unfence_if_all_uptodate', '--parameter-value', 'true']);
    await waitFor(`${CONSTRAINT} removed`, 60_000, async () => !(await constraintPresent()), 500);
    await waitFor('drbd_r0 promoted on node1', 60_000, async () => ((await promotedOn()).join() === 'node1' ? true : undefined), 500);
    for (const n of cluster.nodes) expect(drbdStandinCalls(standinDir, n.name).filter((l) => l.startsWith('UNRECORDED')), n.name).toEqual([]);
  }, 180_000);
});
