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
// Fencing is on (stonith-enabled=true): every server has a BMC (ipmi_sim on the host side, QEMU's
// ipmi-bmc-extern) and the CIB's fence devices are Debian's fence_ipmilan in the guests, which
// power a guest off for real (its qemu process ends). DRBD has `fencing resource-and-stonith` with
// drbd-utils' crm-fence-peer handlers. Scenario 6 cuts the servers' replication link (Corosync +
// DRBD) while the client still reaches both: one node must be fenced, the other serve.
// With OCFKIT_E2E_CPU_HOG=1 the whole suite runs while busy loops (nice -5, one per host core)
// compete with the guests; see docs/readme/e2e.md.
// With OCFKIT_E2E_AGENTS=shell the same scenarios run on resource-agents' shell agents and
// ocf:linbit:drbd instead (lib/shell-stack.ts), for `npm run bench:failover`; the checks that are
// about ocfkit's own behaviour are skipped or replaced there, each saying so in the log.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { qemuAvailability, sleep, until, type Bed, type Guest } from '../qemu/lib/index.js';
import { serverLock, type NfsClient } from './lib/client.js';
import { waitForQuietMachine } from './lib/foreign-qemu.js';
import { startCpuHog, type CpuHog } from './lib/cpu-hog.js';
import {
  clockOffset, clusterState, diagnostics, DRBD_RES, EXPORT, GROUP, MOUNTPOINT, VIP, drbdRole, fenceHistory, handlerConstraints, joinLog, operations, pacemakerResults, rejoin, schedulerDecisions, serviceNode, settle, stackOn, waitStackOn, type FenceEvent,
} from './lib/ha-nfs.js';
import { checkLogSequence, checkOrder, lastOp, maxCallId, reprobed, restartSteps, stepSeconds, where, type OpRecord, type Step } from './lib/history.js';
import { prepareShellNode } from './lib/shell-nodes.js';
import { agentsUnderTest, SHELL_GROUP } from './lib/shell-stack.js';
import { N1_FENCE_DELAY, startHaNfsBed, TOKEN_MS } from './lib/stack.js';
import { markdownTable, type Row } from './lib/table.js';
import { serviceGap, takeover, type Ack } from './lib/timeline.js';
import { checkData } from './lib/verify.js';

const avail = qemuAvailability();
if (!avail.ok) console.warn(`QEMU tier skipped: ${avail.reason}`);

/** Whose agents run the stack: ocfkit's (default) or the shell agents (OCFKIT_E2E_AGENTS=shell). */
const AGENTS = agentsUnderTest();
const SHELL = AGENTS === 'shell';
/** The group in start order: fs, nfs, ip; with the shell agents also export and notify (lib/shell-stack.ts). */
const MEMBERS: readonly string[] = SHELL ? SHELL_GROUP : GROUP;
/** DRBD promoted, then the group in order (ocfkit: drbd promote, fs, nfs, ip start). */
const START: Step[] = [{ rsc: 'drbd', op: 'promote' }, ...MEMBERS.map((rsc) => ({ rsc, op: 'start' }))];
/** The group in reverse, then DRBD demoted (ocfkit: ip, nfs, fs stop, drbd demote). */
const STOP: Step[] = [...[...MEMBERS].reverse().map((rsc) => ({ rsc, op: 'stop' })), { rsc: 'drbd', op: 'demote' }];

/**
 * A minute of waiting. Under OCFKIT_E2E_CPU_HOG every wait is five times as long: the hog's loops at
 * nice -5 outweigh the emulated guests, and the passes measured everything in them 10–30 times slower
 * than idle (an initial start of 741 s instead of 44 s); how long a step may take is then the machine's
 * speed, while what must hold (order, fencing, data) is checked the same.
 */
const MIN = 60_000 * (process.env.OCFKIT_E2E_CPU_HOG === '1' ? 5 : 1);
/**
 * The resources' operation timeouts under the hog: ×10, the slowdown measured (10–30×); pass 4 with ×3
 * lost scenario 4 to one drbd monitor that ran past 60 s while the returning node booted.
 */
const HOG_OP_TIMEOUT_SCALE = 10;
/**
 * OCFKIT_E2E_OP_TIMEOUT_SCALE=N: every operation timeout ×N, for both agents' stacks alike, on a machine
 * too slow for the agents' default timeouts (the CPU-hog pass has its own). Default 1: the CIB as is.
 */
