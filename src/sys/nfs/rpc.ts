import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { connect, isIPv6 } from 'node:net';

/**
 * A minimal ONC RPC client (RFC 5531), in the agent's own process: calls
 * with AUTH_NONE over UDP (one datagram, retransmitted) or TCP (record
 * marking), every call bounded. Enough to ask rpcbind what is registered
 * (RPCBPROC_DUMP, RFC 1833) and to send NULL calls (procedure 0) to the NFS
 * services, as a client's first contact would.
 */

export const PROGRAM = { rpcbind: 100000, nfs: 100003, mountd: 100005, status: 100024 } as const;

export type Proto = 'tcp' | 'udp';

export class RpcError extends Error {}

const CALL = 0;
const REPLY = 1;
const MSG_ACCEPTED = 0;
const ACCEPT_STAT = ['success', 'program unavailable', 'program version mismatch', 'procedure unavailable', 'garbage arguments', 'system error'];

/** XDR encoding of a call: header with AUTH_NONE credentials and verifier, then the arguments. */
export function encodeCall(xid: number, prog: number, vers: number, proc: number, args: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(40);
  [xid, CALL, 2, prog, vers, proc, 0, 0, 0, 0].forEach((v, i) => h.writeUInt32BE(v >>> 0, i * 4));
  return Buffer.concat([h, args]);
}

/** The results of an accepted, successful reply to `xid`; undefined for another xid; throws for a refusal. */
export function decodeReply(buf: Buffer, xid: number): Buffer | undefined {
  if (buf.length < 12 || buf.readUInt32BE(0) !== xid >>> 0) return undefined;
  if (buf.readUInt32BE(4) !== REPLY) throw new RpcError('not an RPC reply');
  if (buf.readUInt32BE(8) !== MSG_ACCEPTED) throw new RpcError(buf.length >= 16 && buf.readUInt32BE(12) === 1 ? 'call denied: authentication error' : 'call denied: RPC version mismatch');
  if (buf.length < 20) throw new RpcError('short RPC reply');
  const verfLen = buf.readUInt32BE(16);
  const at = 20 + Math.ceil(verfLen / 4) * 4;
  if (buf.length < at + 4) throw new RpcError('short RPC reply');
  const stat = buf.readUInt32BE(at);
  if (stat !== 0) {
    const versions = stat === 2 && buf.length >= at + 12 ? ` (server has versions ${buf.readUInt32BE(at + 4)}..${buf.readUInt32BE(at + 8)})` : '';
    throw new RpcError(`${ACCEPT_STAT[stat] ?? `accept status ${stat}`}${versions}`);
  }
  return buf.subarray(at + 4);
}

export interface CallOptions {
  host: string;
  port: number;
  proto: Proto;
  prog: number;
  vers: number;
  proc: number;
  args?: Buffer;
  timeoutMs: number;
}

const newXid = () => randomBytes(4).readUInt32BE(0);

/** One RPC call; resolves with the results, rejects with an RpcError (timeout, refused, denied…). */
export function rpcCall(o: CallOptions): Promise<Buffer> {
  return o.proto === 'udp' ? callUdp(o) : callTcp(o);
}

/**
 * A call's end, once: the first of answer, error and timeout wins; `close`
 * frees the socket (and any timer of the caller's).
 */
function settleOnce(timeoutMs: number, resolve: (res: Buffer) => void, reject: (err: Error) => void, close: () => void): (err: Error | undefined, res?: Buffer) => void {
  let settled = false;
  const done = (err: Error | undefined, res?: Buffer) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    close();
    if (err) reject(err);
    else resolve(res!);
  };
  const timer = setTimeout(() => done(new RpcError(`no answer within ${Math.round(timeoutMs / 100) / 10} s`)), timeoutMs);
  return done;
}

const socketError = (e: NodeJS.ErrnoException) => new RpcError(e.code === 'ECONNREFUSED' ? 'connection refused (nothing listens on the port)' : e.message);

