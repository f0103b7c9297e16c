import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { announcerPidFile } from '../../src/sys/net/announce.js';
import { ROOT, runAgent, type AgentRun } from '../helpers/agent.js';
import { ICMP6_NEIGHBOR_ADVERT, ICMP6_NEIGHBOR_SOLICIT, NetTestbed, type Capture, type Netns, type Packet } from '../helpers/netns.js';
import { sh } from '../helpers/system.js';

/**
 * ocf:ocfkit:IPaddr2, the built executable run as Pacemaker runs it (env -i,
 * OCF variables), inside namespaces this file creates:
 *
 *   node ns: eth0 192.0.2.1/24 2001:db8:1::1/64 ── veth ── peer ns: eth0 192.0.2.2/24 2001:db8:1::2/64
 *            eth1 198.51.100.1/24               ── veth ──           eth1 (link-state tests)
 *
 * Announcements are captured with tcpdump on the PEER side and decoded from
 * the pcap file: what the neighbours really received.
 */

type Params = Record<string, string | number | boolean>;

let bed: NetTestbed;
let node: Netns;
let peer: Netns;
let nodeMac: string;
let rsctmp: string;
const started = new Map<string, Params>();

function agent(action: string, params: Params, opts: { meta?: Params; interval?: number } = {}): AgentRun {
  const meta: Params = { timeout: 20_000, ...(action === 'monitor' ? { interval: opts.interval ?? 10_000 } : {}), ...opts.meta };
  const r = runAgent('IPaddr2', action, { netns: node.name, params, meta, env: { HA_RSCTMP: rsctmp }, instance: 'vip' });
  if (action === 'start' && r.code === 0) started.set(String(params.ip), params);
  if (action === 'stop' && r.code === 0) started.delete(String(params.ip));
  return r;
}

const expectCode = (r: AgentRun, code: number) => expect(r.code, `exit ${r.code}, reason: ${r.reason}\n${r.stderr}`).toBe(code);

interface AddrInfo {
  family: string;
  local: string;
  prefixlen: number;
  broadcast?: string;
  label?: string;
  tentative?: boolean;
  dadfailed?: boolean;
}
function addressesOf(ns: Netns, dev: string): AddrInfo[] {
  const links = ns.ipJson<Array<{ addr_info: AddrInfo[] }>>(['addr', 'show', 'dev', dev]);
  return links.flatMap((l) => l.addr_info).filter((a) => a.local);
}
const find = (ns: Netns, dev: string, ip: string) => addressesOf(ns, dev).filter((a) => a.local === ip);

const garps = (pkts: Packet[], ip: string) => pkts.filter((p) => p.arp && p.arp.senderIp === ip && p.arp.targetIp === ip);
const requests = (pkts: Packet[], ip: string) => garps(pkts, ip).filter((p) => p.arp!.op === 'request');
const replies = (pkts: Packet[], ip: string) => garps(pkts, ip).filter((p) => p.arp!.op === 'reply');
const unsolicitedNAs = (pkts: Packet[], ip: string) => pkts.filter((p) => p.icmp6?.type === ICMP6_NEIGHBOR_ADVERT && p.icmp6.target === ip && !p.icmp6.solicited);

/** Gaps between consecutive packets, from the capture's timestamps (ms). */
const gapsMs = (pkts: Packet[]) => pkts.slice(1).map((p, i) => (p.time - pkts[i]!.time) * 1000);

/** Spacing: every gap at least half the interval (paced, not a burst). */
function expectSpacing(pkts: Packet[], intervalMs: number): void {
  const gaps = gapsMs(pkts);
  expect(gaps.length).toBeGreaterThan(0);
  // Paced, not a burst: every gap at least half the interval. No upper bound: how late a sleeping
  // process is woken is the machine's load, not the agent's behaviour (measured: 303 ms gaps for
  // a 300 ms interval under load, seconds on a starved machine).
  for (const g of gaps) expect(g).toBeGreaterThan(intervalMs * 0.5);
}

/** Every announcement came from the node's eth0: Ethernet source and ARP sender are its MAC, sent to everyone. */
function expectFromNode(pkts: Packet[]): void {
  for (const p of pkts) {
    expect(p.srcMac).toBe(nodeMac);
    expect(p.dstMac).toBe('ff:ff:ff:ff:ff:ff');
    expect(p.arp!.senderMac).toBe(nodeMac);
  }
}

