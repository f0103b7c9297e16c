#!/usr/bin/env node
// npm run bench:failover's table: the end-to-end suite's JSON reports (OCFKIT_E2E_REPORT_JSON) of a
// pass on ocfkit's agents and one on the shell agents (OCFKIT_E2E_AGENTS=shell), side by side: per
// scenario the takeover and the client's service gap, then where the time went, the executor's time
// of each takeover step. Under TCG the absolute times are many times a real cluster's; the ratio is
// the result.
//   node bench/failover-table.mjs <ocfkit.json> <shell.json>
// Exits 1 when a report cannot be read or holds no scenario (the pass did not get that far).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** "2a" of "2a migration: …" and of "2a. planned migration" (a failed row is named after its test). */
const keyOf = (scenario) => /^(\d+[a-z]?)\b/.exec(scenario)?.[1] ?? scenario;

const sec = (v) => (v === undefined || v === null ? '—' : v.toFixed(1));
const ratio = (a, b) => (a === undefined || b === undefined || a === null || b === null || b === 0 ? '—' : `${(a / b).toFixed(2)}×`);

/**
 * One scenario of one pass: its measured row (a scenario can add a FAIL row after its measured one,
 * when a check after the measurement failed), and its result with the note.
 */
/** A failure's reason without until()'s "(last: …)" detail, which the report may have cut mid-word. */
const reason = (note) => note.replace(/ \(last: [^)]*\)?$/, '');

function scenarioOf(rows) {
  const measured = rows.find((r) => r.takeoverS !== undefined || r.gapS !== undefined || r.ops !== undefined) ?? rows[0];
  const failed = rows.find((r) => r.result === 'FAIL');
  const shown = failed ?? measured;
  return {
    name: (rows.find((r) => r.result !== 'FAIL') ?? rows[0]).scenario,
    takeoverS: measured.takeoverS,
    gapS: measured.gapS,
    ops: measured.ops ?? {},
    result: shown.note ? `${shown.result} (${shown.result === 'FAIL' ? reason(shown.note) : shown.note})` : shown.result,
  };
}

function byScenario(report) {
  const groups = new Map();
  for (const r of report.rows ?? []) {
    const k = keyOf(r.scenario);
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return new Map([...groups].map(([k, rows]) => [k, scenarioOf(rows)]));
}

/** Both lists in one, in order: what only `b` has goes before the next item both have (steps, scenarios). */
function mergeInOrder(a, b) {
  const merged = [...a];
  b.forEach((k, i) => {
    if (merged.includes(k)) return;
    const next = b.slice(i + 1).find((x) => merged.includes(x));
    if (next === undefined) merged.push(k);
    else merged.splice(merged.indexOf(next), 0, k);
  });
  return merged;
}

const table = (head, rows) => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

function passLine(label, r) {
  const h = r.host ?? {};
  const load = r.loadAverage ? `, load average ${r.loadAverage.start.toFixed(2)} → ${r.loadAverage.end.toFixed(2)}` : '';
  const setup = r.setupError ? `; the bed could not be set up: ${r.setupError}` : '';
  return `- ${label}: ${r.startedAt ?? '?'}, whole suite ${r.suiteSeconds ?? '?'} s${load}; ${h.cpu ?? '?'}, ${h.cores ?? '?'} cores, ${h.memoryGiB ?? '?'} GiB, ${h.qemu ?? 'QEMU ?'}${setup}`;
}

/** The Markdown the bench prints: both passes, the scenario table, the step table. */
export function failoverTable(ocfkit, shell) {
  const a = byScenario(ocfkit);
  const b = byScenario(shell);
  const keys = mergeInOrder([...a.keys()], [...b.keys()]);
  const scenarios = keys.map((k) => {
    const x = a.get(k);
    const y = b.get(k);
    return [x?.name ?? y.name, sec(x?.takeoverS), sec(y?.takeoverS), ratio(x?.takeoverS, y?.takeoverS), sec(x?.gapS), sec(y?.gapS), ratio(x?.gapS, y?.gapS), x?.result ?? 'not run', y?.result ?? 'not run'];
  });
  const steps = [];
  for (const k of keys) {
    const x = a.get(k)?.ops ?? {};
    const y = b.get(k)?.ops ?? {};
    const names = mergeInOrder(Object.keys(x), Object.keys(y));
    if (names.length === 0) continue;
    names.forEach((n, i) => steps.push([i === 0 ? (a.get(k) ?? b.get(k)).name : '', n, sec(x[n]), sec(y[n]), ratio(x[n], y[n])]));
    const sum = (o) => (Object.keys(o).length ? Object.values(o).reduce((s, v) => s + v, 0) : undefined);
    steps.push(['', '**all steps above**', sec(sum(x)), sec(sum(y)), ratio(sum(x), sum(y))]);
  }
  return [
    "Failover side by side: ocfkit's agents against the shell agents (resource-agents' ocf:heartbeat:*, drbd-utils' ocf:linbit:drbd) on the same bed, scenarios and client.",
    passLine('ocfkit', ocfkit),
    passLine('shell', shell),
    'TCG-emulated guests: absolute times are many times a real cluster\'s; compare the ratios. ratio = ocfkit ÷ shell (< 1: ocfkit faster).',
    '',
    table(['scenario', 'takeover ocfkit (s)', 'takeover shell (s)', 'ratio', 'service gap ocfkit (s)', 'service gap shell (s)', 'ratio', 'result ocfkit', 'result shell'], scenarios),
    '',
    "Where the time went: the executor's time of each takeover step (exec-time in the CIB's history), on the node that took over, and for the planned moves the old node's stops. The clone notifications and Pacemaker's own transitions come on top. export and notify are the shell stack's exportfs and nfsnotify (ocfkit's nfsserver does both itself).",
    '',
    steps.length ? table(['scenario', 'step', 'ocfkit (s)', 'shell (s)', 'ratio'], steps) : '(no step times in either report)',
    '',
  ].join('\n');
}

/** A report file, or why it is no use. */
export function readReport(path) {
  let r;
  try {
    r = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    return `${path}: ${e.message}`;
  }
  if (!Array.isArray(r.rows)) return `${path}: not an end-to-end report (no rows)`;
  if (r.rows.length === 0) return `${path}: no scenario ran${r.setupError ? ` (the bed could not be set up: ${r.setupError})` : ''}`;
  return r;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [ocfkitPath, shellPath] = process.argv.slice(2);
  if (!ocfkitPath || !shellPath) {
    console.error('usage: node bench/failover-table.mjs <ocfkit.json> <shell.json>');
    process.exit(2);
  }
  const reports = [readReport(ocfkitPath), readReport(shellPath)];
  const bad = reports.filter((r) => typeof r === 'string');
  for (const b of bad) console.error(`failover-table: ${b}`);
  if (bad.length) process.exit(1);
  process.stdout.write(failoverTable(reports[0], reports[1]));
}
