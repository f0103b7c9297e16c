// Real DRBD 8.4 (the drbd.ko of Debian's 6.1 kernel, driven by drbd-utils 9.22's 8.4 tools) between
// two QEMU guests: it connects, syncs, replicates, switches roles, goes StandAlone and diskless.
// Every state's command outputs are kept; with OCFKIT_QEMU_SAVE_FIXTURES=1 they are written to
// test/fixtures/drbd84/ for the drbd agent's stand-in (this machine's kernel has no DRBD).
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { Captures } from './lib/capture.js';
import { ROOT } from './lib/image.js';
import { qemuAvailability, startGuests, until, type Bed, type Guest } from './lib/index.js';

const avail = qemuAvailability();
if (!avail.ok) console.warn(`QEMU tier skipped: ${avail.reason}`);

const RES = `resource r0 {
  protocol C;
  device /dev/drbd0;
  disk /dev/vdb;
  meta-disk internal;
  disk {
    # slow enough that the running resync can be observed, fast enough for a test
    resync-rate 4M;
    c-plan-ahead 0;
  }
  on n1 {
    address 10.99.0.11:7789;
  }
  on n2 {
    address 10.99.0.12:7789;
  }
}
`;
const GLOBAL = 'global {\n  usage-count no;\n}\ncommon {\n}\n';

/** The commands whose outputs describe a DRBD state (what agents and admins read). */
const STATE_CMDS = [
  ['cat', '/proc/drbd'],
  ['drbdadm', 'role', 'r0'],
  ['drbdadm', 'cstate', 'r0'],
  ['drbdadm', 'dstate', 'r0'],
  ['drbdadm', 'status', 'r0'],
  ['drbdsetup', 'status', 'r0', '--verbose', '--statistics'],
  ['drbdsetup', 'events2', '--now', 'r0'],
  ['drbdsetup', 'events2', '--now', '--statistics', 'r0'],
  ['drbdsetup', 'sh-status', '0'],
  ['drbdadm', 'get-gi', 'r0'],
];

