// Tier 1: the test bed itself. A real three-node Pacemaker+Corosync cluster in namespaces on this
// machine, proven with Debian's ocf:heartbeat:Dummy (so the bed is known good independently of our
// agents): formation, isolation of the nodes, the ocfkit agents installed on the nodes only, hard
// power off with recovery on a survivor, rejoin, graceful stop and start.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENTS } from '../../agents/index.js';
import { readMounts } from '../../src/sys/mountinfo.js';
import { buildOcfkit, type ClusterNode, NODE_NIC, nodeAddress, ROOT, run, TestCluster, unavailable } from './lib/index.js';

const skip = unavailable();
if (skip) console.warn(`[tier1] SKIPPED: ${skip}`);

// Hand-written, as a user's CIB may be: it asks for fencing, which the bed cannot give (loadCib keeps
// stonith-enabled=false and says so), and sets another property that must arrive as written.
const cib = `<cib>
  <configuration>
    <crm_config>
      <cluster_property_set id="options">
        <nvpair id="options-stonith-enabled" name="stonith-enabled" value="true"/>
        <nvpair id="options-batch-limit" name="batch-limit" value="7"/>
      </cluster_property_set>
    </crm_config>
    <resources>
      <primitive id="dummy" class="ocf" provider="heartbeat" type="Dummy">
        <operations>
          <op id="dummy-monitor-5s" name="monitor" interval="5s" timeout="20s"/>
        </operations>
      </primitive>
    </resources>
  </configuration>
</cib>`;