/** /proc/<pid>/stat state, undefined when the process is gone (zombies count as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function announcerPids(ip: string): number[] {
  const file = announcerPidFile(rsctmp, ip);
  if (!existsSync(file)) return [];
  return (JSON.parse(readFileSync(file, 'utf8')) as { processes: Array<{ pid: number }> }).processes.map((p) => p.pid);
}

async function waitUntil(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function captureArp(): Promise<Capture> {
  return bed.capture({ ns: peer, ifname: 'eth0' }, ['arp']);
}

beforeAll(async () => {
  bed = new NetTestbed();
  rsctmp = mkdtempSync(join(tmpdir(), 'ocfkit-ipaddr2-rsctmp-'));
  node = bed.namespace('ipn');
  peer = bed.namespace('ipp');
  bed.veth({ ns: node, ifname: 'eth0' }, { ns: peer, ifname: 'eth0' });
  bed.veth({ ns: node, ifname: 'eth1' }, { ns: peer, ifname: 'eth1' });
  node.addAddress('eth0', '192.0.2.1/24');
  node.addAddress('eth0', '2001:db8:1::1/64', { nodad: true });
  node.addAddress('eth1', '198.51.100.1/24');
  peer.addAddress('eth0', '192.0.2.2/24');
  peer.addAddress('eth0', '2001:db8:1::2/64', { nodad: true });
  nodeMac = node.mac('eth0');
});

afterAll(async () => {
  // Stop what is still started (ends background announcers by the agent's own rules), then remove the test bed.
  for (const params of started.values()) {
    try {
      agent('stop', params);
    } catch {
      // the namespace may be gone already
    }
  }
  await bed?.cleanup();
  if (rsctmp) rmSync(rsctmp, { recursive: true, force: true });
});

describe('IPv4: start, announce, monitor, stop', () => {
  const ip = '192.0.2.10';
  const params = { ip, nic: 'eth0', cidr_netmask: 24, arp_count: 4, arp_interval: 300, arp_bg: false };

  it('start adds the address and announces it: arp_count ARP requests and replies from the node MAC, arp_interval apart; the peer learns the MAC', async () => {
    // The peer still believes the address lives at another MAC (the node that had it before a failover).
    peer.sysctl('net.ipv4.neigh.eth0.locktime', 0);
    peer.ip(['neigh', 'replace', ip, 'lladdr', '02:00:00:00:00:99', 'dev', 'eth0', 'nud', 'stale']);
    expectCode(agent('monitor', params, { interval: 0 }), 7);

    const cap = await captureArp();
    expectCode(agent('start', params), 0);
    const pkts = await cap.stop();

    expect(find(node, 'eth0', ip)).toEqual([expect.objectContaining({ prefixlen: 24, broadcast: '192.0.2.255' })]);
    const req = requests(pkts, ip);
    const rep = replies(pkts, ip);
    expect(req, cap.text()).toHaveLength(4);
    expect(rep, cap.text()).toHaveLength(4);
    expectFromNode([...req, ...rep]);
    expect(rep.every((p) => p.arp!.senderMac === nodeMac)).toBe(true);
    expectSpacing(req, 300);
    expectSpacing(rep, 300);

    const neigh = peer.ipJson<Array<{ lladdr?: string }>>(['neigh', 'show', ip, 'dev', 'eth0']);
    expect(neigh[0]?.lladdr).toBe(nodeMac);
  });

  it('monitor and probe say running (0)', () => {
    expectCode(agent('monitor', params), 0);
    expectCode(agent('monitor', params, { interval: 0 }), 0);
    expectCode(agent('validate-all', params), 0);
  });

  it('a second start succeeds, announces again and leaves one address', async () => {
    const cap = await captureArp();
    const r = agent('start', params);
    expectCode(r, 0);
    expect(r.stderr).toMatch(/already up/);
    const pkts = await cap.stop();
    expect(requests(pkts, ip)).toHaveLength(4);
    expect(replies(pkts, ip)).toHaveLength(4);
    expect(find(node, 'eth0', ip)).toHaveLength(1);
  });

  it('stop removes the address; monitor and probe then say not running (7); a second stop succeeds', () => {
    expectCode(agent('stop', params), 0);
    expect(find(node, 'eth0', ip)).toHaveLength(0);
    expect(find(node, 'eth0', '192.0.2.1')).toHaveLength(1); // the static address is untouched
    const m = agent('monitor', params);
    expectCode(m, 7);
    expect(m.reason).toMatch(/192\.0\.2\.10\/24 on eth0 is not configured/);
    expectCode(agent('monitor', params, { interval: 0 }), 7);
    expectCode(agent('stop', params), 0);
  });
});

describe('IPv4 defaults (as ocf:heartbeat:IPaddr2)', () => {
  it('finds nic and prefix from the routes, computes the broadcast, sends 5 rounds 200 ms apart in the background', async () => {
    const ip = '192.0.2.11';
    const cap = await captureArp();
    expectCode(agent('start', { ip }), 0);
    expect(find(node, 'eth0', ip)).toEqual([expect.objectContaining({ prefixlen: 24, broadcast: '192.0.2.255', label: 'eth0' })]);
    const pids = announcerPids(ip);
    expect(pids.length).toBe(1);
    await waitUntil('background announcer finishes', () => pids.every((p) => !alive(p)), 15_000);
    const pkts = await cap.stop();
    expect(requests(pkts, ip), cap.text()).toHaveLength(5);
    expect(replies(pkts, ip), cap.text()).toHaveLength(5);
    expectFromNode(garps(pkts, ip));
    expectSpacing(requests(pkts, ip), 200);
    expectCode(agent('monitor', { ip }), 0);
    expectCode(agent('stop', { ip }), 0);
    expect(find(node, 'eth0', ip)).toHaveLength(0);
  });

  it('takes "+", "-", a given broadcast and a dotted quad netmask; /32 has no broadcast', () => {
    const cases: Array<[Params, AddrInfo['broadcast'], number]> = [
      [{ ip: '192.0.2.12', cidr_netmask: 28, broadcast: '+' }, '192.0.2.15', 28],
      [{ ip: '192.0.2.13', cidr_netmask: 28, broadcast: '-' }, '192.0.2.0', 28],
      [{ ip: '192.0.2.14', broadcast: '192.0.2.254' }, '192.0.2.254', 24],
      [{ ip: '192.0.2.15', cidr_netmask: '255.255.255.128' }, '192.0.2.127', 25],
      [{ ip: '192.0.2.16', cidr_netmask: 32 }, undefined, 32],
    ];
    for (const [p, brd, prefix] of cases) {
      const params = { ...p, arp_count: 1, arp_bg: false };
      expectCode(agent('start', params), 0);
      const [a] = find(node, 'eth0', String(p.ip));
      expect(a, JSON.stringify(p)).toMatchObject({ prefixlen: prefix });
      expect(a!.broadcast, JSON.stringify(p)).toBe(brd);
      expectCode(agent('monitor', params), 0);
      expectCode(agent('stop', params), 0);
      expect(find(node, 'eth0', String(p.ip))).toHaveLength(0);
    }
  });

  it('labels the address with iflabel, or with a label given in nic (deprecated form)', () => {
    for (const [p, label] of [
      [{ ip: '192.0.2.17', iflabel: 'vip' }, 'eth0:vip'],
      [{ ip: '192.0.2.18', nic: 'eth0:nfs', iflabel: 'ignored' }, 'eth0:nfs'],
    ] as const) {
      const params = { ...p, arp_count: 1, arp_bg: false };
      expectCode(agent('start', params), 0);
      expect(find(node, 'eth0', p.ip)[0]?.label).toBe(label);
      expectCode(agent('monitor', params), 0);
      expectCode(agent('stop', params), 0);
    }
  });
});

describe('background announcer (arp_bg)', () => {
  it('runs after start returned, and stop ends it', async () => {
    const ip = '192.0.2.20';
    const params = { ip, arp_bg: true, arp_count: 100, arp_interval: 200 };
    const cap = await captureArp();
    expectCode(agent('start', params), 0);
    const pids = announcerPids(ip);
    expect(pids).toHaveLength(1);
    expect(pids.every(alive)).toBe(true); // 100 rounds of 200 ms: 20 s of announcing
    await cap.waitFor((p) => requests(p, ip).length >= 2);

    expectCode(agent('stop', params), 0);
    expect(pids.some(alive)).toBe(false);
    expect(existsSync(announcerPidFile(rsctmp, ip))).toBe(false);
    const atStop = garps(cap.packets(), ip).length;
    await new Promise((r) => setTimeout(r, 700));
    const pkts = await cap.stop();
    expect(garps(pkts, ip).length).toBe(atStop); // nothing after stop
    expect(requests(pkts, ip).length).toBeLessThan(100);
  });

  it('never outlives the deadline of the operation that started it', async () => {
    const ip = '192.0.2.21';
    const params = { ip, arp_bg: true, arp_count: 100, arp_interval: 200 };
    const cap = await captureArp();
    expectCode(agent('start', params, { meta: { timeout: 3000 } }), 0);
    const pids = announcerPids(ip);
    expect(pids).toHaveLength(1);
    await waitUntil('announcer ends at the op deadline', () => !pids.some(alive), 15_000);
    const pkts = await cap.stop();
    const req = requests(pkts, ip);
    expect(req.length).toBeGreaterThan(2);
    expect(req.length).toBeLessThan(100);
    // From the first to the last packet on the wire: within the 3 s op timeout.
    expect(req.at(-1)!.time - req[0]!.time).toBeLessThan(3);
    expectCode(agent('stop', params), 0);
  });

  it('stop kills only processes that are still ours', async () => {
    const ip = '192.0.2.22';
    const params = { ip, arp_count: 1, arp_bg: false };
    expectCode(agent('start', params), 0);
    // A pid file naming a process that is not our announcer (as after PID reuse).
    const stranger = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      await new Promise((r) => stranger.once('spawn', r));
      const stat = readFileSync(`/proc/${stranger.pid}/stat`, 'utf8');
      const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
      writeFileSync(announcerPidFile(rsctmp, ip), JSON.stringify({ key: ip, processes: [{ pid: stranger.pid, start }] }));
      const r = agent('stop', params);
      expectCode(r, 0);
      expect(r.stderr).toMatch(/no longer our announcer: not killing it/);
      expect(alive(stranger.pid!)).toBe(true);
      expect(find(node, 'eth0', ip)).toHaveLength(0);
    } finally {
      stranger.kill('SIGKILL');
    }
  });
});

describe('arp_count_refresh and arp_sender', () => {
  it('re-announces on recurring monitors (arp_count_refresh), not on probes', async () => {
    const ip = '192.0.2.30';
    const params = { ip, arp_count: 1, arp_bg: false, arp_count_refresh: 2, arp_interval: 200 };
    expectCode(agent('start', params), 0);
    const cap = await captureArp();
    expectCode(agent('monitor', params, { interval: 0 }), 0);
    expectCode(agent('monitor', params), 0);
    const pkts = await cap.stop();
    expect(requests(pkts, ip), cap.text()).toHaveLength(2);
    expect(replies(pkts, ip), cap.text()).toHaveLength(2);
    expectCode(agent('stop', params), 0);
  });

  it('iputils arping sends requests (-U) and replies (-A) when chosen, in whole seconds', async () => {
    const ip = '192.0.2.31';
    const params = { ip, arp_sender: 'iputils_arping', arp_count: 2, arp_interval: 1000, arp_bg: false };
    const cap = await captureArp();
    const r = agent('start', params);
    expectCode(r, 0);
    expect(r.stderr).toMatch(/arping .*-U/);
    const pkts = await cap.stop();
    expect(requests(pkts, ip), cap.text()).toHaveLength(2);
    expect(replies(pkts, ip), cap.text()).toHaveLength(2);
    expectFromNode(garps(pkts, ip));
    expectSpacing(requests(pkts, ip), 1000);
    expectCode(agent('stop', params), 0);
  });

  it('run_arping refuses an address another host already answers for', () => {
    const ip = '192.0.2.32';
    peer.addAddress('eth0', `${ip}/24`);
    try {
      const r = agent('start', { ip, run_arping: true, arp_bg: false, arp_count: 1 });
      expectCode(r, 1);
      expect(r.reason).toMatch(/IPv4 address collision/);
      expect(find(node, 'eth0', ip)).toHaveLength(0);
    } finally {
      peer.ip(['addr', 'del', `${ip}/24`, 'dev', 'eth0']);
    }
  });
});

describe('addresses and links that are not ours', () => {
  it('leaves the address alone on another interface, or with another prefix', () => {
    // This kernel has no dummy driver: a veth pair inside the node namespace is the other interface.
    node.ip(['link', 'add', 'dm0', 'type', 'veth', 'peer', 'name', 'dm1']);
    node.ip(['link', 'set', 'dm0', 'up']);
    node.ip(['link', 'set', 'dm1', 'up']);
    try {
      node.addAddress('dm0', '192.0.2.40/24');
      const params = { ip: '192.0.2.40', nic: 'eth0', cidr_netmask: 24 };
      expectCode(agent('monitor', params), 7);
      expectCode(agent('stop', params), 0);
      expect(find(node, 'dm0', '192.0.2.40')).toHaveLength(1);

      node.addAddress('eth0', '192.0.2.41/16');
      const other = { ip: '192.0.2.41', nic: 'eth0', cidr_netmask: 24, arp_bg: false };
      const m = agent('monitor', other);
      expectCode(m, 7);
      expect(m.reason).toMatch(/it is there with prefix \/16/);
      const s = agent('start', other);
      expectCode(s, 1);
      expect(s.reason).toMatch(/already on eth0 with prefix \/16/);
      expectCode(agent('stop', other), 0);
      expect(find(node, 'eth0', '192.0.2.41')).toEqual([expect.objectContaining({ prefixlen: 16 })]);
    } finally {
      node.ip(['addr', 'del', '192.0.2.41/16', 'dev', 'eth0'], { allowFail: true });
      node.ip(['link', 'del', 'dm0'], { allowFail: true });
    }
  });

  it('a link without carrier: monitor says not running (7), start fails (1) so the cluster goes elsewhere', () => {
    const params = { ip: '198.51.100.10', nic: 'eth1', cidr_netmask: 24, arp_count: 1, arp_bg: false };
    expectCode(agent('start', params), 0);
    peer.ip(['link', 'set', 'eth1', 'down']);
    try {
      const m = agent('monitor', params);
      expectCode(m, 7);
      expect(m.reason).toMatch(/eth1 has no carrier/);
      expectCode(agent('monitor', params, { interval: 0 }), 7);
      expectCode(agent('stop', params), 0);
      expect(find(node, 'eth1', '198.51.100.10')).toHaveLength(0);
      const s = agent('start', params, { meta: { timeout: 3000 } });
      expectCode(s, 1);
      expect(s.reason).toMatch(/eth1 has no carrier/);
      expect(find(node, 'eth1', '198.51.100.10')).toHaveLength(0);
    } finally {
      peer.ip(['link', 'set', 'eth1', 'up']);
    }
    // An administratively downed link is brought up by start (as the heartbeat agent does).
    node.ip(['link', 'set', 'eth1', 'down']);
    expectCode(agent('start', params), 0);
    expect(node.readFile('/sys/class/net/eth1/carrier').trim()).toBe('1');
    node.ip(['link', 'set', 'eth1', 'down']);
    const m = agent('monitor', params);
    expectCode(m, 7);
    expect(m.reason).toMatch(/eth1 is administratively down/);
    node.ip(['link', 'set', 'eth1', 'up']);
    expectCode(agent('stop', params), 0);
  });

  it('the interface vanished (veth deleted): monitor and probe say 7, stop succeeds', () => {
    bed.veth({ ns: node, ifname: 'eth2' }, { ns: peer, ifname: 'eth2' });
    node.addAddress('eth2', '203.0.113.1/24');
    const withNic = { ip: '203.0.113.10', nic: 'eth2', cidr_netmask: 24, arp_count: 1, arp_bg: false };
    const discovered = { ip: '203.0.113.10', arp_count: 1, arp_bg: false };
    expectCode(agent('start', withNic), 0);
    expectCode(agent('monitor', discovered), 0);

    peer.ip(['link', 'del', 'eth2']); // deleting one end of a veth deletes both
    expect(node.exec('test', ['-e', '/sys/class/net/eth2'], { allowFail: true }).code).not.toBe(0);
    const m = agent('monitor', withNic);
    expectCode(m, 7);
    expect(m.reason).toMatch(/interface eth2 does not exist/);
    expectCode(agent('monitor', withNic, { interval: 0 }), 7);
    const d = agent('monitor', discovered);
    expectCode(d, 7);
    expect(d.reason).toMatch(/no route/);
    expectCode(agent('stop', withNic), 0);
    expectCode(agent('stop', discovered), 0);
  });
});

describe('invalid parameters', () => {
  const good = { ip: '192.0.2.50', nic: 'eth0', cidr_netmask: 24 };

  it.each<[Params, RegExp]>([
    [{ ip: '192.0.2.300' }, /parameter 'ip'/],
    [{ ip: '192.0.2.50; touch /tmp/ocfkit-pwned' }, /parameter 'ip'/],
    [{ ip: '$(touch /tmp/ocfkit-pwned)' }, /parameter 'ip'/],
    [{ cidr_netmask: 33 }, /invalid cidr_netmask "33"/],
    [{ cidr_netmask: '24; touch /tmp/ocfkit-pwned' }, /parameter 'cidr_netmask'/],
    [{ broadcast: '192.0.2.256' }, /parameter 'broadcast'/],
    [{ broadcast: '`touch /tmp/ocfkit-pwned`' }, /parameter 'broadcast'/],
    [{ ip: '2001:db8:1::50', cidr_netmask: 64, broadcast: '192.0.2.255' }, /IPv6 has no broadcast/],
    [{ ip: '2001:db8:1::50', cidr_netmask: 200 }, /invalid cidr_netmask "200" for IPv6/],
    [{ nic: 'eth0; touch /tmp/ocfkit-pwned' }, /parameter 'nic'/],
    [{ nic: '../eth0' }, /parameter 'nic'/],
    [{ iflabel: 'x|touch' }, /parameter 'iflabel'/],
    [{ iflabel: 'muchtoolong' }, /eth0:muchtoolong is longer than 15/],
    [{ preferred_lft: 'forever; id' }, /parameter 'preferred_lft'/],
  ])('%j: validate-all and start 6, probe 7, stop 0', (change, reason) => {
    const params = { ...good, ...change };
    const v = agent('validate-all', params);
    expectCode(v, 6);
    expect(v.reason).toMatch(reason);
    expectCode(agent('start', params), 6);
    expectCode(agent('monitor', params, { interval: 0 }), 7);
    expectCode(agent('stop', params), 0);
    expect(existsSync('/tmp/ocfkit-pwned')).toBe(false);
    expect(find(node, 'eth0', '192.0.2.50')).toHaveLength(0);
  });

  it('an interface this node lacks is 5 (other nodes may have it), 7 on probe, 0 on stop', () => {
    const params = { ...good, nic: 'eth9' };
    const v = agent('validate-all', params);
    expectCode(v, 5);
    expect(v.reason).toMatch(/interface eth9 does not exist on this node/);
    expectCode(agent('start', params), 5);
    expectCode(agent('monitor', params, { interval: 0 }), 7);
    expectCode(agent('stop', params), 0);
  });

  it('an address no route puts on a link, without nic: 5, probe 7', () => {
    const params = { ip: '10.99.0.1' };
    const v = agent('validate-all', params);
    expectCode(v, 5);
    expect(v.reason).toMatch(/set nic and cidr_netmask/);
    expectCode(agent('monitor', params, { interval: 0 }), 7);
    expectCode(agent('stop', params), 0);
  });

  it('shell metacharacters in an interface name are plain data', () => {
    const nic = 'm;$(id)|x`';
    node.ip(['link', 'add', nic, 'type', 'veth', 'peer', 'name', 'mc1']);
    try {
      node.ip(['link', 'set', nic, 'up']);
      node.ip(['link', 'set', 'mc1', 'up']);
      const params = { ip: '198.18.0.10', nic, cidr_netmask: 24 };
      expectCode(agent('start', params), 0);
      expect(find(node, nic, '198.18.0.10')).toHaveLength(1);
      expectCode(agent('monitor', params), 0);
      expectCode(agent('stop', params), 0);
      expect(find(node, nic, '198.18.0.10')).toHaveLength(0);
    } finally {
      node.ip(['link', 'del', nic], { allowFail: true });
    }
  });
});

describe('IPv6', () => {
  const captureNd = () => bed.capture({ ns: peer, ifname: 'eth0' }, ['icmp6']);

  it('start waits for duplicate address detection, then sends arp_count unsolicited neighbour advertisements from the node MAC', async () => {
    const ip = '2001:db8:1::10';
    const params = { ip, arp_count: 3, arp_interval: 300 };
    const cap = await captureNd();
    expectCode(agent('start', params), 0);
    // arp_bg defaults to false for IPv6: when start returns, DAD is over and the advertisements are out.
    const [a] = find(node, 'eth0', ip);
    expect(a).toMatchObject({ prefixlen: 64 });
    expect(a!.tentative).toBeUndefined();
    const pkts = await cap.stop();
    const nas = unsolicitedNAs(pkts, ip);
    expect(nas, cap.text()).toHaveLength(3);
    for (const p of nas) {
      expect(p.srcMac).toBe(nodeMac);
      expect(p.icmp6).toMatchObject({ dst: 'ff02::1', override: true, solicited: false, router: false, lla: nodeMac, hopLimit: 255 });
    }
    expectSpacing(nas, 300);
    // The kernel's DAD probe (a solicitation for the address from ::) went out before the first advertisement.
    const dad = pkts.find((p) => p.icmp6?.type === ICMP6_NEIGHBOR_SOLICIT && p.icmp6.target === ip && p.icmp6.src === '::');
    expect(dad, cap.text()).toBeDefined();
    expect(dad!.time).toBeLessThan(nas[0]!.time);

    expectCode(agent('monitor', params), 0);
    expectCode(agent('monitor', params, { interval: 0 }), 0);
    expectCode(agent('start', params), 0);
    expect(find(node, 'eth0', ip)).toHaveLength(1);
    expectCode(agent('stop', params), 0);
    expect(find(node, 'eth0', ip)).toHaveLength(0);
    expectCode(agent('monitor', params), 7);
    expectCode(agent('stop', params), 0);
  });

  it('announces in the background when arp_bg is true, after duplicate address detection', async () => {
    const ip = '2001:db8:1::12';
    const params = { ip, arp_bg: true, arp_count: 3, arp_interval: 200 };
    const cap = await captureNd();
    expectCode(agent('start', params), 0);
    expect(find(node, 'eth0', ip)[0]?.tentative).toBeUndefined();
    const pids = announcerPids(ip);
    expect(pids).toHaveLength(1);
    await waitUntil('background advertisements end', () => !pids.some(alive), 10_000);
    const nas = unsolicitedNAs(await cap.stop(), ip);
    expect(nas).toHaveLength(3);
    expectSpacing(nas, 200);
    expectCode(agent('stop', params), 0);
  });

  it('nodad and preferred_lft reach the kernel', () => {
    const ip = '2001:db8:1::11';
    const params = { ip, cidr_netmask: 64, nodad: true, preferred_lft: 0, arp_count: 1 };
    expectCode(agent('start', params), 0);
    const links = node.ipJson<Array<{ addr_info: Array<AddrInfo & { preferred_life_time?: number }> }>>(['addr', 'show', 'dev', 'eth0']);
    const a = links.flatMap((l) => l.addr_info).find((x) => x.local === ip);
    expect(a).toMatchObject({ preferred_life_time: 0 });
    expectCode(agent('monitor', params), 0);
    expectCode(agent('stop', params), 0);
  });

  it('a duplicate address fails start (1) with the reason, and is removed', () => {
    const ip = '2001:db8:1::20';
    peer.addAddress('eth0', `${ip}/64`, { nodad: true });
    try {
      const r = agent('start', { ip, arp_count: 1 });
      expectCode(r, 1);
      expect(r.reason).toMatch(/duplicate address detection failed .*dadfailed/);
      expect(find(node, 'eth0', ip)).toHaveLength(0);
      expectCode(agent('monitor', { ip }), 7);
    } finally {
      peer.ip(['addr', 'del', `${ip}/64`, 'dev', 'eth0']);
    }
  });
});

describe('tools this node lacks', () => {
  /**
   * Runs the built agent in the node namespace inside a private mount
   * namespace where the given programs/directories are hidden (a directory
   * under an empty tmpfs, a file under /dev/null): the node really lacks
   * them, the host is untouched. A fixed script; paths and argv only as "$@".
   */
  const HIDE = 'while [ "$1" != -- ]; do if [ -d "$1" ]; then mount -t tmpfs none "$1"; else mount --bind /dev/null "$1"; fi; shift; done; shift; exec "$@"';
  function without(hidden: string[], action: string, params: Params): AgentRun {
    const env = ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'OCF_ROOT=/usr/lib/ocf', `HA_RSCTMP=${rsctmp}`, 'OCF_RESOURCE_INSTANCE=vip', 'OCF_RESKEY_CRM_meta_timeout=20000'];
    for (const [k, v] of Object.entries(params)) env.push(`OCF_RESKEY_${k}=${v}`);
    const argv = ['netns', 'exec', node.name, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', HIDE, 'sh', ...hidden, '--', 'env', '-i', ...env, join(ROOT, 'build', 'ocfkit-agents'), 'IPaddr2', action];
    const r = spawnSync('ip', argv, { encoding: 'utf8', timeout: 60_000 });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, reason: /^ocf-exit-reason:(.*)$/m.exec(r.stderr ?? '')?.[1] };
  }
  const haBin = '/usr/libexec/heartbeat';
  const arping = () => sh('sh', ['-c', 'command -v arping']).stdout.trim();

  it('without send_arp, IPv4 falls back to arping: requests and replies still go out', async () => {
    const ip = '192.0.2.80';
    const params = { ip, arp_count: 2, arp_interval: 1000, arp_bg: false };
    const cap = await captureArp();
    const r = without([haBin], 'start', params);
    expectCode(r, 0);
    expect(r.stderr).toMatch(/arping -q -U/);
    started.set(ip, params);
    const pkts = await cap.stop();
    expect(requests(pkts, ip), cap.text()).toHaveLength(2);
    expect(replies(pkts, ip), cap.text()).toHaveLength(2);
    expectFromNode(garps(pkts, ip));
    expectCode(agent('stop', params), 0);
  });

  it('no ARP sender at all, or not the one asked for, or no send_ua for IPv6: 5 with the package to install', () => {
    const none = without([haBin, arping()], 'validate-all', { ip: '192.0.2.81' });
    expectCode(none, 5);
    expect(none.reason).toMatch(/neither send_arp \(resource-agents\) nor arping \(iputils-arping\)/);
    const asked = without([haBin], 'validate-all', { ip: '192.0.2.81', arp_sender: 'send_arp' });
    expectCode(asked, 5);
    expect(asked.reason).toMatch(/send_arp \(package resource-agents\) is not installed/);
    const v6 = without([haBin], 'start', { ip: '2001:db8:1::81' });
    expectCode(v6, 5);
    expect(v6.reason).toMatch(/send_ua \(package resource-agents\)/);
    expect(find(node, 'eth0', '2001:db8:1::81')).toHaveLength(0);
    // A probe is not a place for installation errors: not running.
    expectCode(without([haBin, arping()], 'monitor', { ip: '192.0.2.81', CRM_meta_interval: 0 }), 7);
  });
});

