import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { sleep } from './wait.js';

/**
 * The host side of the command channel to a guest's ocfkit-cmdd (scripts/qemu/guest/ocfkit-cmdd
 * describes the protocol): QEMU's second serial port, a unix socket on the host.
 * Requests are sent one at a time (the guest reads a serial line; it must never overflow),
 * answers may come in any order; every wait is bounded.
 */

export interface ExecResult {
  /** Exit status (124/137 with timedOut when the guest's `timeout` ended it; 127 command not found). */
  code: number;
  stdout: string;
  stderr: string;
  /** stdout exactly as the command wrote it (for binary files). */
  stdoutBytes: Buffer;
  timedOut: boolean;
  durationMs: number;
}

interface Pending {
  resolve: (r: ExecResult) => void;
  reject: (e: Error) => void;
  started: number;
  timer: NodeJS.Timeout;
}

const MARK = '@OCFKIT:';
/** Stdin travels base64-encoded, in pieces the guest asks for (must equal ocfkit-cmdd's chunk). */
const CHUNK = 16384;
/** Bound on the header line (the argv): bash reads it byte by byte from the tty. */
const MAX_ARGV = 64 * 1024;

/** Each argument + ','; bytes outside [A-Za-z0-9._/=+-] as \\xHH (ocfkit-cmdd decodes with printf %b). */
export function encodeArgv(argv: string[]): string {
  let s = '';
  for (const a of argv) {
    for (const b of Buffer.from(a, 'utf8')) {
      const c = String.fromCharCode(b);
      s += /[A-Za-z0-9._/=+-]/.test(c) ? c : `\\x${b.toString(16).padStart(2, '0')}`;
    }
    s += ',';
  }
  return s;
}

export class Channel {
  private sock: Socket | undefined;
  private buf = '';
  private closedWith: Error | undefined;
  private pending = new Map<string, Pending>();
  private ackWaiters = new Map<string, (off: number) => void>();
  private readyWaiters: Array<(bootId: string) => void> = [];
  private sendQueue: Promise<void> = Promise.resolve();
  bootId: string | undefined;

  constructor(
    readonly path: string,
    readonly label: string,
  ) {}

