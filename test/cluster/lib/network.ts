import { existsSync } from 'node:fs';
import { run } from './exec.js';

/**
 * The test bed's private network: 192.0.2.0/24 (TEST-NET-1, RFC 5737: documentation only, never
 * routed). Every run has its own switch namespace, so runs never see each other's packets and the
 * same addresses can be reused; nothing has a default route and no host interface is attached.
 */
export const SUBNET_PREFIX = 24;
export const nodeAddress = (index: number) => `192.0.2.${10 + index}`;
/** The switch's own address on the bridge: a "client" on the cluster's LAN. */
export const CLIENT_ADDRESS = '192.0.2.254';
/** A free address for a floating IP (IPaddr2) in tests. */
export const FLOATING_IP = '192.0.2.100';
export const BRIDGE = 'br0';
/** The node side of each veth pair. */
export const NODE_NIC = 'eth0';

/** A network namespace with a bridge: the cluster's switch. */
export class Switch {
  private constructor(readonly ns: string) {}

  static async create(ns: string): Promise<Switch> {
    await run('ip', ['netns', 'add', ns]);
    const sw = new Switch(ns);
    await sw.ip(['link', 'set', 'lo', 'up']);
    await sw.ip(['link', 'add', BRIDGE, 'type', 'bridge']);
    await sw.ip(['addr', 'add', `${CLIENT_ADDRESS}/${SUBNET_PREFIX}`, 'dev', BRIDGE]);
    await sw.ip(['link', 'set', BRIDGE, 'up']);
    return sw;
  }

  ip(args: string[]) {
    return run('ip', ['-n', this.ns, ...args]);
  }

  /** Creates a node's network namespace and cables it to the bridge: `<port>` here, eth0 there. */
  async plug(port: string, nodeNs: string): Promise<void> {
    await run('ip', ['netns', 'add', nodeNs]);
    await run('ip', ['-n', nodeNs, 'link', 'set', 'lo', 'up']);
    // Created inside the namespaces directly: no name ever appears in the host's namespace.
    await this.ip(['link', 'add', port, 'type', 'veth', 'peer', 'name', NODE_NIC, 'netns', nodeNs]);
    await this.ip(['link', 'set', port, 'master', BRIDGE, 'up']);
  }

  /** Interfaces enslaved to the bridge (for tests that prove nothing else is attached). */
  async ports(): Promise<string[]> {
    const r = await this.ip(['-j', 'link', 'show', 'master', BRIDGE]);
    return (JSON.parse(r.stdout || '[]') as { ifname: string }[]).map((l) => l.ifname);
  }
}

/** A node's NIC: bring it up with its address (power on) or down with every address flushed (power off). */
export async function nicUp(nodeNs: string, address: string): Promise<void> {
  await run('ip', ['-n', nodeNs, 'addr', 'replace', `${address}/${SUBNET_PREFIX}`, 'dev', NODE_NIC]);
  await run('ip', ['-n', nodeNs, 'link', 'set', NODE_NIC, 'up']);
}

export async function nicDown(nodeNs: string): Promise<void> {
  await run('ip', ['-n', nodeNs, 'link', 'set', NODE_NIC, 'down']);
  // A dead node's namespace outlives its processes: without this its kernel would keep answering
  // ARP for the floating IP it held.
  await run('ip', ['-n', nodeNs, 'addr', 'flush', 'dev', NODE_NIC]);
}

export interface IfAddr {
  local: string;
  prefixlen: number;
  family: string;
}

export async function ipv4Addresses(ns: string, dev = NODE_NIC): Promise<IfAddr[]> {
  const r = await run('ip', ['-n', ns, '-j', '-4', 'addr', 'show', 'dev', dev]);
  const links = JSON.parse(r.stdout || '[]') as { addr_info?: IfAddr[] }[];
  return links.flatMap((l) => l.addr_info ?? []);
}

export async function macAddress(ns: string, dev = NODE_NIC): Promise<string> {
  const r = await run('ip', ['-n', ns, '-j', 'link', 'show', 'dev', dev]);
  const mac = (JSON.parse(r.stdout) as { address?: string }[])[0]?.address;
  if (!mac) throw new Error(`no MAC address on ${dev} in ${ns}`);
  return mac;
}

export async function deleteNetns(ns: string): Promise<void> {
  if (existsSync(`/run/netns/${ns}`)) await run('ip', ['netns', 'del', ns]);
}
