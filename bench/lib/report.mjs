// Turns samples into per-row figures, judges the targets, and prints the table
// (plain text for the terminal, Markdown for docs/readme/bench.md).
import { round, summary } from './stats.mjs';

/** The issue's targets. They are measured and reported, never asserted. */
export const TARGETS = {
  ratio: { 'meta-data': 2, 'probe (stopped)': 0.5, 'monitor (running)': 0.5, start: 0.5, stop: 0.5 },
  rssMiB: 40,
  cib1000Ms: 1000,
};

/** The agent as the table names it: rows measured in the QEMU guests say so. */
export const agentLabel = (row) => (row.where === 'qemu' ? `${row.agent} (QEMU guest)` : row.agent);

const codesOf = (samples) => [...new Set(samples.map((s) => s.code))];

function summarizeSide(side, expect) {
  if (side.skipped) return { skipped: side.skipped };
  const ok = side.samples;
  const codes = codesOf(ok);
  const wrongCode = ok.filter((s) => expect !== null && s.code !== expect);
  const badState = ok.filter((s) => s.stateOk === false);
  const wrong = ok.filter((s) => wrongCode.includes(s) || badState.includes(s));
  return {
    n: ok.length,
    wallMs: summary(ok.map((s) => s.wallMs)),
    cpuMs: summary(ok.map((s) => s.cpuMs)),
    maxRssMiB: summary(ok.map((s) => s.maxRssMiB)),
    codes,
    unexpected: wrong.length ? { count: wrong.length, example: wrong[0].stderr, codes: codesOf(wrong), wrongCodes: codesOf(wrongCode), badState: badState.length } : undefined,
    forks: side.forks ?? undefined,
  };
}

/** Adds `result` (figures, ratio, targets) to each row. */
export function judgeRows(rows) {
  for (const row of rows) {
    const o = summarizeSide(row.sides.ocfkit, row.expect);
    const s = summarizeSide(row.sides.shell, row.expect);
    const res = { ocfkit: o, shell: s };
    if (row.sides.sea) {
      // The same bundle as a Node SEA: what the runtime alone changes.
      res.sea = summarizeSide(row.sides.sea, row.expect);
      if (!o.skipped && !res.sea.skipped && o.n && res.sea.n) res.seaRatio = o.wallMs.median / res.sea.wallMs.median;
    }
    if (!o.skipped && !s.skipped && o.n && s.n) {
      res.wallRatio = o.wallMs.median / s.wallMs.median;
      res.cpuRatio = s.cpuMs.median > 0 ? o.cpuMs.median / s.cpuMs.median : null;
      if (row.expect === null && o.codes.join() !== s.codes.join()) row.notes.push(`exit codes differ: ocfkit ${o.codes.join('/')}, shell ${s.codes.join('/')}`);
    }
    res.targets = [];
    const limit = TARGETS.ratio[row.action];
    const valid = !o.skipped && !o.unexpected && !s.skipped && !s.unexpected && res.wallRatio !== undefined;
    if (limit !== undefined) {
      if (valid) res.targets.push(judge(`wall ≤ ${limit}× shell`, res.wallRatio, limit, (x) => `${x.toFixed(2)}×`));
      else res.targets.push({ what: `wall ≤ ${limit}× shell`, status: 'n/a', why: o.skipped ? 'ocfkit side not implemented yet' : 'a side gave unexpected exit codes' });
    }
    if (!o.skipped && o.n && !o.unexpected) res.targets.push(judge(`peak RSS ≤ ${TARGETS.rssMiB} MiB`, o.maxRssMiB.max, TARGETS.rssMiB, (x) => `${x.toFixed(1)} MiB`));
    row.result = res;
  }
  return rows;
}

/** met/missed with the margin: how far under or over the limit, in percent of it. */
export function judge(what, value, limit, fmt) {
  const pct = Math.round((Math.abs(limit - value) / limit) * 100);
  return value <= limit
    ? { what, status: 'met', value, limit, margin: `${fmt(value)}: ${pct}% under the limit` }
    : { what, status: 'missed', value, limit, margin: `${fmt(value)}: ${pct}% over the limit` };
}

