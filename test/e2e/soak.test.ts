// Soak: many takeovers in a row under the writing NFS client, fencing on (the bed of
// ha-nfs.test.ts: fence_ipmilan through ipmi_sim BMCs, DRBD resource-and-stonith). Odd takeovers
// power the serving node off hard (SIGKILL of its qemu: Pacemaker fences it through its BMC, the
// peer takes over; the node is then booted and rejoins, DRBD resyncs it); even ones move the
// service with `crm_resource --move --promoted` then `--clear`. The writer runs throughout; after
// every takeover the data check (every acknowledged line exactly once, in order; no write error)
// and the lock check run. Reports takeovers, acknowledged writes, lost and duplicated writes, and
// the worst service gap. Not part of `npm test`: run with `npm run soak` (scripts/soak.sh),
// OCFKIT_SOAK_TAKEOVERS (default 10), OCFKIT_SOAK_REPORT=<file> for the Markdown result.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { qemuAvailability, until, type Bed, type Guest } from '../qemu/lib/index.js';
import { serverLock, type NfsClient } from './lib/client.js';
import { waitForQuietMachine } from './lib/foreign-qemu.js';
import { clockOffset, clusterState, diagnostics, DRBD_RES, fenceHistory, handlerConstraints, rejoin, serviceNode, settle, stackOn, waitStackOn } from './lib/ha-nfs.js';
import { where } from './lib/history.js';
import { startHaNfsBed, TOKEN_MS } from './lib/stack.js';
import { serviceGap, takeover } from './lib/timeline.js';
import { checkData } from './lib/verify.js';

const enabled = process.env.OCFKIT_SOAK === '1';
const avail = enabled ? qemuAvailability() : { ok: false as const, reason: 'the soak runs only with OCFKIT_SOAK=1 (npm run soak)' };
if (!avail.ok) console.warn(`soak skipped: ${avail.reason}`);

const MIN = 60_000;
const TAKEOVERS = Number(process.env.OCFKIT_SOAK_TAKEOVERS ?? 10);
const log = (l: string) => console.log(l);

interface SoakRow {
  n: number;
  kind: 'power-off' | 'move';
  from: string;
  to: string;
  takeoverS?: number;
  gapS?: number;
  fenced?: string;
}

