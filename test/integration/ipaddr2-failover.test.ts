import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgent, type AgentRun } from '../helpers/agent.js';
import { NetTestbed, type Netns } from '../helpers/netns.js';

/**
 * The failover the gratuitous ARP exists for, on a switched LAN built with
 * NetTestbed.lan(): two cluster nodes and a client on one bridge. The
 * address moves from node a to node b (stop on a, start on b, as Pacemaker
 * does it); the client's ARP cache and the capture on the bridge must show
 * b's MAC right after b's start returns.
 */

let bed: NetTestbed;
let sw: Netns;
let a: Netns;
let b: Netns;
let client: Netns;
const rsctmp: Record<string, string> = {};
const vip = '192.0.2.100';
const params = { ip: vip, arp_count: 3, arp_interval: 200, arp_bg: false };

function on(ns: Netns, action: string): AgentRun {
  return runAgent('IPaddr2', action, { netns: ns.name, params, meta: { timeout: 20_000, ...(action === 'monitor' ? { interval: 10_000 } : {}) }, env: { HA_RSCTMP: rsctmp[ns.name]! }, instance: 'vip' });
}
const expectCode = (r: AgentRun, code: number) => expect(r.code, `exit ${r.code}, reason: ${r.reason}\n${r.stderr}`).toBe(code);
const clientNeigh = () => client.ipJson<Array<{ lladdr?: string }>>(['neigh', 'show', vip, 'dev', 'eth0'])[0]?.lladdr;

beforeAll(() => {
  bed = new NetTestbed();
  const lan = bed.lan(['a', 'b', 'client']);
  sw = lan.switch;
  ({ a, b, client } = lan.nodes as { a: Netns; b: Netns; client: Netns });
  a.addAddress('eth0', '192.0.2.1/24');
  b.addAddress('eth0', '192.0.2.2/24');
  client.addAddress('eth0', '192.0.2.3/24');
  // The client learns addresses from gratuitous ARP (arp_accept) and accepts updates at once (locktime 0).
  client.sysctl('net.ipv4.conf.eth0.arp_accept', 1);
  client.sysctl('net.ipv4.neigh.eth0.locktime', 0);
  for (const ns of [a, b]) rsctmp[ns.name] = mkdtempSync(join(tmpdir(), 'ocfkit-failover-'));
});

afterAll(async () => {
  for (const ns of [a, b]) if (ns) on(ns, 'stop');
  await bed?.cleanup();
  for (const dir of Object.values(rsctmp)) rmSync(dir, { recursive: true, force: true });
});

describe('moving the floating IP between two nodes on a switch', () => {
  it('the client and the wire learn the new MAC as soon as the new node has started it', async () => {
    const macA = a.mac('eth0');
    const macB = b.mac('eth0');
    expect(macA).not.toBe(macB);
    const cap = await bed.capture({ ns: sw, ifname: 'br0' }, ['arp']);

    expectCode(on(a, 'start'), 0);
    expect(clientNeigh()).toBe(macA);
    expectCode(on(b, 'monitor'), 7);

    // Failover: stop on a, start on b.
    expectCode(on(a, 'stop'), 0);
    expectCode(on(b, 'start'), 0);
    expect(clientNeigh()).toBe(macB);
    expectCode(on(b, 'monitor'), 0);
    expectCode(on(a, 'monitor'), 7);

    const garps = (await cap.stop()).filter((p) => p.arp?.senderIp === vip && p.arp.targetIp === vip);
    const from = (mac: string) => garps.filter((p) => p.srcMac === mac && p.arp!.senderMac === mac);
    expect(from(macA)).toHaveLength(6); // 3 requests + 3 replies from a
    expect(from(macB)).toHaveLength(6); // then 3 + 3 from b
    expect(garps).toHaveLength(12);
    // b's announcements all came after a's.
    expect(Math.min(...from(macB).map((p) => p.time))).toBeGreaterThan(Math.max(...from(macA).map((p) => p.time)));
  });
});