const f1 = (x) => (x === undefined || x === null || !Number.isFinite(x) ? '–' : x >= 100 ? x.toFixed(0) : x.toFixed(1));
const wallCell = (r) => (r.skipped ? 'not impl.' : `${f1(r.wallMs.median)} (${f1(r.wallMs.p10)}–${f1(r.wallMs.p90)})`);
const procCell = (r) => (r.skipped || !r.forks ? '–' : String(r.forks.processes));
const mark = (t) => (t.status === 'met' ? '✓' : t.status === 'missed' ? '✗' : '·');

/** One line per row: the columns the issue asks for. */
export function tableRows(rows) {
  return rows.map((row) => {
    const { ocfkit: o, shell: s, wallRatio, targets } = row.result;
    const flags = [];
    if (o.unexpected) flags.push(unexpectedFlag('ocfkit', o.unexpected));
    if (s.unexpected) flags.push(unexpectedFlag('shell', s.unexpected));
    if (row.error) flags.push(row.error.slice(0, 60));
    return {
      agent: agentLabel(row),
      action: row.action,
      ocfkitWall: wallCell(o),
      shellWall: wallCell(s),
      ratio: wallRatio === undefined ? '–' : `${wallRatio.toFixed(2)}×`,
      cpu: `${o.skipped ? '–' : f1(o.cpuMs.median)} / ${s.skipped ? '–' : f1(s.cpuMs.median)}${row.result.cpuRatio ? ` (${row.result.cpuRatio.toFixed(2)}×)` : ''}`,
      rss: `${o.skipped ? '–' : f1(o.maxRssMiB.max)} / ${s.skipped ? '–' : f1(s.maxRssMiB.max)}`,
      procs: `${procCell(o)} / ${procCell(s)}`,
      targets: targets.map((t) => `${mark(t)} ${t.what.replace(' shell', '').replace('peak RSS', 'RSS')}`).join('; ') + (flags.length ? ` [${flags.join('; ')}]` : ''),
      ...(row.result.sea ? { sea: seaCell(row.result) } : {}),
    };
  });
}

/** "ocfkit exit 1", and/or "ocfkit state ✗ ×2" when the state after the action was wrong (results saved before: codes only). */
function unexpectedFlag(who, u) {
  if (u.wrongCodes === undefined) return `${who} exit ${u.codes.join('/')}`;
  return [u.wrongCodes.length ? `${who} exit ${u.wrongCodes.join('/')}` : '', u.badState ? `${who} state ✗ ×${u.badState}` : ''].filter(Boolean).join('; ');
}

/** The Node SEA column: its wall time, ocfkit's ratio to it, its peak RSS. */
function seaCell({ sea, seaRatio }) {
  if (sea.skipped) return 'not impl.';
  const flag = sea.unexpected ? ` [exit ${sea.unexpected.codes.join('/')}]` : '';
  return `${f1(sea.wallMs.median)} (${f1(sea.wallMs.p10)}–${f1(sea.wallMs.p90)}); ${seaRatio === undefined ? '–' : `${seaRatio.toFixed(2)}×`}; ${f1(sea.maxRssMiB.max)}${flag}`;
}

const HEAD = {
  agent: 'agent',
  action: 'action',
  ocfkitWall: 'ocfkit wall ms, median (p10–p90)',
  shellWall: 'shell wall ms, median (p10–p90)',
  ratio: 'ratio',
  cpu: 'CPU ms ocfkit / shell (ratio)',
  rss: 'peak RSS MiB ocfkit / shell',
  procs: 'processes ocfkit / shell',
  targets: 'targets',
  sea: 'Node SEA: wall ms (p10–p90); ocfkit ÷ SEA; peak RSS MiB',
};
/** The columns some line has (the Node SEA one only when that side was measured). */
const columnsOf = (lines) => Object.keys(HEAD).filter((c) => lines.some((l) => l[c] !== undefined));

export function textTable(lines) {
  const cols = columnsOf(lines);
  const all = [HEAD, ...lines];
  const w = Object.fromEntries(cols.map((c) => [c, Math.max(...all.map((l) => [...String(l[c] ?? '–')].length))]));
  const fmt = (l) => cols.map((c) => String(l[c] ?? '–').padEnd(w[c])).join('  ').trimEnd();
  return [fmt(HEAD), cols.map((c) => '-'.repeat(w[c])).join('  '), ...lines.map(fmt)].join('\n');
}

