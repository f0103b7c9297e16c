// Tier 1 proofs: the floating-IP + filesystem half of HA-NFS on a real two-node Pacemaker+Corosync
// cluster (namespaces on this machine), configured by a CIB from `ocf-gen cib --spec`. A group
// [Filesystem on a loop device shared by the nodes, IPaddr2] fails over when its node loses power and
// moves with crm_resource --move/--clear; the gratuitous ARP of the floating IP is captured on the bridge.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMounts } from '../../src/sys/mountinfo.js';
import {
  type ArpCapture, BRIDGE, buildOcfkit, type ClusterNode, FLOATING_IP, isGratuitous, type LoopDisk, NODE_NIC, ocfGenCib, type Provider, run, SUBNET_PREFIX, TestCluster, unavailable, waitFor,
} from './lib/index.js';

const skip = unavailable();
if (skip) console.warn(`[tier1] SKIPPED: ${skip}`);

// The agents under test: ours. 'heartbeat' runs the same proofs against Debian's resource-agents,
// the reference the ocfkit agents are compatible with (when a proof fails for ocfkit only, the agent
// is at fault, not the bed).
const PROVIDERS: Provider[] = ['ocfkit', 'heartbeat'];

/**
 * The cluster spec, written as a user writes one for `ocf-gen cib --spec` (the CIB generator under
 * test too): a group [Filesystem, IPaddr2], stickiness so nothing fails back.
 */
const groupSpec = (provider: Provider, disk: LoopDisk, directory: string) => ({
  nodes: ['node1', 'node2'],
  'resource-defaults': { 'resource-stickiness': 100 },
  resources: {
    fs: {
      agent: `ocf:${provider}:Filesystem`,
      params: { device: disk.device, directory, fstype: disk.fstype },
      ops: [{ name: 'monitor', interval: '10s', timeout: '40s' }],
    },
    vip: {
      agent: `ocf:${provider}:IPaddr2`,
      params: { ip: FLOATING_IP, cidr_netmask: SUBNET_PREFIX, nic: NODE_NIC },
      ops: [{ name: 'monitor', interval: '10s', timeout: '20s' }],
    },
  },
  groups: { ha: ['fs', 'vip'] },
});

