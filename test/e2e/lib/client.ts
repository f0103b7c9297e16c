import type { Guest } from '../../qemu/lib/index.js';
import { addVipName, EXPORT, VIP, VIP_NAME } from './ha-nfs.js';
import { LOCK_HOLDER, LOCK_PROBE, PROBER, WRITER } from './guest-scripts.js';
import { parseAcks, parseErrors, parseProbes, type Ack, type Probe, type WriteError } from './timeline.js';

/**
 * The NFS client guest: mounts the export through the floating IP's name over NFSv3 (TCP, hard
 * mount) and, in the end-to-end suite, over NFSv4.2 beside it; runs a writer and a lock holder on
 * each mount and the ARP prober (guest-scripts.ts), and reads back what they logged on its local disk.
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

/** One mount of the export with its own writer and lock holder, and their logs. */
export interface MountSpec {
  /** How the table and messages name it. */
  label: string;
  options: string;
  mnt: string;
  dataName: string;
  lockName: string;
  /** Prefix of its logs in DIR. */
  logPrefix: string;
}

export const NFS3: MountSpec = { label: 'NFSv3', options: MOUNT_OPTIONS, mnt: MNT, dataName: DATA_NAME, lockName: LOCK_NAME, logPrefix: '' };
/**
 * NFSv4.2, side by side with NFSv3 on the same client and export: its lock is nfsd's own state (no
 * lockd, no statd), reclaimed during the grace period from the client records on the shared storage
 * under the fixed server scope; every write opens the file anew, so an OPEN waits out the grace.
 */
export const NFS4: MountSpec = { label: 'NFSv4.2', options: 'vers=4.2,proto=tcp,hard,timeo=50,retrans=2', mnt: '/mnt/nfs4', dataName: 'writer4.txt', lockName: 'lockfile4', logPrefix: 'v4-' };

const f = (name: string) => `${DIR}/${name}`;

/** A mount with its writer and lock holder. */
export class NfsStream {
  writerPid: number | undefined;
  lockPid: number | undefined;

  constructor(
    readonly g: Guest,
    readonly spec: MountSpec,
  ) {}

  private log(name: string): string {
    return f(`${this.spec.logPrefix}${name}`);
  }

  async mount(): Promise<void> {
    await this.g.run(['mkdir', '-p', this.spec.mnt]);
    await this.g.run(['mount', '-t', 'nfs', '-o', this.spec.options, `${VIP_NAME}:${EXPORT}`, this.spec.mnt], { timeoutMs: 180_000 });
  }

  async startWriter(): Promise<void> {
    this.writerPid = await this.g.spawn(['perl', f('writer.pl'), `${this.spec.mnt}/${this.spec.dataName}`, this.log('acks.log'), this.log('errors.log'), WRITE_INTERVAL], { log: this.log('writer.out') });
  }

  async startLockHolder(): Promise<void> {
    this.lockPid = await this.g.spawn(['perl', f('lock-holder.pl'), `${this.spec.mnt}/${this.spec.lockName}`], { log: this.log('lock.log') });
  }

  async alive(pid: number | undefined): Promise<boolean> {
    return pid !== undefined && (await this.g.exec(['kill', '-0', String(pid)])).code === 0;
  }

  private async local(name: string): Promise<string> {
    const r = await this.g.exec(['cat', this.log(name)]);
    return r.code === 0 ? r.stdout : '';
  }

  async acks(): Promise<Ack[]> {
    return parseAcks(await this.local('acks.log'));
  }
  async errors(): Promise<WriteError[]> {
    return parseErrors(await this.local('errors.log'));
  }
  async lockLog(): Promise<string> {
    return this.local('lock.log');
  }

  /** The data file as the client reads it through the mount (a fresh open: close-to-open consistency). */
  async dataFile(): Promise<string> {
    return this.g.run(['cat', `${this.spec.mnt}/${this.spec.dataName}`], { timeoutMs: 180_000 });
  }
}

/**
 * The client guest. Its NFSv3 stream is the one every scenario measures (and what `acks()`,
 * `mount()`… mean); with `nfs4` an NFSv4.2 stream runs beside it (`streams`).
 */
export class NfsClient {
  proberPid: number | undefined;
  readonly v3: NfsStream;
  readonly v4: NfsStream | undefined;

  constructor(
    readonly g: Guest,
    o: { nfs4?: boolean } = {},
  ) {
    this.v3 = new NfsStream(g, NFS3);
    this.v4 = o.nfs4 ? new NfsStream(g, NFS4) : undefined;
  }

  get streams(): NfsStream[] {
    return this.v4 ? [this.v3, this.v4] : [this.v3];
  }
  get writerPid(): number | undefined {
    return this.v3.writerPid;
  }
  get lockPid(): number | undefined {
    return this.v3.lockPid;
  }

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

  /** Every stream's mount. */
  async mount(): Promise<void> {
    for (const s of this.streams) await s.mount();
  }
  /** Every stream's writer. */
  async startWriter(): Promise<void> {
    for (const s of this.streams) await s.startWriter();
  }
  /** Every stream's lock holder. */
  async startLockHolder(): Promise<void> {
    for (const s of this.streams) await s.startLockHolder();
  }

  async alive(pid: number | undefined): Promise<boolean> {
    return this.v3.alive(pid);
  }

  private async local(name: string): Promise<string> {
    const r = await this.g.exec(['cat', f(name)]);
    return r.code === 0 ? r.stdout : '';
  }

  async acks(): Promise<Ack[]> {
    return this.v3.acks();
  }
  async errors(): Promise<WriteError[]> {
    return this.v3.errors();
  }
  async probes(): Promise<Probe[]> {
    return parseProbes(await this.local('probe.log'));
  }
  async lockLog(): Promise<string> {
    return this.v3.lockLog();
  }
  async statdLog(): Promise<string> {
    return this.local('statd.log');
  }

  async dataFile(): Promise<string> {
    return this.v3.dataFile();
  }

  /** Kernel messages of trouble on the client: stale handles, I/O errors, failed lock reclaims (NLM and NFSv4). */
  async kernelProblems(): Promise<string[]> {
    const out = await this.g.run(['dmesg']);
    return out.split('\n').filter((l) => /stale|input\/output error|failed to reclaim|reclaim failed|lost lock|lockd: .*(fail|error)|nfs4_reclaim|NFS4ERR_/i.test(l));
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
export async function serverLock(server: Guest, lockName = LOCK_NAME): Promise<{ procLocks: string[]; probe: string }> {
  const path = `${EXPORT}/${lockName}`;
  const ino = (await server.run(['stat', '-c', '%i', path])).trim();
  const procLocks = (await server.run(['cat', '/proc/locks'])).split('\n').filter((l) => /\bPOSIX\b/.test(l) && l.split(/\s+/).some((w) => w.endsWith(`:${ino}`)));
  if (procLocks.length === 0) return { procLocks, probe: 'not probed' };
  const r = await server.exec(['perl', f('lock-probe.pl'), path]);
  return { procLocks, probe: r.stdout.trim() || `exit ${r.code}: ${r.stderr.trim()}` };
}
