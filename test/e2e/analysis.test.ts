// The e2e suite's judges, tested fast and without guests: the data check must catch every way the
// export can disagree with what the client was told; the gap and takeover measures must read the
// client's logs right; the cluster history parsers must read Pacemaker's real outputs (captured from
// the QEMU cluster by the suite with OCFKIT_E2E_SAVE_FIXTURES=1); and the guest scripts must do what
// they claim (the writer and the POSIX lock holder/probe run here on a local file, with the host's perl).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { LOCK_HOLDER, LOCK_PROBE, PROBER, WRITER } from './lib/guest-scripts.js';
import { checkLogSequence, checkOrder, lastOp, maxCallId, parseCrmMon, parseStatus, reprobed, resultLines, stepSeconds, where } from './lib/history.js';
import { markdownTable } from './lib/table.js';
import { parseAcks, parseErrors, parseProbes, serviceGap, takeover, type Ack } from './lib/timeline.js';
import { checkData } from './lib/verify.js';
import { addInstanceParam, scaleOpTimeouts } from './lib/host-prep.js';

const FIX = join(import.meta.dirname, 'fixtures');
const fixture = (name: string) => readFileSync(join(FIX, name), 'utf8');

/** Acks for writes 1..n at 1 s intervals from t0, with the given extra delays before some of them. */
function acksFor(n: number, delays: Record<number, number> = {}, t0 = 1000): Ack[] {
  let t = t0;
  const out: Ack[] = [];
  for (let i = 1; i <= n; i++) {
    t += 1 + (delays[i] ?? 0);
    out.push({ n: i, line: `${i} ${(t - 0.01).toFixed(3)}`, ackAt: t });
  }
  return out;
}
const fileOf = (acks: Ack[]) => acks.map((a) => `${a.line}\n`).join('');

describe('data check (every acknowledged line exactly once, in order)', () => {
  const acks = acksFor(10);
  test('the file as acknowledged passes, with an unacknowledged newest line in flight', () => {
    expect(checkData(fileOf(acks), acks, [])).toMatchObject({ ok: true, problems: [], lines: 10, acked: 10 });
    expect(checkData(`${fileOf(acks)}11 2000.000\n`, acks, []).problems).toEqual([]);
  });
  test('a lost acknowledged write is caught', () => {
    const lost = acks.filter((a) => a.n !== 4);
    expect(checkData(fileOf(lost), acks, []).problems).toEqual(['acknowledged write 4 is missing']);
  });
  test('a duplicate (a replayed write) is caught', () => {
    const dup = `${fileOf(acks.slice(0, 6))}${acks[5]!.line}\n${fileOf(acks.slice(6))}`;
    expect(checkData(dup, acks, []).problems).toEqual(expect.arrayContaining([expect.stringMatching(/^write 6 appears twice/), expect.stringMatching(/^write 6 .* out of order/)]));
  });
  test('lines out of order are caught', () => {
    const swapped = [...acks];
    [swapped[2], swapped[3]] = [swapped[3]!, swapped[2]!];
    expect(checkData(fileOf(swapped), acks, []).problems).toEqual([expect.stringMatching(/^write 3 \(line 4\) is out of order after write 4/)]);
  });
  test('changed bytes, a torn last line and garbage are caught', () => {
    const changed = fileOf(acks).replace(acks[2]!.line, `3 ${'9'.repeat(4)}.000`);
    expect(checkData(changed, acks, []).problems).toEqual([expect.stringMatching(/^write 3 differs/)]);
    expect(checkData(fileOf(acks).slice(0, -3), acks, []).problems).toEqual(expect.arrayContaining(['the file does not end with a newline (torn write)']));
    expect(checkData(`${fileOf(acks)}\0\0\0\n`, acks, []).problems).toEqual([expect.stringMatching(/^line 11 is malformed/)]);
  });
  test('an unacknowledged line in the middle, a failed write and a hole in the writer logs are caught', () => {
    const ackedButOne = acks.filter((a) => a.n !== 5);
    expect(checkData(fileOf(acks), ackedButOne, []).problems).toEqual(['write 5 is neither acknowledged nor failed (writer logs incomplete)', 'write 5 (line 5) is in the file but was never acknowledged']);
    const errors = parseErrors(`5 1005.990\t1030.000\topen: Stale file handle\n`);
    expect(checkData(fileOf(ackedButOne), ackedButOne, errors).problems).toEqual(['write 5 failed: open: Stale file handle']);
  });
  test('an empty file with acknowledged writes fails', () => {
    expect(checkData('', acks, []).ok).toBe(false);
  });
});

