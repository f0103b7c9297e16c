import { describe, expect, it } from 'vitest';
import {
  broadcastOf,
  dottedQuadToPrefix,
  formatIPv4,
  formatIPv6,
  inPrefix,
  ipv4FromProcHex,
  ipv6FromHex,
  isLinkLocalIPv6,
  maskBytes,
  networkOf,
  parseIPv4,
  parseIPv6,
  parseIp,
  parsePrefixLength,
  unusableAddress,
} from '../../src/sys/net/inet.js';

const v4 = (s: string) => parseIPv4(s)!;
const v6 = (s: string) => parseIPv6(s)!;

describe('IPv4 parsing', () => {
  it('accepts dotted quads', () => {
    expect(Array.from(v4('192.0.2.10'))).toEqual([192, 0, 2, 10]);
    expect(Array.from(v4('0.0.0.0'))).toEqual([0, 0, 0, 0]);
    expect(Array.from(v4('255.255.255.255'))).toEqual([255, 255, 255, 255]);
  });

  it.each(['256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.04', '1..2.3', '1.2.3.4 ', ' 1.2.3.4', '1.2.3.4;id', '1.2.3.4$(id)', '0x1.2.3.4', '', '1.2.3.-4', '१.2.3.4'])(
    'rejects %j',
    (s) => expect(parseIPv4(s)).toBeUndefined(),
  );
});