describe.skipIf(skip).each(PROVIDERS)('tier 1 proofs with ocf:%s:{Filesystem,IPaddr2}', (provider) => {
  let cluster: TestCluster;
  let disk: LoopDisk;
  let directory: string;
  const GROUP = ['fs', 'vip'];
  const other = (n: ClusterNode) => cluster.nodes.find((x) => x !== n)!;

  /** The shared disk is mounted at `directory` on `n` (in its mount namespace) and on no other node nor the host. */
  const assertMountedOnlyOn = (n: ClusterNode) => {
    const here = n.mounts().findLast((m) => m.mountPoint === directory);
    expect(here?.source).toBe(disk.device);
    expect(here?.fstype).toBe(disk.fstype);
    for (const o of cluster.members.filter((x) => x !== n)) expect(o.mounts().some((m) => m.mountPoint === directory)).toBe(false);
    expect(readMounts('self').some((m) => m.mountPoint === directory)).toBe(false);
  };

  /** The floating IP is on `n`'s NIC and on no other node's. */
  const assertIpOnlyOn = async (n: ClusterNode) => {
    expect((await n.addresses()).map((a) => `${a.local}/${a.prefixlen}`)).toContain(`${FLOATING_IP}/${SUBNET_PREFIX}`);
    for (const o of cluster.nodes.filter((x) => x !== n)) expect((await o.addresses()).map((a) => a.local)).not.toContain(FLOATING_IP);
  };

  /**
   * Waits for a gratuitous ARP for the floating IP from `n`'s MAC, sent at or after `since`; any
   * other MAC announcing it at or after `othersSilentFrom` fails the test. A killed node's
   * namespace dies asynchronously, so its last announcements may trail the kill by milliseconds:
   * for a power-off, others must be silent from the moment its NIC is down and its processes gone.
   */
  const waitGratuitousArp = async (cap: ArpCapture, n: ClusterNode, since: number, othersSilentFrom = since) => {
    const mac = await n.mac();
    return waitFor(`a gratuitous ARP for ${FLOATING_IP} from ${n.name} (${mac})`, 15_000, () => {
      const seen = cap.packets().filter((p) => isGratuitous(p, FLOATING_IP) && p.time >= since - 5);
      const foreign = seen.filter((p) => p.time >= othersSilentFrom - 5 && (p.srcMac !== mac || (p.isAt !== undefined && p.isAt !== mac)));
      if (foreign.length > 0) throw new Error(`announced by another MAC: ${JSON.stringify(foreign)} (all since ${since}: ${JSON.stringify(seen)})`);
      return seen.find((p) => p.srcMac === mac);
    });
  };

  /** A client on the bridge (the switch namespace) resolves the floating IP to `n`'s MAC. */
  const assertClientResolves = async (n: ClusterNode) => {
    const r = await run('ip', ['netns', 'exec', cluster.switch.ns, 'arping', '-c', '1', '-w', '3', '-I', BRIDGE, FLOATING_IP]);
    expect(r.stdout.toLowerCase()).toContain(`reply from ${FLOATING_IP} [${await n.mac()}]`);
  };

  const PROOF = 'proof.txt';
  /** A file in the shared filesystem as node `n` sees it (through its mount namespace). */
  const onDisk = (n: ClusterNode, file: string) => `/proc/${n.pid}/root${directory}/${file}`;

  beforeAll(async () => {
    await buildOcfkit(); // the agents and ocf-gen under test, never a stale build
    cluster = await TestCluster.create({ nodes: 2 });
    disk = await cluster.sharedDisk({ sizeMiB: 64, fstype: 'ext4' });
    directory = join(cluster.dir, 'mnt');
    await run('mkdir', ['-p', directory]);
  }, 180_000);

  afterAll(async () => {
    await cluster?.teardown();
  }, 60_000);

  let token: string;

  it('starts the group on one node: filesystem mounted and IP up there only', async () => {
    const loaded = await cluster.loadCib(await ocfGenCib(groupSpec(provider, disk, directory)));
    expect(loaded.overridden).toEqual({});
    const active = await cluster.waitPlaced(GROUP);
    const s = await cluster.status(active);
    expect(s.resources.filter((r) => r.group === 'ha').map((r) => r.agent)).toEqual([`ocf:${provider}:Filesystem`, `ocf:${provider}:IPaddr2`]);
    assertMountedOnlyOn(active);
    await assertIpOnlyOn(active);
    token = `written on ${active.name} at ${Date.now()}\n`;
    writeFileSync(onDisk(active, PROOF), token);
  });

  it('fails over to the survivor when the active node loses power: data, IP, gratuitous ARP', async () => {
    const active = await cluster.waitPlaced(GROUP);
    const survivor = other(active);
    const cap = await cluster.captureArp();
    const killed = await cluster.powerOff(active);
    const gone = Date.now(); // its NIC is down and its PID namespace dead: it can send nothing more
    await cluster.waitStarted(GROUP, survivor);
    cluster.record(`failover (${provider}: kill → fs+vip started on the survivor)`, Date.now() - killed);
    assertMountedOnlyOn(survivor);
    expect(readFileSync(onDisk(survivor, PROOF), 'utf8')).toBe(token);
    await assertIpOnlyOn(survivor);
    const garp = await waitGratuitousArp(cap, survivor, killed, gone);
    cluster.record(`failover (${provider}: kill → first gratuitous ARP from the survivor)`, garp.time - killed);
    await assertClientResolves(survivor);
    await cap.stop();
  });

  it('the powered-off node rejoins; the group stays where it is (stickiness)', async () => {
    const off = cluster.nodes.find((n) => !n.isOn)!;
    const holder = other(off);
    await cluster.powerOn(off);
    await cluster.waitStarted(GROUP, holder);
    assertMountedOnlyOn(holder);
    await assertIpOnlyOn(holder);
  });

  it('crm_resource --move moves the group with its data and IP; --clear removes the constraint', async () => {
    const from = await cluster.waitPlaced(GROUP);
    const to = other(from);
    const cap = await cluster.captureArp();
    const t0 = Date.now();
    await cluster.move('ha', to);
    await cluster.waitStarted(GROUP, to);
    cluster.record(`move (${provider}: crm_resource --move → fs+vip started on the other node)`, Date.now() - t0);
    assertMountedOnlyOn(to);
    expect(readFileSync(onDisk(to, PROOF), 'utf8')).toBe(token);
    await assertIpOnlyOn(to);
    await waitGratuitousArp(cap, to, t0);
    await assertClientResolves(to);
    await cap.stop();

    const constraints = async () => (await cluster.exec('cibadmin', ['--query', '--scope', 'constraints'])).stdout;
    expect(await constraints()).toMatch(/id="cli-prefer-ha"/);
    await cluster.clear('ha');
    expect(await constraints()).not.toMatch(/cli-(prefer|ban)-ha/);
    // Cleared, not moved back: stickiness keeps the group where it runs.
    await cluster.settle();
    await cluster.waitStarted(GROUP, to, 1000);
    expect(existsSync(onDisk(from, PROOF))).toBe(false);
  });
});
