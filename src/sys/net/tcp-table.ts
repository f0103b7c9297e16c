import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { formatIPv4, formatIPv6, type Family } from './inet.js';

/**
 * Established TCP connections from the kernel's tables (/proc/net/tcp, /proc/net/tcp6 of the caller's
 * network namespace): read, never a fork (`ss`), so a monitor can record them every interval.
 * Addresses there are hex words in host byte order (x86: little-endian); an IPv4 peer of an IPv6
 * socket shows as ::ffff:a.b.c.d and is given as IPv4 here.
 */
export interface TcpConnection {
  family: Family;
  local: string;
  localPort: number;
  remote: string;
  remotePort: number;
}

const ESTABLISHED = '01';

/** 32-bit words as the kernel prints them ("%08X" of the in-memory word) back to network-order bytes. */
function wordsToBytes(hex: string): Uint8Array | undefined {
  if (!/^[0-9A-Fa-f]+$/.test(hex) || hex.length % 8 !== 0) return undefined;
  const out = new Uint8Array(hex.length / 2);
  const le = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
  for (let w = 0; w < hex.length / 8; w++) {
    const word = hex.slice(w * 8, w * 8 + 8);
    for (let i = 0; i < 4; i++) {
      const byte = Number.parseInt(word.slice(i * 2, i * 2 + 2), 16);
      out[w * 4 + (le ? 3 - i : i)] = byte;
    }
  }
  return out;
}

function endpoint(text: string): { family: Family; address: string; port: number } | undefined {
  const [hex, port] = text.split(':');
  const bytes = hex ? wordsToBytes(hex) : undefined;
  const p = port !== undefined && /^[0-9A-Fa-f]{4}$/.test(port) ? Number.parseInt(port, 16) : undefined;
  if (!bytes || p === undefined) return undefined;
  if (bytes.length === 4) return { family: 4, address: formatIPv4(bytes), port: p };
  if (bytes.length !== 16) return undefined;
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? { family: 4, address: formatIPv4(bytes.slice(12)), port: p } : { family: 6, address: formatIPv6(bytes), port: p };
}

/** The ESTABLISHED rows of one /proc/net/tcp or tcp6 text. */
export function parseTcpTable(text: string): TcpConnection[] {
  const out: TcpConnection[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || f[3] !== ESTABLISHED) continue;
    const l = endpoint(f[1]!);
    const r = endpoint(f[2]!);
    if (!l || !r || l.family !== r.family) continue;
    out.push({ family: l.family, local: l.address, localPort: l.port, remote: r.address, remotePort: r.port });
  }
  return out;
}

/** Established connections to one of `addresses` (canonical text) on `port`, IPv4 and IPv6, sorted. */
export function establishedTo(addresses: readonly string[], port: number, procNet = '/proc/net'): TcpConnection[] {
  const want = new Set(addresses);
  const rows: TcpConnection[] = [];
  for (const file of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`${procNet}/${file}`, 'utf8');
    } catch {
      continue; // no IPv6 in this kernel or namespace
    }
    rows.push(...parseTcpTable(text).filter((c) => c.localPort === port && want.has(c.local)));
  }
  const key = (c: TcpConnection) => `${c.local} ${c.localPort} ${c.remote} ${c.remotePort}`;
  return [...new Map(rows.map((c) => [key(c), c])).values()].sort((a, b) => key(a).localeCompare(key(b)));
}

/**
 * One line per connection, as resource-agents' tickle_tcp reads them: "local:port remote:port". It
 * splits at the last colon, IPv6 without brackets (it refuses "[fd00::1]:2049", measured).
 */
export function tickleLines(conns: readonly TcpConnection[]): string {
  return conns.map((c) => `${c.local}:${c.localPort} ${c.remote}:${c.remotePort}\n`).join('');
}

/** The lines of a saved list that are well-formed connections to one of `addresses` on `port` (the rest is dropped). */
export function parseTickleLines(text: string, addresses: readonly string[], port: number): string {
  const want = new Set(addresses);
  const ok = (ep: string) => {
    const i = ep.lastIndexOf(':');
    const addr = ep.slice(0, i);
    const p = Number(ep.slice(i + 1));
    return i > 0 && /^\d{1,5}$/.test(ep.slice(i + 1)) && p > 0 && p < 65536 && (isIP(addr) === 4 || isIP(addr) === 6) ? { addr, p } : undefined;
  };
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const [l, r, extra] = line.trim().split(/\s+/);
    if (!l || !r || extra !== undefined) continue;
    const local = ok(l);
    const remote = ok(r);
    if (local && remote && want.has(local.addr) && local.p === port && isIP(local.addr) === isIP(remote.addr)) out.push(`${l} ${r}\n`);
  }
  return [...new Set(out)].join('');
}
