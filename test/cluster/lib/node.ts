import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type MountEntry, readMounts } from '../../../src/sys/mountinfo.js';
import { CLEAN_ENV, run, runLogged, type RunOptions, type RunResult, waitFor } from './exec.js';
import { ipv4Addresses, macAddress, nicDown, nicUp, type IfAddr } from './network.js';

/** PID 1 of every node (a fixed script: its arguments are its only input). */
export const NODE_INIT = resolve(import.meta.dirname, '../../../scripts/cluster/node-init.sh');

/** What pacemakerd gets in its environment: logs to the node's /var/log, no syslog (the host's). */
const PACEMAKER_ENV = { PCMK_logfile: '/var/log/pacemaker/pacemaker.log', PCMK_logfacility: 'none' };

function ids(user: string, group: string): { uid: number; gid: number } {
  const uid = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${user}:`))?.split(':')[2];
  const gid = readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.startsWith(`${group}:`))?.split(':')[2];
  if (uid === undefined || gid === undefined) throw new Error(`user ${user} / group ${group} missing: is pacemaker installed?`);
  return { uid: Number(uid), gid: Number(gid) };
}

function mkdirOwned(path: string, mode: number, owner?: { uid: number; gid: number }): void {
  mkdirSync(path, { recursive: true });
  if (owner) chownSync(path, owner.uid, owner.gid);
  chmodSync(path, mode);
}

/** The parent PID from /proc/<pid>/stat (the field after the parenthesised command name). */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

interface Init {
  /** `setpriv … ip netns exec … unshare …` (each execs the next: one process), our child. */
  unshare: ChildProcess;
  /** The node's PID 1 as the host sees it: unshare's child. */
  pid: number;
  exited: Promise<void>;
  /** /proc/<pid>/ns/pid of the node, to recognise its processes from the host. */
  pidns: string;
}

export interface NodeProcess {
  pid: number;
  comm: string;
}

/**
 * One cluster node: a network namespace (persistent, like the machine's NIC) and, while powered on,
 * a mount+UTS+PID namespace whose PID 1 is scripts/cluster/node-init.sh. Its Corosync/Pacemaker
 * state lives in `dir` on the host and survives power cycles, like a disk.
 */
export class ClusterNode {
  private init?: Init;
  private stack = false;
  readonly logFile: string;

  constructor(
    readonly name: string,
    readonly nodeid: number,
    /** The node's network namespace. */
    readonly ns: string,
    readonly address: string,
    /** Host directory with the node's state (etc-corosync, lib-pacemaker, lib-corosync, log). */
    readonly dir: string,
    /** An `ocf-gen install --prefix` tree overlaid on the node's /usr/lib/ocf, if any. */
    readonly ocfDir?: string,
  ) {
    this.logFile = join(dir, 'node.log');
  }

  /** Creates the node's state directories, its corosync.conf and its seeded CIB (owners as Debian's packages set them). */
  prepare(corosyncConf: string, seedCib: string): void {
    const ha = ids('hacluster', 'haclient');
    mkdirOwned(join(this.dir, 'etc-corosync'), 0o755);
    writeFileSync(join(this.dir, 'etc-corosync', 'corosync.conf'), corosyncConf);
    mkdirOwned(join(this.dir, 'lib-corosync'), 0o755);
    mkdirOwned(join(this.dir, 'lib-pacemaker'), 0o755);
    for (const d of ['cib', 'pengine', 'blackbox', 'cores']) mkdirOwned(join(this.dir, 'lib-pacemaker', d), 0o750, ha);
    const cib = join(this.dir, 'lib-pacemaker', 'cib', 'cib.xml');
    writeFileSync(cib, seedCib, { mode: 0o600 });
    chownSync(cib, ha.uid, ha.gid);
    mkdirOwned(join(this.dir, 'log'), 0o755);
    mkdirOwned(join(this.dir, 'log', 'pacemaker'), 0o770, ha);
    mkdirOwned(join(this.dir, 'log', 'corosync'), 0o755);
  }

  get isOn(): boolean {
    return this.init !== undefined;
  }

  /** Whether the harness started Corosync+Pacemaker here and has not stopped them (or powered the node off). */
  get stackRunning(): boolean {
    return this.isOn && this.stack;
  }

  /** PIDs to SIGKILL if the test process exits without a teardown: the node's PID 1 (only while its parent is still our unshare). */
  emergencyKill(): void {
    const init = this.init;
    if (init && parentOf(init.pid) === init.unshare.pid) process.kill(init.pid, 'SIGKILL');
  }

  /** The node's PID 1 as the host sees it (for nsenter). */
  get pid(): number {
    if (!this.init) throw new Error(`${this.name} is powered off`);
    return this.init.pid;
  }

  /** Cables the NIC, starts the node's PID 1 and waits until its mounts are in place. */
  async powerOn(timeoutMs = 10_000): Promise<void> {
    if (this.init) throw new Error(`${this.name} is already on`);
    await nicUp(this.ns, this.address);
    const ready = join(this.dir, 'ready');
    rmSync(ready, { force: true });
    const log = openSync(this.logFile, 'a');
    let unshare: ChildProcess;
    try {
      // setpriv execs ip, ip execs unshare: one process, our child. Its parent-death signal takes the
      // node down with the test process if that dies without a teardown (--kill-child: unshare's death kills PID 1).
      unshare = spawn(
        'setpriv',
        ['--pdeathsig', 'KILL', 'ip', 'netns', 'exec', this.ns, 'unshare', '-m', '-u', '-p', '-f', '--mount-proc', '--kill-child', NODE_INIT, this.name, this.dir, this.ocfDir ?? ''],
        { env: CLEAN_ENV, stdio: ['ignore', log, log] },
      );
    } finally {
      closeSync(log);
    }
    let gone = false;
    const exited = new Promise<void>((res) => unshare.once('exit', () => res())).then(() => void (gone = true));
    unshare.once('error', () => void (gone = true));
    const unsharePid = unshare.pid;
    const fail = (why: string) => new Error(`${this.name}: ${why}; ${this.logFile}: ${this.tail(this.logFile)}`);
    if (unsharePid === undefined) throw fail('could not start ip netns exec');
    try {
      const pid = await waitFor(`${this.name}'s PID 1`, timeoutMs, () => {
        if (gone) throw fail('its init exited');
        return childrenOf(unsharePid)[0];
      }, 20);
      this.init = { unshare, pid, exited, pidns: readlinkSync(`/proc/${pid}/ns/pid`) };
      await waitFor(`${this.name}'s mounts`, timeoutMs, () => {
        if (gone) throw fail('its init exited');
        return existsSync(ready);
      }, 20);
    } catch (e) {
      if (!gone && unsharePid) process.kill(unsharePid, 'SIGKILL'); // --kill-child takes the node with it
      await exited;
      this.init = undefined;
      throw e;
    }
  }

  /** Starts Corosync, waits until it answers, then Pacemaker (both reparented to the node's PID 1). */
  async startStack(timeoutMs = 15_000): Promise<void> {
    const log = openSync(this.logFile, 'a');
    try {
      const rc = await runLogged('nsenter', ['-t', String(this.pid), '-a', 'setsid', '-f', 'corosync', '-f'], log);
      if (rc !== 0) throw new Error(`${this.name}: starting corosync failed (${rc})`);
      await waitFor(`corosync on ${this.name}`, timeoutMs, async () => {
        if (!(await this.processes()).some((p) => p.comm === 'corosync'))
          throw new Error(`corosync is not running: ${this.tail(this.logFile)}\n${this.tail(this.corosyncLog)}`);
        return (await this.exec('corosync-cfgtool', ['-s'], { allowFail: true })).code === 0;
      });
      const rc2 = await runLogged('nsenter', ['-t', String(this.pid), '-a', 'setsid', '-f', 'pacemakerd'], log, { env: PACEMAKER_ENV });
      if (rc2 !== 0) throw new Error(`${this.name}: starting pacemakerd failed (${rc2})`);
      this.stack = true;
    } finally {
      closeSync(log);
    }
  }

  /** Graceful stop of the cluster stack (resources move away first); the node stays powered on. */
  async stopStack(timeoutMs = 60_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    const left = () => Math.max(1000, end - Date.now());
    const isPacemaker = (p: NodeProcess) => p.comm === 'pacemakerd' || p.comm.startsWith('pacemaker-');
    this.stack = false;
    if ((await this.processes()).some(isPacemaker)) {
      await this.exec('pacemakerd', ['--shutdown'], { timeoutMs: left(), allowFail: true });
      await waitFor(`pacemaker to stop on ${this.name}`, left(), async () => !(await this.processes()).some(isPacemaker), 200);
    }
    if ((await this.processes()).some((p) => p.comm === 'corosync')) {
      await this.exec('corosync-cfgtool', ['-H', '--force'], { timeoutMs: left() });
      await waitFor(`corosync to stop on ${this.name}`, left(), async () => !(await this.processes()).some((p) => p.comm === 'corosync'), 100);
    }
  }

  /**
   * Hard power off: SIGKILL to the node's PID 1 (the kernel kills everything in its PID namespace,
   * and the mount namespace with the node's mounts goes with the last process), NIC down and its
   * addresses flushed. Returns the time of the kill (ms since the epoch).
   */
  async powerOff(timeoutMs = 10_000): Promise<number> {
    const init = this.init;
    if (!init) throw new Error(`${this.name} is already off`);
    // The PID is ours only while its parent is still the unshare we started (no PID reuse).
    if (parentOf(init.pid) === init.unshare.pid) process.kill(init.pid, 'SIGKILL');
    const t = Date.now();
    await nicDown(this.ns);
    await waitFor(`${this.name}'s namespace to die`, timeoutMs, async () => {
      await Promise.race([init.exited, new Promise((r) => setTimeout(r, 50))]);
      return init.unshare.exitCode !== null || init.unshare.signalCode !== null;
    }, 10);
    this.init = undefined;
    this.stack = false;
    return t;
  }

  /** Runs a command on the node: `nsenter -t <PID 1> -a <cmd> <args…>`. */
  exec(cmd: string, args: string[], o: RunOptions = {}): Promise<RunResult> {
    return run('nsenter', ['-t', String(this.pid), '-a', cmd, ...args], o);
  }

  /** The node's processes, found from the host by their PID namespace (no fork). */
  async processes(): Promise<NodeProcess[]> {
    const init = this.init;
    if (!init) return [];
    const out: NodeProcess[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (readlinkSync(`/proc/${entry}/ns/pid`) !== init.pidns) continue;
        out.push({ pid: Number(entry), comm: readFileSync(`/proc/${entry}/comm`, 'utf8').trim() });
      } catch {
        // exited meanwhile
      }
    }
    return out;
  }

  /** The node's mount table (its mount namespace, read from the host). */
  mounts(): MountEntry[] {
    return readMounts(this.pid);
  }

  addresses(): Promise<IfAddr[]> {
    return ipv4Addresses(this.ns);
  }

  mac(): Promise<string> {
    return macAddress(this.ns);
  }

  /** The last lines of one of the node's logs (host path), for error messages. */
  tail(path: string, lines = 15): string {
    try {
      return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  get pacemakerLog(): string {
    return join(this.dir, 'log', 'pacemaker', 'pacemaker.log');
  }

  get corosyncLog(): string {
    return join(this.dir, 'log', 'corosync', 'corosync.log');
  }
}
