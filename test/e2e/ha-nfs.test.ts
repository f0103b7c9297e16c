// End to end: the HA-NFS stack (ocf:ocfkit:drbd promotable clone → Filesystem → nfsserver →
// IPaddr2) in a real two-node Pacemaker 2.1 / Corosync 3 cluster of QEMU guests (Debian 12 kernel:
// real DRBD 8.4, real kernel nfsd), with a third guest as NFS client writing through the floating
// IP the whole time and holding a POSIX lock. The agents are installed with `ocf-gen install`, the
// CIB comes from `ocf-gen cib` (the embedded ha-nfs template) and is loaded with cibadmin.
//
// Scenarios, one after another on ONE bed: initial start; planned migration (move of the DRBD
// clone's promoted role, then of the group); hard node failure; the old node coming back; nfsd
// killed. After each: every acknowledged line on the export exactly once and in order, no write
// error, no stale file handle, the lock held by the server that now serves. Measured: the client's
// longest pause between two successful writes (service gap) and event → floating IP answering from
// the node that serves afterwards (takeover). See docs/readme/e2e.md.
//
// Fencing: there is no fence device in the bed. The CIB has stonith-enabled=false (the template's
// default without fence_agent); the "fence" is the test itself powering the node off hard (SIGKILL
// of its qemu) before the survivor takes over, so the dead node can hold neither DRBD nor the IP.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { startCluster } from '../qemu/lib/cluster.js';
import { qemuAvailability, startGuests, until, type Bed, type Guest } from '../qemu/lib/index.js';
import { installLockProbe, NfsClient, serverLock } from './lib/client.js';
import { waitForQuietMachine } from './lib/foreign-qemu.js';
import {
  addVipName, clockOffset, clusterState, diagnostics, DRBD_RES, initDrbd, installAgents, operations, pacemakerResults, rejoin, serviceNode, settle, stackOn, VIP, waitStackOn,
} from './lib/ha-nfs.js';
import { checkLogSequence, checkOrder, lastOp, maxCallId, where, type OpRecord, type Step } from './lib/history.js';
import { buildAll, stage, type Staged } from './lib/host-prep.js';
import { markdownTable, type Row } from './lib/table.js';
import { serviceGap, takeover } from './lib/timeline.js';
import { checkData } from './lib/verify.js';

const avail = qemuAvailability();
if (!avail.ok) console.warn(`QEMU tier skipped: ${avail.reason}`);

/** ha-nfs template settings for this bed (everything else: the template's defaults). */
const CIB_SETTINGS: Record<string, string> = {
  node1: 'n1',
  node2: 'n2',
  ip: VIP,
  export_clientspec: '10.99.0.0/24',
};

const START: Step[] = [
  { rsc: 'drbd', op: 'promote' },
  { rsc: 'fs', op: 'start' },
  { rsc: 'nfs', op: 'start' },
  { rsc: 'ip', op: 'start' },
];
const STOP: Step[] = [
  { rsc: 'ip', op: 'stop' },
  { rsc: 'nfs', op: 'stop' },
  { rsc: 'fs', op: 'stop' },
  { rsc: 'drbd', op: 'demote' },
];

