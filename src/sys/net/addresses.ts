import { readFileSync } from 'node:fs';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import type { Deadline } from '../../ocf/deadline.js';
import { fail } from '../../ocf/exit-codes.js';
import type { Runner } from '../../ocf/run.js';
import { formatIPv6, ipv6FromHex, parseIp, parsePrefixLength, sameAddress, type Family, type IpAddress } from './inet.js';
import { readLink } from './links.js';

/**
 * Addresses on interfaces. IPv6 ones are listed by the kernel in
 * /proc/net/if_inet6 (read, no fork). IPv4 has no such file; getifaddrs(3)
 * (a netlink dump, through os.networkInterfaces()) answers without a fork
 * while the link runs, and `ip -json -4 addr show dev <nic>` otherwise.
 */

export interface IfAddress {
  family: Family;
  address: Uint8Array;
  text: string;
  prefix: number;
  dev: string;
  label?: string;
  /** IPv6: duplicate address detection still running. */
  tentative: boolean;
  /** IPv6: duplicate address detection found another node with this address. */
  dadFailed: boolean;
}

// include/uapi/linux/if_addr.h
const IFA_F_DADFAILED = 0x08;
const IFA_F_TENTATIVE = 0x40;

/** /proc/net/if_inet6: address ifindex prefixlen scope flags devname (hex). */
export function parseIfInet6(text: string): IfAddress[] {
  const out: IfAddress[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6) continue;
    const address = ipv6FromHex(f[0]!);
    if (!address) continue;
    const flags = Number.parseInt(f[4]!, 16);
    out.push({
      family: 6,
      address,
      text: formatIPv6(address),
      prefix: Number.parseInt(f[2]!, 16),
      dev: f[5]!,
      tentative: (flags & IFA_F_TENTATIVE) !== 0,
      dadFailed: (flags & IFA_F_DADFAILED) !== 0,
    });
  }
  return out;
}

export function readIPv6Addresses(path = '/proc/net/if_inet6'): IfAddress[] {
  try {
    return parseIfInet6(readFileSync(path, 'utf8'));
  } catch {
    return []; // IPv6 disabled: no addresses
  }
}

interface IpJsonAddrInfo {
  family?: string;
  local?: string;
  prefixlen?: number;
  label?: string;
  tentative?: boolean;
  dadfailed?: boolean;
}

/** The output of `ip -json addr show`: one object per link, its addresses in addr_info. */
export function parseIpJsonAddresses(json: string): IfAddress[] {
  const out: IfAddress[] = [];
  let links: Array<{ ifname?: string; addr_info?: IpJsonAddrInfo[] }>;
  try {
    links = JSON.parse(json || '[]');
  } catch {
    throw fail.generic('ip -json addr show: output is not JSON');
  }
  for (const link of Array.isArray(links) ? links : []) {
    for (const a of link.addr_info ?? []) {
      if ((a.family !== 'inet' && a.family !== 'inet6') || !a.local || typeof a.prefixlen !== 'number') continue;
      const ip = parseIp(a.local);
      if (!ip) continue;
      out.push({
        family: ip.family,
        address: ip.bytes,
        text: ip.text,
        prefix: a.prefixlen,
        dev: link.ifname ?? '',
        label: a.label,
        tentative: a.tentative === true,
        dadFailed: a.dadfailed === true,
      });
    }
  }
  return out;
}

/** The IPv4 addresses on `dev`: the one fork a monitor of an IPv4 address makes. */
export async function listIPv4Addresses(run: Runner, dev: string): Promise<IfAddress[]> {
  const r = await run('ip', ['-json', '-4', 'addr', 'show', 'dev', dev], { check: false });
  if (r.code !== 0) return []; // the device vanished between our check and ip's
  return parseIpJsonAddresses(r.stdout);
}

type Ifaddrs = NodeJS.Dict<NetworkInterfaceInfo[]>;

/**
 * IPv4 addresses on `dev` from getifaddrs(3), or undefined when that cannot
 * tell. Two quirks decide how far it can be trusted: IPv4 entries carry the
 * address's label as their name ("eth0:vip"), and libuv lists only links
 * that are up and running — so the caller uses this only for a running
 * link, and a label that names no interface (labels need not start with
 * the device name) makes the answer ambiguous.
 */
