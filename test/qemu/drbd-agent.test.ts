// The drbd agent on REAL DRBD 8.4 (Debian 6.1 kernel's drbd.ko, drbd-utils 9.22) between two QEMU
// guests: the built executable runs in the guests as Pacemaker would run it (env -i, OCF variables,
// the action as argument), promotion scores go through the real crm_attribute into an offline CIB in
// each guest (CIB_file; crm_mon -A reads them back), ocf-tester runs its promotable checks.
// (test/qemu/drbd.test.ts is the harness's own DRBD test, which captures outputs for the stand-in.)
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { qemuAvailability, startGuests, until, type Bed, type Guest } from './lib/index.js';

const avail = qemuAvailability();
if (!avail.ok) console.warn(`QEMU tier skipped: ${avail.reason}`);

const RES = `resource r0 {
  protocol C;
  device /dev/drbd0;
  disk /dev/vdb;
  meta-disk internal;
  disk {
    resync-rate 100M;
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
const AGENT = '/usr/lib/ocf/resource.d/ocfkit/drbd';
const CIB = '/root/cib.xml';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  reason?: string;
}

describe.skipIf(!avail.ok)('drbd agent on real DRBD 8.4 between two QEMU guests', () => {
  let bed: Bed;
  let n1: Guest;
  let n2: Guest;

  /** One agent action in guest g, as Pacemaker's execd runs it. */
  const agent = async (g: Guest, action: string, o: { params?: Record<string, string>; meta?: Record<string, string | number> } = {}): Promise<Run> => {
    const meta: Record<string, string | number> = {
      clone_max: 2, clone_node_max: 1, promoted_max: 1, promoted_node_max: 1, notify: 'true', on_node: g.name, timeout: 60_000,
      ...(action === 'monitor' ? { interval: 31_000 } : {}),
      ...o.meta,
    };
    const env = [
      'OCF_ROOT=/usr/lib/ocf', 'OCF_RESOURCE_INSTANCE=drbd_r0:0', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', `CIB_file=${CIB}`,
      ...Object.entries({ drbd_resource: 'r0', ...o.params }).map(([k, v]) => `OCF_RESKEY_${k}=${v}`),
      ...Object.entries(meta).map(([k, v]) => `OCF_RESKEY_CRM_meta_${k}=${v}`),
    ];
    const r = await g.exec(['env', '-i', ...env, AGENT, action], { timeoutMs: 180_000 });
    return { code: r.code, stdout: r.stdout, stderr: r.stderr, reason: /^ocf-exit-reason:(.*)$/m.exec(r.stderr)?.[1] };
  };
  /** The promotion score of drbd_r0 for g, as crm_attribute reads it from g's CIB. */
  const score = async (g: Guest): Promise<number | undefined> => {
    const r = await g.exec(['env', `CIB_file=${CIB}`, 'crm_attribute', '--promotion=drbd_r0', `--node=${g.name}`, '--query', '--quiet']);
    if (r.code === 105) return undefined;
    if (r.code !== 0) throw new Error(`${g.name}: crm_attribute --query: exit ${r.code}: ${r.stderr}`);
    return Number(r.stdout.trim());
  };
  const out = async (g: Guest, argv: string[]) => (await g.run(argv)).trim();
  const waitFor = (g: Guest, argv: string[], want: string, timeoutMs = 120_000) =>
    until(async () => (await out(g, argv)) === want, { timeoutMs, what: `${g.name}: ${argv.join(' ')} = ${want}` });
  const cstate = (g: Guest, want: string) => waitFor(g, ['drbdadm', 'cstate', 'r0'], want);
  const dstate = (g: Guest, want: string, timeoutMs?: number) => waitFor(g, ['drbdadm', 'dstate', 'r0'], want, timeoutMs);
  const expectCode = (r: Run, code: number, what: string) => expect(r.code, `${what}: ${r.stderr}`).toBe(code);

  beforeAll(async () => {
    bed = await startGuests({ names: ['n1', 'n2'], dataDiskMiB: 32, log: (l) => console.log(l), files: { xmllint: '/usr/bin/xmllint' } });
    n1 = bed.guest('n1');
    n2 = bed.guest('n2');
    for (const g of [n1, n2]) {
      await g.writeFile('/etc/drbd.d/r0.res', RES);
      await g.writeFile('/etc/drbd.d/global_common.conf', GLOBAL);
      await g.run(['mkdir', '-p', '/usr/lib/ocf/resource.d/ocfkit']);
      await g.run(['ln', '-sf', '/opt/ocfkit/ocfkit-agents', AGENT]);
      // An offline CIB with both nodes online: what crm_attribute --promotion writes to.
      await g.writeFile('/root/cib-empty.xml', await g.run(['cibadmin', '--empty']));
      for (const [id, uname] of [['1', 'n1'], ['2', 'n2']]) {
        await g.run(['env', 'CIB_file=/root/cib-empty.xml', 'cibadmin', '-C', '-o', 'nodes', '-X', `<node id="${id}" uname="${uname}"/>`]);
      }
      await g.run(['crm_simulate', '-x', '/root/cib-empty.xml', '-S', '-u', 'n1', '-u', 'n2', '-O', CIB], { timeoutMs: 120_000 });
    }
  }, 20 * 60_000);

  afterAll(async () => {
    await bed?.teardown();
  }, 120_000);

  test('probe before the module is loaded: 7; validate-all finds the 8.4 module with modinfo', async () => {
    // Nothing has loaded drbd.ko yet in a fresh guest (drbdadm may load it; none ran so far).
    expect(await out(n1, ['sh', '-c', 'test -e /proc/drbd && echo loaded || echo not-loaded'])).toBe('not-loaded');
    expectCode(await agent(n1, 'monitor', { meta: { interval: 0 } }), 7, 'probe');
    expectCode(await agent(n1, 'validate-all'), 0, 'validate-all');
    const tooOld = await agent(n1, 'validate-all', { params: { require_drbd_module_version_ge: '9.0.0' } });
    expectCode(tooOld, 5, 'module version check');
    expect(tooOld.reason).toMatch(/8\.4\.\d+ is older than require_drbd_module_version_ge=9\.0\.0/);
  }, 300_000);

  test('start on both: module loaded, connected Secondary/Secondary, Inconsistent: no score anywhere', async () => {
    // The admin's one-time step: DRBD meta data on the fresh backing disks.
    for (const g of [n1, n2]) await g.run(['drbdadm', 'create-md', '--force', 'r0']);
    expectCode(await agent(n1, 'start', { params: { wfc_timeout: '1' } }), 0, 'start n1');
    expectCode(await agent(n1, 'monitor'), 0, 'monitor n1');
    expectCode(await agent(n2, 'start'), 0, 'start n2');
    for (const g of [n1, n2]) await cstate(g, 'Connected');
    for (const g of [n1, n2]) {
      expect(await out(g, ['drbdadm', 'dstate', 'r0'])).toBe('Inconsistent/Inconsistent');
      expectCode(await agent(g, 'monitor'), 0, `monitor ${g.name}`);
      expect(await score(g)).toBeUndefined();
    }
  }, 600_000);

  test('promote on Inconsistent data is refused at once (DRBD exit 17), no retries', async () => {
    const r = await agent(n1, 'promote', { meta: { timeout: 90_000 } });
    expectCode(r, 1, 'promote on Inconsistent');
    expect(r.reason).toMatch(/refusing to promote r0: no access to UpToDate data/);
    expect(r.reason).toMatch(/Need access to UpToDate data/);
    expect(r.stderr).not.toMatch(/retrying/);
    expect(await out(n1, ['drbdadm', 'role', 'r0'])).toBe('Secondary/Secondary');
    expect(await score(n1)).toBeUndefined();
  }, 300_000);

  test('after the initial sync both score 10000; promote → 8, demote → 0; crm_mon -A shows the score', async () => {
    // The admin's one-time step: declare n1's data good, sync it to n2.
    await n1.run(['drbdadm', 'primary', '--force', 'r0']);
    for (const g of [n1, n2]) await dstate(g, 'UpToDate/UpToDate', 300_000);
    await n1.run(['drbdadm', 'secondary', 'r0']);
    for (const g of [n1, n2]) {
      expectCode(await agent(g, 'monitor'), 0, `monitor ${g.name}`);
      expect(await score(g)).toBe(10000);
    }
    expectCode(await agent(n1, 'promote'), 0, 'promote n1');
    expectCode(await agent(n1, 'monitor', { meta: { interval: 29_000 } }), 8, 'monitor Primary');
    expect(await out(n1, ['drbdadm', 'role', 'r0'])).toBe('Primary/Secondary');
    expect(await score(n1)).toBe(10000);
    const mon = await n1.run(['env', `CIB_file=${CIB}`, 'crm_mon', '-1', '-A']);
    expect(mon).toMatch(/master-drbd_r0\s*:\s*10000/);

    // A second Primary is refused by DRBD (single-primary): promote on n2 retries, then fails before its deadline.
    const twice = await agent(n2, 'promote', { meta: { timeout: 8000 } });
    expectCode(twice, 1, 'promote n2 while n1 is Primary');
    expect(twice.reason).toMatch(/Multiple primaries not allowed by config/);

    expectCode(await agent(n1, 'demote'), 0, 'demote n1');
    expectCode(await agent(n1, 'monitor'), 0, 'monitor after demote');
    expectCode(await agent(n1, 'promote'), 0, 'promote n1 again');
  }, 900_000);

  test('monitor 9 after the backing disk is detached under the Primary', async () => {
    await n1.run(['drbdadm', 'detach', 'r0']);
    await dstate(n1, 'Diskless/UpToDate');
    const r = await agent(n1, 'monitor', { meta: { interval: 29_000 } });
    expectCode(r, 9, 'monitor detached Primary');
    expect(r.reason).toMatch(/Primary but its local disk failed/);
    expect(await score(n1)).toBe(10);
    await n1.run(['drbdadm', 'attach', 'r0']);
    for (const g of [n1, n2]) await dstate(g, 'UpToDate/UpToDate', 300_000);
    expectCode(await agent(n1, 'monitor', { meta: { interval: 29_000 } }), 8, 'monitor re-attached Primary');
    expect(await score(n1)).toBe(10000);
  }, 600_000);

  test('promote on Outdated data is refused; the score is gone while Outdated', async () => {
    await n2.run(['drbdadm', 'disconnect', 'r0']);
    await cstate(n2, 'StandAlone');
    await n2.run(['drbdadm', 'outdate', 'r0']);
    expect(await out(n2, ['drbdadm', 'dstate', 'r0'])).toBe('Outdated/DUnknown');
    expectCode(await agent(n2, 'monitor'), 0, 'monitor Outdated');
    expect(await score(n2)).toBeUndefined();
    const r = await agent(n2, 'promote');
    expectCode(r, 1, 'promote Outdated');
    expect(r.reason).toMatch(/no access to UpToDate data/);
    expect(r.stderr).not.toMatch(/retrying/);
    await n2.run(['drbdadm', 'connect', 'r0']);
    for (const g of [n1, n2]) await dstate(g, 'UpToDate/UpToDate', 300_000);
    expectCode(await agent(n2, 'monitor'), 0, 'monitor n2 resynced');
    expect(await score(n2)).toBe(10000);
  }, 600_000);

  test('a split brain made on purpose is reported by monitor (8 and 0, no restart loop)', async () => {
    // Both nodes Primary while disconnected, both writing: the data sets diverge.
    for (const g of [n1, n2]) await g.run(['drbdadm', 'disconnect', 'r0']);
    for (const g of [n1, n2]) await cstate(g, 'StandAlone');
    await n2.run(['drbdadm', 'primary', 'r0']);
    for (const g of [n1, n2]) {
      await g.run(['dd', 'if=/dev/urandom', 'of=/dev/drbd0', 'bs=4k', 'count=16', 'oflag=direct', 'status=none']);
    }
    await n2.run(['drbdadm', 'secondary', 'r0']);
    for (const g of [n1, n2]) await g.run(['drbdadm', 'connect', 'r0']);
    // DRBD finds the split brain at the handshake and drops the connection (after-sb-*pri disconnect).
    for (const g of [n1, n2]) await cstate(g, 'StandAlone');
    const p = await agent(n1, 'monitor', { meta: { interval: 29_000 } });
    expectCode(p, 8, 'monitor split-brain Primary');
    expect(p.reason).toMatch(/split brain: r0 is StandAlone/);
    expect(p.stderr).toMatch(/CRIT: split brain/);
    const s = await agent(n2, 'monitor');
    expectCode(s, 0, 'monitor split-brain Secondary');
    expect(s.reason).toMatch(/split brain/);
    // Resolve as the exit reason says: n2's changes are dropped.
    await n2.run(['drbdadm', 'connect', '--discard-my-data', 'r0']);
    await n1.run(['drbdadm', 'connect', 'r0']);
    for (const g of [n1, n2]) await dstate(g, 'UpToDate/UpToDate', 300_000);
    const after = await agent(n1, 'monitor', { meta: { interval: 29_000 } });
    expectCode(after, 8, 'monitor after resolution');
    expect(after.reason).toBeUndefined();
    expectCode(await agent(n1, 'demote'), 0, 'demote n1');
  }, 900_000);

  test('ocf-tester passes, promotable checks included (n2 stays up as the peer)', async () => {
    // xmllint (for the meta-data check) comes from the host through the share: the guest image has none.
    const r = await n1.exec(['env', '-i', 'PATH=/opt/ocfkit/files:/usr/sbin:/usr/bin:/sbin:/bin', 'OCF_ROOT=/usr/lib/ocf', `CIB_file=${CIB}`,
      'ocf-tester', '-n', 'drbd_r0', '-o', 'drbd_resource=r0', '-o', 'CRM_meta_notify=true', '-o', 'CRM_meta_clone_max=2', '-o', 'CRM_meta_on_node=n1',
      '-o', 'wfc_timeout=30', AGENT], { timeoutMs: 900_000 });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain(`${AGENT} passed all tests`);
  }, 1_000_000);

  test('stop on both: down, 7, scores removed; stop again succeeds', async () => {
    for (const g of [n1, n2]) expectCode(await agent(g, 'start'), 0, `start ${g.name}`);
    for (const g of [n1, n2]) {
      expectCode(await agent(g, 'stop'), 0, `stop ${g.name}`);
      expectCode(await agent(g, 'monitor'), 7, `monitor stopped ${g.name}`);
      expectCode(await agent(g, 'monitor', { meta: { interval: 0 } }), 7, `probe stopped ${g.name}`);
      expect(await score(g)).toBeUndefined();
      expectCode(await agent(g, 'stop'), 0, `stop stopped ${g.name}`);
    }
    expect(await out(n1, ['cat', '/proc/drbd'])).not.toMatch(/ 0: cs:/);
  }, 600_000);
});
