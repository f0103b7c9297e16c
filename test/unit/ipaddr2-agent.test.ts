import { describe, expect, it } from 'vitest';
import { IPaddr2 } from '../../agents/IPaddr2.js';
import type { AgentDecl } from '../../src/ocf/index.js';
import { runAgentAction } from '../../src/ocf/main.js';

/**
 * The agent's parameter rules, through the runtime's dispatcher (in-process,
 * no root): configuration errors are 6 everywhere; only the loopback
 * interface is used, which every machine has. The built executable, real
 * interfaces and the wire are covered by test/integration/ipaddr2*.test.ts.
 */
async function run(action: string, params: Record<string, string>, meta: Record<string, string> = {}) {
  const env: NodeJS.ProcessEnv = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', OCF_ROOT: '/usr/lib/ocf', OCF_RESOURCE_INSTANCE: 'vip' };
  for (const [k, v] of Object.entries(params)) env[`OCF_RESKEY_${k}`] = v;
  for (const [k, v] of Object.entries(meta)) env[`OCF_RESKEY_CRM_meta_${k}`] = v;
  let out = '';
  let err = '';
  const code = await runAgentAction(IPaddr2 as unknown as AgentDecl, action, env, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, reason: /^ocf-exit-reason:(.*)$/m.exec(err)?.[1], err };
}

const lo = { ip: '127.0.0.5', nic: 'lo', cidr_netmask: '8' };

describe('IPaddr2 parameters', () => {
  it('accepts a complete loopback configuration', async () => {
    expect((await run('validate-all', lo)).code).toBe(0);
    expect((await run('validate-all', { ...lo, cidr_netmask: '255.0.0.0' })).code).toBe(0);
    expect((await run('validate-all', { ip: '127.0.0.5', nic: 'lo', netmask: '8' })).code).toBe(0); // the old parameter name
    expect((await run('validate-all', { ip: '::1', nic: 'lo', cidr_netmask: '128' })).code).toBe(0);
  });

  it.each([
    [{ ip: '' }, /required parameter 'ip'/],
    [{ ip: '127.0.0.256' }, /parameter 'ip'/],
    [{ ip: '127.0.0.5; reboot' }, /parameter 'ip'/],
    [{ ip: '127.0.0.5$(touch /tmp/x)' }, /parameter 'ip'/],
    [{ ip: '224.0.0.5' }, /multicast/],
    [{ ip: '0.0.0.1' }, /0\.0\.0\.0\/8/],
    [{ cidr_netmask: '33' }, /invalid cidr_netmask "33" for IPv4/],
    [{ cidr_netmask: '0' }, /invalid cidr_netmask/],
    [{ cidr_netmask: 'abc' }, /parameter 'cidr_netmask'/],
    [{ cidr_netmask: '255.0.255.0' }, /parameter 'cidr_netmask': not a prefix length/],
    [{ ip: '::1', cidr_netmask: '129' }, /invalid cidr_netmask "129" for IPv6/],
    [{ ip: '::1', cidr_netmask: '255.255.255.0' }, /invalid cidr_netmask/],
    [{ broadcast: '127.255.255.256' }, /parameter 'broadcast'/],
    [{ broadcast: '127.255.255.255;id' }, /parameter 'broadcast'/],
    [{ ip: '::1', cidr_netmask: '128', broadcast: '127.255.255.255' }, /IPv6 has no broadcast/],
    [{ nic: 'lo; id' }, /parameter 'nic'/],
    [{ nic: 'a/b' }, /parameter 'nic'/],
    [{ nic: 'abcdefghijklmnop' }, /parameter 'nic'/],
    [{ nic: 'lo:bad label' }, /parameter 'nic'/],
    [{ iflabel: 'x$(id)' }, /parameter 'iflabel'/],
    [{ iflabel: 'waytoolong1234' }, /longer than 15/],
    [{ preferred_lft: 'sometimes' }, /parameter 'preferred_lft'/],
    [{ arp_count: '0' }, /parameter 'arp_count'/],
    [{ arp_interval: '-5' }, /parameter 'arp_interval'/],
    [{ arp_bg: 'maybe' }, /parameter 'arp_bg'/],
    [{ arp_sender: 'libnet_arping' }, /parameter 'arp_sender'/],
    [{ lvs_support: 'true' }, /lvs_support=true: LVS direct routing are not supported/],
    [{ network_namespace: 'other' }, /network namespaces are not supported/],
    [{ ip: 'fe80::5', nic: '', cidr_netmask: '64' }, /link-local address \(fe80::5\) needs the nic parameter/],
  ])('%j is a configuration error (6)', async (change, reason) => {
    const r = await run('validate-all', { ...lo, ...change });
    expect(r.reason).toMatch(reason);
    expect(r.code).toBe(6);
  });

  it('refuses to be a cloned (CLUSTERIP) address', async () => {
    const r = await run('validate-all', lo, { clone_max: '2' });
    expect(r.code).toBe(6);
    expect(r.reason).toMatch(/CLUSTERIP/);
    expect((await run('validate-all', lo, { clone_max: '1' })).code).toBe(0);
  });

  it('a missing interface is this node\'s problem (5), a probe for it says not running (7), stop succeeds', async () => {
    const p = { ...lo, nic: 'nosuchif0' };
    const v = await run('validate-all', p);
    expect(v.code).toBe(5);
    expect(v.reason).toMatch(/interface nosuchif0 does not exist on this node/);
    expect((await run('monitor', p, { interval: '0' })).code).toBe(7);
    const m = await run('monitor', p, { interval: '10000' });
    expect(m.code).toBe(7);
    expect(m.reason).toMatch(/interface nosuchif0 does not exist/);
  });

  it('configuration errors on a probe say not running (7)', async () => {
    expect((await run('monitor', { ...lo, cidr_netmask: '33' }, { interval: '0' })).code).toBe(7);
  });
});