export function ipv4AddressesFromIfaddrs(dev: string, ifaces: Ifaddrs = networkInterfaces(), isInterface: (name: string) => boolean = (n) => readLink(n) !== undefined): IfAddress[] | undefined {
  const out: IfAddress[] = [];
  for (const [name, list] of Object.entries(ifaces)) {
    const v4 = (list ?? []).filter((a) => a.family === 'IPv4' || (a.family as unknown) === 4);
    if (v4.length === 0) continue;
    const base = name.split(':')[0]!;
    if (base !== dev) {
      if (isInterface(base)) continue; // another interface's addresses
      return undefined; // a label we cannot place
    }
    for (const a of v4) {
      const ip = parseIp(a.address);
      const prefix = a.cidr ? Number(a.cidr.slice(a.cidr.indexOf('/') + 1)) : undefined;
      if (!ip || prefix === undefined || !Number.isInteger(prefix) || parsePrefixLength(String(prefix), 4) === undefined) return undefined;
      out.push({ family: 4, address: ip.bytes, text: ip.text, prefix, dev, label: name, tentative: false, dadFailed: false });
    }
  }
  return out;
}

/**
 * Addresses of `family` on `dev`: IPv6 from /proc; IPv4 from getifaddrs
 * when the link runs (no fork: what a monitor of a healthy address costs),
 * else from one `ip` call.
 */
export async function addressesOn(run: Runner, family: Family, dev: string): Promise<IfAddress[]> {
  if (family === 6) return readIPv6Addresses().filter((a) => a.dev === dev);
  const link = readLink(dev);
  if (link?.adminUp && link.running) {
    const fast = ipv4AddressesFromIfaddrs(dev);
    if (fast) return fast;
  }
  return listIPv4Addresses(run, dev);
}

export const findAddress = (list: IfAddress[], ip: IpAddress) => list.filter((a) => a.family === ip.family && sameAddress(a.address, ip.bytes));

export interface AddSpec {
  ip: IpAddress;
  prefix: number;
  dev: string;
  /** IPv4 only. */
  broadcast?: string;
  /** IPv4 only: the full label, "<dev>:<label>". */
  label?: string;
  /** IPv6 only: "forever" or seconds. */
  preferredLft?: string;
  nodad?: boolean;
  noprefixroute?: boolean;
}

export function addArgs(s: AddSpec): string[] {
  const args = [`-${s.ip.family === 4 ? '4' : '6'}`, 'addr', 'add', `${s.ip.text}/${s.prefix}`];
  if (s.ip.family === 4 && s.broadcast) args.push('brd', s.broadcast);
  args.push('dev', s.dev);
  if (s.ip.family === 4 && s.label) args.push('label', s.label);
  if (s.ip.family === 6 && s.preferredLft) args.push('preferred_lft', s.preferredLft);
  if (s.ip.family === 6 && s.nodad) args.push('nodad');
  if (s.noprefixroute) args.push('noprefixroute');
  return args;
}

export async function addAddress(run: Runner, s: AddSpec): Promise<void> {
  await run('ip', addArgs(s));
}

export async function deleteAddress(run: Runner, ip: IpAddress, prefix: number, dev: string): Promise<void> {
  await run('ip', [`-${ip.family === 4 ? '4' : '6'}`, 'addr', 'del', `${ip.text}/${prefix}`, 'dev', dev]);
}

export type DadResult = 'done' | 'failed' | 'gone';

/**
 * IPv6 duplicate address detection: the kernel marks a new address
 * tentative until its neighbour solicitations went unanswered, dadfailed if
 * another node answered. Polled from /proc/net/if_inet6, bounded by the op
 * deadline.
 */
export async function waitForDad(deadline: Deadline, ip: IpAddress, dev: string, read: () => IfAddress[] = readIPv6Addresses): Promise<DadResult> {
  return deadline.until(
    `duplicate address detection for ${ip.text} on ${dev}`,
    () => {
      const a = findAddress(read(), ip).find((x) => x.dev === dev);
      if (!a) return 'gone';
      if (a.dadFailed) return 'failed';
      return a.tentative ? undefined : 'done';
    },
    { intervalMs: 100 },
  );
}