describe('service gap and takeover from the client logs', () => {
  test('the gap is the longest pause between two acknowledged writes, an outage begun before the event included', () => {
    const acks = acksFor(20, { 8: 14.5, 15: 3 });
    // write 8 came 15.5 s after write 7 (at 1007): an event at 1010 still sees that gap.
    expect(serviceGap(acks, 1010, 1100)).toMatchObject({ seconds: 15.5, after: { n: 7 }, before: { n: 8 } });
    expect(serviceGap(acks, 1024, 1100)?.seconds).toBe(4);
    expect(serviceGap(acks, 1033, 1036)?.seconds).toBe(1);
    expect(serviceGap([], 0, 1)).toBeUndefined();
  });
  test('ack and probe logs parse; a torn last line is ignored', () => {
    expect(parseAcks('1 100.000\t100.250\n2 100.750\t101.000\n3 101.5')).toEqual([
      { n: 1, line: '1 100.000', ackAt: 100.25 },
      { n: 2, line: '2 100.750', ackAt: 101 },
    ]);
    expect(parseProbes('1.0 1.1 52:54:00:99:00:11\n2.0 4.0 none\n3.0 3.2 err')).toEqual([
      { at: 1.1, mac: '52:54:00:99:00:11' },
      { at: 4, mac: undefined },
    ]);
    expect(() => parseAcks('x\ty\n')).toThrow(/bad line number/);
  });

  const A = '52:54:00:99:00:11';
  const B = '52:54:00:99:00:12';
  const probes = (spec: Array<[number, string | undefined]>) => spec.map(([at, mac]) => ({ at, mac }));
  test('takeover to another node: the first answer from its MAC after the old one stopped', () => {
    const p = probes([[9, A], [10.5, A], [11, A], [13, undefined], [15, undefined], [17, undefined], [18.2, B], [18.5, B]]);
    expect(takeover(p, 10, B)).toEqual({ seconds: 8.2, at: 18.2, outageFrom: 11 });
    // Answers switch directly from A to B (no silent probe in between): still a takeover.
    expect(takeover(probes([[11, A], [12, B]]), 10, B)).toEqual({ seconds: 2, at: 12, outageFrom: 11 });
  });
  test('recovery on the same node needs an outage of two silent probes; one lost probe is not one', () => {
    const p = probes([[11, A], [13, undefined], [13.3, A], [14, A], [16, undefined], [18, undefined], [21, A]]);
    expect(takeover(p, 10, A)).toEqual({ seconds: 11, at: 21, outageFrom: 14 });
    expect(takeover(probes([[11, A], [13, undefined], [13.3, A]]), 10, A)).toBeUndefined();
    expect(takeover(p, 10, A, 20)).toBeUndefined();
  });
});

