import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Bmc, bmcSerialPort, type BmcCredentials } from './bmc.js';
import { Guest } from './guest.js';
import { ensureImage, ROOT, SCRIPTS, type GuestImage } from './image.js';
import { alive, host } from './sys.js';

export const AGENTS_EXE = join(ROOT, 'build', 'ocfkit-agents');
const NETNS_PREFIX = 'ocfq-';
const DIR_PREFIX = 'ocfkit-qemu-';

export interface GuestSpec {
  name: string;
  /** Default 640 MiB. */
  memoryMiB?: number;
  /** Size of the guest's own sparse data disk (/dev/vdb), for DRBD; 0 = none. Default 256 MiB. */
  dataDiskMiB?: number;
  /** Default 1 (2 host cores run 2–3 guests). */
  cpus?: number;
  /** A second NIC (eth1) on the bed's second bridge br1, address 10.98.0.(11+index): the replication link. */
  repl?: boolean;
  /** A BMC (ipmi_sim, bmc.ts) for this guest; needs StartOptions.bmc. */
  bmc?: boolean;
}

export interface StartOptions {
  /** Guests with the default spec, e.g. ['n1', 'n2', 'client']. */
  names?: string[];
  /** Or full specs. */
  guests?: GuestSpec[];
  /** Defaults for every guest. */
  memoryMiB?: number;
  dataDiskMiB?: number;
  /**
   * Copy the current build/ocfkit-agents into the share (/opt/ocfkit/ocfkit-agents in every
   * guest). Default true; fails when it is not built.
   */
  agents?: boolean;
  /** Extra host files for the share: { 'name': '/host/path' } → /opt/ocfkit/files/name (read-only). */
  files?: Record<string, string>;
  /** Credentials of the guests' BMCs (guests with `bmc: true`). */
  bmc?: BmcCredentials;
  /** Bound for each guest's boot to its command server (default 240 s). */
  bootTimeoutMs?: number;
  /** Progress lines (image build, boots). */
  log?: (line: string) => void;
}

/** The test bed: guests on a private bridge, in a network namespace of their own. */
export interface Bed {
  readonly guests: Guest[];
  guest(name: string): Guest;
  /** The namespace holding the bridge (br0) and the taps: `ip netns exec <netns> tcpdump -i br0`. */
  readonly netns: string;
  readonly bridge: 'br0';
  /** The BMC of a guest (spec `bmc: true`). */
  bmc(name: string): Bmc;
  /**
   * Cuts (false) or restores (true) a guest's replication link: its tap on br1 goes down in the
   * bed's namespace, so nothing passes between eth1 and the bridge; eth0 is untouched.
   */
  setReplLink(name: string, up: boolean): void;
  /** Temporary directory of this bed (overlays, data disks, share, sockets, console logs). */
  readonly dir: string;
  readonly image: GuestImage;
  /** sha256 of the agents executable on the share (undefined with agents: false). */
  readonly agentsSha256: string | undefined;
  /** Kills the qemu processes we started, deletes the namespace (bridge, taps) and the temp dir. Idempotent. */
  teardown(): Promise<void>;
}

const live = new Set<BedImpl>();
let exitHookInstalled = false;

/** If the test process ends without teardown, still remove what we made (qemu also has a parent-death signal). */
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const bed of live) bed.teardownSync();
  });
}

/** Removes namespaces and temp dirs of earlier beds whose test process is gone (killed runs). */
function sweepLeftovers() {
  const dead = (name: string, prefix: string) => {
    const m = new RegExp(`^${prefix}(\\d+)-`).exec(name);
    return m !== null && Number(m[1]) !== process.pid && !alive(Number(m[1]));
  };
  if (existsSync('/run/netns')) {
    for (const ns of readdirSync('/run/netns')) if (dead(ns, NETNS_PREFIX)) host('ip', ['netns', 'del', ns], { allowFail: true });
  }
  for (const d of readdirSync(tmpdir())) if (dead(d, DIR_PREFIX)) rmSync(join(tmpdir(), d), { recursive: true, force: true });
}

const NAME_RE = /^[a-z][a-z0-9-]{0,30}$/;

class BedImpl implements Bed {
  readonly bridge = 'br0' as const;
  guests: Guest[] = [];
  bmcs: Bmc[] = [];
  private torn = false;

  constructor(
    readonly netns: string,
    readonly dir: string,
    readonly image: GuestImage,
    readonly agentsSha256: string | undefined,
  ) {}

  guest(name: string): Guest {
    const g = this.guests.find((x) => x.name === name);
    if (!g) throw new Error(`no guest ${name} in this bed (${this.guests.map((x) => x.name).join(', ')})`);
    return g;
  }

  bmc(name: string): Bmc {
    const b = this.bmcs.find((x) => x.guestName === name);
    if (!b) throw new Error(`guest ${name} has no BMC in this bed`);
    return b;
  }