describe.skipIf(!avail.ok)('DRBD 8.4 between two QEMU guests', () => {
  let bed: Bed;
  let n1: Guest;
  let n2: Guest;
  const cap = new Captures('real DRBD in a QEMU guest (test/qemu/drbd.test.ts)');
  const timings: Record<string, number> = {};

  const out = async (g: Guest, argv: string[]) => (await g.run(argv)).trim();
  const cstate = (g: Guest) => out(g, ['drbdadm', 'cstate', 'r0']);
  const dstate = (g: Guest) => out(g, ['drbdadm', 'dstate', 'r0']);
  const role = (g: Guest) => out(g, ['drbdadm', 'role', 'r0']);
  const waitState = (g: Guest, what: string, read: (g: Guest) => Promise<string>, want: string, timeoutMs = 90_000) =>
    until(async () => (await read(g)) === want, { timeoutMs, what: `${g.name}: ${what} = ${want}` });
  const captureState = (g: Guest, state: string, text: string) => cap.runAll(g, state, text, STATE_CMDS);

  beforeAll(async () => {
    const t0 = Date.now();
    bed = await startGuests({ names: ['n1', 'n2'], dataDiskMiB: 64, agents: false, log: (l) => console.log(l) });
    timings.boot = Date.now() - t0;
    n1 = bed.guest('n1');
    n2 = bed.guest('n2');
  }, 20 * 60_000);

  let failed = false;
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') failed = true;
  });

  afterAll(async () => {
    console.log(`drbd timings (ms): ${JSON.stringify(timings)}`);
    // Fixtures only from a run where every step did what it should.
    if (process.env.OCFKIT_QEMU_SAVE_FIXTURES === '1' && !failed && cap.all.length > 0 && n1) {
      const versions = [
        `kernel ${(await n1.exec(['uname', '-r']).catch(() => undefined))?.stdout.trim()}`,
        `module ${(await n1.exec(['head', '-n1', '/proc/drbd']).catch(() => undefined))?.stdout.trim()}`,
        `drbd-utils ${/DRBDADM_VERSION=(\S+)/.exec((await n1.exec(['drbdadm', '--version']).catch(() => undefined))?.stdout ?? '')?.[1]}`,
        `resource: test/fixtures/drbd84/r0.res; n1 = 10.99.0.11, n2 = 10.99.0.12, backing disk /dev/vdb (64 MiB)`,
      ];
      const dir = join(ROOT, 'test', 'fixtures', 'drbd84');
      cap.save(dir, [`${versions.join('; ')}`, `captured ${new Date().toISOString().slice(0, 10)}`]);
      writeFileSync(join(dir, 'r0.res'), `# the resource every capture in this directory used (test/qemu/drbd.test.ts)\n${RES}`);
    }
    await bed?.teardown();
  }, 120_000);

  test('the 8.4 module loads; commands on an unconfigured resource fail as drbd-utils does', async () => {
    for (const g of [n1, n2]) {
      await g.writeFile('/etc/drbd.d/r0.res', RES);
      await g.writeFile('/etc/drbd.d/global_common.conf', GLOBAL);
      await g.run(['modprobe', 'drbd']);
    }
    expect(await n1.run(['cat', '/proc/drbd'])).toMatch(/^version: 8\.4\.\d+/);
    const [proc, r, c, d, s, ev] = await cap.runAll(n1, 'unconfigured', 'drbd module loaded, resource r0 not up (never configured)', [
      ['cat', '/proc/drbd'],
      ['drbdadm', 'role', 'r0'],
      ['drbdadm', 'cstate', 'r0'],
      ['drbdadm', 'dstate', 'r0'],
      ['drbdadm', 'status', 'r0'],
      ['drbdsetup', 'events2', '--now'],
      ['drbdadm', 'role', 'nosuch'],
      ['drbdadm', '-d', 'up', 'r0'],
      ['drbdadm', 'sh-dev', 'r0'],
      ['drbdsetup', 'help', 'status'],
      ['drbdsetup', 'help', 'events2'],
      ['drbdsetup', 'status', 'r0', '--json'], // the 8.4 drbdsetup has no --json (exit 20)
    ]);
    expect(proc!.stdout).not.toMatch(/ 0: cs:/);
    expect(r!.code).toBe(10);
    expect(r!.stderr).toMatch(/Device minor not allocated/);
    expect(c!.code).toBe(10);
    // dstate of a resource that is not up reads the on-disk meta-data: none yet.
    expect(d!.code).toBe(1);
    expect(d!.stderr).toMatch(/No valid meta data found/);
    expect(s!.code).toBe(10);
    expect(ev!.stdout.trim()).toBe('exists -');
  }, 180_000);

  test('connects: create-md, up on both, Connected Secondary/Secondary Inconsistent/Inconsistent', async () => {
    const t0 = Date.now();
    for (const g of [n1, n2]) await cap.run(g, 'create-md', 'fresh zeroed backing disk', ['drbdadm', 'create-md', '--force', 'r0']);
    await n1.run(['drbdadm', 'up', 'r0']);
    // Only n1 is up: it waits for its peer.
    await captureState(n1, 'connecting', 'r0 up on this node only, peer not up yet');
    expect(await cstate(n1)).toBe('WFConnection');
    await n2.run(['drbdadm', 'up', 'r0']);
    for (const g of [n1, n2]) await waitState(g, 'cstate', cstate, 'Connected', 120_000);
    timings.connect = Date.now() - t0;
    for (const g of [n1, n2]) {
      await captureState(g, 'connected-inconsistent', 'both up and connected, no initial sync yet');
      expect(await role(g)).toBe('Secondary/Secondary');
      expect(await dstate(g)).toBe('Inconsistent/Inconsistent');
    }
  }, 300_000);

  test('syncs: primary --force on n1 makes it SyncSource until both are UpToDate', async () => {
    const t0 = Date.now();
    await n1.run(['drbdadm', 'primary', '--force', 'r0']);
    await waitState(n1, 'cstate', cstate, 'SyncSource', 30_000);
    await waitState(n2, 'cstate', cstate, 'SyncTarget', 30_000);
    // Caught while the 64 MiB resync runs (4 MiB/s); both nodes at once.
    const [src, tgt] = await Promise.all([
      captureState(n1, 'sync', 'initial resync running, this node SyncSource after primary --force'),
      captureState(n2, 'sync', 'initial resync running, this node SyncTarget'),
    ]);
    expect(src[2]!.stdout.trim()).toBe('SyncSource');
    expect(src[3]!.stdout.trim()).toBe('UpToDate/Inconsistent');
    expect(tgt[2]!.stdout.trim()).toBe('SyncTarget');
    expect(tgt[3]!.stdout.trim()).toBe('Inconsistent/UpToDate');
    expect(src[0]!.stdout).toMatch(/sync'ed:/);
    for (const g of [n1, n2]) await waitState(g, 'dstate', dstate, 'UpToDate/UpToDate', 180_000);
    timings.sync64MiB = Date.now() - t0;
    await captureState(n1, 'primary-uptodate', 'connected, UpToDate/UpToDate, this node Primary');
    await captureState(n2, 'secondary-uptodate', 'connected, UpToDate/UpToDate, this node Secondary');
    expect(await role(n1)).toBe('Primary/Secondary');
    expect(await role(n2)).toBe('Secondary/Primary');
  }, 300_000);

  test('replicates and switches roles: data written on n1 is read on n2 after the switch', async () => {
    const t0 = Date.now();
    const token = randomBytes(16).toString('hex');
    await n1.run(['mkfs.ext4', '-q', '/dev/drbd0'], { timeoutMs: 120_000 });
    await n1.run(['mkdir', '-p', '/mnt/r0']);
    await n1.run(['mount', '/dev/drbd0', '/mnt/r0']);
    await n1.writeFile('/mnt/r0/token', token);
    // While n1 holds it mounted: a second primary and a demotion are refused.
    const [busy] = await cap.runAll(n1, 'error-secondary-while-mounted', 'Primary with /dev/drbd0 mounted; drbdadm secondary refused', [['drbdadm', 'secondary', 'r0']]);
    expect(busy!.code).not.toBe(0);
    const [twoPrim] = await cap.runAll(n2, 'error-primary-while-peer-primary', 'Secondary while the peer is Primary (no allow-two-primaries); drbdadm primary refused', [['drbdadm', 'primary', 'r0']]);
    expect(twoPrim!.code).not.toBe(0);
    await n1.run(['umount', '/mnt/r0']);
    await n1.run(['drbdadm', 'secondary', 'r0']);
    await n2.run(['drbdadm', 'primary', 'r0']);
    await n2.run(['mkdir', '-p', '/mnt/r0']);
    await n2.run(['mount', '/dev/drbd0', '/mnt/r0']);
    expect(await n2.run(['cat', '/mnt/r0/token'])).toBe(token);
    timings.switch = Date.now() - t0;
    await captureState(n2, 'switched-primary', 'after the role switch: this node promoted, device mounted');
    await captureState(n1, 'switched-secondary', 'after the role switch: this node demoted');
    expect(await role(n2)).toBe('Primary/Secondary');
    expect(await role(n1)).toBe('Secondary/Primary');
    await n2.run(['umount', '/mnt/r0']);
  }, 300_000);

  test('StandAlone after disconnect; reconnects to Connected', async () => {
    await n2.run(['drbdadm', 'disconnect', 'r0']);
    await waitState(n2, 'cstate', cstate, 'StandAlone');
    await waitState(n1, 'cstate', cstate, 'WFConnection');
    await captureState(n2, 'standalone', 'Primary after drbdadm disconnect (StandAlone)');
    await captureState(n1, 'peer-standalone', 'Secondary whose Primary peer disconnected (WFConnection)');
    expect(await dstate(n2)).toBe('UpToDate/DUnknown');
    expect(await role(n2)).toBe('Primary/Unknown');
    await n2.run(['drbdadm', 'connect', 'r0']);
    for (const g of [n1, n2]) await waitState(g, 'cstate', cstate, 'Connected');
    for (const g of [n1, n2]) await waitState(g, 'dstate', dstate, 'UpToDate/UpToDate');
  }, 300_000);

  test('diskless after detach; attach brings the disk back UpToDate', async () => {
    await n1.run(['drbdadm', 'detach', 'r0']);
    await waitState(n1, 'dstate', dstate, 'Diskless/UpToDate');
    await captureState(n1, 'diskless', 'Secondary after drbdadm detach (Diskless), still connected');
    await captureState(n2, 'peer-diskless', 'Primary whose peer detached its disk');
    expect(await dstate(n2)).toBe('UpToDate/Diskless');
    expect(await cstate(n1)).toBe('Connected');
    await n1.run(['drbdadm', 'attach', 'r0']);
    for (const g of [n1, n2]) await waitState(g, 'dstate', dstate, 'UpToDate/UpToDate', 180_000);
  }, 300_000);

  test('down: both nodes unconfigure r0', async () => {
    await n2.run(['drbdadm', 'secondary', 'r0']);
    await n1.run(['drbdadm', 'down', 'r0']);
    await captureState(n2, 'peer-down', 'Secondary whose peer ran drbdadm down');
    await n2.run(['drbdadm', 'down', 'r0']);
    const after = await captureState(n2, 'down', 'after drbdadm down (module loaded, r0 unconfigured, meta-data on disk)');
    expect(after[2]!.code).toBe(10);
    // dstate of a down resource comes from the on-disk meta-data, which knows only "Consistent".
    expect(after[3]!.code).toBe(0);
    expect(after[3]!.stdout.trim()).toBe('Consistent');
  }, 180_000);
});
