/**
 * IPv4/IPv6 addresses as bytes: parsing (strict, so no value reaches `ip`
 * that it would read differently), canonical text (RFC 5952 for IPv6) and
 * prefix arithmetic. Pure functions, no I/O.
 */

export type Family = 4 | 6;

export interface IpAddress {
  family: Family;
  bytes: Uint8Array;
  /** Canonical text: dotted quad, or RFC 5952 (lower case, longest zero run as ::). */
  text: string;
}

export const addressBits = (family: Family) => (family === 4 ? 32 : 128);

/**
 * Dotted quad, each part 0–255 without leading zeros: iproute2 and inet_aton
 * read "010" as octal 8, so such a value would not mean what the admin wrote.
 */
export function parseIPv4(s: string): Uint8Array | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

/** Colon-hex with at most one "::" and an optional dotted-quad tail; no zone index (%eth0). */
export function parseIPv6(s: string): Uint8Array | undefined {
  if (!/^[0-9A-Fa-f:.]+$/.test(s)) return undefined;
  let tail: Uint8Array | undefined;
  let text = s;
  if (s.includes('.')) {
    const cut = s.lastIndexOf(':');
    tail = parseIPv4(s.slice(cut + 1));
    if (!tail) return undefined;
    text = `${s.slice(0, cut + 1)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  const total = head.length + rest.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined;
  const all = [...head, ...Array<string>(8 - total).fill('0'), ...rest];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = all[i]!;
    if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return undefined;
    const v = Number.parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  }
  if (tail) out.set(tail, 12);
  return out;
}

export function formatIPv4(b: Uint8Array): string {
  return Array.from(b.subarray(0, 4)).join('.');
}

export function formatIPv6(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[2 * i]! << 8) | b[2 * i + 1]!);
  // RFC 5952 4.2: the longest run of two or more zero groups, the first one on a tie.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

export function formatIp(family: Family, b: Uint8Array): string {
  return family === 4 ? formatIPv4(b) : formatIPv6(b);
}

/** Family by the same rule as the heartbeat agent (a colon means IPv6), then strict syntax. */
export function parseIp(s: string): IpAddress | undefined {
  const family: Family = s.includes(':') ? 6 : 4;
  const bytes = family === 4 ? parseIPv4(s) : parseIPv6(s);
  return bytes ? { family, bytes, text: formatIp(family, bytes) } : undefined;
}

/** Why an address cannot be a service address (undefined: it can). */
export function unusableAddress(a: IpAddress): string | undefined {
  const b = a.bytes;
  if (a.family === 4) {
    if (b[0] === 0) return 'addresses in 0.0.0.0/8 cannot be assigned';
    if (b[0]! >= 224 && b[0]! <= 239) return 'is a multicast address';
    if (b.every((x) => x === 255)) return 'is the limited broadcast address';
    return undefined;
  }
  if (b.every((x) => x === 0)) return 'is the unspecified address';
  if (b[0] === 0xff) return 'is a multicast address';
  return undefined;
}

export const isLinkLocalIPv6 = (a: IpAddress) => a.family === 6 && a.bytes[0] === 0xfe && (a.bytes[1]! & 0xc0) === 0x80;
export const isLoopback = (a: IpAddress) => (a.family === 4 ? a.bytes[0] === 127 : a.bytes.every((x, i) => x === (i === 15 ? 1 : 0)));

export function maskBytes(family: Family, prefix: number): Uint8Array {
  const out = new Uint8Array(family === 4 ? 4 : 16);
  for (let i = 0; i < out.length; i++) {
    const bits = Math.max(0, Math.min(8, prefix - 8 * i));
    out[i] = bits === 0 ? 0 : (0xff << (8 - bits)) & 0xff;
  }
  return out;
}

export function networkOf(family: Family, addr: Uint8Array, prefix: number): Uint8Array {
  const m = maskBytes(family, prefix);
  return addr.map((x, i) => x & m[i]!);
}

/** The all-ones host part. No broadcast exists for /31 (RFC 3021) and /32. */
export function broadcastOf(addr: Uint8Array, prefix: number): Uint8Array | undefined {
  if (prefix >= 31) return undefined;
  const m = maskBytes(4, prefix);
  return addr.map((x, i) => (x & m[i]!) | (~m[i]! & 0xff));
}

/** Does `addr` lie in `net`/`prefix`? */
export function inPrefix(addr: Uint8Array, net: Uint8Array, prefix: number): boolean {
  if (addr.length !== net.length) return false;
  const m = maskBytes(addr.length === 4 ? 4 : 6, prefix);
  return addr.every((x, i) => (x & m[i]!) === (net[i]! & m[i]!));
}

export function sameAddress(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** 255.255.255.0 → 24, as findif still accepts it (with a warning); undefined for anything else. */
export function dottedQuadToPrefix(s: string): number | undefined {
  const b = parseIPv4(s);
  if (!b) return undefined;
  const n = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  for (let p = 0; p <= 32; p++) {
    const m = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
    if (m === n) return p;
  }
  return undefined;
}

/** A prefix length as findif's prefixcheck takes it: 1–3 digits, 1..32 or 1..128. */
export function parsePrefixLength(s: string, family: Family): number | undefined {
  if (!/^\d{1,3}$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 1 && n <= addressBits(family) ? n : undefined;
}

/** 32 hex digits (network order), as /proc/net/if_inet6 and /proc/net/ipv6_route print them. */
export function ipv6FromHex(hex: string): Uint8Array | undefined {
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) return undefined;
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * 8 hex digits from /proc/net/route: the kernel prints the network-order
 * 32-bit value as a host integer, so on little-endian machines the bytes
 * come out reversed.
 */
export function ipv4FromProcHex(hex: string, littleEndian: boolean): Uint8Array | undefined {
  if (!/^[0-9a-fA-F]{8}$/.test(hex)) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return littleEndian ? out.reverse() : out;
}