  setReplLink(name: string, up: boolean): void {
    const tap = this.guest(name).cfg.repl?.tap;
    if (!tap) throw new Error(`guest ${name} has no replication link`);
    host('ip', ['-n', this.netns, 'link', 'set', tap, up ? 'up' : 'down']);
  }

  async teardown(): Promise<void> {
    if (this.torn) return;
    const errors: string[] = [];
    await Promise.all(
      this.guests.map((g) =>
        g.powerOff().catch((e: Error) => {
          errors.push(e.message);
          g.killSync();
        }),
      ),
    );
    await Promise.all(this.bmcs.map((b) => b.stop().catch((e: Error) => errors.push(e.message))));
    this.removeHostState(errors);
    this.torn = true;
    live.delete(this);
    if (errors.length) throw new Error(`teardown: ${errors.join('; ')}`);
  }

  teardownSync() {
    if (this.torn) return;
    for (const g of this.guests) g.killSync();
    for (const b of this.bmcs) b.killSync();
    this.removeHostState([]);
    this.torn = true;
  }

  private removeHostState(errors: string[]) {
    if (existsSync(`/run/netns/${this.netns}`)) {
      const r = host('ip', ['netns', 'del', this.netns], { allowFail: true });
      if (r.code !== 0) errors.push(`ip netns del ${this.netns}: ${r.stderr.trim()}`);
    }
    if (process.env.OCFKIT_QEMU_KEEP_LOGS) {
      // Keep the console logs for a post-mortem; everything else goes.
      const keep = join(process.env.OCFKIT_QEMU_KEEP_LOGS, basename(this.dir));
      mkdirSync(keep, { recursive: true });
      for (const f of readdirSync(this.dir)) if (f.endsWith('.console.log')) copyFileSync(join(this.dir, f), join(keep, f));
    }
    try {
      rmSync(this.dir, { recursive: true, force: true });
    } catch (e) {
      errors.push(`rm ${this.dir}: ${(e as Error).message}`);
    }
  }
}

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * The share disk: an ext4 image made now with mke2fs -d, attached read-only to every guest and
 * mounted at /opt/ocfkit. It carries the guest scripts (init, command server) and the CURRENT
 * build of the agents: a hard link (or copy) taken at this moment, so a build running meanwhile
 * cannot change what the guests run.
 */
function makeShare(dir: string, o: StartOptions): { image: string; agentsSha256: string | undefined } {
  const stage = join(dir, 'share');
  mkdirSync(join(stage, 'guest'), { recursive: true });
  for (const f of readdirSync(join(SCRIPTS, 'guest'))) {
    copyFileSync(join(SCRIPTS, 'guest', f), join(stage, 'guest', f));
    chmodSync(join(stage, 'guest', f), 0o755);
  }
  let agentsSha256: string | undefined;
  if (o.agents !== false) {
    if (!existsSync(AGENTS_EXE)) throw new Error(`${AGENTS_EXE} is not built: run \`node scripts/build.mjs agents\` first`);
    const dst = join(stage, 'ocfkit-agents');
    try {
      linkSync(AGENTS_EXE, dst);
    } catch {
      copyFileSync(AGENTS_EXE, dst);
    }
    agentsSha256 = sha256File(dst);
    writeFileSync(join(stage, 'ocfkit-agents.sha256'), `${agentsSha256}  /opt/ocfkit/ocfkit-agents\n`);
  }
  for (const [name, path] of Object.entries(o.files ?? {})) {
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`share file name ${name}: letters, digits, . _ - only`);
    mkdirSync(join(stage, 'files'), { recursive: true });
    copyFileSync(path, join(stage, 'files', name));
  }
  let bytes = 0;
  const walk = (d: string) => {
    for (const f of readdirSync(d, { withFileTypes: true })) {
      if (f.isDirectory()) walk(join(d, f.name));
      else bytes += statSync(join(d, f.name)).size;
    }
  };
  walk(stage);
  const image = join(dir, 'share.img');
  const mib = Math.ceil((bytes * 1.1) / (1 << 20)) + 32;
  host('mke2fs', ['-q', '-t', 'ext4', '-L', 'ocfkit-share', '-E', 'root_owner=0:0', '-d', stage, image, `${mib}M`]);
  rmSync(stage, { recursive: true, force: true });
  return { image, agentsSha256 };
}

/**
 * Boots guests (in parallel) on a private bridge and returns the bed once every guest's command
 * server answers. Builds the guest image first if the cache has none (minutes, once).
 * Always pair with `await bed.teardown()` (in afterAll/finally).
 */
