import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { host } from './sys.js';
import { until, within } from './wait.js';

/**
 * A BMC per guest: OpenIPMI's `ipmi_sim` (Debian package openipmi), run by the test in the bed's
 * namespace. It answers IPMI-over-LAN (RMCP+, UDP 623) on its own address on the bed's bridge,
 * where the guests' `fence_ipmilan` reaches it, and drives the guest through QEMU's
 * `ipmi-bmc-extern` device: QEMU connects to the BMC's "VM" serial port (TCP on 127.0.0.1 inside
 * the namespace); a chassis power-off is sent to QEMU over it and QEMU ends (the power is cut: the
 * guest runs no shutdown). The BMC reports the power on while a QEMU is connected, off otherwise.
 * There is no `startcmd`: powering on is the bed's `guest.start()` (the harness owns every qemu
 * process), so the fence devices use `pcmk_reboot_action=off` and a fenced guest stays off until
 * the test boots it.
 */

export interface BmcCredentials {
  username: string;
  /** Letters and digits, at most 16 (IPMI 1.5 limit). */
  password: string;
}

/** The BMC's LAN address of guest number `index` on the bed's bridge (guests are 10.99.0.11+). */
export const bmcAddress = (index: number) => `10.99.0.${21 + index}`;
/** The TCP port (127.0.0.1 in the bed's namespace) of the BMC's serial port for QEMU. */
export const bmcSerialPort = (index: number) => 9100 + index;

/**
 * fence_ipmilan's parameters for this BMC, as the ha-nfs template's fence_nodeN setting takes
 * them. `cipher=3`: ipmi_sim does not answer "Get Channel Cipher Suites", and without a fixed
 * cipher suite ipmitool waits 10 s for that answer on every call.
 */
export function fenceIpmilanParams(index: number, c: BmcCredentials, extra: Record<string, string> = {}): string {
  const p = { ip: bmcAddress(index), username: c.username, password: c.password, lanplus: '1', cipher: '3', ...extra };
  return Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

const CRED_RE = /^[A-Za-z0-9]{1,16}$/;

export function lanConf(name: string, index: number, c: BmcCredentials): string {
  if (!CRED_RE.test(c.username) || !CRED_RE.test(c.password)) throw new Error('BMC user name and password: 1–16 letters or digits');
  return `# ipmi_sim configuration of ${name}'s BMC (ipmi_lan(5))
name "bmc-${name}"
set_working_mc 0x20
  startlan 1
    addr ${bmcAddress(index)} 623
    priv_limit admin
    allowed_auths_callback md5
    allowed_auths_user md5
    allowed_auths_operator md5
    allowed_auths_admin md5
    guid a123456789abcdefa123456789abc${(0xd00 + index).toString(16)}
  endlan
  serial 15 127.0.0.1 ${bmcSerialPort(index)} codec VM
  user 2 true "${c.username}" "${c.password}" admin 10 md5
`;
}

/** ipmi_sim starts with no management controller: the BMC itself (ipmi_sim_cmd(5)). */
const EMU = `mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr
sel_enable 0x20 1000 0x0a
mc_enable 0x20
`;

export class Bmc {
  private child: ChildProcess | undefined;
  private exited = false;
  private stderr = '';

  constructor(
    readonly guestName: string,
    readonly index: number,
    private readonly netns: string,
    private readonly dir: string,
    private readonly creds: BmcCredentials,
  ) {}

  get address() {
    return bmcAddress(this.index);
  }
  get pid(): number | undefined {
    return this.child && !this.exited ? this.child.pid : undefined;
  }
  fenceParams(extra: Record<string, string> = {}) {
    return fenceIpmilanParams(this.index, this.creds, extra);
  }

  /** Adds the BMC's address to the bridge, starts ipmi_sim and waits until its serial port listens. */
  async start(): Promise<void> {
    const base = join(this.dir, `bmc-${this.guestName}`);
    mkdirSync(join(base, 'state'), { recursive: true });
    writeFileSync(join(base, 'lan.conf'), lanConf(this.guestName, this.index, this.creds));
    writeFileSync(join(base, 'bmc.emu'), EMU);
    host('ip', ['-n', this.netns, 'addr', 'add', `${this.address}/24`, 'dev', 'br0']);
    // -n: no console on stdin/stdout. The parent-death signal ends it with this test process.
    const child = spawn('ip', ['netns', 'exec', this.netns, 'setpriv', '--pdeathsig', 'KILL', '--', 'ipmi_sim', '-n', '-c', join(base, 'lan.conf'), '-f', join(base, 'bmc.emu'), '-s', join(base, 'state')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      if (this.stderr.length < 8192) this.stderr += d;
    });
    child.on('exit', () => {
      this.exited = true;
    });
    const port = `127.0.0.1:${bmcSerialPort(this.index)}`;
    await until(
      () => {
        if (this.exited) throw new Error(`ipmi_sim for ${this.guestName} exited: ${this.stderr.trim()}`);
        return host('ip', ['netns', 'exec', this.netns, 'ss', '-Htln'], { allowFail: true }).stdout.includes(port);
      },
      { timeoutMs: 20_000, intervalMs: 100, what: `ipmi_sim of ${this.guestName} listening on ${port}` },
    );
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || this.exited) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    await within(gone, 10_000, `ipmi_sim ${child.pid} did not exit after SIGKILL`);
  }

  killSync() {
    if (this.child && !this.exited) this.child.kill('SIGKILL');
  }
}
