import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLEAN_ENV, waitFor } from './exec.js';

/** An ARP packet as seen on the wire. */
export interface ArpPacket {
  /** Capture time, ms since the epoch. */
  time: number;
  /** Ethernet source. */
  srcMac: string;
  dstMac: string;
  op: 'request' | 'reply';
  /** The sender protocol address (who says it has the IP). */
  senderIp: string;
  /** The target protocol address (request: who-has X). */
  targetIp: string;
  /** Reply: the hardware address announced for senderIp. */
  isAt?: string;
}

// tcpdump -tt -nn -e -l, e.g.
// 1795346023.553210 aa:bb:cc:dd:ee:ff > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 192.0.2.100 tell 192.0.2.100, length 28
// 1795346023.553210 aa:bb:cc:dd:ee:ff > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Reply 192.0.2.100 is-at aa:bb:cc:dd:ee:ff, length 28
const LINE = /^(\d+\.\d+) ([0-9a-f:]{17}) > ([0-9a-f:]{17}), ethertype ARP \(0x0806\), length \d+: (?:Request who-has (\S+)(?: \([^)]*\))? tell (\S+)|Reply (\S+) is-at ([0-9a-f:]{17}))/;

export function parseArpLines(text: string): ArpPacket[] {
  const out: ArpPacket[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const base = { time: Math.round(Number(m[1]) * 1000), srcMac: m[2]!, dstMac: m[3]! };
    if (m[4] !== undefined) out.push({ ...base, op: 'request', targetIp: m[4], senderIp: m[5]! });
    else out.push({ ...base, op: 'reply', senderIp: m[6]!, targetIp: m[6]!, isAt: m[7]! });
  }
  return out;
}

/**
 * A gratuitous ARP announces `ip` itself: a request or reply whose sender and target are both the
 * address (RFC 5227 announcement; what IPaddr2's send_arp/arping send), broadcast.
 */
export const isGratuitous = (p: ArpPacket, ip: string) => p.senderIp === ip && p.targetIp === ip && p.dstMac === 'ff:ff:ff:ff:ff:ff';

/** tcpdump on the switch's bridge (in the switch namespace): every ARP packet between the nodes. */
export class ArpCapture {
  private constructor(
    private readonly proc: ChildProcess,
    private readonly out: string,
    private readonly err: string,
    private readonly exited: Promise<void>,
  ) {}

  static async start(ns: string, iface: string, dir: string, name = 'arp'): Promise<ArpCapture> {
    const out = join(dir, `${name}.txt`);
    const err = join(dir, `${name}.err`);
    const o = openSync(out, 'w');
    const e = openSync(err, 'w');
    let proc: ChildProcess;
    try {
      // -l: line-buffered, so packets are in the file as they arrive.
      // setpriv → ip → tcpdump is one process (each execs the next); it dies with the test process.
      // -Z root: dropping to the tcpdump user would clear that parent-death signal.
      proc = spawn('setpriv', ['--pdeathsig', 'KILL', 'ip', 'netns', 'exec', ns, 'tcpdump', '-Z', 'root', '-i', iface, '-l', '-tt', '-nn', '-e', 'arp'], {
        env: CLEAN_ENV,
        stdio: ['ignore', o, e],
      });
    } finally {
      closeSync(o);
      closeSync(e);
    }
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    const cap = new ArpCapture(proc, out, err, exited);
    await waitFor(`tcpdump to listen on ${iface}`, 10_000, () => {
      if (proc.exitCode !== null) throw new Error(`tcpdump exited: ${readFileSync(err, 'utf8')}`);
      return readFileSync(err, 'utf8').includes('listening on');
    }, 20);
    return cap;
  }

  /** ARP packets captured so far. */
  packets(): ArpPacket[] {
    return parseArpLines(readFileSync(this.out, 'utf8'));
  }

  /** SIGKILL to tcpdump's PID, synchronously (exit-time cleanup). */
  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }

  /** Stops tcpdump (SIGTERM to its PID; it flushes and exits). */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill('SIGTERM');
    const killed = await Promise.race([this.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
    if (!killed) {
      this.proc.kill('SIGKILL');
      await this.exited;
    }
  }
}