describe('IPv6 parsing and RFC 5952 text', () => {
  it.each([
    ['2001:db8::1', '2001:db8::1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:DC28:0:0:FC57:D4C8:1FFF', '2001:db8:dc28::fc57:d4c8:1fff'],
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::1', 'fe80::1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longest run
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // the first of equal runs
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ['0001:0db8::0001', '1:db8::1'],
  ])('%s → %s', (input, text) => {
    const b = parseIPv6(input);
    expect(b).toBeDefined();
    expect(formatIPv6(b!)).toBe(text);
    // What Node's own parser makes of it, as an independent check.
    expect(new URL(`http://[${input}]/`).hostname).toBe(`[${text}]`);
  });

  it.each(['2001:db8:::1', '2001:db8::1::1', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::1', 'fe80::1%eth0', ':1::', '1::2:', 'g::1', '::1.2.3', '2001:db8::1;id', ''])(
    'rejects %j',
    (s) => expect(parseIPv6(s)).toBeUndefined(),
  );
});

describe('parseIp', () => {
  it('chooses the family by the colon, like the heartbeat agent', () => {
    expect(parseIp('192.0.2.1')).toMatchObject({ family: 4, text: '192.0.2.1' });
    expect(parseIp('2001:DB8::A')).toMatchObject({ family: 6, text: '2001:db8::a' });
    expect(parseIp('192.0.2.1:80')).toBeUndefined();
  });

  it('names addresses that cannot be service addresses', () => {
    expect(unusableAddress(parseIp('0.1.2.3')!)).toMatch(/0\.0\.0\.0\/8/);
    expect(unusableAddress(parseIp('224.0.0.1')!)).toMatch(/multicast/);
    expect(unusableAddress(parseIp('255.255.255.255')!)).toMatch(/broadcast/);
    expect(unusableAddress(parseIp('::')!)).toMatch(/unspecified/);
    expect(unusableAddress(parseIp('ff02::1')!)).toMatch(/multicast/);
    expect(unusableAddress(parseIp('192.0.2.1')!)).toBeUndefined();
    expect(unusableAddress(parseIp('127.0.0.2')!)).toBeUndefined();
    expect(unusableAddress(parseIp('2001:db8::1')!)).toBeUndefined();
  });

  it('knows link-local IPv6', () => {
    expect(isLinkLocalIPv6(parseIp('fe80::1')!)).toBe(true);
    expect(isLinkLocalIPv6(parseIp('febf::1')!)).toBe(true);
    expect(isLinkLocalIPv6(parseIp('fec0::1')!)).toBe(false);
    expect(isLinkLocalIPv6(parseIp('2001:db8::1')!)).toBe(false);
  });
});

describe('prefix arithmetic', () => {
  it('builds masks', () => {
    expect(formatIPv4(maskBytes(4, 24))).toBe('255.255.255.0');
    expect(formatIPv4(maskBytes(4, 23))).toBe('255.255.254.0');
    expect(formatIPv4(maskBytes(4, 32))).toBe('255.255.255.255');
    expect(formatIPv4(maskBytes(4, 1))).toBe('128.0.0.0');
    expect(formatIPv6(maskBytes(6, 64))).toBe('ffff:ffff:ffff:ffff::');
    expect(formatIPv6(maskBytes(6, 127))).toBe('ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe');
  });

  it('computes broadcast and network addresses', () => {
    expect(formatIPv4(broadcastOf(v4('192.0.2.10'), 24)!)).toBe('192.0.2.255');
    expect(formatIPv4(broadcastOf(v4('10.1.2.3'), 8)!)).toBe('10.255.255.255');
    expect(formatIPv4(broadcastOf(v4('172.16.5.4'), 22)!)).toBe('172.16.7.255');
    expect(formatIPv4(broadcastOf(v4('192.0.2.9'), 29)!)).toBe('192.0.2.15');
    expect(broadcastOf(v4('192.0.2.10'), 31)).toBeUndefined(); // RFC 3021
    expect(broadcastOf(v4('192.0.2.10'), 32)).toBeUndefined();
    expect(formatIPv4(networkOf(4, v4('172.16.5.4'), 22))).toBe('172.16.4.0');
    expect(formatIPv6(networkOf(6, v6('2001:db8:1:2:3:4:5:6'), 48))).toBe('2001:db8:1::');
  });

  it('tests membership', () => {
    expect(inPrefix(v4('192.0.2.200'), v4('192.0.2.0'), 24)).toBe(true);
    expect(inPrefix(v4('192.0.3.1'), v4('192.0.2.0'), 24)).toBe(false);
    expect(inPrefix(v4('192.0.3.1'), v4('192.0.2.0'), 23)).toBe(true);
    expect(inPrefix(v6('2001:db8:1::10'), v6('2001:db8:1::'), 64)).toBe(true);
    expect(inPrefix(v6('2001:db8:2::10'), v6('2001:db8:1::'), 64)).toBe(false);
    expect(inPrefix(v4('192.0.2.1'), v6('::'), 0)).toBe(false); // families never mix
  });

  it('converts dotted quad netmasks as findif does', () => {
    expect(dottedQuadToPrefix('255.255.255.0')).toBe(24);
    expect(dottedQuadToPrefix('255.255.255.255')).toBe(32);
    expect(dottedQuadToPrefix('255.255.240.0')).toBe(20);
    expect(dottedQuadToPrefix('0.0.0.0')).toBe(0);
    expect(dottedQuadToPrefix('255.0.255.0')).toBeUndefined();
    expect(dottedQuadToPrefix('24')).toBeUndefined();
  });

  it('checks prefix lengths like prefixcheck (1..32 / 1..128, at most 3 digits)', () => {
    expect(parsePrefixLength('24', 4)).toBe(24);
    expect(parsePrefixLength('32', 4)).toBe(32);
    expect(parsePrefixLength('33', 4)).toBeUndefined();
    expect(parsePrefixLength('0', 4)).toBeUndefined();
    expect(parsePrefixLength('128', 6)).toBe(128);
    expect(parsePrefixLength('129', 6)).toBeUndefined();
    expect(parsePrefixLength('0024', 4)).toBeUndefined();
    expect(parsePrefixLength('-1', 4)).toBeUndefined();
    expect(parsePrefixLength('24 ', 4)).toBeUndefined();
  });
});

describe('kernel hex notations', () => {
  it('reads /proc/net/route addresses in host byte order', () => {
    expect(formatIPv4(ipv4FromProcHex('000200C0', true)!)).toBe('192.0.2.0');
    expect(formatIPv4(ipv4FromProcHex('C0000200', false)!)).toBe('192.0.2.0');
    expect(formatIPv4(ipv4FromProcHex('00FFFFFF', true)!)).toBe('255.255.255.0');
    expect(ipv4FromProcHex('xyz', true)).toBeUndefined();
  });

  it('reads /proc/net/if_inet6 addresses', () => {
    expect(formatIPv6(ipv6FromHex('20010db8000000000000000000000001')!)).toBe('2001:db8::1');
    expect(ipv6FromHex('20010db8')).toBeUndefined();
  });
});
