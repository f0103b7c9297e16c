import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENTS_EXE, runAgent, type AgentRun } from '../helpers/agent.js';
import { NetTestbed, type Netns } from '../helpers/netns.js';
import { isRoot } from '../helpers/system.js';

/**
 * Issue 14 against ocf:ocfkit:IPaddr2 (items 6, 8, 12), inside namespaces
 * this file creates: node ns eth0 192.0.2.1/24 ── veth ── peer ns eth0.
 */

let bed: NetTestbed;
let node: Netns;
let tmp: string;

beforeAll(() => {
  if (!isRoot()) throw new Error('these tests need root (namespaces)');
  bed = new NetTestbed();
  node = bed.namespace('ihn');
  const peer = bed.namespace('ihp');
  bed.veth({ ns: node, ifname: 'eth0' }, { ns: peer, ifname: 'eth0' });
  node.addAddress('eth0', '192.0.2.1/24');
  peer.addAddress('eth0', '192.0.2.2/24');
  tmp = mkdtempSync(join(tmpdir(), 'ocfkit-ip-harden-'));
});
afterAll(async () => {
  await bed?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

const agent = (action: string, params: Record<string, string>, meta: Record<string, number> = {}) =>
  runAgent('IPaddr2', action, { netns: node.name, params, meta: { timeout: 20_000, ...meta }, env: { HA_RSCTMP: tmp }, instance: 'vip-h' });

/**
 * The agent on a node where `ip` cannot run: in a private mount namespace,
 * a non-executable file is bind-mounted over it (/sbin/ip and /usr/sbin/ip
 * link to /usr/bin/ip here).
 */
function agentWithoutIp(action: string, params: Record<string, string>): AgentRun {
  const fake = join(tmp, 'ip-not-executable');
  writeFileSync(fake, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
  const env = ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'OCF_ROOT=/usr/lib/ocf', 'OCF_RESOURCE_INSTANCE=vip-h', `HA_RSCTMP=${tmp}`, 'OCF_RESKEY_CRM_meta_timeout=20000'];
  for (const [k, v] of Object.entries(params)) env.push(`OCF_RESKEY_${k}=${v}`);
  const script = 'mount --bind "$1" /usr/bin/ip && shift && exec "$@"';
  const r = spawnSync('ip', ['netns', 'exec', node.name, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', script, 'sh', fake, 'env', '-i', ...env, AGENTS_EXE, 'IPaddr2', action], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  const reason = /^ocf-exit-reason:(.*)$/m.exec(r.stderr ?? '')?.[1];
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '', reason };
}

describe('stop where ip cannot run (item 6)', () => {
  it('an address that is not here: stop succeeds although a step needed ip (flush_routes)', () => {
    const r = agentWithoutIp('stop', { ip: '192.0.2.50', nic: 'eth0', cidr_netmask: '24', flush_routes: 'true' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/not running here: nothing to stop/);
  });

  it('an address that IS here: stop does not pretend (it cannot remove it without ip)', () => {
    node.addAddress('eth0', '192.0.2.51/24');
    try {
      const r = agentWithoutIp('stop', { ip: '192.0.2.51', nic: 'eth0', cidr_netmask: '24' });
      expect(r.code).not.toBe(0);
      // Node reports the non-executable ip as EACCES ("not executable"), Bun as ENOENT ("command not found"): both 5.
      expect(r.reason).toMatch(/ip: (not executable|command not found)/);
    } finally {
      node.ip(['addr', 'del', '192.0.2.51/24', 'dev', 'eth0']);
    }
  });
});

describe('numeric parameters are range-checked at validation (item 12)', () => {
  const base = { ip: '2001:db8:1::50', nic: 'eth0', cidr_netmask: '64' };
  it.each([
    ['preferred_lft', '99999999999999999999', /preferred_lft.*0-4294967294/],
    ['preferred_lft', '4294967295', /preferred_lft.*0-4294967294/],
    ['arp_interval', '99999999999', /arp_interval.*at most 60000/],
    ['arp_count', '0', /arp_count.*at least 1/],
    ['arp_count', '1000000', /arp_count.*at most 1000/],
    ['arp_count_refresh', '-1', /arp_count_refresh.*at least 0/],
    ['cidr_netmask', '129', /cidr_netmask/],
  ])('%s=%s → 6 naming the range', (name, value, reason) => {
    for (const action of ['validate-all', 'start']) {
      const r = agent(action, { ...base, [name]: value });
      expect(r.code, r.stderr).toBe(6);
      expect(r.reason).toMatch(reason);
    }
  });
  it('preferred_lft within the range still starts', () => {
    expect(agent('start', { ...base, nodad: 'true', preferred_lft: '4294967294' }).code).toBe(0);
    expect(agent('stop', { ...base, nodad: 'true', preferred_lft: '4294967294' }).code).toBe(0);
  });
});

describe('values tools would read as options (item 8)', () => {
  it.each(['-x', '--help', '-oremount'])('nic=%s → 6', (nic) => {
    const r = agent('validate-all', { ip: '192.0.2.52', nic });
    expect(r.code).toBe(6);
    expect(r.reason).toMatch(/parameter 'nic': interface name starts with "-"/);
  });
});