describe('what a monitor costs', () => {
  it('forks nothing for a running address; asks ip only while a link is not running', async () => {
    // A spy in front of the real ip (first in PATH) that logs its calls; a fixed script, values only as "$@".
    const realIp = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find(existsSync)!;
    const dir = mkdtempSync(join(tmpdir(), 'ocfkit-ipspy-'));
    const log = join(dir, 'calls');
    writeFileSync(join(dir, 'ip'), `#!/bin/sh\necho "$*" >> "$IP_SPY_LOG"\nexec ${realIp} "$@"\n`, { mode: 0o755 });
    const spied = (action: string, params: Params, interval = 10_000) =>
      runAgent('IPaddr2', action, { netns: node.name, params, meta: { timeout: 20_000, interval }, env: { HA_RSCTMP: rsctmp, PATH: `${dir}:/usr/sbin:/usr/bin:/sbin:/bin`, IP_SPY_LOG: log }, instance: 'vip' });
    const calls = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : []);
    const v4 = { ip: '192.0.2.70', arp_count: 1, arp_bg: false };
    const v6 = { ip: '2001:db8:1::70', arp_count: 1, nodad: true };
    const link = { ip: '198.51.100.70', nic: 'eth1', cidr_netmask: 24, arp_count: 1, arp_bg: false };
    try {
      for (const p of [v4, v6, link]) expectCode(agent('start', p), 0);
      rmSync(log, { force: true });
      expectCode(spied('monitor', v4), 0);
      expectCode(spied('monitor', { ...v4, nic: 'eth0', cidr_netmask: 24 }), 0);
      expectCode(spied('monitor', v6), 0);
      expectCode(spied('monitor', v4, 0), 0);
      expectCode(spied('monitor', { ...v4, ip: '192.0.2.71' }), 7);
      expect(calls()).toEqual([]);

      peer.ip(['link', 'set', 'eth1', 'down']);
      // operstate follows the carrier through the kernel's linkwatch work: wait until the link is seen not running.
      await waitUntil('eth1 not running', () => node.readFile('/sys/class/net/eth1/operstate').trim() !== 'up', 5000);
      const m = spied('monitor', link);
      expectCode(m, 7);
      expect(m.reason).toMatch(/no carrier/);
      expect(calls()).toEqual(['-json -4 addr show dev eth1']);
    } finally {
      peer.ip(['link', 'set', 'eth1', 'up']);
      for (const p of [v4, v6, link]) agent('stop', p);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('start and stop need root (4); monitor does not', () => {
    const params = { ip: '192.0.2.72', nic: 'eth0', cidr_netmask: 24 };
    const asNobody = (action: string) =>
      spawnSync('ip', ['netns', 'exec', node.name, 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'env', '-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', `HA_RSCTMP=${rsctmp}`, 'OCF_RESKEY_ip=192.0.2.72', 'OCF_RESKEY_nic=eth0', 'OCF_RESKEY_cidr_netmask=24', 'OCF_RESKEY_CRM_meta_interval=10000', join(ROOT, 'build', 'ocfkit-agents'), 'IPaddr2', action], { encoding: 'utf8' });
    const start = asNobody('start');
    expect(start.status, start.stderr).toBe(4);
    expect(start.stderr).toMatch(/start must run as root/);
    expect(asNobody('stop').status).toBe(4);
    expect(asNobody('monitor').status).toBe(7);
    expect(find(node, 'eth0', params.ip)).toHaveLength(0);
  });
});

describe('meta-data', () => {
  it('is valid against its DTD and keeps ocf:heartbeat:IPaddr2\'s parameter defaults', () => {
    const ours = runAgent('IPaddr2', 'meta-data');
    expectCode(ours, 0);
    const dir = mkdtempSync(join(tmpdir(), 'ocfkit-meta-'));
    try {
      writeFileSync(join(dir, 'IPaddr2.xml'), ours.stdout);
      sh('xmllint', ['--noout', '--valid', join(dir, 'IPaddr2.xml')]); // its own OCF 1.1 DTD, as ocf-tester checks
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const heartbeat = spawnSync('/usr/lib/ocf/resource.d/heartbeat/IPaddr2', ['meta-data'], { encoding: 'utf8', env: { OCF_ROOT: '/usr/lib/ocf', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
    expect(heartbeat.status, heartbeat.stderr).toBe(0);
    const theirs = heartbeat.stdout;
    const defaults = (xml: string) => {
      const out = new Map<string, string>();
      for (const m of xml.matchAll(/<parameter name="([^"]+)"[\s\S]*?<content type="[^"]+"(?: default="([^"]*)")?/g)) out.set(m[1]!, m[2] ?? '');
      return out;
    };
    const ourDefaults = defaults(ours.stdout);
    const theirDefaults = defaults(theirs);
    for (const name of ['ip', 'nic', 'cidr_netmask', 'broadcast', 'iflabel', 'arp_interval', 'arp_count', 'arp_count_refresh', 'arp_bg', 'arp_sender', 'run_arping', 'nodad', 'noprefixroute', 'preferred_lft', 'flush_routes']) {
      expect(ourDefaults.has(name), name).toBe(true);
      expect(theirDefaults.has(name), name).toBe(true);
      expect(ourDefaults.get(name), name).toBe(theirDefaults.get(name));
    }
  });
});