const MIN = 60_000;
const qemuVersion = () => {
  const m = /version (\S+)/.exec(spawnSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' }).stdout ?? '');
  return m ? `QEMU ${m[1]}` : 'QEMU';
};
const log = (l: string) => console.log(l);

describe.skipIf(!avail.ok)('HA-NFS end to end: failover and migration under a writing NFS client (QEMU guests)', () => {
  let work: string;
  let staged: Staged;
  let bed: Bed | undefined;
  let n1: Guest;
  let n2: Guest;
  let client: NfsClient;
  const rows: Row[] = [];
  const notes: string[] = [];
  const timings: Record<string, number> = {};
  let broken: string | undefined;
  /** Where the service runs now. */
  let active: string;
  const t0 = Date.now();
  const load0 = loadavg()[0]!;

  const guest = (name: string) => bed!.guest(name);
  const other = (name: string) => (name === 'n1' ? 'n2' : 'n1');
  const macOf = (name: string) => guest(name).cfg.mac;
  const servers = () => [n1, n2].filter((g) => g.running);

  /** The moment of an event on the client's clock (its logs are in that clock). */
  const eventNow = async () => {
    const c = await clockOffset(client.g);
    return { at: Date.now() / 1000 + c.offset, offset: c.offset };
  };

  /**
   * The checks every scenario ends with, on the node that serves now: the client still writes
   * (new acknowledged writes after the scenario), the data is exact, no I/O error or stale handle
   * anywhere on the client, and the lock is held by this server (reclaimed after a takeover).
   */
  const verify = async (serving: string) => {
    expect(await client.alive(client.writerPid), 'writer still running').toBe(true);
    expect(await client.alive(client.lockPid), 'lock holder still running').toBe(true);
    const before = (await client.acks()).length;
    await until(async () => (await client.acks()).length >= before + 3, { timeoutMs: 3 * MIN, intervalMs: 1000, what: 'the client writes again (3 new acknowledged writes)' });
    const acks = await client.acks();
    const errors = await client.errors();
    const file = await client.dataFile();
    const data = checkData(file, acks, errors);
    expect(data.problems, 'data on the export vs. acknowledged writes').toEqual([]);
    expect(await client.kernelProblems(), 'client kernel messages').toEqual([]);
    const g = guest(serving);
    const lock = await until(async () => {
      const l = await serverLock(g);
      return l.procLocks.length > 0 ? l : undefined;
    }, { timeoutMs: 4 * MIN, intervalMs: 2000, what: `${serving} holds the client's POSIX lock (/proc/locks)` });
    expect(lock.probe, `a local lock attempt on ${serving} must be refused`).toBe('held');
    return { acks, lines: data.lines };
  };

  /** Measures the scenario and adds its row. */
  const record = async (r: Omit<Row, 'takeoverS' | 'gapS' | 'writes' | 'result'>, ev: { at: number; offset: number }, o: { takeover: boolean }) => {
    const end = Date.now() / 1000 + ev.offset;
    const acks = await client.acks();
    const probes = await client.probes();
    const gap = serviceGap(acks, ev.at, end);
    const tk = o.takeover ? takeover(probes, ev.at, macOf(r.to), end) : undefined;
    const row: Row = { ...r, takeoverS: tk?.seconds, gapS: gap?.seconds, writes: acks.filter((a) => a.ackAt >= ev.at && a.ackAt <= end).length, result: 'pass' };
    rows.push(row);
    log(`e2e: ${r.scenario}: takeover ${tk ? `${tk.seconds.toFixed(1)} s (address silent from +${(tk.outageFrom - ev.at).toFixed(1)} s)` : '—'}, service gap ${gap ? `${gap.seconds.toFixed(1)} s (after write ${gap.after.n})` : '—'}, ${row.writes} writes`);
    return { row, tk, gap };
  };

  const opSummary = (records: OpRecord[]) => records.map((o) => `${o.op} ${o.rsc} (call ${o.callId}, ${(o.execMs / 1000).toFixed(1)} s)`).join(' → ');

  const guard = () => {
    if (broken) throw new Error(`not run: scenario "${broken}" failed before it (the bed's state is unknown)`);
  };

  beforeAll(async () => {
    const quiet = await waitForQuietMachine({ timeoutMs: 10 * MIN, intervalMs: 15_000, log });
    timings.waitForOtherQemu = quiet.waitedMs;
    if (quiet.busy.length) notes.push(`${quiet.busy.length} other qemu process(es) were running during the suite`);
    let t = Date.now();
    buildAll();
    work = mkdtempSync(join(tmpdir(), 'ocfkit-e2e-'));
    staged = stage(work, CIB_SETTINGS);
    log(`e2e: ocf-gen install:\n${staged.installLog.trim()}\ne2e: ocf-gen ${staged.cibArgs.join(' ')}`);
    timings.hostPrep = Date.now() - t;

    t = Date.now();
    bed = await startGuests({
      guests: [{ name: 'n1', dataDiskMiB: 128 }, { name: 'n2', dataDiskMiB: 128 }, { name: 'client', dataDiskMiB: 0, memoryMiB: 512 }],
      agents: false,
      files: { 'ocfkit-ocf.tar': staged.agentsTar, 'cib.xml': staged.cibXml },
      log,
    });
    timings.boot = Date.now() - t;
    n1 = bed.guest('n1');
    n2 = bed.guest('n2');
    client = new NfsClient(bed.guest('client'));

    t = Date.now();
    await Promise.all([n1, n2].map(async (g) => {
      await installAgents(g, '/opt/ocfkit/files/ocfkit-ocf.tar', staged.agentsSha256);
      await addVipName(g);
      await installLockProbe(g);
    }));
    await client.prepare();
    await client.startProber();
    timings.guestSetup = Date.now() - t;

    t = Date.now();
    await initDrbd(n1, n2, log);
    timings.drbdInitialSync = Date.now() - t;

    t = Date.now();
    await startCluster([n1, n2], { tokenMs: 3000 });
    timings.clusterForm = Date.now() - t;
  }, 40 * MIN);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    const why = ctx.task.result.errors?.[0]?.message?.split('\n')[0] ?? '';
    rows.push({ scenario: ctx.task.name.split(':')[0]!, event: '', from: '', to: '', result: 'FAIL', note: why.slice(0, 100) });
    if (broken) return;
    broken = ctx.task.name;
    if (!bed) return;
    const parts = await Promise.all([...servers(), client.g].map((g) => diagnostics(g).catch((e: Error) => `${g.name}: ${e.message}`)));
    const extra = [
      `--- client: writer errors\n${JSON.stringify(await client.errors().catch(() => []))}`,
      `--- client: lock holder log\n${await client.lockLog().catch(() => '')}`,
      `--- client: statd (SM_NOTIFY)\n${(await client.statdLog().catch(() => '')).split('\n').filter((l) => /NOTIFY/.test(l)).slice(-10).join('\n')}`,
    ];
    log(`e2e: diagnostics after the failure of "${ctx.task.name}":\n${[...parts, ...extra].join('\n')}`);
  }, 5 * MIN);

  afterAll(async () => {
    try {
      const machine = [
        `host: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB; ${qemuVersion()} with TCG (software emulation, no KVM), 1 vCPU per guest`,
        `servers: 640 MiB, client: 512 MiB; load average ${load0.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end`,
        `setup (ms): ${JSON.stringify(timings)}; whole suite ${Math.round((Date.now() - t0 - (timings.waitForOtherQemu ?? 0)) / 1000)} s (not counting the wait for other QEMU runs)`,
        ...notes,
      ];
      const table = markdownTable(rows);
      log(`\nHA-NFS end to end (times are TCG-emulated guests, far slower than hardware):\n${table}\n${machine.join('\n')}\n`);
      const out = process.env.OCFKIT_E2E_REPORT;
      if (out) {
        mkdirSync(dirname(out), { recursive: true });
        writeFileSync(out, `${table}\n\n${machine.map((m) => `- ${m}`).join('\n')}\n`);
      }
    } finally {
      await bed?.teardown();
      if (work) rmSync(work, { recursive: true, force: true });
    }
  }, 5 * MIN);

  test('1. initial start: DRBD promoted on one node, then Filesystem, nfsserver, IP, in that order', async () => {
    const name = '1 initial start';
    guard();
    const ev = await eventNow();
    // The CIB from ocf-gen replaces the configuration section (the live CIB keeps its own epoch).
    await n1.run(['cibadmin', '--replace', '--scope', 'configuration', '--xml-file', '/opt/ocfkit/files/cib.xml'], { timeoutMs: 2 * MIN });
    const s = await until(async () => {
      const st = await clusterState(n1);
      return serviceNode(st) ? st : undefined;
    }, { timeoutMs: 8 * MIN, intervalMs: 2000, what: 'the whole stack started on one node' });
    active = serviceNode(s)!;
    timings.stackStart = Math.round((Date.now() / 1000 + ev.offset - ev.at) * 1000);
    expect(where(s, 'drbd', 'Unpromoted')).toEqual([other(active)]);

    // The order, from the executor's history (call-ids) on the promoted node…
    const ops = await operations(guest(active));
    const order = checkOrder(ops, active, START);
    expect(order.problems).toEqual([]);
    log(`e2e: start order on ${active} (CIB history): ${opSummary(order.records)}`);
    // …and from Pacemaker's log on that node: the results in file order, DRBD started before it was promoted.
    const results = await pacemakerResults(guest(active));
    const seq = checkLogSequence(results, active, [{ rsc: 'drbd', op: 'start' }, ...START]);
    expect(seq.problems).toEqual([]);
    const firsts = START.map((st) => results.findIndex((r) => r.node === active && r.rsc === st.rsc && r.op === st.op));
    expect(firsts, 'each step appears first in this order in the log').toEqual([...firsts].sort((a, b) => a - b));
    log(`e2e: start order on ${active} (pacemaker.log):\n  ${seq.found.map((r) => r.line.trim()).join('\n  ')}`);
    if (process.env.OCFKIT_E2E_SAVE_FIXTURES === '1') {
      // Real outputs for the parsers' fast tests (test/e2e/analysis.test.ts).
      const dir = join(import.meta.dirname, 'fixtures');
      mkdirSync(dir, { recursive: true });
      const g = guest(active);
      writeFileSync(join(dir, 'crm_mon-started.xml'), await g.run(['crm_mon', '-1', '--output-as=xml'], { timeoutMs: 90_000 }));
      writeFileSync(join(dir, 'cib-status-started.xml'), await g.run(['cibadmin', '--query', '--scope', 'status'], { timeoutMs: 90_000 }));
      writeFileSync(join(dir, 'pacemaker-log-results-started.txt'), results.map((r) => r.line).join('\n') + '\n');
    }

    // The client mounts through the floating IP's name and starts writing and locking.
    await client.mount();
    await client.startWriter();
    await client.startLockHolder();
    await verify(active);
    const lockLog = await client.lockLog();
    expect(lockLog).toMatch(/^locked /m);
    await record({ scenario: name, event: 'cibadmin --replace (ocf-gen CIB)', from: '—', to: active }, ev, { takeover: true });
  }, 15 * MIN);

  /**
   * A planned move with crm_resource, then --clear: the stack stops in order on
   * the old node, starts in order on the new one, and stays there.
   */
  async function migrate(name: string, resource: string, moveFlags: string[], event: string): Promise<void> {
    guard();
    const from = active;
    const to = other(from);
    const base = { [from]: maxCallId(await operations(guest(from)), from), [to]: maxCallId(await operations(guest(to)), to) };
    const ev = await eventNow();
    await guest(to).run(['crm_resource', '--resource', resource, '--move', ...moveFlags, '--node', to], { timeoutMs: 2 * MIN });
    await waitStackOn(guest(to), to, 6 * MIN);
    const ops = await operations(guest(to));
    const stop = checkOrder(ops, from, STOP, base[from]);
    const start = checkOrder(ops, to, START, base[to]);
    expect([...stop.problems, ...start.problems]).toEqual([]);
    log(`e2e: ${from}: ${opSummary(stop.records)}; ${to}: ${opSummary(start.records)}`);
    await guest(to).run(['crm_resource', '--resource', resource, '--clear'], { timeoutMs: 2 * MIN });
    expect(await guest(to).run(['cibadmin', '--query', '--scope', 'constraints'])).not.toMatch(/cli-(prefer|ban)-/);
    await settle(guest(to), 180);
    expect(stackOn(await clusterState(guest(to)), to), 'still on the new node after --clear').toBe(true);
    active = to;
    await verify(active);
    await record({ scenario: name, event, from, to }, ev, { takeover: true });
  }

  test('2a. planned migration: crm_resource --move --promoted of the DRBD clone, then --clear', async () => {
    await migrate('2a migration: --move --promoted drbd-clone', 'drbd-clone', ['--promoted'], 'crm_resource --move --promoted');
  }, 15 * MIN);

  test('2b. planned migration: crm_resource --move of the group, then --clear', async () => {
    await migrate('2b migration: --move nfs-group', 'nfs-group', [], 'crm_resource --move (group)');
  }, 15 * MIN);

  test('3. node failure: the active server is powered off hard; the peer takes over', async () => {
    const name = '3 node failure (power off)';
    guard();
    const victim = guest(active);
    const survivor = guest(other(active));
    const base = maxCallId(await operations(survivor), survivor.name);
    const notifies = async () => (await client.statdLog()).split('\n').filter((l) => l.includes('Received SM_NOTIFY from nfs-vip')).length;
    const notifiedBefore = await notifies();
    const ev = await eventNow();
    await victim.powerOff();
    const s = await waitStackOn(survivor, survivor.name, 8 * MIN);
    expect(s.online).toEqual([survivor.name]);
    const order = checkOrder(await operations(survivor), survivor.name, START, base);
    expect(order.problems).toEqual([]);
    log(`e2e: ${survivor.name}: ${opSummary(order.records)}`);
    const from = active;
    active = survivor.name;
    // The lock: the survivor's sm-notify (as nfs-vip) made the client's lockd reclaim it.
    await verify(active);
    expect(await notifies(), 'SM_NOTIFY from nfs-vip received by the client after the takeover').toBeGreaterThan(notifiedBefore);
    await record({ scenario: name, event: `SIGKILL of ${from}'s qemu`, from, to: active }, ev, { takeover: true });
  }, 15 * MIN);

  test('4. the old node comes back: DRBD resyncs to it, nothing fails back', async () => {
    const name = '4 old node returns';
    guard();
    const back = guest(other(active));
    const serving = guest(active);
    const before = await operations(serving);
    const starts = Object.fromEntries(START.map((st) => [st.rsc, lastOp(before, active, st.rsc, st.op)?.callId]));
    const ev = await eventNow();
    await back.start();
    await rejoin(back, [serving], 5 * MIN);
    // Pacemaker starts the clone instance there (Unpromoted); DRBD connects and resyncs what changed.
    await until(async () => where(await clusterState(serving), 'drbd', 'Unpromoted').join() === back.name, { timeoutMs: 5 * MIN, intervalMs: 2000, what: `drbd Unpromoted on ${back.name}` });
    for (const g of [back, serving]) {
      await until(async () => (await g.run(['drbdadm', 'dstate', DRBD_RES])).trim() === 'UpToDate/UpToDate', { timeoutMs: 5 * MIN, intervalMs: 2000, what: `${g.name}: DRBD UpToDate/UpToDate` });
    }
    const kernel = await back.run(['dmesg']);
    expect(kernel, `${back.name} resynced as SyncTarget`).toMatch(/Began resync as SyncTarget/);
    log(`e2e: ${back.name}: ${kernel.split('\n').filter((l) => /resync|Resync/.test(l)).join(' | ')}`);
    await settle(serving, 180);
    // Nothing failed back: the stack is where it was, and none of it was restarted or demoted.
    const s = await clusterState(serving);
    expect(stackOn(s, active)).toBe(true);
    const after = await operations(serving);
    expect(Object.fromEntries(START.map((st) => [st.rsc, lastOp(after, active, st.rsc, st.op)?.callId]))).toEqual(starts);
    for (const st of STOP) expect(lastOp(after, active, st.rsc, st.op)?.callId ?? -1, `${st.op} ${st.rsc} on ${active}`).toBeLessThan(starts.fs ?? 0);
    await verify(active);
    await record({ scenario: name, event: `${back.name} boots, rejoins`, from: active, to: active }, ev, { takeover: false });
  }, 15 * MIN);

  // nfsd "killed": on Debian's 6.1 kernel the nfsd threads ignore every signal (SigIgn all ones in
  // /proc/<pid>/status; kill -KILL leaves /proc/fs/nfsd/threads unchanged and the client served), so
  // they are taken down the only way the kernel allows, rpc.nfsd 0, behind Pacemaker's back.
  test('5. resource failure: nfsd killed on the active node; Pacemaker recovers it in place', async () => {
    const name = '5 nfsd killed';
    guard();
    const g = guest(active);
    const fsStart = lastOp(await operations(g), active, 'fs', 'start')?.callId;
    const logBase = (await pacemakerResults(g)).length;
    const nfsdThreads = async () => Number((await g.run(['cat', '/proc/fs/nfsd/threads'])).trim());
    expect(await nfsdThreads()).toBeGreaterThan(0);
    const ev = await eventNow();
    await g.run(['rpc.nfsd', '0'], { timeoutMs: 2 * MIN });
    expect(await nfsdThreads(), 'nfsd threads after rpc.nfsd 0').toBe(0);
    // The nfsserver monitor (every 10 s) reports the failure; Pacemaker restarts nfs (and ip, after it) here.
    const failure = await until(async () => (await operations(g)).find((o) => o.key === 'nfs_last_failure_0'), {
      timeoutMs: 3 * MIN,
      intervalMs: 2000,
      what: `the nfs monitor failure recorded on ${active}`,
    });
    expect(failure.rc).toBe(1);
    log(`e2e: nfs monitor failure: rc ${failure.rc}, "${failure.exitReason}"`);
    expect(failure.exitReason).toMatch(/nfsd is not running/);
    await waitStackOn(g, active, 6 * MIN);
    const ops = await operations(g);
    // The CIB's history keeps only the last non-recurring operation per resource: the log shows the stop before the start.
    const seq = checkLogSequence((await pacemakerResults(g)).slice(logBase), active, [{ rsc: 'ip', op: 'stop' }, { rsc: 'nfs', op: 'stop' }, { rsc: 'nfs', op: 'start' }, { rsc: 'ip', op: 'start' }]);
    expect(seq.problems).toEqual([]);
    log(`e2e: recovery on ${active} (pacemaker.log):\n  ${seq.found.map((r) => r.line.trim()).join('\n  ')}`);
    expect(lastOp(ops, active, 'fs', 'start')?.callId, 'the filesystem stayed mounted').toBe(fsStart);
    expect(await nfsdThreads()).toBeGreaterThan(0);
    await verify(active);
    await record({ scenario: name, event: `rpc.nfsd 0 on ${active}`, from: active, to: active }, ev, { takeover: true });
    // Clean up the failure record; the stack stays.
    await g.run(['crm_resource', '--cleanup', '--resource', 'nfs'], { timeoutMs: 2 * MIN });
    await settle(g, 180);
    expect(stackOn(await clusterState(g), active)).toBe(true);
  }, 15 * MIN);
});

