import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Deadline } from '../../src/ocf/deadline.js';
import { addArgs, ipv4AddressesFromIfaddrs, parseIfInet6, parseIpJsonAddresses, waitForDad, type IfAddress } from '../../src/sys/net/addresses.js';
import { arpingSeconds, senderCommands, type Announcement } from '../../src/sys/net/announce.js';
import { placeAddress } from '../../src/sys/net/findif.js';
import { formatIPv4, formatIPv6, parseIp } from '../../src/sys/net/inet.js';
import { announcesOn, interfaceNameProblem, linkProblem, readLink, type LinkState } from '../../src/sys/net/links.js';
import { connectedRouteFor, parseProcIPv6Route, parseProcNetRoute } from '../../src/sys/net/routes.js';

// Captured from a network namespace on this machine (veth "va", 192.0.2.1/24 and 2001:db8::1/64).
const PROC_NET_ROUTE = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
va\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
eth1\t00000000\t0102000A\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth1\t0000000A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
eth2\t0000000A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
eth2\t0001000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
via\t0005000A\t0101000A\t0003\t0\t0\t0\t00FFFFFF\t0\t0\t0
host\t0900000A\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0
dead\t0000000B\t00000000\t0201\t0\t0\t0\t000000FF\t0\t0\t0
`;

const PROC_IPV6_ROUTE = `20010db8000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001       va
fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001       va
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000003 00000000 80200001       lo
20010db8000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001       va
fe800000000000006ce017fffe66db28 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001       va
ff000000000000000000000000000000 08 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000003 00000000 00000001       va
20010db8000100000000000000000000 30 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003       va
`;

const IF_INET6 = `fe800000000000006ce017fffe66db28 02 40 20 80       va
00000000000000000000000000000001 01 80 10 80       lo
20010db8000000000000000000000007 02 40 00 80       va
20010db8000000000000000000000008 02 30 00 c0       va
20010db8000000000000000000000099 02 40 00 c8       va
`;

const IP_JSON = JSON.stringify([
  {
    ifindex: 2,
    ifname: 'va',
    flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
    addr_info: [
      { family: 'inet', local: '192.0.2.1', prefixlen: 24, scope: 'global', label: 'va' },
      { family: 'inet', local: '192.0.2.9', prefixlen: 24, scope: 'global', secondary: true, label: 'va:vip' },
      { family: 'inet6', local: '2001:db8::99', prefixlen: 64, dadfailed: true, tentative: true },
      {},
    ],
  },
]);

describe('/proc/net/route', () => {
  const routes = parseProcNetRoute(PROC_NET_ROUTE, true);

  it('decodes destinations, prefix lengths, gateways; drops reject routes', () => {
    expect(routes.map((r) => `${r.dev} ${formatIPv4(r.dest)}/${r.prefix}${r.gateway ? ' gw' : ''}`)).toEqual([
      'va 192.0.2.0/24',
      'eth1 0.0.0.0/0 gw',
      'eth1 10.0.0.0/16',
      'eth2 10.0.0.0/16',
      'eth2 10.0.1.0/24',
      'via 10.0.5.0/24 gw',
      'host 10.0.0.9/32',
    ]);
  });

  it('chooses like findif: the most specific connected subnet route, never default, host or gateway routes', () => {
    const pick = (ip: string, want = {}) => connectedRouteFor(routes, 4, parseIp(ip)!.bytes, want)?.dev;
    expect(pick('192.0.2.10')).toBe('va');
    expect(pick('10.0.1.5')).toBe('eth2'); // /24 beats /16
    expect(pick('10.0.2.5')).toBe('eth2'); // equal /16s: the last one, as findif's awk keeps it
    expect(pick('10.0.1.5', { nic: 'eth1' })).toBe('eth1');
    expect(pick('10.0.1.5', { prefix: 16 })).toBe('eth2'); // routes more specific than the asked prefix cannot hold it
    expect(connectedRouteFor(routes, 4, parseIp('10.0.1.5')!.bytes, { prefix: 16 })?.prefix).toBe(16);
    expect(pick('10.0.5.5')).toBe('eth2'); // the gateway route to 10.0.5/24 is not a link
    expect(pick('10.0.0.9')).toBe('eth2'); // host route ignored
    expect(pick('198.51.100.1')).toBeUndefined(); // only the default route matches
    expect(pick('192.0.2.10', { nic: 'eth1' })).toBeUndefined();
  });
});

describe('/proc/net/ipv6_route', () => {
  const routes = parseProcIPv6Route(PROC_IPV6_ROUTE);

  it('keeps real routes, drops local-table, reject and cache entries', () => {
    expect(routes.map((r) => `${r.dev} ${formatIPv6(r.dest)}/${r.prefix}${r.gateway ? ' gw' : ''}`)).toEqual([
      'va 2001:db8::/64',
      'va fe80::/64',
      'va ff00::/8',
      'va 2001:db8:1::/48 gw',
    ]);
  });

  it('places IPv6 addresses on the connected /64', () => {
    expect(connectedRouteFor(routes, 6, parseIp('2001:db8::10')!.bytes)?.dev).toBe('va');
    expect(connectedRouteFor(routes, 6, parseIp('2001:db8:1::10')!.bytes)).toBeUndefined(); // only via a router
  });
});

describe('placeAddress (findif)', () => {
  const routes = parseProcNetRoute(PROC_NET_ROUTE, true);
  const ip = (s: string) => parseIp(s)!;

  it('uses what is given, and the route for what is not', () => {
    expect(placeAddress(ip('192.0.2.10'), { nic: 'x', prefix: 28 }, routes)).toEqual({ ok: true, placement: { nic: 'x', prefix: 28 } });
    expect(placeAddress(ip('192.0.2.10'), {}, routes)).toMatchObject({ ok: true, placement: { nic: 'va', prefix: 24 } });
    expect(placeAddress(ip('192.0.2.10'), { prefix: 32 }, routes)).toMatchObject({ ok: true, placement: { nic: 'va', prefix: 32 } });
    expect(placeAddress(ip('10.0.7.1'), { nic: 'eth1' }, routes)).toMatchObject({ ok: true, placement: { nic: 'eth1', prefix: 16 } });
  });

  it('fails on this node (not a configuration error) without a route, but 127/8 lives on lo', () => {
    const r = placeAddress(ip('198.51.100.7'), {}, routes);
    expect(r).toMatchObject({ ok: false, configured: false });
    expect(!r.ok && r.problem).toMatch(/set nic and cidr_netmask/);
    expect(placeAddress(ip('127.0.0.2'), {}, routes)).toMatchObject({ ok: true, placement: { nic: 'lo', prefix: 8 } });
  });

  it('refuses a link-local IPv6 address without nic as a configuration error', () => {
    expect(placeAddress(ip('fe80::10'), { prefix: 64 }, [])).toMatchObject({ ok: false, configured: true });
  });
});

describe('addresses', () => {
  it('parses /proc/net/if_inet6 with its DAD flags', () => {
    const a = parseIfInet6(IF_INET6);
    expect(a.map((x) => `${x.dev} ${x.text}/${x.prefix} ${x.tentative ? 'T' : '-'}${x.dadFailed ? 'F' : '-'}`)).toEqual([
      'va fe80::6ce0:17ff:fe66:db28/64 --',
      'lo ::1/128 --',
      'va 2001:db8::7/64 --',
      'va 2001:db8::8/48 T-',
      'va 2001:db8::99/64 TF',
    ]);
  });

  it('parses ip -json addr show', () => {
    const a = parseIpJsonAddresses(IP_JSON);
    expect(a.map((x) => `${x.dev} ${x.text}/${x.prefix} ${x.label ?? ''} ${x.dadFailed}`)).toEqual([
      'va 192.0.2.1/24 va false',
      'va 192.0.2.9/24 va:vip false',
      'va 2001:db8::99/64  true',
    ]);
    expect(parseIpJsonAddresses('')).toEqual([]);
    expect(() => parseIpJsonAddresses('Device "x" does not exist.')).toThrow(/not JSON/);
  });

  it('reads IPv4 addresses from getifaddrs, where entries are named by label', () => {
    const v4 = (address: string, prefix: number) => ({ address, netmask: '', family: 'IPv4' as const, mac: '02:00:00:00:00:01', internal: false, cidr: `${address}/${prefix}` });
    const v6 = { address: '2001:db8::1', netmask: '', family: 'IPv6' as const, mac: '02:00:00:00:00:01', internal: false, cidr: '2001:db8::1/64', scopeid: 0 };
    const real = (n: string) => ['lo', 'eth0', 'eth1'].includes(n);
    const ifaces = { lo: [v4('127.0.0.1', 8)], eth0: [v4('192.0.2.1', 24), v6], 'eth0:vip': [v4('192.0.2.10', 24)], eth1: [v4('192.0.2.10', 16)] };
    const a = ipv4AddressesFromIfaddrs('eth0', ifaces, real)!;
    expect(a.map((x) => `${x.dev} ${x.text}/${x.prefix} ${x.label}`)).toEqual(['eth0 192.0.2.1/24 eth0', 'eth0 192.0.2.10/24 eth0:vip']);
    expect(ipv4AddressesFromIfaddrs('eth1', ifaces, real)!.map((x) => `${x.text}/${x.prefix}`)).toEqual(['192.0.2.10/16']);
    expect(ipv4AddressesFromIfaddrs('eth2', ifaces, real)).toEqual([]);
    // A label that is no interface's name (ip addr add … label weird): on which link? Ask ip instead.
    expect(ipv4AddressesFromIfaddrs('eth0', { ...ifaces, weird: [v4('192.0.2.11', 24)] }, real)).toBeUndefined();
    expect(ipv4AddressesFromIfaddrs('eth0', { ...ifaces, weird: [v6] }, real)).toHaveLength(2); // IPv6 entries carry device names
  });

  it('builds ip addr add arguments per family', () => {
    expect(addArgs({ ip: parseIp('192.0.2.10')!, prefix: 24, dev: 'eth0', broadcast: '192.0.2.255', label: 'eth0:vip', preferredLft: 'forever', nodad: true })).toEqual([
      '-4', 'addr', 'add', '192.0.2.10/24', 'brd', '192.0.2.255', 'dev', 'eth0', 'label', 'eth0:vip',
    ]);
    expect(addArgs({ ip: parseIp('2001:DB8::10')!, prefix: 64, dev: 'eth0', broadcast: 'x', label: 'y', preferredLft: '0', nodad: true, noprefixroute: true })).toEqual([
      '-6', 'addr', 'add', '2001:db8::10/64', 'dev', 'eth0', 'preferred_lft', '0', 'nodad', 'noprefixroute',
    ]);
  });

  it('waits for duplicate address detection, bounded by the deadline', async () => {
    const ip = parseIp('2001:db8::5')!;
    const entry = (tentative: boolean, dadFailed: boolean): IfAddress => ({ family: 6, address: ip.bytes, text: ip.text, prefix: 64, dev: 'eth0', tentative, dadFailed });
    const states = [[entry(true, false)], [entry(true, false)], [entry(false, false)]];
    let i = 0;
    expect(await waitForDad(new Deadline(10_000), ip, 'eth0', () => states[Math.min(i++, 2)]!)).toBe('done');
    expect(i).toBe(3);
    expect(await waitForDad(new Deadline(10_000), ip, 'eth0', () => [entry(true, true)])).toBe('failed');
    expect(await waitForDad(new Deadline(10_000), ip, 'eth0', () => [])).toBe('gone');
    expect(await waitForDad(new Deadline(10_000), ip, 'eth0', () => [{ ...entry(false, false), dev: 'eth1' }])).toBe('gone');
    // Deadline of 1 s leaves 0.5 s after the margin: a forever-tentative address times out.
    await expect(waitForDad(new Deadline(1000), ip, 'eth0', () => [entry(true, false)])).rejects.toMatchObject({ code: 1, reason: expect.stringMatching(/duplicate address detection.*timed out/) });
  });
});

describe('links', () => {
  it('follows the kernel rules for interface names', () => {
    for (const ok of ['eth0', 'enp0s31f6', 'bond0.100', 'a;b', 'x$(id)', 'v`id`', 'ab|c&d']) expect(interfaceNameProblem(ok)).toBeUndefined();
    for (const bad of ['', 'eth0 up', 'eth0:1', 'a/b', '.', '..', 'abcdefghijklmnop', 'tab\there', 'nl\n']) expect(interfaceNameProblem(bad)).toBeDefined();
  });

  it('reads the loopback link from /sys', () => {
    expect(existsSync('/sys/class/net/lo')).toBe(true);
    const lo = readLink('lo')!;
    expect(lo).toMatchObject({ name: 'lo', loopback: true, type: 772, adminUp: true, carrier: true });
    expect(announcesOn(lo)).toBe(false);
    expect(readLink('no-such-if0')).toBeUndefined();
    expect(readLink('../lo')).toBeUndefined(); // never a path outside /sys/class/net
  });

  it('says why a link cannot serve', () => {
    const base: LinkState = { name: 'eth0', ifindex: 2, flags: 0x1003, adminUp: true, carrier: true, operstate: 'up', running: true, type: 1, mac: '02:00:00:00:00:01', loopback: false, noarp: false };
    expect(linkProblem(base)).toBeUndefined();
    expect(linkProblem({ ...base, operstate: 'unknown' })).toBeUndefined(); // dummy, lo: no carrier detection
    expect(linkProblem({ ...base, operstate: 'lowerlayerdown' })).toBeUndefined(); // operstate lags behind the carrier (linkwatch)
    expect(linkProblem({ ...base, adminUp: false, carrier: false, operstate: 'down' })).toMatch(/administratively down/);
    expect(linkProblem({ ...base, carrier: false, operstate: 'up' })).toMatch(/no carrier/);
    expect(linkProblem({ ...base, operstate: 'dormant' })).toMatch(/not operational/);
    expect(announcesOn(base)).toBe(true);
    expect(announcesOn({ ...base, noarp: true })).toBe(false);
  });
});

describe('announcement commands', () => {
  const a: Announcement = { family: 4, ip: '192.0.2.10', prefix: 24, nic: 'eth0', count: 5, intervalMs: 200 };

  it('send_arp: request+reply pairs, interval in ms, the device MAC', () => {
    expect(senderCommands(a, { name: 'send_arp', path: '/usr/libexec/heartbeat/send_arp' })).toEqual([
      { cmd: '/usr/libexec/heartbeat/send_arp', args: ['-i', '200', '-r', '5', '--', 'eth0', '192.0.2.10', 'auto', 'not_used', 'not_used'] },
    ]);
  });

  it('iputils arping: -U (requests) and -A (replies), whole seconds', () => {
    expect(senderCommands({ ...a, intervalMs: 2400 }, { name: 'iputils_arping', path: '/usr/sbin/arping' })).toEqual([
      { cmd: '/usr/sbin/arping', args: ['-q', '-U', '-c', '5', '-i', '2', '-I', 'eth0', '--', '192.0.2.10'] },
      { cmd: '/usr/sbin/arping', args: ['-q', '-A', '-c', '5', '-i', '2', '-I', 'eth0', '--', '192.0.2.10'] },
    ]);
    expect(arpingSeconds(200)).toBe(1);
    expect(arpingSeconds(1499)).toBe(1);
    expect(arpingSeconds(1500)).toBe(2);
  });

  it('send_ua: address, prefix, interface', () => {
    expect(senderCommands({ ...a, family: 6, ip: '2001:db8::10', prefix: 64, count: 3 }, { name: 'send_ua', path: '/x/send_ua' })).toEqual([
      { cmd: '/x/send_ua', args: ['-i', '200', '-c', '3', '--', '2001:db8::10', '64', 'eth0'] },
    ]);
  });
});