describe("the cluster's history, from Pacemaker's real outputs", () => {
  test('crm_mon XML: online nodes, DC, roles and placements', () => {
    const s = parseCrmMon(fixture('crm_mon-started.xml'));
    expect(s.online.sort()).toEqual(['n1', 'n2']);
    expect(['n1', 'n2']).toContain(s.dc);
    const promoted = where(s, 'drbd', 'Promoted');
    expect(promoted).toHaveLength(1);
    expect(where(s, 'drbd', 'Unpromoted')).toHaveLength(1);
    for (const id of ['fs', 'nfs', 'ip']) expect(where(s, id, 'Started')).toEqual(promoted);
  });
  test('CIB status: the start order by the executor call-ids; a wrong order is reported', () => {
    const ops = parseStatus(fixture('cib-status-started.xml'));
    const s = parseCrmMon(fixture('crm_mon-started.xml'));
    const node = where(s, 'drbd', 'Promoted')[0]!;
    const steps = [{ rsc: 'drbd', op: 'promote' }, { rsc: 'fs', op: 'start' }, { rsc: 'nfs', op: 'start' }, { rsc: 'ip', op: 'start' }];
    const ok = checkOrder(ops, node, steps);
    expect(ok.problems).toEqual([]);
    expect(ok.records.map((r) => r.callId)).toEqual([...ok.records.map((r) => r.callId)].sort((a, b) => a - b));
    expect(checkOrder(ops, node, [...steps].reverse()).problems.length).toBe(3);
    expect(checkOrder(ops, node, steps, maxCallId(ops, node)).problems).toHaveLength(4);
    expect(checkOrder(ops, node, [{ rsc: 'fs', op: 'stop' }]).problems).toEqual([`${node}: no stop of fs in the cluster's history`]);
    expect(lastOp(ops, node, 'ip', 'start')?.rc).toBe(0);
  });
  test('CIB status: a record Pacemaker lost on a node that stayed up shows as a newer probe there', () => {
    const ops = parseStatus(fixture('cib-status-started.xml'));
    const node = where(parseCrmMon(fixture('crm_mon-started.xml')), 'drbd', 'Promoted')[0]!;
    const peer = node === 'n1' ? 'n2' : 'n1';
    expect(reprobed(ops, ops, node)).toEqual([]);
    // What scenario 7 met once: the promoted node's drbd record gone, rebuilt by a probe that found it promoted.
    const next = maxCallId(ops, node) + 1;
    const probe = { ...lastOp(ops, node, 'drbd', 'promote')!, op: 'monitor', key: 'drbd_last_0', callId: next, rc: 8, interval: 0 };
    const lost = [...ops.filter((o) => !(o.node === node && o.rsc === 'drbd')), probe];
    expect(reprobed(ops, lost, node)).toEqual(['drbd']);
    expect(reprobed(ops, lost, peer), 'the peer kept its records').toEqual([]);
    // Neither a new recurring monitor nor a probe of a resource the node never had counts.
    const recurring = { ...probe, key: 'drbd_monitor_20000', interval: 20_000 };
    expect(reprobed(ops, [...ops, recurring], node)).toEqual([]);
    expect(reprobed(ops, [...ops, { ...probe, rsc: 'new-rsc', key: 'new-rsc_last_0' }], node)).toEqual([]);
  });
  test('CIB status: the executor\'s time of each takeover step, only those run after the scenario began', () => {
    const ops = parseStatus(fixture('cib-status-started.xml'));
    const node = where(parseCrmMon(fixture('crm_mon-started.xml')), 'drbd', 'Promoted')[0]!;
    const steps = [{ rsc: 'drbd', op: 'promote' }, { rsc: 'fs', op: 'start' }, { rsc: 'nfs', op: 'start' }, { rsc: 'ip', op: 'start' }];
    const all = stepSeconds(ops, node, steps, -1);
    expect(Object.keys(all)).toEqual(['drbd promote', 'fs start', 'nfs start', 'ip start']);
    expect(all['drbd promote']).toBe(lastOp(ops, node, 'drbd', 'promote')!.execMs / 1000);
    // After the promotion: only the group's starts; a step that never ran there (a stop) is left out.
    const promote = lastOp(ops, node, 'drbd', 'promote')!.callId;
    expect(Object.keys(stepSeconds(ops, node, [...steps, { rsc: 'fs', op: 'stop' }], promote))).toEqual(['fs start', 'nfs start', 'ip start']);
    expect(stepSeconds(ops, node, steps, maxCallId(ops, node))).toEqual({});
  });
  test("Pacemaker's log: results of operations in file order", () => {
    const lines = resultLines(fixture('pacemaker-log-results-started.txt'));
    const s = parseCrmMon(fixture('crm_mon-started.xml'));
    const node = where(s, 'drbd', 'Promoted')[0]!;
    const steps = [{ rsc: 'drbd', op: 'start' }, { rsc: 'drbd', op: 'promote' }, { rsc: 'fs', op: 'start' }, { rsc: 'nfs', op: 'start' }, { rsc: 'ip', op: 'start' }];
    expect(checkLogSequence(lines, node, steps).problems).toEqual([]);
    expect(checkLogSequence(lines, node, [{ rsc: 'ip', op: 'start' }, { rsc: 'fs', op: 'start' }]).ok).toBe(false);
    const synthetic = resultLines('Nov 22 12:00:00.000 n1 pacemaker-controld  [1] (log_executor_event) 	error: Result of monitor operation for nfs on n1: error (NFS server partly up) | graph action unconfirmed\n');
    expect(synthetic).toMatchObject([{ op: 'monitor', rsc: 'nfs', node: 'n1', result: 'error (NFS server partly up)' }]);
    expect(checkLogSequence(synthetic, 'n1', [{ rsc: 'nfs', op: 'monitor' }]).problems).toEqual(['n1: monitor nfs: error (NFS server partly up)']);
  });
});