describe.skipIf(skip)('tier 1 cluster bed: three nodes in namespaces', () => {
  let cluster: TestCluster;
  const others = (n: ClusterNode) => cluster.nodes.filter((x) => x !== n);

  beforeAll(async () => {
    await buildOcfkit(); // the agents under test, never a stale build
    cluster = await TestCluster.create({ nodes: 3 });
  }, 180_000);

  afterAll(async () => {
    await cluster?.teardown();
  }, 60_000);

  it('forms a cluster: every node sees all three online, quorum, and the same DC', async () => {
    const dcs = new Set<string | undefined>();
    for (const n of cluster.nodes) {
      const s = await cluster.status(n);
      expect(s.quorum).toBe(true);
      expect(s.nodes.map((x) => [x.name, x.online])).toEqual([
        ['node1', true],
        ['node2', true],
        ['node3', true],
      ]);
      dcs.add(s.dc);
    }
    expect(dcs.size).toBe(1);
    expect(cluster.nodes.map((n) => n.name)).toContain([...dcs][0]);
  });

  it('gives each node its own hostname, PID namespace, state and private network', async () => {
    const pids = new Set<number>();
    for (const n of cluster.nodes) {
      expect((await n.exec('hostname', [])).stdout.trim()).toBe(n.name);
      // Inside, the node's init is PID 1 and only the node's own daemons are visible.
      const ps = (await n.exec('ps', ['-e', '-o', 'pid=,comm='])).stdout;
      expect(ps).toMatch(/^\s*1 node-init\.sh$/m);
      const procs = await n.processes();
      expect(procs.map((p) => p.comm)).toEqual(expect.arrayContaining(['corosync', 'pacemakerd', 'pacemaker-contr', 'pacemaker-execd']));
      for (const p of procs) {
        expect(pids.has(p.pid)).toBe(false);
        pids.add(p.pid);
      }
      // Its Pacemaker state is its own directory, not the host's /var/lib/pacemaker.
      const lib = n.mounts().findLast((m) => m.mountPoint === '/var/lib/pacemaker');
      expect(lib?.root).toBe(join(n.dir, 'lib-pacemaker'));
      expect(existsSync(join(n.dir, 'lib-pacemaker', 'cib', 'cib.xml'))).toBe(true);
      // One NIC on the bed's subnet, no default route: nothing leaves the bridge.
      expect((await n.addresses()).map((a) => a.local)).toEqual([n.address]);
      expect((await run('ip', ['-n', n.ns, '-j', 'route', 'show', 'default'])).stdout.trim()).toMatch(/^(\[\])?$/);
    }
    // The bridge has exactly the nodes' cables on it.
    expect((await cluster.switch.ports()).sort()).toEqual(['sw-node1', 'sw-node2', 'sw-node3']);
    // Host mounts are untouched: nothing of the nodes' appears in the host's mount table.
    const host = readMounts('self');
    expect(host.some((m) => m.mountPoint === '/var/lib/pacemaker' || m.mountPoint === '/usr/lib/ocf' || m.root.startsWith(cluster.dir))).toBe(false);
  });

  it('installs the built ocfkit agents where the nodes find them (ocf:ocfkit:*), on the nodes only', async () => {
    const n = cluster.nodes[0]!;
    const listed = (await n.exec('crm_resource', ['--list-agents', 'ocf:ocfkit'])).stdout.trim().split('\n').sort();
    expect(listed).toEqual(Object.keys(AGENTS).sort());
    for (const agent of Object.keys(AGENTS)) {
      const md = (await n.exec('crm_resource', ['--show-metadata', `ocf:ocfkit:${agent}`])).stdout;
      expect(md.trim()).toBe(readFileSync(join(ROOT, 'build', 'metadata', `${agent}.xml`), 'utf8').trim());
    }
    // The node's /usr/lib/ocf is an overlay of the run's install tree on the host's.
    const ocf = n.mounts().findLast((m) => m.mountPoint === '/usr/lib/ocf');
    expect(ocf?.fstype).toBe('overlay');
    expect(ocf?.superOptions.join(',')).toContain(`lowerdir=${join(cluster.dir, 'ocf')}:/usr/lib/ocf`);
    // …and the links resolve, inside the node, to the installed executable.
    expect((await n.exec('readlink', ['-f', '/usr/lib/ocf/resource.d/ocfkit/IPaddr2'])).stdout.trim()).toBe('/usr/lib/ocf/lib/ocfkit/ocfkit-agents');
    expect((await n.exec('cmp', ['/usr/lib/ocf/lib/ocfkit/ocfkit-agents', join(ROOT, 'build', 'ocfkit-agents')], { timeoutMs: 30_000 })).code).toBe(0);
  });

  it('loads a CIB and recovers its resource on a survivor after a hard power off', async () => {
    const loaded = await cluster.loadCib(cib);
    expect(loaded.overridden).toEqual({ 'stonith-enabled': { wanted: 'true', bed: 'false' } });
    const property = async (name: string) => (await cluster.exec('crm_attribute', ['-t', 'crm_config', '-n', name, '-G', '-q'])).stdout.trim();
    expect(await property('stonith-enabled')).toBe('false');
    expect(await property('batch-limit')).toBe('7');
    const first = await cluster.waitPlaced(['dummy']);
    // The resource's state file lives in the node's own /run (HA_RSCTMP), nowhere else.
    expect(existsSync(`/proc/${first.pid}/root/run/resource-agents/Dummy-dummy.state`)).toBe(true);
    for (const o of others(first)) expect(existsSync(`/proc/${o.pid}/root/run/resource-agents/Dummy-dummy.state`)).toBe(false);

    const killed = await cluster.powerOff(first);
    const survivor = await cluster.waitPlaced(['dummy']);
    cluster.record('failover (Dummy, 3 nodes: kill → started on a survivor)', Date.now() - killed);
    expect(survivor).not.toBe(first);
    const s = await cluster.status(survivor);
    expect(s.nodes.find((x) => x.name === first.name)?.online).toBe(false);
    // Powered off: no process left, no address left on its NIC, NIC down.
    expect(first.isOn).toBe(false);
    expect(await first.addresses()).toEqual([]);
    const link = JSON.parse((await run('ip', ['-n', first.ns, '-j', 'link', 'show', NODE_NIC])).stdout) as { operstate: string }[];
    expect(link[0]?.operstate).toBe('DOWN');
  });

  it('a powered-off node rejoins', async () => {
    const off = cluster.nodes.find((n) => !n.isOn)!;
    await cluster.powerOn(off);
    expect((await off.addresses()).map((a) => a.local)).toEqual([nodeAddress(off.nodeid)]);
    const s = await cluster.status(off);
    expect(s.nodes.every((x) => x.online)).toBe(true);
  });

  it('a graceful stop moves the resource away cleanly, and the node starts again', async () => {
    const holder = await cluster.waitPlaced(['dummy']);
    await cluster.stop(holder);
    const survivor = await cluster.waitPlaced(['dummy']);
    expect(survivor).not.toBe(holder);
    const seen = (await cluster.status(survivor)).nodes.find((x) => x.name === holder.name);
    // A clean leave: offline but not unclean (no fencing would be needed).
    expect(seen).toMatchObject({ online: false, unclean: false });
    // Still powered on, cluster stack gone.
    expect(holder.isOn).toBe(true);
    expect((await holder.processes()).map((p) => p.comm).filter((c) => c !== 'node-init.sh' && c !== 'sleep')).toEqual([]);
    await cluster.start(holder);
    expect((await cluster.status(holder)).nodes.every((x) => x.online)).toBe(true);
  });

  it('reports a resource that cannot start with its exit reason instead of waiting silently', async () => {
    await cluster.loadCib(`<configuration>
      <resources>
        <primitive id="broken" class="ocf" provider="heartbeat" type="Filesystem">
          <instance_attributes id="broken-params">
            <nvpair id="broken-device" name="device" value="/dev/ocfkit-no-such-device"/>
            <nvpair id="broken-directory" name="directory" value="${cluster.dir}/nowhere"/>
            <nvpair id="broken-fstype" name="fstype" value="ext4"/>
          </instance_attributes>
        </primitive>
      </resources>
    </configuration>`);
    await expect(cluster.waitPlaced(['broken'], 30_000)).rejects.toThrow(/^waiting for broken to be started: failed operations: broken_start_0 on node\d: rc=5 Couldn.*\/dev\/ocfkit-no-such-device/);
    // The CIB replaced the previous configuration: the Dummy is gone.
    expect((await cluster.resources()).map((r) => r.id)).toEqual(['broken']);
  });
});
