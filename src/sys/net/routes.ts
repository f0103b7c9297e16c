import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { addressBits, inPrefix, ipv4FromProcHex, ipv6FromHex, type Family } from './inet.js';

/**
 * The routing table as the kernel exposes it in /proc (no `ip route` fork):
 * /proc/net/route holds IPv4's main table, /proc/net/ipv6_route every IPv6
 * table (local entries, cache clones and reject routes are dropped here).
 */

export interface Route {
  family: Family;
  dest: Uint8Array;
  prefix: number;
  dev: string;
  /** Reached through a router, not directly on the link. */
  gateway: boolean;
  metric: number;
}

// include/uapi/linux/route.h and ipv6_route.h
const RTF_UP = 0x1;
const RTF_GATEWAY = 0x2;
const RTF_REJECT = 0x200;
const RTF_CACHE = 0x01000000;
const RTF_LOCAL = 0x80000000;

/** /proc/net/route: Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT. */
export function parseProcNetRoute(text: string, littleEndian = endianness() === 'LE'): Route[] {
  const routes: Route[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const flags = Number.parseInt(f[3]!, 16);
    const dest = ipv4FromProcHex(f[1]!, littleEndian);
    const mask = ipv4FromProcHex(f[7]!, littleEndian);
    if (!dest || !mask || !(flags & RTF_UP) || flags & RTF_REJECT) continue;
    const bits = mask.reduce((n, b) => n + popcount(b), 0);
    routes.push({ family: 4, dest, prefix: bits, dev: f[0]!, gateway: (flags & RTF_GATEWAY) !== 0, metric: Number.parseInt(f[6]!, 10) });
  }
  return routes;
}

/** /proc/net/ipv6_route: dest plen src plen nexthop metric refcnt use flags dev (hex). */
export function parseProcIPv6Route(text: string): Route[] {
  const routes: Route[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const flags = Number.parseInt(f[8]!, 16) >>> 0;
    const dest = ipv6FromHex(f[0]!);
    if (!dest || !(flags & RTF_UP) || flags & (RTF_REJECT | RTF_CACHE | RTF_LOCAL)) continue;
    const dev = f[9]!;
    routes.push({ family: 6, dest, prefix: Number.parseInt(f[1]!, 16), dev, gateway: (flags & RTF_GATEWAY) !== 0, metric: Number.parseInt(f[5]!, 16) });
  }
  return routes;
}

function popcount(b: number): number {
  let n = 0;
  for (let x = b; x; x >>= 1) n += x & 1;
  return n;
}

export function readRoutes(family: Family): Route[] {
  try {
    return family === 4 ? parseProcNetRoute(readFileSync('/proc/net/route', 'utf8')) : parseProcIPv6Route(readFileSync('/proc/net/ipv6_route', 'utf8'));
  } catch {
    return []; // no IPv6 in this kernel/namespace: no routes
  }
}

/**
 * findif's choice of interface and prefix for an address: among the routes
 * directly on a link (no gateway) that contain `addr` — and contain
 * addr/prefix when a prefix is given, and are on `nic` when one is given —
 * the most specific wins (the last of equals, as findif's awk picks it).
 * Default routes and host routes are never used: they say nothing about the
 * subnet the address belongs to.
 */
export function connectedRouteFor(routes: Route[], family: Family, addr: Uint8Array, want: { nic?: string; prefix?: number } = {}): Route | undefined {
  let best: Route | undefined;
  for (const r of routes) {
    if (r.family !== family || r.gateway || r.prefix === 0 || r.prefix === addressBits(family)) continue;
    if (want.nic !== undefined && r.dev !== want.nic) continue;
    if (want.prefix !== undefined && r.prefix > want.prefix) continue;
    if (!inPrefix(addr, r.dest, r.prefix)) continue;
    if (!best || r.prefix >= best.prefix) best = r;
  }
  return best;
}