describe('the guest scripts, run here with the host perl on a local file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocfkit-e2e-scripts-'));
  const children: Array<ReturnType<typeof spawn>> = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const script = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text, { mode: 0o755 });
    return p;
  };
  const waitFor = async (what: string, ok: () => boolean, ms = 10_000) => {
    const end = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > end) throw new Error(`timed out: ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  test('all four compile', () => {
    for (const [n, t] of Object.entries({ WRITER, LOCK_HOLDER, LOCK_PROBE, PROBER })) {
      const r = spawnSync('perl', ['-c', script(`${n}.pl`, t)], { encoding: 'utf8' });
      expect(r.stderr.trim(), n).toMatch(/syntax OK$/);
    }
  });

  test('the writer appends numbered lines, acknowledges each, and the data check accepts its file', async () => {
    const data = join(dir, 'data.txt');
    const w = spawn('perl', [script('w.pl', WRITER), data, join(dir, 'acks'), join(dir, 'errors'), '0.05'], { stdio: 'ignore' });
    children.push(w);
    await waitFor('5 acks', () => existsSync(join(dir, 'acks')) && parseAcks(readFileSync(join(dir, 'acks'), 'utf8')).length >= 5);
    w.kill('SIGTERM');
    await new Promise((r) => w.once('exit', r));
    const acks = parseAcks(readFileSync(join(dir, 'acks'), 'utf8'));
    expect(acks.map((a) => a.n).slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
    expect(readFileSync(join(dir, 'errors'), 'utf8')).toBe('');
    expect(checkData(readFileSync(data, 'utf8'), acks, []).problems).toEqual([]);
  });

  test('the writer logs a failed write with its errno text', async () => {
    const r = spawn('perl', [script('w2.pl', WRITER), join(dir, 'no-such-dir', 'data.txt'), join(dir, 'acks2'), join(dir, 'errors2'), '0.05'], { stdio: 'ignore' });
    children.push(r);
    await waitFor('an error logged', () => existsSync(join(dir, 'errors2')) && readFileSync(join(dir, 'errors2'), 'utf8').includes('\n'));
    r.kill('SIGTERM');
    expect(parseErrors(readFileSync(join(dir, 'errors2'), 'utf8'))[0]).toMatchObject({ n: 1, error: 'open: No such file or directory' });
  });

  test('the lock holder takes a POSIX lock the probe sees as held (in /proc/locks too); free once it is gone', async () => {
    const file = join(dir, 'lockfile');
    const probe = script('probe.pl', LOCK_PROBE);
    const h = spawn('perl', [script('holder.pl', LOCK_HOLDER), file], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(h);
    let out = '';
    h.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor('locked', () => out.includes('locked'));
    const held = spawnSync('perl', [probe, file], { encoding: 'utf8' });
    expect([held.status, held.stdout.trim()]).toEqual([3, 'held']);
    const locks = readFileSync('/proc/locks', 'utf8').split('\n').filter((l) => l.includes(` ${h.pid} `));
    expect(locks.join('\n')).toMatch(/POSIX\s+ADVISORY\s+WRITE/);
    h.kill('SIGTERM');
    await new Promise((r) => h.once('exit', r));
    const free = spawnSync('perl', [probe, file], { encoding: 'utf8' });
    expect([free.status, free.stdout.trim()]).toEqual([0, 'free']);
    expect(spawnSync('perl', [probe, join(dir, 'missing')], { encoding: 'utf8' }).status).toBe(2);
  });
});

test('the table prints every row with — for what was not measured', () => {
  const t = markdownTable([
    { scenario: '3 node failure', event: 'SIGKILL', from: 'n1', to: 'n2', takeoverS: 31.04, gapS: 40.55, writes: 12, result: 'pass' },
    { scenario: '4 old node returns', event: 'boot', from: 'n2', to: 'n2', result: 'FAIL', note: 'x' },
  ]);
  expect(t.split('\n')).toHaveLength(4);
  expect(t).toMatch(/\| 3 node failure\s+\| SIGKILL\s+\| n1 → n2\s+\| 31\.0\s+\| 40\.5\s+\| 12\s+\| pass\s+\|/);
  expect(t).toMatch(/\| n2\s+\| —\s+\| —\s+\| —\s+\| FAIL \(x\)/);
  expect(t).not.toContain('NFSv4.2');
});

test('with an NFSv4.2 stream the table has its gap next to NFSv3\'s', () => {
  const t = markdownTable([
    { scenario: '5 resource failure', event: 'kill nfsd', from: 'n1', to: 'n1', takeoverS: 20, gapS: 28.4, gap4S: 95.2, writes: 40, result: 'pass' },
    { scenario: '6 link cut', event: 'cut', from: 'n1', to: 'n1', gapS: 1.5, writes: 60, result: 'pass' },
  ]);
  expect(t.split('\n')[0]).toMatch(/\| takeover \(s\)\s+\| service gap NFSv3 \(s\)\s+\| service gap NFSv4\.2 \(s\)\s+\| writes\s+\|/);
  expect(t).toMatch(/\| 20\.0\s+\| 28\.4\s+\| 95\.2\s+\| 40\s+\| pass\s+\|/);
  expect(t).toMatch(/\| 1\.5\s+\| —\s+\| 60\s+\| pass\s+\|/);
});

describe('the CPU-hog bed: operation timeouts scaled', () => {
  const cib = '<cib><configuration><resources><primitive id="p"><operations>\n<op id="a" name="start" interval="0s" timeout="40s"/>\n<op id="b" name="monitor" interval="10s" timeout="20s" role="Promoted"/>\n</operations></primitive></resources></configuration></cib>';
  test('every op timeout ×3, probes (op_defaults) 60 s, intervals untouched', () => {
    const out = scaleOpTimeouts(cib, 3, 60);
    expect(out).toContain('<op id="a" name="start" interval="0s" timeout="120s"/>');
    expect(out).toContain('<op id="b" name="monitor" interval="10s" timeout="60s" role="Promoted"/>');
    expect(out).toMatch(/<op_defaults>\s*<meta_attributes id="[^"]+">\s*<nvpair id="[^"]+" name="timeout" value="60s"\/>\s*<\/meta_attributes>\s*<\/op_defaults>\s*<\/configuration>/);
  });
  test('a CIB it cannot scale is refused, not passed on unscaled', () => {
    expect(() => scaleOpTimeouts('<cib><configuration/></cib>', 3, 60)).toThrow(/no <op timeout/);
    expect(() => scaleOpTimeouts(cib.replace('</configuration>', '<op_defaults/></configuration>'), 3, 60)).toThrow(/op_defaults already/);
  });
});

describe('an instance parameter added to the CIB the bed loads (the tickle_clients pass)', () => {
  const cib = '<cib><configuration><resources><group id="g"><primitive id="nfs" class="ocf" provider="ocfkit" type="nfsserver">\n<instance_attributes id="nfs-instance_attributes">\n<nvpair id="nfs-instance_attributes-nfs_ip" name="nfs_ip" value="10.0.0.1"/>\n</instance_attributes></primitive></group></resources></configuration></cib>';
  test('goes into the primitive\'s instance_attributes, next to the others', () => {
    const out = addInstanceParam(cib, 'nfs', 'tickle_clients', 'true');
    expect(out).toMatch(/<instance_attributes id="nfs-instance_attributes">\s*<nvpair id="nfs-instance_attributes-tickle_clients" name="tickle_clients" value="true"\/>\s*<nvpair id="nfs-instance_attributes-nfs_ip"/);
  });
  test('a primitive it cannot find, or a parameter already there, is refused', () => {
    expect(() => addInstanceParam(cib, 'ip', 'tickle_clients', 'true')).toThrow(/no primitive ip/);
    expect(() => addInstanceParam(addInstanceParam(cib, 'nfs', 'tickle_clients', 'true'), 'nfs', 'tickle_clients', 'false')).toThrow(/already/);
  });
});