function callUdp(o: CallOptions): Promise<Buffer> {
  const xid = newXid();
  const msg = encodeCall(xid, o.prog, o.vers, o.proc, o.args);
  return new Promise((resolve, reject) => {
    const sock = createSocket(isIPv6(o.host) ? 'udp6' : 'udp4');
    let retry: NodeJS.Timeout | undefined;
    let wait = 250;
    const done = settleOnce(o.timeoutMs, resolve, reject, () => {
      clearTimeout(retry);
      sock.close();
    });
    // Retransmit with back-off, as RPC over UDP does: a datagram may be lost.
    const send = () => {
      sock.send(msg, (e) => e && done(new RpcError(e.message)));
      retry = setTimeout(send, (wait = Math.min(wait * 2, 2000)));
    };
    sock.on('error', (e: NodeJS.ErrnoException) => done(socketError(e)));
    sock.on('message', (buf) => {
      try {
        const res = decodeReply(buf, xid);
        if (res) done(undefined, res);
      } catch (e) {
        done(e as Error);
      }
    });
    // A connected socket: ICMP "port unreachable" comes back as ECONNREFUSED.
    sock.connect(o.port, o.host, send);
  });
}

function callTcp(o: CallOptions): Promise<Buffer> {
  const xid = newXid();
  const msg = encodeCall(xid, o.prog, o.vers, o.proc, o.args);
  const mark = Buffer.alloc(4);
  mark.writeUInt32BE((0x80000000 | msg.length) >>> 0);
  return new Promise((resolve, reject) => {
    const sock = connect({ host: o.host, port: o.port });
    let pending = Buffer.alloc(0);
    const fragments: Buffer[] = [];
    const done = settleOnce(o.timeoutMs, resolve, reject, () => sock.destroy());
    sock.on('connect', () => sock.write(Buffer.concat([mark, msg])));
    sock.on('error', (e: NodeJS.ErrnoException) => done(socketError(e)));
    sock.on('close', () => done(new RpcError('connection closed without an answer')));
    // Record marking: each fragment has a 4-byte header, high bit set on the last one.
    sock.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const head = pending.readUInt32BE(0);
        const len = head & 0x7fffffff;
        if (len > 1 << 24) return done(new RpcError('RPC record too large'));
        if (pending.length < 4 + len) return;
        fragments.push(pending.subarray(4, 4 + len));
        pending = pending.subarray(4 + len);
        if (head & 0x80000000) {
          try {
            const res = decodeReply(Buffer.concat(fragments), xid);
            if (res) return done(undefined, res);
            fragments.length = 0; // a reply to another call: keep reading
          } catch (e) {
            return done(e as Error);
          }
        }
      }
    });
  });
}

/** One registration rpcbind holds (RFC 1833 rpcb): program, version, transport, universal address. */
export interface Registration {
  prog: number;
  vers: number;
  /** tcp, udp, tcp6, udp6, local… */
  netid: string;
  /** "0.0.0.0.8.1", "::.8.1": address, then the port as two bytes. */
  addr: string;
  owner: string;
}

/** The port of a universal address ("h1.h2.h3.h4.p1.p2" or "<ipv6>.p1.p2"). */
export function uaddrPort(addr: string): number | undefined {
  const m = /\.(\d+)\.(\d+)$/.exec(addr);
  return m ? Number(m[1]) * 256 + Number(m[2]) : undefined;
}

/** RPCBPROC_DUMP results: a linked list of rpcb entries. */
export function decodeDump(buf: Buffer): Registration[] {
  const out: Registration[] = [];
  let at = 0;
  const u32 = () => {
    if (at + 4 > buf.length) throw new RpcError('truncated rpcbind list');
    const v = buf.readUInt32BE(at);
    at += 4;
    return v;
  };
  const str = () => {
    const len = u32();
    if (at + len > buf.length) throw new RpcError('truncated rpcbind list');
    const s = buf.toString('utf8', at, at + len);
    at += Math.ceil(len / 4) * 4;
    return s;
  };
  while (u32() === 1) out.push({ prog: u32(), vers: u32(), netid: str(), addr: str(), owner: str() });
  return out;
}

/** What rpcbind on `host` has registered (rpcbind protocol version 3, DUMP, over TCP). */
export async function rpcbindDump(host: string, timeoutMs: number): Promise<Registration[]> {
  return decodeDump(await rpcCall({ host, port: 111, proto: 'tcp', prog: PROGRAM.rpcbind, vers: 3, proc: 4, timeoutMs }));
}

/** A NULL call (procedure 0): does the service answer at all? */
export async function rpcNull(host: string, port: number, proto: Proto, prog: number, vers: number, timeoutMs: number): Promise<void> {
  await rpcCall({ host, port, proto, prog, vers, proc: 0, timeoutMs });
}
