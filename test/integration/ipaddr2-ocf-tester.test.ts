import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/agent.js';
import { NetTestbed, requireTools, type Netns } from '../helpers/netns.js';
import { sh } from '../helpers/system.js';

/**
 * resource-agents' ocf-tester against the agent as an admin installs it
 * (`ocf-gen install --prefix …`: resource.d/ocfkit/IPaddr2, a link to the
 * one executable), run inside a namespace with a veth to a peer. ocf-tester
 * needs no ocf-shellfuncs itself: it checks the meta-data with xmllint
 * against /usr/share/resource-agents/ra-api-1.dtd, runs meta-data as user
 * nobody (so the install tree must be world-readable), and runs the actions
 * in order (validate-all, probe, start, monitor, double start, stop, double
 * stop, …) with OCF_ROOT defaulting to /usr/lib/ocf.
 */

let bed: NetTestbed;
let node: Netns;
let prefix: string;
let rsctmp: string;
let agentPath: string;

beforeAll(() => {
  requireTools('ocf-tester', 'xmllint', 'su');
  const ocfGen = join(ROOT, 'dist', 'ocf-gen.js');
  if (!existsSync(ocfGen)) throw new Error(`${ocfGen} is not built: run node scripts/build.mjs ocf-gen`);
  if (!existsSync(join(ROOT, 'build', 'ocfkit-agents'))) throw new Error('build/ocfkit-agents is not built: run node scripts/build.mjs agents');
  prefix = mkdtempSync(join(tmpdir(), 'ocfkit-ocf-root-'));
  chmodSync(prefix, 0o755); // ocf-tester runs meta-data as nobody
  sh(join(ROOT, 'bin', 'ocf-gen'), ['install', '--prefix', prefix]);
  agentPath = join(prefix, 'resource.d', 'ocfkit', 'IPaddr2');
  rsctmp = mkdtempSync(join(tmpdir(), 'ocfkit-ocf-tester-rsctmp-'));

  bed = new NetTestbed();
  node = bed.namespace('otn');
  const peer = bed.namespace('otp');
  bed.veth({ ns: node, ifname: 'eth0' }, { ns: peer, ifname: 'eth0' });
  node.addAddress('eth0', '192.0.2.1/24');
  node.addAddress('eth0', '2001:db8:7::1/64', { nodad: true });
  peer.addAddress('eth0', '192.0.2.2/24');
  peer.addAddress('eth0', '2001:db8:7::2/64', { nodad: true });
});

afterAll(async () => {
  await bed?.cleanup();
  if (prefix) rmSync(prefix, { recursive: true, force: true });
  if (rsctmp) rmSync(rsctmp, { recursive: true, force: true });
});

function ocfTester(options: string[]) {
  const args = ['netns', 'exec', node.name, 'env', '-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', `HA_RSCTMP=${rsctmp}`, 'ocf-tester', '-n', 'vip'];
  for (const o of options) args.push('-o', o);
  args.push(agentPath);
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 180_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('ocf-tester against the installed IPaddr2', () => {
  it('passes for an IPv4 address found from the routes (background gratuitous ARP)', () => {
    const r = ocfTester(['ip=192.0.2.60']);
    expect(r.out).toMatch(/passed all tests/);
    expect(r.code, r.out).toBe(0);
    expect(node.ipJson<Array<{ addr_info: Array<{ local: string }> }>>(['addr', 'show', 'dev', 'eth0']).flatMap((l) => l.addr_info).map((a) => a.local)).not.toContain('192.0.2.60');
  });

  it('passes for an IPv6 address with all parameters given', () => {
    const r = ocfTester(['ip=2001:db8:7::60', 'nic=eth0', 'cidr_netmask=64', 'arp_count=2', 'arp_interval=100']);
    expect(r.out).toMatch(/passed all tests/);
    expect(r.code, r.out).toBe(0);
  });

  it('reports the failure when the configuration is wrong', () => {
    const r = ocfTester(['ip=192.0.2.300']);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/Validation failed/);
  });
});
