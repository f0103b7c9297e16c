import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Channel, type ExecResult } from './channel.js';
import type { GuestImage } from './image.js';
import { host } from './sys.js';
import { within } from './wait.js';

export type { ExecResult };

export interface ExecOptions {
  /** Bound for the command (the guest's `timeout` ends it; default 60 s). */
  timeoutMs?: number;
  /** Bytes for the command's stdin (default: empty). */
  stdin?: string | Buffer;
}

/** What the bed tells a guest at its start. */
export interface GuestConfig {
  name: string;
  index: number;
  /** Address with prefix, e.g. 10.99.0.11/24. */
  cidr: string;
  mac: string;
  memoryMiB: number;
  cpus: number;
  /** Host path of the data disk (raw, sparse) or undefined. */
  dataDisk?: string;
  rootOverlay: string;
  share: string;
  netns: string;
  tap: string;
  hosts: string;
  /**
   * The replication link (a second NIC, eth1, on the bed's second bridge br1), for Corosync and
   * DRBD; undefined: the guest has only eth0.
   */
  repl?: { tap: string; mac: string; cidr: string };
  /**
   * TCP port (on 127.0.0.1 in the bed's namespace) of this guest's BMC, an ipmi_sim (bmc.ts): QEMU
   * connects its `ipmi-bmc-extern` device there, so the BMC can power the guest off (its qemu
   * process ends). undefined: no BMC.
   */
  bmcPort?: number;
  dir: string;
  image: GuestImage;
  bootTimeoutMs: number;
}

/** One QEMU guest: its qemu process (started by us, known by PID) and its command channel. */
export class Guest {
  private child: ChildProcess | undefined;
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private exitWaiters: Array<() => void> = [];
  private channel: Channel | undefined;
  private qemuStderr = '';
  /** Boot count: 1 after the first start, +1 per restart. */
  boots = 0;

  constructor(readonly cfg: GuestConfig) {}

  get name() {
    return this.cfg.name;
  }
  /** The guest's address on the bed's bridge, without prefix. */
  get ip() {
    return this.cfg.cidr.split('/')[0]!;
  }
  /** The guest's address on the replication link (eth1 on br1), or undefined. */
  get replIp(): string | undefined {
    return this.cfg.repl?.cidr.split('/')[0];
  }
  /** The data disk as the guest sees it (undefined when the guest has none). */
  get dataDevice(): string | undefined {
    return this.cfg.dataDisk ? '/dev/vdb' : undefined;
  }
  /** PID of the running qemu process (ours), or undefined. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }
  get running(): boolean {
    return this.child !== undefined && this.exited === undefined;
  }
  get consoleLogPath() {
    return join(this.cfg.dir, `${this.name}.console.log`);
  }
  /** The guest's serial console (kernel + init messages), for failure reports. */
  consoleTail(lines = 40): string {
    if (!existsSync(this.consoleLogPath)) return '';
    return readFileSync(this.consoleLogPath, 'utf8').split('\n').slice(-lines).join('\n');
  }

  private qemuArgs(): string[] {
    const c = this.cfg;
    const disks = [`file=${c.rootOverlay},if=virtio,format=qcow2`];
    if (c.dataDisk) disks.push(`file=${c.dataDisk},if=virtio,format=raw`);
    disks.push(`file=${c.share},if=virtio,format=raw,readonly=on`);
    const shareDev = `/dev/vd${String.fromCharCode('a'.charCodeAt(0) + disks.length - 1)}`;
    const append = [
      'console=ttyS0',
      'loglevel=4',
      'panic=-1',
      `ocfkit.hostname=${c.name}`,
      `ocfkit.ip=${c.cidr}`,
      `ocfkit.hosts=${c.hosts}`,
      `ocfkit.share=${shareDev}`,
      ...(c.repl ? [`ocfkit.ip1=${c.repl.cidr}`] : []),
    ].join(' ');
    const repl = c.repl ? ['-netdev', `tap,id=net1,ifname=${c.repl.tap},script=no,downscript=no`, '-device', `virtio-net-pci,netdev=net1,mac=${c.repl.mac}`] : [];
    // The BMC: QEMU is the client of ipmi_sim's "VM" serial port and reconnects when it (re)starts.
    const bmc = c.bmcPort
      ? ['-chardev', `socket,id=ipmi0,host=127.0.0.1,port=${c.bmcPort},reconnect=1`, '-device', 'ipmi-bmc-extern,id=bmc0,chardev=ipmi0', '-device', 'isa-ipmi-kcs,bmc=bmc0']
      : [];
    return [
      '-name', c.name,
      '-machine', 'pc',
      '-accel', 'tcg,thread=multi',
      '-cpu', 'max',
      '-smp', String(c.cpus),
      '-m', String(c.memoryMiB),
      '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
      '-kernel', c.image.kernel,
      '-initrd', c.image.initrd,
      '-append', append,
      '-chardev', `file,id=con0,path=${this.consoleLogPath},append=on`,
      '-serial', 'chardev:con0',
      '-chardev', `socket,id=cmd0,path=${join(c.dir, `${c.name}.cmd.sock`)},server=on,wait=off`,
      '-serial', 'chardev:cmd0',
      ...disks.flatMap((d) => ['-drive', d]),
      '-netdev', `tap,id=net0,ifname=${c.tap},script=no,downscript=no`,
      '-device', `virtio-net-pci,netdev=net0,mac=${c.mac}`,
      ...repl,
      ...bmc,
      '-device', 'virtio-rng-pci',
    ];
  }

