/**
 * Network test beds in network namespaces that the test creates itself —
 * never the host's interfaces (see the testing rules in the brief).
 *
 *   const bed = new NetTestbed();
 *   const node = bed.namespace('node');          // ip netns add, lo up
 *   const peer = bed.namespace('peer');
 *   bed.veth({ ns: node, ifname: 'eth0' }, { ns: peer, ifname: 'eth0' });
 *   node.ip(['addr', 'add', '192.0.2.1/24', 'dev', 'eth0']);
 *   const cap = await bed.capture({ ns: peer, ifname: 'eth0' }, ['arp']);
 *   ... runAgent('IPaddr2', 'start', { netns: node.name, ... }) ...
 *   const packets = await cap.stop();            // decoded from the pcap file: Packet[] with .arp / .icmp6
 *   await bed.cleanup();                          // in afterAll/afterEach: captures (by PID), then namespaces
 *
 * `cap.waitFor(pred)` polls the packets while tcpdump runs; `cap.text()` is
 * tcpdump's own rendering, for assertion messages. Timestamps (`Packet.time`)
 * are the capture's, so spacing can be asserted from the wire.
 *
 * A LAN of several nodes: `bed.lan(['a', 'b'])` makes a "switch" namespace
 * with a bridge and one namespace per node, each with an `eth0` port on it.
 *
 * Names are unique per test process (uniqueName), so helpers running tests
 * at the same time never collide. Interface names must stay ≤ 15 bytes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { have, sh, uniqueName } from './system.js';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

interface ExecOptions {
  allowFail?: boolean;
  input?: string;
  timeoutMs?: number;
}

/** Fails loudly (not a skip) when a tool the test bed needs is missing. */
export function requireTools(...tools: string[]): void {
  const missing = tools.filter((t) => !have(t));
  if (missing.length) throw new Error(`missing tools for the network test bed: ${missing.join(', ')} (the test script installs iproute2, tcpdump, iputils-arping, resource-agents)`);
  if (process.getuid?.() !== 0) throw new Error('network namespace tests need root');
}

/** One network namespace. All methods run inside it; nothing touches the host's interfaces. */
export class Netns {
  private constructor(readonly name: string) {}

  /** Creates `<prefix><unique>` with its loopback up. */
  static create(prefix = 'ns'): Netns {
    const ns = new Netns(uniqueName(prefix));
    sh('ip', ['netns', 'add', ns.name]);
    ns.ip(['link', 'set', 'lo', 'up']);
    return ns;
  }

  /** Runs a command inside the namespace (argument array, no shell); throws on failure unless allowFail. */
  exec(cmd: string, args: string[] = [], opts: ExecOptions = {}): ExecResult {
    return sh('ip', ['netns', 'exec', this.name, cmd, ...args], opts);
  }

  /** `ip -n <ns> …` */
  ip(args: string[], opts: ExecOptions = {}): ExecResult {
    return sh('ip', ['-n', this.name, ...args], opts);
  }

  /** `ip -json …` parsed. */
  ipJson<T = unknown>(args: string[]): T {
    return JSON.parse(this.ip(['-json', ...args]).stdout || '[]') as T;
  }

  /** A file as this namespace sees it (/proc/net/*, /sys/class/net/* are per namespace). */
  readFile(path: string): string {
    return this.exec('cat', [path]).stdout;
  }

  mac(ifname: string): string {
    return this.readFile(`/sys/class/net/${ifname}/address`).trim();
  }

  /**
   * Sets a sysctl of this namespace ("net.ipv4.neigh.eth0.locktime", or the
   * path form "net/ipv4/conf/eth0.100/arp_accept" for names with dots) by
   * writing /proc/sys from inside it: no dependency on procps.
   */
  sysctl(key: string, value: string | number): void {
    const path = `/proc/sys/${key.includes('/') ? key : key.replace(/\./g, '/')}`;
    this.exec('tee', [path], { input: `${value}\n` });
  }

  /** Adds an address; `nodad` for IPv6 so it is usable at once (no duplicate address detection wait). */
  addAddress(ifname: string, cidr: string, opts: { nodad?: boolean } = {}): void {
    this.ip(['addr', 'add', cidr, 'dev', ifname, ...(opts.nodad && cidr.includes(':') ? ['nodad'] : [])]);
  }

  exists(): boolean {
    return sh('ip', ['netns', 'list'], { allowFail: true }).stdout.split('\n').some((l) => l.split(' ')[0] === this.name);
  }

  /** Deletes the namespace (its veth ends go with it, and their peers). Idempotent. */
  destroy(): void {
    if (this.exists()) sh('ip', ['netns', 'del', this.name], { allowFail: true });
  }
}

export interface Endpoint {
  ns: Netns;
  ifname: string;
}

/** A veth pair between two namespaces, both ends up unless `up: false`. */
export function vethPair(a: Endpoint, b: Endpoint, opts: { up?: boolean } = {}): void {
  sh('ip', ['link', 'add', a.ifname, 'netns', a.ns.name, 'type', 'veth', 'peer', 'name', b.ifname, 'netns', b.ns.name]);
  if (opts.up !== false) {
    a.ns.ip(['link', 'set', a.ifname, 'up']);
    b.ns.ip(['link', 'set', b.ifname, 'up']);
  }
}