const OP_TIMEOUT_SCALE = Number(process.env.OCFKIT_E2E_OP_TIMEOUT_SCALE ?? '1');
if (!Number.isInteger(OP_TIMEOUT_SCALE) || OP_TIMEOUT_SCALE < 1) throw new Error(`OCFKIT_E2E_OP_TIMEOUT_SCALE=${process.env.OCFKIT_E2E_OP_TIMEOUT_SCALE}: a whole number ≥ 1`);
const qemuVersion = () => {
  const m = /version (\S+)/.exec(spawnSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' }).stdout ?? '');
  return m ? `QEMU ${m[1]}` : 'QEMU';
};
const log = (l: string) => console.log(l);

describe.skipIf(!avail.ok)('HA-NFS end to end: failover and migration under a writing NFS client (QEMU guests)', () => {
  let work: string | undefined;
  let bed: Bed | undefined;
  let hog: CpuHog | undefined;
  /** Fence events the scenarios caused on purpose (the rest, under the CPU hog, are partitions). */
  let expectedFences = 0;
  /** Fences of partitions nobody planned (starvation), each resolved by resolveUnplannedFence. */
  let unplannedFences = 0;
  const hogMode = process.env.OCFKIT_E2E_CPU_HOG === '1';
  // An NFSv4.2 stream beside NFSv3 (#18), on unless OCFKIT_E2E_NFS4=0.
  const nfs4Mode = process.env.OCFKIT_E2E_NFS4 !== '0';
  // The connection reset on takeover (nfsserver tickle_clients), measured against the same suite without it.
  const tickleMode = process.env.OCFKIT_E2E_TICKLE === '1';
  // npm run bench:failover: a failed scenario is a result there, and the ones after it run on when the
  // bed can be brought back to a known state (repairAfterFailure). Off in npm test: a failure stops the suite.
  const continueMode = process.env.OCFKIT_E2E_CONTINUE === '1';
  /** Client kernel messages already reported with a failed scenario (continueMode): later checks look past them. */
  let knownKernelProblems = 0;
  /** The scenario after which the bed was repaired, for the next row's note. */
  let repairedAfter: string | undefined;
  /** Whether scenario 6 has the replication link down. */
  let linkCut = false;
  let n1: Guest;
  let n2: Guest;
  let client: NfsClient;
  const rows: Row[] = [];
  const notes: string[] = [];
  const timings: Record<string, number> = {};
  let broken: string | undefined;
  /** Why the bed could not be set up, for the JSON report. */
  let setupError: string | undefined;
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
   * The takeover scenarios take the lock part (verifyLocks) after their row is recorded, so a
   * takeover that loses the lock is still measured (its FAIL row follows the measured one).
   */
  const verify = async (serving: string, o: { lock: boolean } = { lock: true }) => {
    let v3: { acks: Ack[]; lines: number } | undefined;
    for (const st of client.streams) {
      const what = st.spec.label;
      expect(await st.alive(st.writerPid), `${what} writer still running`).toBe(true);
      expect(await st.alive(st.lockPid), `${what} lock holder still running`).toBe(true);
      const before = (await st.acks()).length;
      await until(async () => (await st.acks()).length >= before + 3, { timeoutMs: 3 * MIN, intervalMs: 1000, what: `the ${what} client writes again (3 new acknowledged writes)` });
      const acks = await st.acks();
      const data = checkData(await st.dataFile(), acks, await st.errors());
      expect(data.problems, `${what}: data on the export vs. acknowledged writes`).toEqual([]);
      if (st === client.v3) v3 = { acks, lines: data.lines };
    }
    if (o.lock) await verifyLocks(serving);
    return v3!;
  };

  /** The rest of verify: each client's lock held by the serving node, and no trouble in the client's kernel log. */
  const verifyLocks = async (serving: string) => {
    const g = guest(serving);
    for (const st of client.streams) {
      const what = st.spec.label;
      const lock = await until(async () => {
        const l = await serverLock(g, st.spec.lockName);
        return l.procLocks.length > 0 ? l : undefined;
      }, { timeoutMs: 4 * MIN, intervalMs: 2000, what: `${serving} holds the ${what} client's POSIX lock (/proc/locks)` });
      expect(lock.probe, `a local lock attempt on ${serving} must be refused (${what} lock)`).toBe('held');
    }
    expect((await client.kernelProblems()).slice(knownKernelProblems), 'client kernel messages').toEqual([]);
  };

  /** Measures the scenario and adds its row. */
  const record = async (r: Omit<Row, 'takeoverS' | 'gapS' | 'writes' | 'result'>, ev: { at: number; offset: number }, o: { takeover: boolean }) => {
    const end = Date.now() / 1000 + ev.offset;
    const acks = await client.acks();
    const probes = await client.probes();
    const gap = serviceGap(acks, ev.at, end);
    const gap4 = client.v4 ? serviceGap(await client.v4.acks(), ev.at, end) : undefined;
    const tk = o.takeover ? takeover(probes, ev.at, macOf(r.to), end) : undefined;
    const row: Row = { ...r, takeoverS: tk?.seconds, gapS: gap?.seconds, gap4S: gap4?.seconds, writes: acks.filter((a) => a.ackAt >= ev.at && a.ackAt <= end).length, result: 'pass' };
    if (repairedAfter) row.note = `on the bed repaired after scenario ${repairedAfter} failed`;
    repairedAfter = undefined;
    rows.push(row);
    log(`e2e: ${r.scenario}: takeover ${tk ? `${tk.seconds.toFixed(1)} s (address silent from +${(tk.outageFrom - ev.at).toFixed(1)} s)` : '—'}, service gap ${gap ? `${gap.seconds.toFixed(1)} s (after write ${gap.after.n})` : '—'}${client.v4 ? `, NFSv4.2 gap ${gap4 ? `${gap4.seconds.toFixed(1)} s (after write ${gap4.after.n})` : '—'}` : ''}, ${row.writes} writes`);
    if (row.ops) log(`e2e: ${r.scenario}: executor times (s): ${Object.entries(row.ops).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
    return { row, tk, gap };
  };

  /** The takeover steps' executor times for the row (stepSeconds), or undefined when none ran. */
  const takeoverOps = (...parts: Array<Record<string, number>>) => {
    const all = Object.assign({}, ...parts) as Record<string, number>;
    return Object.keys(all).length ? all : undefined;
  };

  const opSummary = (records: OpRecord[]) => records.map((o) => `${o.op} ${o.rsc} (call ${o.callId}, ${(o.execMs / 1000).toFixed(1)} s)`).join(' → ');

  const guard = () => {
    if (broken) throw new Error(`not run: scenario "${broken}" failed before it (the bed's state is unknown)`);
  };

  beforeAll(async () => {
    try {
      await setUp();
    } catch (e) {
      setupError = (e as Error).message.split('\n')[0];
      throw e;
    }
  }, 40 * MIN);

  async function setUp(): Promise<void> {
    // The connection reset is ocfkit's nfsserver's own; the shell agents have nothing to compare it with.
    if (SHELL && tickleMode) throw new Error('OCFKIT_E2E_TICKLE=1 has no counterpart in the shell agents (OCFKIT_E2E_AGENTS=shell)');
    const quiet = await waitForQuietMachine({ timeoutMs: 10 * MIN, intervalMs: 15_000, log });
    timings.waitForOtherQemu = quiet.waitedMs;
    if (quiet.busy.length) notes.push(`${quiet.busy.length} other qemu process(es) were running during the suite`);
    const up = await startHaNfsBed(log, { agents: AGENTS, opTimeoutScale: hogMode ? HOG_OP_TIMEOUT_SCALE : OP_TIMEOUT_SCALE, nfsParams: tickleMode ? { tickle_clients: 'true' } : {}, nfs4: nfs4Mode });
    if (SHELL) notes.push('agents: resource-agents\' ocf:heartbeat:{Filesystem,nfsserver,exportfs,IPaddr2,nfsnotify} and ocf:linbit:drbd (OCFKIT_E2E_AGENTS=shell), their meta-data\'s operation timeouts');
    if (!hogMode && OP_TIMEOUT_SCALE !== 1) notes.push(`operation timeouts ×${OP_TIMEOUT_SCALE} (OCFKIT_E2E_OP_TIMEOUT_SCALE)`);
    if (nfs4Mode) notes.push('client: an NFSv4.2 mount (writer and lock holder) beside the NFSv3 one');
    if (tickleMode) notes.push('nfsserver tickle_clients=true (clients\' TCP connections reset after a takeover)');
    bed = up.bed;
    work = up.work;
    n1 = up.n1;
    n2 = up.n2;
    client = up.client;
    Object.assign(timings, up.timings);
    if (hogMode) {
      // Bounded by itself too (timeout), in case this process dies without its afterAll.
      hog = startCpuHog({ nice: -5, maxSeconds: 180 * 60 });
      log(`e2e: CPU hog: ${hog.pids.length} busy loops at nice -5 (pids ${hog.pids.join(' ')})`);
      notes.push(`CPU hog: ${hog.pids.length} busy loops at nice -5 on the host for the whole run`);
    }
  }

  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    const why = ctx.task.result.errors?.[0]?.message?.split('\n')[0] ?? '';
    rows.push({ scenario: ctx.task.name.split(':')[0]!, event: '', from: '', to: '', result: 'FAIL', note: why.replace(/ \(last: .*$/, '').slice(0, 160) });
    if (broken) return;
    broken = ctx.task.name;
    if (!bed) return;
    const parts = await Promise.all([...servers(), client.g].map((g) => diagnostics(g).catch((e: Error) => `${g.name}: ${e.message}`)));
    const extra = [
      `--- client: writer errors\n${JSON.stringify(await client.errors().catch(() => []))}`,
      `--- client: lock holder log\n${await client.lockLog().catch(() => '')}`,
      `--- client: NFSv4.2 writer errors\n${JSON.stringify(await client.v4?.errors().catch(() => []))}`,
      `--- client: NFSv4.2 lock holder log\n${await client.v4?.lockLog().catch(() => '')}`,
      `--- client: statd (SM_NOTIFY)\n${(await client.statdLog().catch(() => '')).split('\n').filter((l) => /NOTIFY/.test(l)).slice(-10).join('\n')}`,
    ];
    log(`e2e: diagnostics after the failure of "${ctx.task.name}":\n${[...parts, ...extra].join('\n')}`);
    if (!continueMode) return;
    try {
      const done = await repairAfterFailure();
      log(`e2e: ${ctx.task.name.split(':')[0]} failed; the bed was repaired (OCFKIT_E2E_CONTINUE=1): ${done}`);
      notes.push(`after ${ctx.task.name.split(':')[0]} failed, the bed was repaired and the suite went on: ${done}`);
      repairedAfter = ctx.task.name.split('.')[0];
      broken = undefined;
    } catch (e) {
      log(`e2e: no repair after "${ctx.task.name}" (the scenarios after it do not run): ${(e as Error).message.split('\n')[0]}`);
    }
  }, 15 * MIN);

  /**
   * OCFKIT_E2E_CONTINUE=1 only: after a failed scenario, brings the bed back to a state the next
   * scenario can start from, or throws. It repairs only the client's side: the cluster must already
   * serve the whole stack on exactly one node with DRBD Primary nowhere else (a replication link
   * that scenario 6 cut is restored once the peer is off). A writer or lock holder that died is
   * started again, and a lock the server no longer holds is taken anew (a lock lost is the failure
   * already recorded). Whatever else is wrong, data included, fails the verification that ends it.
   */
  async function repairAfterFailure(): Promise<string> {
    const up = servers();
    if (up.length === 0) throw new Error('no server is running');
    const s = await until(async () => {
      const st = await clusterState(up[0]!);
      return serviceNode(st, MEMBERS) ? st : undefined;
    }, { timeoutMs: 8 * MIN, intervalMs: 2000, what: 'the whole stack serving on one node' });
    const serving = serviceNode(s, MEMBERS)!;
    const peer = guest(other(serving));
    if (peer.running && (await drbdRole(peer)) === 'Primary') throw new Error(`DRBD Primary on ${peer.name} too`);
    const done: string[] = [];
    if (linkCut) {
      if (peer.running) throw new Error('the replication link is cut and both servers run');
      bed!.setReplLink('n1', true);
      bed!.setReplLink('n2', true);
      linkCut = false;
      done.push('replication link restored');
    }
    active = serving;
    const problems = await client.kernelProblems();
    if (problems.length > knownKernelProblems) done.push(`client kernel messages accepted as part of the failure: ${problems.slice(knownKernelProblems).join(' | ')}`);
    knownKernelProblems = problems.length;
    for (const st of client.streams) {
      const what = st.spec.label;
      if (!(await st.alive(st.writerPid))) {
        await st.startWriter();
        done.push(`${what} writer started again`);
      }
      const held = (await serverLock(guest(serving), st.spec.lockName)).procLocks.length > 0;
      if (held && (await st.alive(st.lockPid))) continue;
      if (st.lockPid !== undefined) await client.g.exec(['kill', String(st.lockPid)]);
      await st.startLockHolder();
      done.push(`${what} lock ${held ? 'holder started again' : `lost on ${serving}: taken anew`}`);
    }
    await verify(serving);
    return `${done.join('; ') || 'nothing to repair'}; the stack serves on ${serving}, checks pass there`;
  }

  afterAll(async () => {
    try {
      const witness = bed ? servers()[0] : undefined;
      const fences = witness ? await fenceHistory(witness).catch(() => undefined) : undefined;
      if (fences) {
        const ok = fences.filter((f) => f.status === 'success');
        const planned = expectedFences - unplannedFences;
        // The verdict comes from each scenario's own before/after count (unplannedFences): the history read here is
        // Pacemaker's in-memory one, which loses entries once every node has restarted (scenarios 3 and 6 reboot both).
        notes.push(`fence history at the end: ${ok.length} successful fence(s) (${ok.map((f) => `${f.action} ${f.target} by ${f.delegate || f.origin}`).join(', ') || 'none'})${ok.length < expectedFences ? ', fewer than happened (the history is kept in memory and lost once every node has restarted)' : ''}; ${planned} fence(s) caused by the scenarios on purpose; ` +
          (unplannedFences > 0 ? `${unplannedFences} unplanned partition(s)${hogMode ? ' under the CPU hog' : ''} happened and were resolved by a fence (data intact, no split brain)` : `no unplanned partition happened${hogMode ? ` under the CPU hog${rows.every((r) => r.result === 'pass') ? ' (the suite passed as is)' : ' (a scenario failed: see its result)'}` : ''}`));
      }
      const host = { cpu: cpus()[0]?.model ?? 'unknown CPU', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), qemu: qemuVersion() };
      const load1 = loadavg()[0]!;
      const suiteSeconds = Math.round((Date.now() - t0 - (timings.waitForOtherQemu ?? 0)) / 1000);
      const machine = [
        `host: ${host.cpu}, ${host.cores} cores, ${host.memoryGiB} GiB; ${host.qemu} with TCG (software emulation, no KVM), 1 vCPU per guest`,
        `servers: 640 MiB, client: 512 MiB; Corosync token ${TOKEN_MS} ms; fence_ipmilan (pcmk_delay_base ${N1_FENCE_DELAY} on n1's device); load average ${load0.toFixed(2)} at the start, ${load1.toFixed(2)} at the end`,
        `setup (ms): ${JSON.stringify(timings)}; whole suite ${suiteSeconds} s (not counting the wait for other QEMU runs)`,
        ...notes,
      ];
      const table = markdownTable(rows);
      log(`\nHA-NFS end to end (times are TCG-emulated guests, far slower than hardware):\n${table}\n${machine.join('\n')}\n`);
      const out = process.env.OCFKIT_E2E_REPORT;
      if (out) {
        mkdirSync(dirname(out), { recursive: true });
        writeFileSync(out, `${table}\n\n${machine.map((m) => `- ${m}`).join('\n')}\n`);
      }
      // The rows with their executor times, for bench/failover-table.mjs (npm run bench:failover).
      const json = process.env.OCFKIT_E2E_REPORT_JSON;
      if (json) {
        mkdirSync(dirname(json), { recursive: true });
        const report = { agents: AGENTS, startedAt: new Date(t0).toISOString(), host, loadAverage: { start: load0, end: load1 }, suiteSeconds, timings, ...(setupError ? { setupError } : {}), rows, notes };
        writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
      }
    } finally {
      hog?.stop();
      await bed?.teardown();
      if (work) rmSync(work, { recursive: true, force: true });
    }
  }, 5 * MIN);

  const successfulFenceCount = async () => {
    const g = servers()[0];
    return g ? (await fenceHistory(g)).filter((f) => f.status === 'success').length : 0;
  };

  /**
   * A partition nobody planned (a guest starved of CPU for longer than the Corosync token: other
   * work on the host, or OCFKIT_E2E_CPU_HOG) ends in a fence. Then the scenario's own plan is void,
   * but safety is not: exactly one server survives, it serves the whole stack, the data and lock
   * checks pass there, and after the fenced node returns (resync, handler constraint lifted, no split
   * brain) they pass again. The row says so; anything short of that fails.
   */
  async function resolveUnplannedFence(name: string, why: Error): Promise<void> {
    const survivors = servers();
    expect(survivors.length, `after an unplanned fence exactly one server runs (${why.message.split('\n')[0]})`).toBe(1);
    const survivor = survivors[0]!;
    const victim = guest(other(survivor.name));
    expect(victim.exitStatus, `${victim.name} was powered off by its BMC`).toEqual({ code: 0, signal: null });
    log(`e2e: ${name}: UNPLANNED PARTITION: ${victim.name} was fenced (${why.message.split('\n')[0]}); checking that ${survivor.name} serves safely`);
    await waitStackOn(survivor, survivor.name, 8 * MIN, MEMBERS);
    active = survivor.name;
    if (client.writerPid === undefined) {
      await client.mount();
      await client.startWriter();
      await client.startLockHolder();
    }
    await verify(active);
    await returnNode(name, { record: false });
    rows.push({ scenario: name, event: 'unplanned partition', from: victim.name, to: active, result: 'pass', note: `${victim.name} fenced by an unplanned partition; data intact, no split brain; planned checks void` });
  }

  /** A scenario test: guarded, and an unplanned fence during it is resolved and checked (above). */
  const scenario = (title: string, body: () => Promise<void>, timeoutMs: number) =>
    test(title, async () => {
      guard();
      const fencesBefore = await successfulFenceCount();
      const expectedBefore = expectedFences;
      try {
        await body();
      } catch (e) {
        const unplanned = (await successfulFenceCount().catch(() => 0)) - fencesBefore - (expectedFences - expectedBefore);
        if (unplanned <= 0) throw e;
        expectedFences += unplanned; // counted as what they were, below
        unplannedFences += unplanned;
        await resolveUnplannedFence(title.split(':')[0]!, e as Error);
      }
    }, timeoutMs);

  scenario('1. initial start: DRBD promoted on one node, then Filesystem, nfsserver, IP, in that order', async () => {
    const name = '1 initial start';
    guard();
    const ev = await eventNow();
    // The CIB from ocf-gen replaces the configuration section (the live CIB keeps its own epoch).
    await n1.run(['cibadmin', '--replace', '--scope', 'configuration', '--xml-file', '/opt/ocfkit/files/cib.xml'], { timeoutMs: 2 * MIN });
    const s = await until(async () => {
      const st = await clusterState(n1);
      return serviceNode(st, MEMBERS) ? st : undefined;
    }, { timeoutMs: 8 * MIN, intervalMs: 2000, what: 'the whole stack started on one node' });
    active = serviceNode(s, MEMBERS)!;
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
    // DRBD's start is on this path too: both instances start from nothing.
    const ops1 = takeoverOps(stepSeconds(ops, active, [{ rsc: 'drbd', op: 'start' }, ...START], -1));
    await record({ scenario: name, event: 'cibadmin --replace (ocf-gen CIB)', from: '—', to: active, ops: ops1 }, ev, { takeover: true });
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
    await waitStackOn(guest(to), to, 6 * MIN, MEMBERS);
    const ops = await operations(guest(to));
    const stop = checkOrder(ops, from, STOP, base[from]);
    const start = checkOrder(ops, to, START, base[to]);
    expect([...stop.problems, ...start.problems]).toEqual([]);
    log(`e2e: ${from}: ${opSummary(stop.records)}; ${to}: ${opSummary(start.records)}`);
    await guest(to).run(['crm_resource', '--resource', resource, '--clear'], { timeoutMs: 2 * MIN });
    expect(await guest(to).run(['cibadmin', '--query', '--scope', 'constraints'])).not.toMatch(/cli-(prefer|ban)-/);
    await settle(guest(to), (3 * MIN) / 1000);
    expect(stackOn(await clusterState(guest(to)), to, MEMBERS), 'still on the new node after --clear').toBe(true);
    active = to;
    await verify(active, { lock: false });
    await record({ scenario: name, event, from, to, ops: takeoverOps(stepSeconds(ops, from, STOP, base[from]!), stepSeconds(ops, to, START, base[to]!)) }, ev, { takeover: true });
    await verifyLocks(active);
  }

  scenario('2a. planned migration: crm_resource --move --promoted of the DRBD clone, then --clear', async () => {
    await migrate('2a migration: --move --promoted drbd-clone', 'drbd-clone', ['--promoted'], 'crm_resource --move --promoted');
  }, 15 * MIN);

  scenario('2b. planned migration: crm_resource --move of the group, then --clear', async () => {
    await migrate('2b migration: --move nfs-group', 'nfs-group', [], 'crm_resource --move (group)');
  }, 15 * MIN);

  /** Waits (bounded) until the survivor's fence history has a successful fence of `target`; returns it. */
  const fencedBy = async (survivor: Guest, target: string, after: number, timeoutMs: number): Promise<FenceEvent> => {
    const e = await until(async () => (await fenceHistory(survivor)).filter((f) => f.target === target && f.status === 'success').at(after), {
      timeoutMs,
      intervalMs: 2000,
      what: `${survivor.name}: a successful fence of ${target} in the fence history`,
    });
    return e;
  };
  const successfulFences = async (g: Guest, target: string) => (await fenceHistory(g)).filter((f) => f.target === target && f.status === 'success').length;

  scenario('3. node failure: the active server is powered off hard; the peer fences it and takes over', async () => {
    const name = '3 node failure (power off)';
    guard();
    const victim = guest(active);
    const survivor = guest(other(active));
    const base = maxCallId(await operations(survivor), survivor.name);
    const notifies = async () => (await client.statdLog()).split('\n').filter((l) => l.includes('Received SM_NOTIFY from nfs-vip')).length;
    const notifiedBefore = await notifies();
    const fencesBefore = await successfulFences(survivor, victim.name);
    const ev = await eventNow();
    expectedFences++; // planned: before anything can fail, so a failure here is never taken for a partition
    await victim.powerOff();
    const s = await waitStackOn(survivor, survivor.name, 8 * MIN, MEMBERS);
    expect(s.online).toEqual([survivor.name]);
    // Pacemaker fenced the lost node (fence_ipmilan through its BMC: already off) before promoting.
    const fence = await fencedBy(survivor, victim.name, fencesBefore, 2 * MIN);
    log(`e2e: fence of ${victim.name}: ${JSON.stringify(fence)}`);
    const after = await operations(survivor);
    const order = checkOrder(after, survivor.name, START, base);
    expect(order.problems).toEqual([]);
    log(`e2e: ${survivor.name}: ${opSummary(order.records)}`);
    const from = active;
    active = survivor.name;
    await verify(active, { lock: false });
    await record({ scenario: name, event: `SIGKILL of ${from}'s qemu`, from, to: active, ops: takeoverOps(stepSeconds(after, active, START, base)) }, ev, { takeover: true });
    // The lock: the survivor's sm-notify (as nfs-vip) made the client's lockd reclaim it.
    await verifyLocks(active);
    expect(await notifies(), 'SM_NOTIFY from nfs-vip received by the client after the takeover').toBeGreaterThan(notifiedBefore);
  }, 15 * MIN);

  /**
   * A node that was off (powered off or fenced) boots and rejoins: DRBD resyncs it, the handler's
   * constraint is lifted, nothing fails back, nothing split-brained.
   */
  async function returnNode(name: string, o: { record: boolean } = { record: true }): Promise<void> {
    guard();
    const back = guest(other(active));
    const serving = guest(active);
    const before = await operations(serving);
    const logBase = (await pacemakerResults(serving)).length;
    const starts = Object.fromEntries(START.map((st) => [st.rsc, lastOp(before, active, st.rsc, st.op)?.callId]));
    const ev = await eventNow();
    await back.start();
    // What the shell agents need of a node at every boot (rpcbind, lib/shell-nodes.ts); ocfkit's need nothing.
    if (SHELL) await prepareShellNode(back);
    await rejoin(back, [serving], 5 * MIN);
    // Pacemaker starts the clone instance there (Unpromoted); DRBD connects and resyncs what changed.
    await until(async () => where(await clusterState(serving), 'drbd', 'Unpromoted').join() === back.name, { timeoutMs: 5 * MIN, intervalMs: 2000, what: `drbd Unpromoted on ${back.name}` });
    for (const g of [back, serving]) {
      await until(async () => (await g.run(['drbdadm', 'dstate', DRBD_RES])).trim() === 'UpToDate/UpToDate', { timeoutMs: 5 * MIN, intervalMs: 2000, what: `${g.name}: DRBD UpToDate/UpToDate` });
    }
    const kernel = await back.run(['dmesg']);
    expect(kernel, `${back.name} resynced as SyncTarget`).toMatch(/Began resync as SyncTarget/);
    log(`e2e: ${back.name}: ${kernel.split('\n').filter((l) => /resync|Resync|fence|Split/.test(l)).join(' | ')}`);
    for (const g of [back, serving]) expect(await g.run(['dmesg']), `${g.name}: no DRBD split brain`).not.toMatch(/Split-Brain/i);
    // The after-resync-target handler on the resynced node lifted the fence-peer handler's constraint.
    await until(async () => (await handlerConstraints(serving)).length === 0, { timeoutMs: 2 * MIN, intervalMs: 2000, what: 'no drbd-fence-by-handler constraint left after the resync' });
    await settle(serving, (3 * MIN) / 1000);
    // Nothing failed back: the stack is where it was, and none of it was restarted or demoted.
    const s = await clusterState(serving);
    expect(stackOn(s, active, MEMBERS)).toBe(true);
    const after = await operations(serving);
    // On a mismatch the message says what ran and why (the scheduler's own words), since only the
    // failure summary is sure to reach a CI log.
    const ran = after.filter((o) => o.node === active && o.interval === 0 && o.callId > maxCallId(before, active)).map((o) => `${o.rsc} ${o.op} #${o.callId} rc=${o.rc}`);
    const startsAfter = Object.fromEntries(START.map((st) => [st.rsc, lastOp(after, active, st.rsc, st.op)?.callId]));
    const restarted = JSON.stringify(startsAfter) !== JSON.stringify(starts);
    let note: string | undefined;
    if (restarted) {
      const why = await schedulerDecisions(serving).catch((e: Error) => [e.message]);
      const joins = await joinLog(serving).catch((e: Error) => [e.message]);
      log(`e2e: ${name}: the stack restarted on ${active}; ops since: ${ran.join(', ')}\n  scheduler: ${why.join('\n  ')}\n  join: ${joins.join('\n  ')}`);
      const lost = reprobed(before, after, active);
      expect(lost, `restarted on ${active} without Pacemaker losing its record there; ops since: ${ran.join(', ')}; scheduler: ${why.join(' | ')}`).not.toEqual([]);
      note = await restartAfterLostHistory(serving, lost, logBase);
    } else {
      for (const st of STOP) expect(lastOp(after, active, st.rsc, st.op)?.callId ?? -1, `${st.op} ${st.rsc} on ${active}`).toBeLessThan(starts.fs ?? 0);
    }
    await verify(active);
    if (o.record) {
      const { row } = await record({ scenario: name, event: `${back.name} boots, rejoins`, from: active, to: active }, ev, { takeover: false });
      if (note) row.note = note;
    }
  }

  /**
   * Pacemaker 2.1.5 (Debian 12) can lose part of the serving node's resource records when the peer
   * rejoins: it then probes them again and, until the probe answers, takes the DRBD instance there
   * for stopped, and restarts what depends on it (seen once in CI: drbd and both fence devices
   * re-probed, fs, nfs and ip restarted). Upstream fixed two races in the join's rewrite of node
   * histories after 2.1.5 (2.1.6: no join finalization during a transition; 2.1.7: the history
   * replaced atomically). Not ours to fix, so it is allowed exactly when the records were lost
   * (`lost`), and only as a restart in place: DRBD neither demoted nor stopped, the group stopped in
   * reverse and started in order. Returns the row's note.
   */
  async function restartAfterLostHistory(serving: Guest, lost: string[], logBase: number): Promise<string> {
    const node = serving.name;
    const results = (await pacemakerResults(serving)).slice(logBase);
    const drbdDown = results.filter((r) => r.node === node && r.rsc === 'drbd' && (r.op === 'demote' || r.op === 'stop'));
    expect(drbdDown.map((r) => r.line.trim()), `DRBD on ${node} neither demoted nor stopped`).toEqual([]);
    const group = START.filter((st) => st.rsc !== 'drbd');
    const first = group.findIndex((st) => results.some((r) => r.node === node && r.rsc === st.rsc && r.op === 'start'));
    expect(first, `a restart on ${node} in pacemaker.log`).toBeGreaterThanOrEqual(0);
    const again = group.slice(first).map((st) => st.rsc);
    const seq = checkLogSequence(results, node, restartSteps(again));
    expect(seq.problems, `the restart on ${node}: stops in reverse, then starts in order`).toEqual([]);
    log(`e2e: restart on ${node} after Pacemaker lost its record of ${lost.join(', ')} (pacemaker.log):\n  ${seq.found.map((r) => r.line.trim()).join('\n  ')}`);
    return `Pacemaker 2.1.5 lost ${node}'s record of ${lost.join(', ')} at the rejoin and re-probed: ${again.join(', ')} restarted in place, DRBD stayed Primary`;
  }

  scenario('4. the old node comes back: DRBD resyncs to it, nothing fails back', async () => {
    await returnNode('4 old node returns');
  }, 15 * MIN);

  // nfsd "killed": on Debian's 6.1 kernel the nfsd threads ignore every signal (SigIgn all ones in
  // /proc/<pid>/status; kill -KILL leaves /proc/fs/nfsd/threads unchanged and the client served), so
  // they are taken down the only way the kernel allows, rpc.nfsd 0, behind Pacemaker's back.
  scenario('5. resource failure: nfsd killed on the active node; Pacemaker recovers it in place', async () => {
    const name = '5 nfsd killed';
    guard();
    const g = guest(active);
    const before = await operations(g);
    const fsStart = lastOp(before, active, 'fs', 'start')?.callId;
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
    if (SHELL) {
      // ocfkit's monitor says "partly up" (1) and why; heartbeat's asks the init script's status, which
      // answers "not running" (3 → 7) without a reason. Either is a failure Pacemaker recovers from.
      log(`e2e: nfs monitor failure: rc ${failure.rc}, "${failure.exitReason}" (shell agents: ocfkit's rc 1 and exit reason "nfsd is not running" not checked; rc 1 or 7 accepted)`);
      expect([1, 7]).toContain(failure.rc);
    } else {
      expect(failure.rc).toBe(1);
      log(`e2e: nfs monitor failure: rc ${failure.rc}, "${failure.exitReason}"`);
      expect(failure.exitReason).toMatch(/nfsd is not running/);
    }
    await waitStackOn(g, active, 6 * MIN, MEMBERS);
    const ops = await operations(g);
    // The CIB's history keeps only the last non-recurring operation per resource: the log shows the stop before the start.
    // nfs and what follows it in the group (ocfkit: ip) stop in reverse and start again in order.
    const fromNfs = MEMBERS.slice(MEMBERS.indexOf('nfs'));
    const seq = checkLogSequence((await pacemakerResults(g)).slice(logBase), active, restartSteps(fromNfs));
    expect(seq.problems).toEqual([]);
    log(`e2e: recovery on ${active} (pacemaker.log):\n  ${seq.found.map((r) => r.line.trim()).join('\n  ')}`);
    expect(lastOp(ops, active, 'fs', 'start')?.callId, 'the filesystem stayed mounted').toBe(fsStart);
    expect(await nfsdThreads()).toBeGreaterThan(0);
    await verify(active, { lock: false });
    await record({ scenario: name, event: `rpc.nfsd 0 on ${active}`, from: active, to: active, ops: takeoverOps(stepSeconds(ops, active, START, maxCallId(before, active))) }, ev, { takeover: true });
    await verifyLocks(active);
    // Clean up the failure record; the stack stays.
    await g.run(['crm_resource', '--cleanup', '--resource', 'nfs'], { timeoutMs: 2 * MIN });
    await settle(g, (3 * MIN) / 1000);
    expect(stackOn(await clusterState(g), active, MEMBERS)).toBe(true);
  }, 15 * MIN);
  /**
   * The servers' replication link (Corosync and DRBD: eth1 on br1) is cut; the client still reaches
   * both servers over eth0. Both nodes lose each other and both try to fence: exactly one is
   * powered off (qemu ends), the other serves. While the partition lasts, DRBD is polled on both
   * nodes: never Primary on both.
   */
  scenario('6. replication and cluster link cut: one node is fenced, the other serves; DRBD never Primary twice', async () => {
    const name = '6 link cut (fence)';
    guard();
    const from = active;
    const fencesBefore = Object.fromEntries(await Promise.all(['n1', 'n2'].map(async (x) => [x, await successfulFences(guest(from), x)] as const)));
    const before = await operations(guest(from));
    const ev = await eventNow();
    expectedFences++; // planned (see scenario 3)
    linkCut = true;
    bed!.setReplLink('n1', false);
    bed!.setReplLink('n2', false);
    // Until one qemu ends: both roles every ~second (a fenced node stops answering: its role is then unknown).
    let bothPrimary = 0;
    const samples: string[] = [];
    const t0 = Date.now();
    while (n1.running && n2.running) {
      if (Date.now() - t0 > 6 * MIN) throw new Error('no node was fenced within 6 min of the link cut');
      const [r1, r2] = await Promise.all([n1, n2].map((g) => drbdRole(g).catch(() => undefined)));
      if (r1 === 'Primary' && r2 === 'Primary') bothPrimary++;
      samples.push(`${r1 ?? '?'}/${r2 ?? '?'}`);
      await sleep(500);
    }
    const victim = n1.running ? n2 : n1;
    const survivor = n1.running ? n1 : n2;
    const fencedAfter = (Date.now() - t0) / 1000;
    log(`e2e: link cut: ${victim.name} fenced (qemu ${JSON.stringify(victim.exitStatus)}) after ${fencedAfter.toFixed(1)} s; roles n1/n2 sampled: ${samples.join(' ')}`);
    expect(victim.exitStatus, `${victim.name}'s qemu ended by its BMC (a shutdown request), not by us`).toEqual({ code: 0, signal: null });
    expect(bothPrimary, 'samples with DRBD Primary on both nodes').toBe(0);
    // The survivor was not shot too (the race between the two fences is decided by the delay).
    await sleep(30_000);
    expect(survivor.running, `${survivor.name} survives`).toBe(true);
    const s = await waitStackOn(survivor, survivor.name, 8 * MIN, MEMBERS);
    expect(s.online).toEqual([survivor.name]);
    const fence = await fencedBy(survivor, victim.name, fencesBefore[victim.name]!, 2 * MIN);
    log(`e2e: fence of ${victim.name}: ${JSON.stringify(fence)}`);
    // DRBD's fence-peer handler ran on the survivor (if it was Primary or promoted: freezes I/O
    // until the peer is fenced) and left its constraint.
    const dmesg = await survivor.run(['dmesg']);
    const handler = dmesg.split('\n').filter((l) => /fence-peer|helper command/.test(l));
    log(`e2e: ${survivor.name} DRBD handlers: ${handler.join(' | ')}`);
    expect(dmesg).toMatch(/fence-peer .* exit code [47]\b/);
    expect(await handlerConstraints(survivor)).toEqual([`drbd-fence-by-handler-${DRBD_RES}-drbd-clone`]);
    active = survivor.name;
    await verify(active, { lock: false });
    const ops = takeoverOps(stepSeconds(await operations(survivor), active, START, maxCallId(before, active)));
    const { row } = await record({ scenario: name, event: 'replication link cut (both taps down)', from, to: active, ops }, ev, { takeover: active !== from });
    row.note = [`${victim.name} fenced ${fencedAfter.toFixed(0)} s after the cut`, row.note].filter(Boolean).join('; ');
    await verifyLocks(active);
    // The link comes back (the fenced node is off): the next scenario boots it.
    bed!.setReplLink('n1', true);
    bed!.setReplLink('n2', true);
    linkCut = false;
  }, 20 * MIN);

  scenario('7. the fenced node comes back: resync, the handler constraint lifted, nothing lost', async () => {
    await returnNode('7 fenced node returns');
  }, 15 * MIN);

  /**
   * An admin changes parameters on the running cluster (crm_resource --set-parameter, what pcs and
   * crmsh run): a second export in nfsserver's `exports`, and drbd's wfc_timeout. Both are
   * reloadable (OCF 1.1 reload-agent): Pacemaker reloads them in place, nothing stops or restarts,
   * the kernel serves the new export, and the client keeps writing through it all.
   */
  async function liveReconfiguration(): Promise<void> {
    const name = '8 live reconfiguration';
    guard();
    const g = guest(active);
    const servers = [n1, n2];
    // Pacemaker keeps a probe that found a resource running (scenario 5's cleanup re-probed nfs) also
    // as <rsc>_last_failure_0 without the reload digest; its scheduler then first plans a restart of
    // that resource, aborts that plan as the record is deleted, and reloads; what depends on the
    // resource (the IP after nfs) may have been stopped and is started again. test/cluster/drbd-reload.test.ts
    // proves the mechanism; the reloaded resources themselves are never stopped.
    const status = await g.run(['cibadmin', '--query', '--scope', 'status'], { timeoutMs: 90_000 });
    const staleProbe = (rsc: string) =>
      [...status.matchAll(new RegExp(`<lrm_rsc_op\\b[^>]*\\bid="${rsc}_last_failure_0"[^>]*>`, 'g'))].some((m) => /\boperation="monitor"/.test(m[0]) && /\binterval="0"/.test(m[0]) && !/\bop-restart-digest=/.test(m[0]));
    const mayRestartOnce = new Set([...(staleProbe('nfs') ? ['ip'] : []), ...(staleProbe('drbd') ? [...GROUP] : [])]);
    const logBase = Object.fromEntries(await Promise.all(servers.map(async (x) => [x.name, (await pacemakerResults(x)).length] as const)));
    const exportsNow = (await g.run(['crm_resource', '--resource', 'nfs', '--get-parameter', 'exports'], { timeoutMs: 2 * MIN })).trim();
    expect(exportsNow).toContain(EXPORT);
    const second = `${MOUNTPOINT}/export2`;
    await g.run(['mkdir', '-p', second]);
    await g.writeFile(`${second}/hello`, 'reloaded\n');
    const ev = await eventNow();
    await g.run(['crm_resource', '--resource', 'nfs', '--set-parameter', 'exports', '--parameter-value', `${exportsNow}; ${second} 10.99.0.0/24(ro,sync,no_subtree_check,fsid=2)`], { timeoutMs: 2 * MIN });
    // One change at a time, as an admin would: Pacemaker counts a reloaded promotable instance as
    // Unpromoted until its next Promoted monitor (docs/readme/drbd.md), so no other transition should start meanwhile.
    await settle(g, (3 * MIN) / 1000);
    await g.run(['crm_resource', '--resource', 'drbd', '--set-parameter', 'wfc_timeout', '--parameter-value', '25'], { timeoutMs: 2 * MIN });
    await settle(g, (3 * MIN) / 1000);
    // What the executors ran, from both nodes' pacemaker.log (the CIB records a reload as a start).
    const ran = (await Promise.all(servers.map(async (x) => (await pacemakerResults(x)).slice(logBase[x.name])))).flat().filter((r) => ['drbd', ...GROUP].includes(r.rsc) && ['start', 'stop', 'demote', 'promote', 'reload-agent'].includes(r.op));
    log(`e2e: after the parameter changes: ${ran.map((r) => `${r.node}: ${r.op} ${r.rsc} ${r.result}`).join(', ')}`);
    expect(ran.filter((r) => r.op === 'reload-agent').map((r) => `${r.node}: ${r.rsc} ${r.result}`).sort()).toEqual([`${active}: drbd ok`, `${active}: nfs ok`, `${other(active)}: drbd ok`].sort());
    const restarted = ran.filter((r) => r.op !== 'reload-agent');
    expect(restarted.filter((r) => !mayRestartOnce.has(r.rsc)).map((r) => `${r.node}: ${r.op} ${r.rsc}`), 'only reloads ran').toEqual([]);
    // Where Pacemaker's stale probe record made it stop a dependent: at most once, and started again.
    for (const rsc of mayRestartOnce) expect(restarted.filter((r) => r.rsc === rsc).map((r) => r.op), rsc).toSatisfy((ops: string[]) => ops.length === 0 || (ops.join() === 'stop,start'));
    const blip = restarted.filter((r) => r.op === 'stop').map((r) => r.rsc);
    expect(stackOn(await clusterState(g), active)).toBe(true);
    // The kernel serves the new export (read-only, fsid 2), and the client mounts it through the floating IP.
    // exportfs -v lists the options in its own order (…,fsid=2,sec=sys,ro,…).
    expect(await g.run(['exportfs', '-v'])).toMatch(new RegExp(`^${second}\\s+10\\.99\\.0\\.0/24\\((?=[^)]*\\bro\\b)(?=[^)]*\\bfsid=2\\b)[^)]*\\)`, 'm'));
    const mnt = '/mnt/export2';
    await client.g.run(['mkdir', '-p', mnt]);
    await client.g.run(['mount', '-t', 'nfs', '-o', 'vers=3,proto=tcp,ro,nolock,timeo=50', `${VIP}:${second}`, mnt], { timeoutMs: 3 * MIN });
    try {
      expect((await client.g.readFile(`${mnt}/hello`)).toString()).toBe('reloaded\n');
    } finally {
      await client.g.run(['umount', mnt], { timeoutMs: 3 * MIN });
    }
    await verify(active);
    const { row } = await record({ scenario: name, event: 'crm_resource --set-parameter (exports, wfc_timeout)', from: active, to: active }, ev, { takeover: false });
    if (blip.length) row.note = `reload-agent; ${blip.join(', ')} restarted once by Pacemaker's stale probe record`;
  }

  const reconfiguration = '8. live reconfiguration: a new export and a drbd parameter, reloaded in place (reload-agent), no restart';
  if (SHELL) {
    // Nothing to run it on: heartbeat's nfsserver has no exports parameter (a new export is a new
    // exportfs primitive, started, not reloaded) and none of the shell agents has OCF 1.1's reload-agent.
    test(reconfiguration, (ctx) => {
      guard();
      log('e2e: 8 live reconfiguration: skipped with the shell agents (no exports parameter to change and no reload-agent in ocf:heartbeat:nfsserver; a new export would be a new exportfs primitive)');
      rows.push({ scenario: '8 live reconfiguration', event: 'crm_resource --set-parameter (exports, wfc_timeout)', from: active, to: active, result: 'n/a', note: 'no reload-agent in the shell agents' });
      ctx.skip('no reload-agent in the shell agents');
    });
  } else {
    scenario(reconfiguration, liveReconfiguration, 10 * MIN);
  }
});