  /** Starts qemu in the bed's namespace and waits for the guest's command server. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running (pid ${this.child?.pid})`);
    const sock = join(this.cfg.dir, `${this.name}.cmd.sock`);
    host('rm', ['-f', sock]);
    this.exited = undefined;
    this.qemuStderr = '';
    // `ip netns exec` and setpriv exec in place: the PID we get is qemu's. The parent-death
    // signal kills qemu if this test process dies before its teardown.
    const child = spawn('ip', ['netns', 'exec', this.cfg.netns, 'setpriv', '--pdeathsig', 'KILL', '--', 'qemu-system-x86_64', ...this.qemuArgs()], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      if (this.qemuStderr.length < 16384) this.qemuStderr += d;
    });
    child.on('exit', (code, signal) => {
      this.exited = { code, signal };
      this.channel?.close(new Error(`${this.name}: qemu exited (${signal ?? code})`));
      for (const w of this.exitWaiters.splice(0)) w();
    });
    child.on('error', (e) => {
      this.qemuStderr += e.message;
    });
    this.boots++;
    const whyDead = () => (this.exited ? `qemu exited (${this.exited.signal ?? this.exited.code}) during boot: ${this.qemuStderr.trim()}\n--- console ---\n${this.consoleTail()}` : undefined);
    this.channel = new Channel(sock, this.name);
    try {
      await this.channel.connect(20_000, whyDead);
      await this.channel.waitReady(this.cfg.bootTimeoutMs, whyDead);
    } catch (e) {
      await this.powerOff();
      throw new Error(`${(e as Error).message}\n--- ${this.name} console ---\n${this.consoleTail()}`);
    }
  }

  /** Runs argv in the guest (no shell); never throws for a non-zero exit (see run). */
  exec(argv: string[], o: ExecOptions = {}): Promise<ExecResult> {
    if (!this.running || !this.channel) return Promise.reject(new Error(`${this.name} is not running`));
    return this.channel.exec(argv, { timeoutMs: o.timeoutMs ?? 60_000, stdin: o.stdin });
  }

  /** Runs argv and returns its stdout; throws (with stderr) unless it exits 0. */
  async run(argv: string[], o: ExecOptions = {}): Promise<string> {
    const r = await this.exec(argv, o);
    if (r.code !== 0) throw new Error(`${this.name}: ${JSON.stringify(argv)} → exit ${r.code}${r.timedOut ? ' (timed out)' : ''}\nstdout: ${r.stdout.trim()}\nstderr: ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** Writes a file in the guest (parents created), through the console: for configs and small files. */
  async writeFile(path: string, data: string | Buffer, o: { mode?: string; timeoutMs?: number } = {}): Promise<void> {
    await this.run(['install', '-D', '-m', o.mode ?? '644', '/dev/stdin', path], { stdin: data, timeoutMs: o.timeoutMs ?? 120_000 });
  }

  /** Copies a host file into the guest through the console (best for up to a few MiB; use the bed's share for big files). */
  async copyIn(hostPath: string, guestPath: string, o: { mode?: string; timeoutMs?: number } = {}): Promise<void> {
    await this.writeFile(guestPath, readFileSync(hostPath), o);
  }

  async readFile(path: string): Promise<Buffer> {
    const r = await this.exec(['cat', '--', path]);
    if (r.code !== 0) throw new Error(`${this.name}: cannot read ${path}: ${r.stderr.trim()}`);
    return r.stdoutBytes;
  }

  /** Starts a daemon detached (own session), its output appended to `log` in the guest; returns its PID. */
  async spawn(argv: string[], o: { log: string }): Promise<number> {
    const out = await this.run(['ocfkit-spawn', o.log, ...argv]);
    return Number(out.trim());
  }

  /**
   * Resolves when the qemu process has ended by itself (e.g. powered off by its BMC: a fence),
   * or rejects after `timeoutMs`.
   */
  async waitExit(timeoutMs: number): Promise<void> {
    if (!this.child || this.exited) return;
    const gone = new Promise<void>((r) => this.exitWaiters.push(r));
    await within(gone, timeoutMs, `${this.name}: qemu pid ${this.child.pid} still running`);
  }

  /** How the last qemu process ended (undefined while it runs or before the first start). */
  get exitStatus(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.exited;
  }

  /** Hard power-off: SIGKILL to our qemu PID, then waits (bounded) for it to be gone. */
  async powerOff(): Promise<void> {
    const child = this.child;
    if (!child || this.exited) return;
    const gone = new Promise<void>((r) => this.exitWaiters.push(r));
    child.kill('SIGKILL');
    await within(gone, 15_000, `${this.name}: qemu pid ${child.pid} did not exit after SIGKILL`);
  }

  /** Power off hard (if running) and boot again with the same disks (root overlay and data disk persist). */
  async restart(): Promise<void> {
    await this.powerOff();
    await this.start();
  }

  /** Synchronous kill for the process-exit safety net. */
  killSync() {
    if (this.child && !this.exited) this.child.kill('SIGKILL');
  }
}
