import { describe, expect, it } from 'vitest';
import { decodeDump, decodeReply, encodeCall, RpcError, uaddrPort } from '../../src/sys/nfs/rpc.js';

const words = (...w: number[]) => {
  const b = Buffer.alloc(w.length * 4);
  w.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
};
const xdrString = (s: string) => Buffer.concat([words(s.length), Buffer.from(s), Buffer.alloc((4 - (s.length % 4)) % 4)]);

describe('ONC RPC messages (RFC 5531)', () => {
  it('a call: xid, CALL, RPC version 2, program, version, procedure, AUTH_NONE credentials and verifier', () => {
    expect(encodeCall(0xdeadbeef, 100005, 3, 0)).toEqual(words(0xdeadbeef, 0, 2, 100005, 3, 0, 0, 0, 0, 0));
  });

  it('replies: success, refusals with their reason, other xids ignored', () => {
    expect(decodeReply(words(7, 1, 0, 0, 0, 0, 42), 7)).toEqual(words(42));
    expect(decodeReply(words(8, 1, 0, 0, 0, 0), 7)).toBeUndefined();
    expect(() => decodeReply(words(7, 1, 0, 0, 0, 1), 7)).toThrow(new RpcError('program unavailable'));
    expect(() => decodeReply(words(7, 1, 0, 0, 0, 2, 2, 3), 7)).toThrow(/program version mismatch \(server has versions 2\.\.3\)/);
    expect(() => decodeReply(words(7, 1, 1, 1, 5), 7)).toThrow(/authentication error/);
    // a verifier with a body (4 bytes) before the accept status
    expect(decodeReply(words(7, 1, 0, 1, 4, 0xabcd, 0), 7)).toEqual(Buffer.alloc(0));
  });

  it("rpcbind's DUMP list and universal addresses", () => {
    const entry = (prog: number, vers: number, netid: string, addr: string, owner: string) => Buffer.concat([words(1, prog, vers), xdrString(netid), xdrString(addr), xdrString(owner)]);
    const buf = Buffer.concat([entry(100005, 3, 'tcp', '0.0.0.0.78.80', 'superuser'), entry(100024, 1, 'udp6', '::.166.10', '105'), words(0)]);
    expect(decodeDump(buf)).toEqual([
      { prog: 100005, vers: 3, netid: 'tcp', addr: '0.0.0.0.78.80', owner: 'superuser' },
      { prog: 100024, vers: 1, netid: 'udp6', addr: '::.166.10', owner: '105' },
    ]);
    expect(uaddrPort('0.0.0.0.78.80')).toBe(20048);
    expect(uaddrPort('::.8.1')).toBe(2049);
    expect(() => decodeDump(words(1, 100005))).toThrow(/truncated/);
  });
});
