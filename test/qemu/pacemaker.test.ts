// Two QEMU guests form a real Pacemaker 2.1 / Corosync 3 (knet) cluster: both nodes online in
// crm_mon, a resource starts, moves, and fails over when its node is powered off hard.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { onlineNodes, rejoinCluster, resourceNodes, startCluster } from './lib/cluster.js';
import { qemuAvailability, startGuests, until, type Bed, type Guest } from './lib/index.js';

const avail = qemuAvailability();
if (!avail.ok) console.warn(`QEMU tier skipped: ${avail.reason}`);

describe.skipIf(!avail.ok)('Pacemaker cluster of two QEMU guests', () => {
  let bed: Bed;
  let n1: Guest;
  let n2: Guest;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    const t0 = Date.now();
    bed = await startGuests({ names: ['n1', 'n2'], dataDiskMiB: 0, memoryMiB: 768, agents: false, log: (l) => console.log(l) });
    timings.boot = Date.now() - t0;
    n1 = bed.guest('n1');
    n2 = bed.guest('n2');
  }, 20 * 60_000);

  afterAll(async () => {
    console.log(`pacemaker timings (ms): ${JSON.stringify(timings)}`);
    await bed?.teardown();
  }, 120_000);

  test('corosync (knet) and pacemakerd form a cluster: crm_mon shows both nodes online', async () => {
    const t0 = Date.now();
    await startCluster([n1, n2], { tokenMs: 3000 });
    timings.form = Date.now() - t0;
    for (const g of [n1, n2]) expect((await onlineNodes(g)).sort()).toEqual(['n1', 'n2']);
    const q = await n1.run(['corosync-quorumtool', '-s']);
    expect(q).toMatch(/Quorate:\s+Yes/);
    expect(q).toMatch(/Total votes:\s+2/);
    expect(await n1.run(['corosync-cfgtool', '-s'])).toMatch(/transport knet/);
    const mon = await n2.run(['crm_mon', '-1'], { timeoutMs: 60_000 });
    console.log(mon);
    expect(mon).toMatch(/Current DC: n[12]/);
    expect(mon).toMatch(/Online: \[ n1 n2 \]/);
  }, 400_000);

  test('a resource starts, moves with crm_resource --move, and stays after --clear', async () => {
    const t0 = Date.now();
    await n1.run([
      'cibadmin', '-C', '-o', 'resources', '--xml-text',
      '<primitive id="d1" class="ocf" provider="heartbeat" type="Dummy"><operations><op id="d1-monitor-10s" name="monitor" interval="10s" timeout="30s"/></operations></primitive>',
    ]);
    const first = await until(async () => {
      const on = await resourceNodes(n1, 'd1');
      return on.length === 1 ? on[0] : undefined;
    }, { timeoutMs: 120_000, intervalMs: 2000, what: 'd1 started on one node' });
    timings.start = Date.now() - t0;
    const other = first === 'n1' ? 'n2' : 'n1';
    const t1 = Date.now();
    await n1.run(['crm_resource', '--move', '-r', 'd1', '-N', other], { timeoutMs: 60_000 });
    await until(async () => (await resourceNodes(n1, 'd1')).join() === other, { timeoutMs: 120_000, intervalMs: 2000, what: `d1 moved to ${other}` });
    timings.move = Date.now() - t1;
    // The Dummy agent's state file proves it really runs there.
    expect((await bed.guest(other).exec(['ls', '/run/resource-agents/Dummy-d1.state'])).code).toBe(0);
    await n1.run(['crm_resource', '--clear', '-r', 'd1'], { timeoutMs: 60_000 });
    expect(await n1.run(['cibadmin', '-Q', '-o', 'constraints'])).not.toMatch(/cli-prefer-d1/);
  }, 400_000);

  test('hard power-off of the node running it: the survivor takes the resource over; the node rejoins after power-on', async () => {
    const [victimName] = await resourceNodes(n1, 'd1');
    expect(victimName).toBeDefined();
    const victim = bed.guest(victimName!);
    const survivor = victimName === 'n1' ? n2 : n1;
    const t0 = Date.now();
    await victim.powerOff();
    await until(async () => (await onlineNodes(survivor)).join() === survivor.name, { timeoutMs: 120_000, intervalMs: 2000, what: `${survivor.name} sees ${victim.name} offline` });
    await until(async () => (await resourceNodes(survivor, 'd1')).join() === survivor.name, { timeoutMs: 180_000, intervalMs: 2000, what: `d1 recovered on ${survivor.name}` });
    timings.failover = Date.now() - t0;
    // Power back on: the node rejoins with the configuration it kept; the resource stays put.
    const t1 = Date.now();
    await victim.start();
    await rejoinCluster(victim, [n1, n2]);
    timings.rejoin = Date.now() - t1;
    expect((await onlineNodes(victim)).sort()).toEqual(['n1', 'n2']);
    expect(await resourceNodes(victim, 'd1')).toEqual([survivor.name]);
  }, 600_000);
});
