import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { PROGRAM, rpcbindDump, rpcNull, uaddrPort, type Proto, type Registration } from './rpc.js';

/**
 * The NFS server as its clients see it: rpcbind's registrations and a NULL
 * call to each registered transport of nfs, mountd and statd, on the address
 * clients use. Processes that run but do not answer (stopped, hung, their
 * registration gone) fail here while /proc says all is well.
 */

export interface RpcService {
  /** As admins know it: "nfsd", "rpc.mountd", "rpc.statd". */
  name: string;
  prog: number;
}

export const NFS_SERVICES: Record<'nfs' | 'mountd' | 'statd', RpcService> = {
  nfs: { name: 'nfsd', prog: PROGRAM.nfs },
  mountd: { name: 'rpc.mountd', prog: PROGRAM.mountd },
  statd: { name: 'rpc.statd', prog: PROGRAM.status },
};

const label = (s: RpcService) => `${s.name} (program ${s.prog})`;

/**
 * Problems the services have on `host`, in words; empty when every one of
 * them is registered with rpcbind and answers a NULL call on each transport
 * it is registered for. All calls run at once, each bounded by `timeoutMs`.
 */
export async function rpcProblems(host: string, services: readonly RpcService[], timeoutMs: number): Promise<string[]> {
  let regs: Registration[];
  try {
    regs = await rpcbindDump(host, timeoutMs);
  } catch (e) {
    return [`rpcbind does not answer on ${host} port 111: ${(e as Error).message}`];
  }
  const netids: Record<string, Proto> = isIPv6(host) ? { tcp6: 'tcp', udp6: 'udp' } : { tcp: 'tcp', udp: 'udp' };
  const calls: Array<Promise<string | undefined>> = [];
  const problems: string[] = [];
  for (const s of services) {
    const mine = regs.filter((r) => r.prog === s.prog && netids[r.netid]);
    if (!mine.length) {
      problems.push(`${label(s)} is not registered with rpcbind on ${host}`);
      continue;
    }
    // Per transport: the highest version registered (what a client would ask for).
    for (const [netid, proto] of Object.entries(netids)) {
      const best = mine.filter((r) => r.netid === netid).sort((a, b) => b.vers - a.vers)[0];
      const port = best && uaddrPort(best.addr);
      if (!best || port === undefined) continue;
      calls.push(
        rpcNull(host, port, proto, s.prog, best.vers, timeoutMs).then(
          () => undefined,
          (e: Error) => `${s.name} (program ${s.prog} version ${best.vers}, ${proto} port ${port}) does not answer on ${host}: ${e.message}`,
        ),
      );
    }
  }
  for (const p of await Promise.all(calls)) if (p) problems.push(p);
  return problems;
}

/** NFSv4 only: no rpcbind; a NULL call to NFS version 4 on TCP port 2049, where v4 clients go. */
export async function nfs4Problems(host: string, timeoutMs: number): Promise<string[]> {
  try {
    await rpcNull(host, 2049, 'tcp', PROGRAM.nfs, 4, timeoutMs);
    return [];
  } catch (e) {
    return [`${label(NFS_SERVICES.nfs)} version 4 does not answer on ${host} tcp port 2049: ${(e as Error).message}`];
  }
}

/**
 * Is `address` configured on this node (in our network namespace)? Binding
 * a socket to it succeeds only then; no process, no /proc parsing.
 */
export function isLocalAddress(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket(isIPv6(address) ? 'udp6' : 'udp4');
    sock.once('error', () => {
      sock.close();
      resolve(false);
    });
    sock.bind({ address, port: 0, exclusive: true }, () => {
      sock.close();
      resolve(true);
    });
  });
}