  /** Connects to QEMU's socket, retrying until it exists (QEMU creates it at start). */
  async connect(timeoutMs: number, stillStarting: () => string | undefined): Promise<void> {
    const end = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < end) {
      const dead = stillStarting();
      if (dead) throw new Error(`${this.label}: ${dead}`);
      try {
        this.sock = await new Promise<Socket>((resolve, reject) => {
          const s = connect(this.path);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
        break;
      } catch (e) {
        last = (e as Error).message;
        await sleep(100);
      }
    }
    if (!this.sock) throw new Error(`${this.label}: cannot connect to ${this.path} within ${timeoutMs} ms (${last})`);
    this.sock.setEncoding('latin1');
    this.sock.on('data', (d: string) => this.onData(d));
    this.sock.on('error', (e) => this.close(new Error(`${this.label}: console socket: ${e.message}`)));
    this.sock.on('close', () => this.close(new Error(`${this.label}: the guest's console closed (powered off?)`)));
  }

  /** Waits for the guest's command server (it says READY at start; asked again every 3 s). */
  async waitReady(timeoutMs: number, isDead: () => string | undefined): Promise<string> {
    if (this.bootId) return this.bootId;
    const end = Date.now() + timeoutMs;
    let got: string | undefined;
    this.readyWaiters.push((id) => (got = id));
    let lastHello = 0;
    while (!got) {
      if (this.closedWith) throw this.closedWith;
      const dead = isDead();
      if (dead) throw new Error(`${this.label}: ${dead}`);
      if (Date.now() >= end) throw new Error(`${this.label}: no command server within ${timeoutMs} ms`);
      if (Date.now() - lastHello > 3000) {
        this.write(`\n${MARK}HELLO\n`);
        lastHello = Date.now();
      }
      await sleep(100);
    }
    return got;
  }

  /** Runs argv in the guest (no shell). Resolves with its result; rejects only if the channel fails. */
  exec(argv: string[], o: { timeoutMs: number; stdin?: string | Buffer }): Promise<ExecResult> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (argv.length === 0) return Promise.reject(new Error('exec: empty argv'));
    const id = randomBytes(6).toString('hex');
    if (argv.some((a) => a.includes('\0'))) return Promise.reject(new Error('exec: an argument contains NUL'));
    const argvEnc = encodeArgv(argv);
    if (argvEnc.length > MAX_ARGV) return Promise.reject(new Error(`exec: argv too long (${argvEnc.length} bytes encoded); pass big data as stdin`));
    const stdinB64 = o.stdin === undefined ? '' : Buffer.from(o.stdin).toString('base64');
    const guestTimeoutS = Math.max(1, Math.ceil(o.timeoutMs / 1000));
    // The guest's `timeout -k 5` ends the command; the slack covers a busy TCG guest and the answer's transfer.
    const hostTimeoutMs = o.timeoutMs + 30_000 + Math.ceil(stdinB64.length / 50);
    const result = new Promise<ExecResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.label}: no answer within ${hostTimeoutMs} ms to ${JSON.stringify(argv)}`));
      }, hostTimeoutMs);
      this.pending.set(id, { resolve, reject, started: Date.now(), timer });
    });
    // Send under the queue: the next request starts only when the guest has read this one whole.
    const send = this.sendQueue.then(() => this.sendRequest(id, guestTimeoutS, argvEnc, stdinB64));
    this.sendQueue = send.catch(() => undefined);
    send.catch((e: Error) => this.failOne(id, e));
    return result;
  }

  private async sendRequest(id: string, timeoutS: number, argvEnc: string, stdinB64: string): Promise<void> {
    // Timed out while queued: never sent, nothing to undo. Once sent, a request is always sent
    // whole (the guest reads exactly what the header announced), even if nobody awaits it now.
    if (!this.pending.has(id)) return;
    let expected = 0;
    const acks: number[] = [];
    let wake: (() => void) | undefined;
    this.ackWaiters.set(id, (off) => {
      acks.push(off);
      wake?.();
    });
    const nextAck = async (): Promise<number> => {
      const end = Date.now() + 60_000;
      while (acks.length === 0) {
        if (this.closedWith) throw this.closedWith;
        if (Date.now() > end) {
          // The guest stopped reading mid-request: nothing sent after this could be framed right.
          const e = new Error(`${this.label}: the guest did not read request ${id} within 60 s; channel closed`);
          this.close(e);
          throw e;
        }
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 200);
        });
      }
      return acks.shift()!;
    };
    try {
      this.write(`\n${MARK}REQ:${id}:${timeoutS}:${stdinB64.length}:${argvEnc}\n`);
      for (;;) {
        const off = await nextAck();
        if (off !== expected && off !== stdinB64.length) {
          const e = new Error(`${this.label}: guest asked for offset ${off}, expected ${expected}; channel closed`);
          this.close(e);
          throw e;
        }
        if (off >= stdinB64.length) break;
        const piece = stdinB64.slice(off, off + CHUNK);
        this.write(piece);
        expected = off + piece.length;
      }
    } finally {
      this.ackWaiters.delete(id);
    }
  }

  private write(s: string) {
    if (this.closedWith || !this.sock) throw this.closedWith ?? new Error(`${this.label}: not connected`);
    this.sock.write(s, 'latin1');
  }

  private failOne(id: string, e: Error) {
    const p = this.pending.get(id);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(id);
    p.reject(e);
  }

  private onData(d: string) {
    // Search for line ends only in the new data (answers can be megabytes).
    let from = this.buf.length;
    this.buf += d;
    for (;;) {
      const nl = this.buf.indexOf('\n', from);
      if (nl < 0) break;
      const line = this.buf.slice(0, nl).replace(/\r$/, '');
      this.buf = this.buf.slice(nl + 1);
      from = 0;
      const at = line.lastIndexOf(MARK);
      if (at >= 0) this.onMessage(line.slice(at + MARK.length));
    }
  }

  private onMessage(m: string) {
    const f = m.split(':');
    switch (f[0]) {
      case 'READY':
        this.bootId = f[1];
        for (const w of this.readyWaiters.splice(0)) w(f[1] ?? '');
        return;
      case 'ACK':
        this.ackWaiters.get(f[1] ?? '')?.(Number(f[2]));
        return;
      case 'RES': {
        const [, id, code, timed, out, err] = f;
        const p = this.pending.get(id ?? '');
        if (!p || out === undefined || err === undefined) return;
        clearTimeout(p.timer);
        this.pending.delete(id!);
        const stdoutBytes = Buffer.from(out, 'base64');
        p.resolve({
          code: Number(code),
          stdout: stdoutBytes.toString('utf8'),
          stderr: Buffer.from(err, 'base64').toString('utf8'),
          stdoutBytes,
          timedOut: timed === '1',
          durationMs: Date.now() - p.started,
        });
        return;
      }
    }
  }

  /** Fails everything in flight (the guest was powered off or died). */
  close(reason: Error) {
    if (this.closedWith) return;
    this.closedWith = reason;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(reason);
    }
    this.sock?.destroy();
  }
}