/** A tcpdump running on one interface of a namespace, writing a pcap file. */
export class Capture {
  private exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly pid: number,
    readonly file: string,
    private readonly dir: string,
  ) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
  }

  /**
   * Starts `tcpdump -i <ifname> -U -w <file> <filter…>` inside the namespace
   * and resolves once it is listening (so no packet sent after this is missed).
   * `--immediate-mode`: without it libpcap hands packets over in blocks that
   * close on a timeout of up to a second, and a capture stopped before then
   * silently loses the last packets ("received by filter" but not "captured").
   * `-Z root`: Debian's tcpdump otherwise drops to user tcpdump, which cannot
   * write into our private temporary directory.
   */
  static async start(ep: Endpoint, filter: string[] = [], opts: { readyTimeoutMs?: number } = {}): Promise<Capture> {
    const dir = mkdtempSync(join(tmpdir(), 'ocfkit-cap-'));
    const file = join(dir, 'capture.pcap');
    const child = spawn('ip', ['netns', 'exec', ep.ns.name, 'tcpdump', '-i', ep.ifname, '--immediate-mode', '-U', '-n', '-Z', 'root', '-w', file, ...filter], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`tcpdump on ${ep.ns.name}/${ep.ifname} did not start listening: ${stderr.trim()}`));
      }, opts.readyTimeoutMs ?? 10_000);
      child.stderr!.on('data', (b: Buffer) => {
        stderr += b.toString();
        if (stderr.includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`tcpdump exited (${code}) before listening: ${stderr.trim()}`));
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    // `ip netns exec` execs tcpdump in place: this PID is tcpdump's.
    return new Capture(child, child.pid!, file, dir);
  }

  /** Packets written so far (tcpdump -U writes each one as it arrives). */
  packets(): Packet[] {
    let data: Buffer;
    try {
      data = readFileSync(this.file);
    } catch {
      return [];
    }
    return parsePcap(data);
  }

  /** Polls until `pred(packets)` holds; returns the packets, or throws after `timeoutMs`. */
  async waitFor(pred: (p: Packet[]) => boolean, timeoutMs = 10_000): Promise<Packet[]> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const p = this.packets();
      if (pred(p)) return p;
      if (Date.now() > end) throw new Error(`capture ${this.file}: condition not met within ${timeoutMs} ms; have ${p.length} packets:\n${this.text()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Human-readable dump (tcpdump -r), for assertion messages. */
  text(): string {
    return sh('tcpdump', ['-r', this.file, '-n', '-e', '-tt'], { allowFail: true }).stdout;
  }

  /**
   * Stops tcpdump (SIGINT: it flushes and exits; SIGKILL after 5 s) and
   * returns every packet it captured. `settleMs` first lets packets already
   * on the wire reach the file.
   */
  async stop(settleMs = 200): Promise<Packet[]> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      await new Promise((r) => setTimeout(r, settleMs));
      try {
        process.kill(this.pid, 'SIGINT');
      } catch {
        // already gone
      }
      const killer = setTimeout(() => {
        try {
          process.kill(this.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }, 5000);
      await this.exited;
      clearTimeout(killer);
    }
    return this.packets();
  }

  /** Stops tcpdump if needed and removes the pcap file. */
  async dispose(): Promise<void> {
    await this.stop(0);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Tracks everything a test creates, so that cleanup() removes it even when the test failed. */
export class NetTestbed {
  private readonly namespaces: Netns[] = [];
  private readonly captures: Capture[] = [];

  constructor() {
    requireTools('ip', 'tcpdump');
  }

  namespace(prefix = 'ns'): Netns {
    const ns = Netns.create(prefix);
    this.namespaces.push(ns);
    return ns;
  }

  veth(a: Endpoint, b: Endpoint, opts: { up?: boolean } = {}): void {
    vethPair(a, b, opts);
  }

  /**
   * A switched LAN: a namespace holding bridge `br0`, and per node a
   * namespace whose `eth0` is a port of that bridge.
   */
  lan(nodes: string[]): { switch: Netns; bridge: string; nodes: Record<string, Netns> } {
    const sw = this.namespace('sw');
    sw.ip(['link', 'add', 'br0', 'type', 'bridge']);
    sw.ip(['link', 'set', 'br0', 'up']);
    const out: Record<string, Netns> = {};
    nodes.forEach((node, i) => {
      const ns = this.namespace(node.slice(0, 4));
      const port = `p${i}`;
      vethPair({ ns, ifname: 'eth0' }, { ns: sw, ifname: port });
      sw.ip(['link', 'set', port, 'master', 'br0']);
      out[node] = ns;
    });
    return { switch: sw, bridge: 'br0', nodes: out };
  }

  async capture(ep: Endpoint, filter: string[] = []): Promise<Capture> {
    const c = await Capture.start(ep, filter);
    this.captures.push(c);
    return c;
  }

  /** Stops every capture (by its PID) and deletes every namespace. Safe to call twice. */
  async cleanup(): Promise<void> {
    for (const c of this.captures.splice(0)) await c.dispose().catch(() => undefined);
    for (const ns of this.namespaces.splice(0).reverse()) ns.destroy();
  }
}

// ---------------------------------------------------------------------------
// pcap decoding: just what announcement tests need (Ethernet, ARP, ICMPv6 ND).

export interface ArpInfo {
  op: 'request' | 'reply' | number;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}

export interface Icmp6Info {
  type: number;
  src: string;
  dst: string;
  hopLimit: number;
  /** Neighbour solicitation/advertisement target. */
  target?: string;
  /** Neighbour advertisement flags. */
  router?: boolean;
  solicited?: boolean;
  override?: boolean;
  /** Source (NS) or target (NA) link-layer address option. */
  lla?: string;
}

export interface Packet {
  /** Capture timestamp, seconds since the epoch (from the pcap record, not the test's clock). */
  time: number;
  srcMac: string;
  dstMac: string;
  ethertype: number;
  arp?: ArpInfo;
  icmp6?: Icmp6Info;
}

export const ICMP6_NEIGHBOR_SOLICIT = 135;
export const ICMP6_NEIGHBOR_ADVERT = 136;

const macAt = (b: Buffer, o: number) => Array.from(b.subarray(o, o + 6), (x) => x.toString(16).padStart(2, '0')).join(':');
const ipv4At = (b: Buffer, o: number) => Array.from(b.subarray(o, o + 4)).join('.');
/** Canonical IPv6 text via the WHATWG URL parser (RFC 5952 compression), independent of the code under test. */
const ipv6At = (b: Buffer, o: number) => {
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(b.readUInt16BE(o + 2 * i).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
};

export function parsePcap(data: Buffer): Packet[] {
  if (data.length < 24) return [];
  const magicLE = data.readUInt32LE(0);
  let le: boolean;
  let nano: boolean;
  if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) {
    le = true;
    nano = magicLE === 0xa1b23c4d;
  } else {
    const magicBE = data.readUInt32BE(0);
    if (magicBE !== 0xa1b2c3d4 && magicBE !== 0xa1b23c4d) throw new Error('not a pcap file');
    le = false;
    nano = magicBE === 0xa1b23c4d;
  }
  const u32 = (o: number) => (le ? data.readUInt32LE(o) : data.readUInt32BE(o));
  const linktype = u32(20);
  if (linktype !== 1) throw new Error(`pcap link type ${linktype} is not Ethernet`);
  const out: Packet[] = [];
  for (let o = 24; o + 16 <= data.length; ) {
    const sec = u32(o);
    const frac = u32(o + 4);
    const incl = u32(o + 8);
    if (o + 16 + incl > data.length) break; // a record still being written
    const pkt = decodeEthernet(data.subarray(o + 16, o + 16 + incl), sec + frac / (nano ? 1e9 : 1e6));
    if (pkt) out.push(pkt);
    o += 16 + incl;
  }
  return out;
}

function decodeEthernet(f: Buffer, time: number): Packet | undefined {
  if (f.length < 14) return undefined;
  let type = f.readUInt16BE(12);
  let off = 14;
  if (type === 0x8100 && f.length >= 18) {
    type = f.readUInt16BE(16);
    off = 18;
  }
  const p: Packet = { time, dstMac: macAt(f, 0), srcMac: macAt(f, 6), ethertype: type };
  if (type === 0x0806 && f.length >= off + 28 && f.readUInt16BE(off + 2) === 0x0800) {
    const op = f.readUInt16BE(off + 6);
    p.arp = {
      op: op === 1 ? 'request' : op === 2 ? 'reply' : op,
      senderMac: macAt(f, off + 8),
      senderIp: ipv4At(f, off + 14),
      targetMac: macAt(f, off + 18),
      targetIp: ipv4At(f, off + 24),
    };
  } else if (type === 0x86dd && f.length >= off + 40 && f[off + 6] === 58 && f.length >= off + 44) {
    const icmp = off + 40;
    const info: Icmp6Info = { type: f[icmp]!, src: ipv6At(f, off + 8), dst: ipv6At(f, off + 24), hopLimit: f[off + 7]! };
    if ((info.type === ICMP6_NEIGHBOR_SOLICIT || info.type === ICMP6_NEIGHBOR_ADVERT) && f.length >= icmp + 24) {
      info.target = ipv6At(f, icmp + 8);
      if (info.type === ICMP6_NEIGHBOR_ADVERT) {
        const flags = f[icmp + 4]!;
        info.router = (flags & 0x80) !== 0;
        info.solicited = (flags & 0x40) !== 0;
        info.override = (flags & 0x20) !== 0;
      }
      // Options: type, length in units of 8 octets; 1 = source, 2 = target link-layer address.
      for (let o = icmp + 24; o + 8 <= f.length; ) {
        const len = f[o + 1]! * 8;
        if (len === 0) break;
        if ((f[o] === 1 || f[o] === 2) && len >= 8) info.lla = macAt(f, o + 2);
        o += len;
      }
    }
    p.icmp6 = info;
  }
  return p;
}