export function markdownTable(lines) {
  const cols = columnsOf(lines);
  const esc = (s) => String(s).replace(/\|/g, '\\|');
  return [`| ${cols.map((c) => HEAD[c]).join(' | ')} |`, `|${cols.map(() => '---').join('|')}|`, ...lines.map((l) => `| ${cols.map((c) => esc(l[c] ?? '–')).join(' | ')} |`)].join('\n');
}

/** Every judged target as one line, for the notes under the table (the RSS target of all rows in one line). */
export function targetLines(rows, extra = []) {
  const out = [];
  const rss = [];
  const line = (t, who) => `${mark(t)} ${who}${t.what} — ${t.status}${t.margin ? ` (${t.margin})` : t.why ? ` (${t.why})` : ''}`;
  for (const row of rows) {
    for (const t of row.result.targets) {
      if (t.what.startsWith('peak RSS')) rss.push({ row, t });
      else out.push(line(t, `${agentLabel(row)} ${row.action}: `));
    }
  }
  if (rss.length) {
    const missed = rss.filter((x) => x.t.status === 'missed');
    const values = rss.map((x) => x.t.value);
    const worst = rss.reduce((a, b) => (b.t.value > a.t.value ? b : a));
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    const limit = worst.t.limit;
    out.push(
      missed.length
        ? `✗ peak RSS of an ocfkit action ≤ ${limit} MiB — missed in ${missed.length} of ${rss.length} rows (${lo.toFixed(1)}–${hi.toFixed(1)} MiB, up to ${Math.round(((hi - limit) / limit) * 100)}% over; largest: ${agentLabel(worst.row)} ${worst.row.action})`
        : `✓ peak RSS of an ocfkit action ≤ ${limit} MiB — met in all ${rss.length} rows (at most ${hi.toFixed(1)} MiB: ${Math.round(((limit - hi) / limit) * 100)}% under)`,
    );
  }
  for (const t of extra) out.push(line(t, ''));
  return out;
}

export { round };

/** What the QEMU rows were measured on, or why there are none (result.qemu; absent in runs saved before them). */
export function qemuLines(q, options = {}) {
  if (!q) return [];
  if (q.skipped) return [`QEMU rows: not measured (${q.skipped})`];
  const agents = Object.entries(q.agents ?? {}).map(([n, a]) => `${n}: ${a.setup} (${a.durationS} s)`);
  return [
    `QEMU rows, marked "(QEMU guest)": measured inside ${q.guests}, Debian 12 guest kernel ${q.kernel}, DRBD module ${q.drbdModule}; ${q.packages}. Under TCG every instruction is emulated: absolute times are far slower than on hardware (and than the host rows); compare the ratio. ${q.cycles} cycles and ${q.iterations} monitor samples per side (plus one warm-up round), A/B alternating; each sample timed in the guest by measure-one (static build); no strace pass (processes –). Boot ${q.bootS} s, QEMU part ${q.durationS} s${options.nice ? '; --nice applies to the host rows only' : ''}.`,
    ...agents.map((a) => `QEMU ${a}`),
  ];
}

/** What each side ran on the hot paths (from the strace pass): "ip ×4, grep ×3". */
export function programLines(rows, actions = ['probe (stopped)', 'monitor (running)', 'start', 'stop']) {
  const list = (f) => {
    if (!f) return null;
    const progs = Object.entries(f.programs)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([p, n]) => (n > 1 ? `${p} ×${n}` : p));
    return `${f.processes} process${f.processes === 1 ? '' : 'es'}${progs.length ? ` (${progs.join(', ')})` : ''}`;
  };
  const out = [];
  for (const row of rows) {
    if (!actions.includes(row.action)) continue;
    const o = list(row.sides.ocfkit.forks);
    const s = list(row.sides.shell.forks);
    if (!o && !s) continue;
    out.push(`${agentLabel(row)} ${row.action}: ocfkit ${o ?? '–'}; shell ${s ?? '–'}`);
  }
  return out;
}