describe.skipIf(!avail.ok)(`soak: ${TAKEOVERS} takeovers in a row under a writing NFS client, fencing on`, () => {
  let bed: Bed | undefined;
  let work: string | undefined;
  let n1: Guest;
  let n2: Guest;
  let client: NfsClient;
  let active = '';
  const rows: SoakRow[] = [];
  const t0 = Date.now();
  const load0 = loadavg()[0]!;
  let last: { acked: number; problems: string[] } = { acked: 0, problems: [] };
  /** Nodes fenced by partitions nobody planned (starvation), brought back before the next takeover. */
  const unplanned: string[] = [];

  const guest = (name: string) => bed!.guest(name);
  const other = (name: string) => (name === 'n1' ? 'n2' : 'n1');
  const eventNow = async () => {
    const c = await clockOffset(client.g);
    return { at: Date.now() / 1000 + c.offset, offset: c.offset };
  };

  /** The data and lock checks (as in ha-nfs.test.ts), after the client wrote again. */
  const verify = async (serving: string) => {
    expect(await client.alive(client.writerPid), 'writer still running').toBe(true);
    const before = (await client.acks()).length;
    await until(async () => (await client.acks()).length >= before + 3, { timeoutMs: 3 * MIN, intervalMs: 1000, what: 'the client writes again' });
    // The acks first, then the file: the file may hold writes acknowledged after the log was read, never the reverse.
    const acks = await client.acks();
    const errors = await client.errors();
    const fileText = await client.dataFile();
    const data = checkData(fileText, acks, errors);
    last = { acked: data.acked, problems: data.problems };
    if (data.problems.length) {
      // What a post-mortem needs: the file as read, the writer's acks, and both servers' view.
      const servers = [n1, n2].filter((g) => g.running);
      const diag = await Promise.all(servers.map((g) => diagnostics(g).catch((e: Error) => `${g.name}: ${e.message}`)));
      const pm = await Promise.all(servers.map((g) => g.exec(['sh', '-c', 'grep -E "Result of|fenc|Initiating|error" /var/log/pacemaker/pacemaker.log | tail -n 120']).then((r) => `--- ${g.name} pacemaker.log\n${r.stdout}`)));
      log(`soak: DATA PROBLEM ${JSON.stringify(data.problems)}\n--- file (${fileText.split('\n').length} lines, head):\n${fileText.split('\n').slice(0, 60).join('\n')}\n--- acks (head):\n${acks.slice(0, 60).map((a) => `${a.line}\t${a.ackAt}`).join('\n')}\n--- client dmesg:\n${await client.g.run(['dmesg']).then((d) => d.split('\n').slice(-30).join('\n')).catch(() => '')}\n${diag.join('\n')}\n${pm.join('\n')}`);
    }
    expect(data.problems, 'data on the export vs. acknowledged writes').toEqual([]);
    expect(await client.kernelProblems(), 'client kernel messages').toEqual([]);
    const lock = await until(async () => {
      const l = await serverLock(guest(serving));
      return l.procLocks.length > 0 ? l : undefined;
    }, { timeoutMs: 4 * MIN, intervalMs: 2000, what: `${serving} holds the client's POSIX lock` });
    expect(lock.probe).toBe('held');
  };

  beforeAll(async () => {
    await waitForQuietMachine({ timeoutMs: 10 * MIN, intervalMs: 15_000, log });
    const up = await startHaNfsBed(log);
    ({ bed, work, n1, n2, client } = up);
    await n1.run(['cibadmin', '--replace', '--scope', 'configuration', '--xml-file', '/opt/ocfkit/files/cib.xml'], { timeoutMs: 2 * MIN });
    const s = await until(async () => {
      const st = await clusterState(n1);
      return serviceNode(st) ? st : undefined;
    }, { timeoutMs: 8 * MIN, intervalMs: 2000, what: 'the whole stack started on one node' });
    active = serviceNode(s)!;
    await client.mount();
    await client.startWriter();
    await client.startLockHolder();
    await verify(active);
  }, 40 * MIN);

  afterAll(async () => {
    try {
      const acks = bed ? await client.acks().catch(() => []) : [];
      const gaps = rows.map((r) => r.gapS ?? 0);
      const worst = rows.reduce<SoakRow | undefined>((w, r) => (!w || (r.gapS ?? 0) > (w.gapS ?? 0) ? r : w), undefined);
      const lost = last.problems.filter((p) => /is missing/.test(p)).length;
      const dup = last.problems.filter((p) => /appears twice/.test(p)).length;
      const fences = bed && (n1?.running || n2?.running) ? await fenceHistory(n1.running ? n1 : n2).catch(() => []) : [];
      const lines = [
        `| # | takeover | service | takeover (s) | service gap (s) | fenced |`,
        `|---|---|---|---|---|---|`,
        ...rows.map((r) => `| ${r.n} | ${r.kind === 'move' ? 'crm_resource --move --promoted' : 'power-off (SIGKILL of qemu)'} | ${r.from} → ${r.to} | ${r.takeoverS?.toFixed(1) ?? '—'} | ${r.gapS?.toFixed(1) ?? '—'} | ${r.fenced ?? '—'} |`),
      ];
      const summary = [
        `takeovers: ${rows.length} of ${TAKEOVERS} (${rows.filter((r) => r.kind === 'power-off').length} power-offs, ${rows.filter((r) => r.kind === 'move').length} moves)`,
        `acknowledged writes: ${acks.length}; lost: ${lost}; duplicated: ${dup}; write errors: ${last.problems.filter((p) => /failed:/.test(p)).length}`,
        `worst service gap: ${worst ? `${worst.gapS?.toFixed(1)} s (takeover ${worst.n}, ${worst.kind})` : '—'}; median gap ${gaps.length ? [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!.toFixed(1) : '—'} s`,
        `fence history: ${fences.filter((f) => f.status === 'success').length} successful fences; unplanned partitions (a starved guest fenced, service and data checked on the survivor): ${unplanned.length ? unplanned.join(', ') : 'none'}`,
        `host: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB; TCG guests; Corosync token ${TOKEN_MS} ms; load average ${load0.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end; ${Math.round((Date.now() - t0) / 1000)} s in all`,
      ];
      log(`\nsoak result:\n${lines.join('\n')}\n${summary.map((l) => `- ${l}`).join('\n')}\n`);
      const out = process.env.OCFKIT_SOAK_REPORT;
      if (out) {
        mkdirSync(dirname(out), { recursive: true });
        writeFileSync(out, `${lines.join('\n')}\n\n${summary.map((l) => `- ${l}`).join('\n')}\n`);
      }
    } finally {
      await bed?.teardown();
      if (work) rmSync(work, { recursive: true, force: true });
    }
  }, 10 * MIN);

  test(`${TAKEOVERS} takeovers, alternating power-off and --move; every acknowledged write exactly once`, async () => {
    for (let n = 1; n <= TAKEOVERS; n++) {
      // A node fenced by an unplanned partition (a guest starved beyond the token on a busy host)
      // comes back first: the survivor must serve with the data intact, and the count says so.
      for (const g of [n1, n2]) {
        if (g.running) continue;
        unplanned.push(g.name);
        const survivor = g === n1 ? n2 : n1;
        log(`soak: UNPLANNED PARTITION before takeover ${n}: ${g.name} was fenced (qemu ${JSON.stringify(g.exitStatus)}); ${survivor.name} must serve`);
        expect(g.exitStatus, `${g.name} powered off by its BMC`).toEqual({ code: 0, signal: null });
        await waitStackOn(survivor, survivor.name, 8 * MIN);
        active = survivor.name;
        await verify(active);
        await g.start();
        await rejoin(g, [survivor], 5 * MIN);
        for (const x of [g, survivor]) {
          await until(async () => (await x.run(['drbdadm', 'dstate', DRBD_RES])).trim() === 'UpToDate/UpToDate', { timeoutMs: 5 * MIN, intervalMs: 2000, what: `${x.name}: DRBD UpToDate/UpToDate` });
        }
        await until(async () => (await handlerConstraints(survivor)).length === 0, { timeoutMs: 2 * MIN, intervalMs: 2000, what: 'handler constraint lifted' });
        await settle(survivor, 180);
      }
      const kind = n % 2 === 1 ? 'power-off' : 'move';
      const from = active;
      const to = other(from);
      const ev = await eventNow();
      let fenced: string | undefined;
      if (kind === 'power-off') {
        const victim = guest(from);
        const before = (await fenceHistory(guest(to))).filter((f) => f.target === from && f.status === 'success').length;
        await victim.powerOff();
        await waitStackOn(guest(to), to, 8 * MIN);
        const f = await until(async () => (await fenceHistory(guest(to))).filter((x) => x.target === from && x.status === 'success').at(before), { timeoutMs: 2 * MIN, intervalMs: 2000, what: `fence of ${from}` });
        fenced = `${f.action} ${from}`;
      } else {
        await guest(to).run(['crm_resource', '--resource', 'drbd-clone', '--move', '--promoted', '--node', to], { timeoutMs: 2 * MIN });
        await waitStackOn(guest(to), to, 6 * MIN);
        await guest(to).run(['crm_resource', '--resource', 'drbd-clone', '--clear'], { timeoutMs: 2 * MIN });
      }
      active = to;
      await verify(active);
      const end = Date.now() / 1000 + ev.offset;
      const gap = serviceGap(await client.acks(), ev.at, end);
      const tk = takeover(await client.probes(), ev.at, guest(to).cfg.mac, end);
      rows.push({ n, kind, from, to, takeoverS: tk?.seconds, gapS: gap?.seconds, fenced });
      log(`soak: ${n}/${TAKEOVERS} ${kind} ${from} → ${to}: takeover ${tk?.seconds.toFixed(1) ?? '—'} s, gap ${gap?.seconds.toFixed(1) ?? '—'} s, ${last.acked} writes acknowledged so far`);
      if (kind === 'power-off') {
        // The powered-off node comes back for the next takeover: boot, rejoin, resync, handler constraint lifted.
        const back = guest(from);
        await back.start();
        await rejoin(back, [guest(to)], 5 * MIN);
        await until(async () => where(await clusterState(guest(to)), 'drbd', 'Unpromoted').join() === from, { timeoutMs: 5 * MIN, intervalMs: 2000, what: `drbd Unpromoted on ${from}` });
        for (const g of [back, guest(to)]) {
          await until(async () => (await g.run(['drbdadm', 'dstate', DRBD_RES])).trim() === 'UpToDate/UpToDate', { timeoutMs: 5 * MIN, intervalMs: 2000, what: `${g.name}: DRBD UpToDate/UpToDate` });
        }
        await until(async () => (await handlerConstraints(guest(to))).length === 0, { timeoutMs: 2 * MIN, intervalMs: 2000, what: 'handler constraint lifted' });
        await settle(guest(to), 180);
        expect(stackOn(await clusterState(guest(to)), to)).toBe(true);
      } else {
        await settle(guest(to), 180);
      }
      for (const g of [n1, n2]) if (g.running) expect(await g.run(['dmesg']), `${g.name}: no DRBD split brain`).not.toMatch(/Split-Brain/i);
    }
    expect(rows.length).toBe(TAKEOVERS);
  }, 4 * 60 * MIN);
});
