// npm run bench:failover's table (bench/failover-table.mjs) on synthetic reports of the two passes:
// scenarios matched by their number (a failed row is named after its test), ratios ocfkit ÷ shell,
// the steps of both stacks merged in takeover order, a failed or missing scenario shown as such.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { failoverTable, readReport, type Report } from '../../bench/failover-table.mjs';

const host = { cpu: 'AMD EPYC 7B13', cores: 2, memoryGiB: 24, qemu: 'QEMU 7.2.22' };
const pass = (agents: string, startedAt: string, load: [number, number], suiteSeconds: number, rows: Report['rows']): Report => ({ agents, startedAt, host, loadAverage: { start: load[0], end: load[1] }, suiteSeconds, rows });
const ocfkit = pass('ocfkit', '2026-12-08T10:00:00.000Z', [0.5, 2.25], 851, [
  { scenario: '1 initial start', takeoverS: 60, gapS: 0.8, result: 'pass', ops: { 'drbd start': 14, 'drbd promote': 1.5, 'fs start': 1.5, 'nfs start': 6, 'ip start': 1.5 } },
  { scenario: '2a migration: --move --promoted drbd-clone', takeoverS: 25, gapS: 30, result: 'pass', ops: { 'ip stop': 1, 'nfs stop': 2, 'fs stop': 1, 'drbd demote': 1.5, 'drbd promote': 2, 'fs start': 1.5, 'nfs start': 5, 'ip start': 1.5 } },
  { scenario: '4 old node returns', gapS: 1.1, result: 'pass' },
  { scenario: '8 live reconfiguration', gapS: 4.2, result: 'pass' },
]);
const shell = pass('shell', '2026-12-08T11:00:00.000Z', [0.4, 2.5], 1400, [
  { scenario: '1 initial start', takeoverS: 180, gapS: 1, result: 'pass', ops: { 'drbd start': 20, 'drbd promote': 3, 'fs start': 3, 'nfs start': 95, 'export start': 4, 'ip start': 3, 'notify start': 5 } },
  { scenario: '2a migration: --move --promoted drbd-clone', takeoverS: 50, gapS: 60, result: 'pass', ops: { 'notify stop': 1, 'ip stop': 2, 'export stop': 3, 'nfs stop': 4, 'fs stop': 2, 'drbd demote': 3, 'drbd promote': 4, 'fs start': 3, 'nfs start': 20, 'export start': 4, 'ip start': 2, 'notify start': 5 } },
  // Measured, then a later check failed: the afterEach row is named after the test.
  { scenario: '4 old node returns', gapS: 2, result: 'pass' },
  { scenario: '4. the old node comes back', event: '', from: '', to: '', result: 'FAIL', note: 'expected false to be true' },
  { scenario: '8 live reconfiguration', result: 'n/a', note: 'no reload-agent in the shell agents' },
]);

const line = (text: string, start: string) => text.split('\n').find((l) => l.startsWith(start));

describe('the side-by-side table', () => {
  const t = failoverTable(ocfkit, shell);

  test('both passes with their machine and load, and how to read the ratio', () => {
    expect(t).toContain('- ocfkit: 2026-12-08T10:00:00.000Z, whole suite 851 s, load average 0.50 → 2.25; AMD EPYC 7B13, 2 cores, 24 GiB, QEMU 7.2.22');
    expect(t).toContain('- shell: 2026-12-08T11:00:00.000Z, whole suite 1400 s');
    expect(t).toContain('ratio = ocfkit ÷ shell (< 1: ocfkit faster)');
  });

  test('one row per scenario: takeover and gap of each pass and their ratio, the results', () => {
    expect(line(t, '| 1 initial start |')).toBe('| 1 initial start | 60.0 | 180.0 | 0.33× | 0.8 | 1.0 | 0.80× | pass | pass |');
    expect(line(t, '| 2a migration')).toBe('| 2a migration: --move --promoted drbd-clone | 25.0 | 50.0 | 0.50× | 30.0 | 60.0 | 0.50× | pass | pass |');
    // The measured row's figures, the failure's result.
    expect(line(t, '| 4 old node returns |')).toBe('| 4 old node returns | — | — | — | 1.1 | 2.0 | 0.55× | pass | FAIL (expected false to be true) |');
    expect(line(t, '| 8 live reconfiguration |')).toBe('| 8 live reconfiguration | — | — | — | 4.2 | — | — | pass | n/a (no reload-agent in the shell agents) |');
  });

  test("a failure's reason without the wait's last value, which the report cut mid-word", () => {
    const cut = { scenario: '6. replication and cluster link cut', event: '', from: '', to: '', result: 'FAIL', note: "timed out after 240000 ms waiting for: n1 holds the NFSv3 client's POSIX lock (/proc/locks) (last: u" };
    const t6 = failoverTable(ocfkit, { ...shell, rows: [...shell.rows, { scenario: '6 link cut (fence)', gapS: 55.5, result: 'pass' }, cut] });
    expect(line(t6, '| 6 link cut (fence) |')).toBe("| 6 link cut (fence) | — | — | — | — | 55.5 | — | not run | FAIL (timed out after 240000 ms waiting for: n1 holds the NFSv3 client's POSIX lock (/proc/locks)) |");
  });

  test('the steps of both stacks in takeover order, a step only one has shown as — on the other, and their sums', () => {
    const steps = t.slice(t.indexOf('| scenario | step |')).split('\n').filter((l) => l.startsWith('| '));
    const migration = steps.slice(steps.findIndex((l) => l.startsWith('| 2a migration')), steps.findIndex((l) => l.startsWith('| 2a migration')) + 13);
    expect(migration.map((l) => l.split(' | ')[1])).toEqual(['notify stop', 'ip stop', 'export stop', 'nfs stop', 'fs stop', 'drbd demote', 'drbd promote', 'fs start', 'nfs start', 'export start', 'ip start', 'notify start', '**all steps above**']);
    expect(steps).toContain('| 1 initial start | drbd start | 14.0 | 20.0 | 0.70× |');
    expect(steps).toContain('|  | nfs start | 6.0 | 95.0 | 0.06× |');
    expect(steps).toContain('|  | export start | — | 4.0 | — |');
    expect(steps).toContain('|  | **all steps above** | 24.5 | 133.0 | 0.18× |');
    // Scenarios without step times have no rows there.
    expect(steps.some((l) => l.includes('old node returns'))).toBe(false);
  });

  test('a scenario one pass never reached says so', () => {
    const short = failoverTable(ocfkit, { ...shell, rows: shell.rows.slice(0, 1) });
    expect(line(short, '| 2a migration')).toMatch(/\| pass \| not run \|$/);
  });
});

describe('reading the reports', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocfkit-failover-table-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  test('a report is read; a missing, broken or empty one says why', () => {
    expect(readReport(file('ok.json', JSON.stringify(ocfkit)))).toEqual(ocfkit);
    expect(readReport(join(dir, 'missing.json'))).toMatch(/missing\.json: ENOENT/);
    expect(readReport(file('broken.json', '{'))).toMatch(/broken\.json: .*JSON/);
    expect(readReport(file('other.json', '{}'))).toMatch(/not an end-to-end report/);
    expect(readReport(file('empty.json', JSON.stringify({ rows: [], setupError: 'timed out booting n1' })))).toMatch(/no scenario ran \(the bed could not be set up: timed out booting n1\)/);
  });
});
