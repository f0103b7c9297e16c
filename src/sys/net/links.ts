import { readFileSync } from 'node:fs';
import type { Runner } from '../../ocf/run.js';

/** Network interfaces as /sys/class/net shows them: no fork needed to know a link's state. */

export const SYS_CLASS_NET = '/sys/class/net';

// include/uapi/linux/if.h
const IFF_UP = 0x1;
const IFF_LOOPBACK = 0x8;
const IFF_NOARP = 0x80;
// include/uapi/linux/if_arp.h
export const ARPHRD_ETHER = 1;

/**
 * The kernel's own rule (dev_valid_name): 1–15 bytes, not "." or "..", no
 * "/", ":" or whitespace. Anything else about the name is data: it only
 * ever travels as one argument of `ip`, never through a shell.
 */
export function interfaceNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (Buffer.byteLength(name) > 15) return 'is longer than 15 bytes (IFNAMSIZ)';
  if (name === '.' || name === '..') return 'is not an interface name';
  if (/[/:\s]/.test(name)) return 'contains "/", ":" or white space';
  if (/[\x00-\x1f\x7f]/.test(name)) return 'contains control characters';
  return undefined;
}

export interface LinkState {
  name: string;
  ifindex: number;
  flags: number;
  /** Administratively up (IFF_UP). */
  adminUp: boolean;
  /**
   * Carrier present: /sys/…/carrier, set by the driver at once. (operstate
   * follows it through the kernel's linkwatch work, up to a second later;
   * the flags file shows no IFF_LOWER_UP: netlink adds that bit.)
   */
  carrier: boolean;
  /** RFC 2863 state: up, down, lowerlayerdown, dormant, unknown (no carrier detection: dummy, lo), … */
  operstate: string;
  /** IFF_RUNNING as netlink reports it: operstate up or unknown (follows the carrier through linkwatch). */
  running: boolean;
  /** ARPHRD_* hardware type. */
  type: number;
  mac: string;
  loopback: boolean;
  noarp: boolean;
}

const read = (dir: string, file: string) => readFileSync(`${dir}/${file}`, 'utf8').trim();

/** The link's state, or undefined when no interface of that name exists (in this namespace). */
export function readLink(name: string, root = SYS_CLASS_NET): LinkState | undefined {
  if (interfaceNameProblem(name)) return undefined;
  const dir = `${root}/${name}`;
  let flags: number;
  try {
    flags = Number.parseInt(read(dir, 'flags'), 16);
  } catch {
    return undefined;
  }
  const safe = (file: string) => {
    try {
      return read(dir, file);
    } catch {
      return '';
    }
  };
  const operstate = safe('operstate');
  return {
    name,
    ifindex: Number.parseInt(safe('ifindex'), 10),
    flags,
    adminUp: (flags & IFF_UP) !== 0,
    // Reading carrier fails (EINVAL) while the link is administratively down.
    carrier: safe('carrier') === '1',
    operstate,
    running: operstate === 'up' || operstate === 'unknown',
    type: Number.parseInt(safe('type'), 10),
    mac: safe('address'),
    loopback: (flags & IFF_LOOPBACK) !== 0,
    noarp: (flags & IFF_NOARP) !== 0,
  };
}

/**
 * Why a link cannot carry the address (undefined: it can): administratively
 * down, no carrier, or an RFC 2863 state that says it waits for something
 * (dormant: e.g. 802.1X; notpresent; testing). Drivers without carrier
 * detection (dummy, loopback) always report a carrier.
 */
export function linkProblem(link: LinkState): string | undefined {
  if (!link.adminUp) return `${link.name} is administratively down`;
  if (!link.carrier) return `${link.name} has no carrier`;
  if (['dormant', 'notpresent', 'testing'].includes(link.operstate)) return `${link.name} is not operational (operstate ${link.operstate})`;
  return undefined;
}

/** Gratuitous ARP and unsolicited NA only make sense on Ethernet links that do ARP/ND. */
export const announcesOn = (link: LinkState) => link.type === ARPHRD_ETHER && !link.noarp && !link.loopback;

export async function setLinkUp(run: Runner, name: string): Promise<void> {
  await run('ip', ['link', 'set', 'dev', name, 'up']);
}
