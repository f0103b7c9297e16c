import type { Guest } from '../../qemu/lib/index.js';
import { addVipName, EXPORT, VIP, VIP_NAME } from './ha-nfs.js';
import { LOCK_HOLDER, LOCK_PROBE, PROBER, WRITER } from './guest-scripts.js';
import { parseAcks, parseErrors, parseProbes, type Ack, type Probe, type WriteError } from './timeline.js';

/**
 * The NFS client guest: mounts the export through the floating IP's name over NFSv3 (TCP, hard
 * mount), runs the writer, the lock holder and the ARP prober (guest-scripts.ts), and reads back
 * what they logged on its local disk.
 *
 * Why NFSv3: it is what the classic HA-NFS guides fail over, and its lock recovery is the part a
 * server agent can break (rpc.statd's fixed identity, its client list on the shared disk,
 * sm-notify from the floating address after a takeover). NFSv3 I/O needs no server state, so the
 * writer measures the takeover itself, not an NFSv4 grace period blocking new OPENs.
 */

export const DIR = '/root/e2e';
export const MNT = '/mnt/nfs';
export const DATA_NAME = 'writer.txt';
export const LOCK_NAME = 'lockfile';
/** timeo=50,retrans=2: a blocked RPC is resent after 5, 10, 15 s (a ~30 s cycle) instead of after 60 s. */
export const MOUNT_OPTIONS = 'vers=3,proto=tcp,hard,timeo=50,retrans=2';
/** Seconds between two writes (plus the write's own time). */
export const WRITE_INTERVAL = '0.5';

const f = (name: string) => `${DIR}/${name}`;

export class NfsClient {
  writerPid: number | undefined;
  lockPid: number | undefined;
  proberPid: number | undefined;

  constructor(readonly g: Guest) {}

  /** rpcbind and rpc.statd (NFSv3 locking needs them on the client too), the scripts, the VIP's name. */
  async prepare(): Promise<void> {
    const g = this.g;
    await addVipName(g);
    await g.run(['mkdir', '-p', DIR, MNT]);
    await g.writeFile(f('writer.pl'), WRITER, { mode: '755' });
    await g.writeFile(f('lock-holder.pl'), LOCK_HOLDER, { mode: '755' });
    await g.writeFile(f('prober.pl'), PROBER, { mode: '755' });
    await g.run(['rpcbind', '-w']);
    // In the foreground with debug output: every SM_NOTIFY it receives is in its log.
    await g.spawn(['rpc.statd', '-F', '-d', '--no-notify'], { log: f('statd.log') });
  }

  async startProber(): Promise<void> {
    this.proberPid = await this.g.spawn(['perl', f('prober.pl'), VIP, 'eth0', f('probe.log')], { log: f('prober.out') });
  }

  async mount(): Promise<void> {
    await this.g.run(['mount', '-t', 'nfs', '-o', MOUNT_OPTIONS, `${VIP_NAME}:${EXPORT}`, MNT], { timeoutMs: 180_000 });
  }

  async startWriter(): Promise<void> {
    this.writerPid = await this.g.spawn(['perl', f('writer.pl'), `${MNT}/${DATA_NAME}`, f('acks.log'), f('errors.log'), WRITE_INTERVAL], { log: f('writer.out') });
  }

  async startLockHolder(): Promise<void> {
    this.lockPid = await this.g.spawn(['perl', f('lock-holder.pl'), `${MNT}/${LOCK_NAME}`], { log: f('lock.log') });
  }

  async alive(pid: number | undefined): Promise<boolean> {
    return pid !== undefined && (await this.g.exec(['kill', '-0', String(pid)])).code === 0;
  }

  private async local(name: string): Promise<string> {
    const r = await this.g.exec(['cat', f(name)]);
    return r.code === 0 ? r.stdout : '';
  }

  async acks(): Promise<Ack[]> {
    return parseAcks(await this.local('acks.log'));
  }
  async errors(): Promise<WriteError[]> {
    return parseErrors(await this.local('errors.log'));
  }
  async probes(): Promise<Probe[]> {
    return parseProbes(await this.local('probe.log'));
  }
  async lockLog(): Promise<string> {
    return this.local('lock.log');
  }
  async statdLog(): Promise<string> {
    return this.local('statd.log');
  }

  /** The data file as the client reads it through the mount (a fresh open: close-to-open consistency). */
  async dataFile(): Promise<string> {
    return this.g.run(['cat', `${MNT}/${DATA_NAME}`], { timeoutMs: 180_000 });
  }

  /** Kernel messages of trouble on the client: stale handles, I/O errors, failed lock reclaims. */
  async kernelProblems(): Promise<string[]> {
    const out = await this.g.run(['dmesg']);
    return out.split('\n').filter((l) => /stale|input\/output error|failed to reclaim|lost lock|lockd: .*(fail|error)/i.test(l));
  }
}

/** Installs the lock probe on a server (it runs there, on the exported file). */
export async function installLockProbe(server: Guest): Promise<void> {
  await server.writeFile(f('lock-probe.pl'), LOCK_PROBE, { mode: '755' });
}

/**
 * Whether `server` holds the client's lock on the lock file: a POSIX lock on its inode in the
 * server's /proc/locks (taken by lockd for the client), and a local non-blocking lock attempt on
 * the same file refused. (Only ever probe once /proc/locks has it: a probe that won the lock during
 * the grace period would make the client's reclaim fail.)
 */
export async function serverLock(server: Guest): Promise<{ procLocks: string[]; probe: string }> {
  const path = `${EXPORT}/${LOCK_NAME}`;
  const ino = (await server.run(['stat', '-c', '%i', path])).trim();
  const procLocks = (await server.run(['cat', '/proc/locks'])).split('\n').filter((l) => /\bPOSIX\b/.test(l) && l.split(/\s+/).some((w) => w.endsWith(`:${ino}`)));
  if (procLocks.length === 0) return { procLocks, probe: 'not probed' };
  const r = await server.exec(['perl', f('lock-probe.pl'), path]);
  return { procLocks, probe: r.stdout.trim() || `exit ${r.code}: ${r.stderr.trim()}` };
}