export async function startGuests(o: StartOptions): Promise<Bed> {
  const specs: GuestSpec[] = o.guests ?? (o.names ?? []).map((name) => ({ name }));
  if (specs.length === 0) throw new Error('startGuests: no guests');
  if (specs.length > 8) throw new Error('startGuests: at most 8 guests');
  for (const s of specs) if (!NAME_RE.test(s.name)) throw new Error(`guest name ${s.name}: lower-case letters, digits and - only`);
  if (new Set(specs.map((s) => s.name)).size !== specs.length) throw new Error('startGuests: duplicate guest names');

  installExitHook();
  sweepLeftovers();
  const image = await ensureImage({ log: o.log });
  const rand = Math.floor(Math.random() * 36 ** 4).toString(36);
  const netns = `${NETNS_PREFIX}${process.pid}-${rand}`;
  const dir = mkdtempSync(join(tmpdir(), `${DIR_PREFIX}${process.pid}-`));
  let bed: BedImpl | undefined;
  try {
    const share = makeShare(dir, o);
    // The switch: a bridge in a namespace of our own, one tap per guest; no address, no route out.
    host('ip', ['netns', 'add', netns]);
    bed = new BedImpl(netns, dir, image, share.agentsSha256);
    live.add(bed);
    host('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    host('ip', ['-n', netns, 'link', 'add', 'br0', 'type', 'bridge']);
    host('ip', ['-n', netns, 'link', 'set', 'br0', 'up']);
    if (specs.some((s) => s.repl)) {
      host('ip', ['-n', netns, 'link', 'add', 'br1', 'type', 'bridge']);
      host('ip', ['-n', netns, 'link', 'set', 'br1', 'up']);
    }
    if (specs.some((s) => s.bmc) && !o.bmc) throw new Error('startGuests: guests with bmc: true need StartOptions.bmc (credentials)');
    const addr = (i: number) => `10.99.0.${11 + i}`;
    const hosts = specs.map((s, i) => `${s.name}=${addr(i)}`).join(',');
    specs.forEach((s, i) => {
      const tap = `tap${i}`;
      host('ip', ['-n', netns, 'tuntap', 'add', 'dev', tap, 'mode', 'tap']);
      host('ip', ['-n', netns, 'link', 'set', tap, 'master', 'br0']);
      host('ip', ['-n', netns, 'link', 'set', tap, 'up']);
      const rootOverlay = join(dir, `${s.name}.root.qcow2`);
      host('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image.root, '-F', 'raw', rootOverlay]);
      const dataMiB = s.dataDiskMiB ?? o.dataDiskMiB ?? 256;
      let repl: { tap: string; mac: string; cidr: string } | undefined;
      if (s.repl) {
        repl = { tap: `rtap${i}`, mac: `52:54:00:98:00:${(0x11 + i).toString(16).padStart(2, '0')}`, cidr: `10.98.0.${11 + i}/24` };
        host('ip', ['-n', netns, 'tuntap', 'add', 'dev', repl.tap, 'mode', 'tap']);
        host('ip', ['-n', netns, 'link', 'set', repl.tap, 'master', 'br1']);
        host('ip', ['-n', netns, 'link', 'set', repl.tap, 'up']);
      }
      let bmcPort: number | undefined;
      if (s.bmc) {
        const b = new Bmc(s.name, i, netns, dir, o.bmc!);
        bed!.bmcs.push(b);
        bmcPort = bmcSerialPort(i);
      }
      let dataDisk: string | undefined;
      if (dataMiB > 0) {
        dataDisk = join(dir, `${s.name}.data.img`);
        host('truncate', ['-s', `${dataMiB}M`, dataDisk]);
      }
      bed!.guests.push(
        new Guest({
          name: s.name,
          index: i,
          cidr: `${addr(i)}/24`,
          mac: `52:54:00:99:00:${(0x11 + i).toString(16).padStart(2, '0')}`,
          memoryMiB: s.memoryMiB ?? o.memoryMiB ?? 640,
          cpus: s.cpus ?? 1,
          dataDisk,
          rootOverlay,
          share: share.image,
          netns,
          tap,
          hosts,
          repl,
          bmcPort,
          dir,
          image,
          bootTimeoutMs: o.bootTimeoutMs ?? 240_000,
        }),
      );
    });
    // The BMCs first: QEMU connects to its BMC when it starts (and reconnects after a restart).
    await Promise.all(bed.bmcs.map((b) => b.start()));
    const t0 = Date.now();
    await Promise.all(bed.guests.map((g) => g.start()));
    o.log?.(`qemu: ${specs.map((s) => s.name).join(', ')} up in ${Date.now() - t0} ms`);
    return bed;
  } catch (e) {
    if (bed) await bed.teardown().catch(() => undefined);
    else {
      host('ip', ['netns', 'del', netns], { allowFail: true });
      rmSync(dir, { recursive: true, force: true });
    }
    throw e;
  }
}
