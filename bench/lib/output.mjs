// Printing and saving a run's results: the table on stdout, the JSON files,
// and (on request) the README section and the committed snapshot. Also used
// to re-render a saved run: node bench/run.mjs --report bench-results/<file>.json
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentLabel, judgeRows, markdownTable, programLines, qemuLines, tableRows, targetLines, textTable } from './report.mjs';
import { log } from './sys.mjs';

/**
 * @param {any} result  what bench/run.mjs collected (or a saved results file)
 * @param {{ outDir?: string, doc?: string, snapshot?: string }} o
 *   outDir: write <timestamp>.json and latest.json there; doc: rewrite its results block; snapshot: write the slim JSON there
 */
export function render(result, o = {}) {
  const { iterations, cycles, nice } = result.options;
  const started = new Date(result.date);
  for (const r of result.rows) {
    delete r.result;
    r.notes = r.notes.filter((n) => !n.startsWith('exit codes differ'));
  }
  judgeRows(result.rows);
  const lines = tableRows(result.rows);
  const extraTargets = result.cib?.target ? [result.cib.target] : [];
  result.targets = targetLines(result.rows, extraTargets);

  const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
  const exeText = (e, m) => {
    const s = e.startup;
    const t = (x) => (x ? `${f(x.wallMs.median)} (${f(x.maxRssMiB.max)})` : '–');
    const MiB = (b) => (b ? `${f(b / 2 ** 20)} MiB` : '–');
    // Results saved before the runtime switch call the executable's usage row `sea`.
    const usage = s.usage ?? s.sea;
    const how = m.agentsBuild ? `${m.agentsBuild.runtime === 'bun' ? `Bun ${m.agentsBuild.version}` : `Node ${m.agentsBuild.version} SEA`}` : 'Node SEA';
    const out = [
      `agents executable (${how}): ${MiB(e.sizeBytes)} (installed as <prefix>/lib/ocfkit/ocfkit-agents)${e.seaSizeBytes ? `; the same bundle as a Node ${m.seaBuild?.version ?? ''} SEA: ${MiB(e.seaSizeBytes)}` : ''}${e.emptyBunSizeBytes ? `; an empty Bun executable: ${MiB(e.emptyBunSizeBytes)}` : ''}; bundle build/agents.cjs ${f(e.bundleBytes / 1024)} KiB; dist/ocf-gen.js ${f(e.ocfGenBundleBytes / 1024)} KiB`,
      `start-up, median wall ms (peak RSS MiB): ocfkit-agents usage ${t(usage)}${s.metaData ? `, meta-data ${t(s.metaData)}` : ''}${s.seaUsage ? `; Node SEA usage ${t(s.seaUsage)}, meta-data ${t(s.seaMetaData)}` : ''}${s.emptyBun ? `; empty Bun executable ${t(s.emptyBun)}` : ''}${s.node24 ? `; Node 24 -e 0 ${t(s.node24)}` : ''}; node -e 0 ${t(s.node)}; bash -c true ${t(s.bash)}; /bin/true ${t(s.true)} (the method's RSS floor); ocf-gen --version ${t(s.ocfGen)}`,
    ];
    return out;
  };
  const cibText = (c) => {
    if (!c) return ['ocf-gen cib: not run (--no-cib)'];
    if (c.skipped) return [`ocf-gen cib: skipped: ${c.skipped}`];
    const out = c.points.map((p) => `ocf-gen cib, ${p.resources} resources: ${f(p.wallMs.median, 0)} ms (p10–p90 ${f(p.wallMs.p10, 0)}–${f(p.wallMs.p90, 0)}), CPU ${f(p.cpuMs.median, 0)} ms, RSS ${f(p.maxRssMiB.max)} MiB, ${f(p.xmlBytes / 1024)} KiB XML, crm_verify ${p.crmVerify}${p.code === 0 ? '' : `, exit ${p.code}`}`);
    if (c.fit) {
      const steps = c.steps.map((st) => `${st.from}→${st.to}: ${f(st.perResourceMs, 3)}`).join(', ');
      const verdict = c.linearity ? `: ${c.linearity.verdict} (last step ${f(c.linearity.growth, 2)}× the one before)` : '';
      out.push(`ocf-gen cib growth: ${f(c.fit.startupMs, 0)} ms + ${f(c.fit.perResourceMs, 3)} ms/resource (least squares, R² ${f(c.fit.r2, 3)}); ms per added resource by step ${steps}${verdict}`);
    }
    return out;
  };
  const notes = result.rows.flatMap((r) => r.notes.map((n) => `${agentLabel(r)} ${r.action}: ${n}`).concat(r.error ? [`${agentLabel(r)} ${r.action}: ${r.error}`] : []));
  const qemu = qemuLines(result.qemu, { nice });
  const scope = Object.entries(result.agents).map(([n, a]) => `${n}: ${a.setup}; ${a.scope}; ocfkit ${a.ocfkitState}`);
  const m = result.machine;
  const machineLine = `${m.os}, kernel ${m.kernel}, ${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB; Node ${m.node} (harness); agents ${m.agentsBuild ? `${m.agentsBuild.runtime} ${m.agentsBuild.version}${m.agentsBuild.flags ? ` (${m.agentsBuild.flags.filter((x) => !x.includes('autoload')).join(' ')})` : ''}` : `Node SEA ${m.seaNode}`}${m.seaBuild ? `, Node SEA column: Node ${m.seaBuild.version}` : ''}; resource-agents ${m.resourceAgents}; commit ${m.commit}; load average ${result.loadavgBefore.map((x) => x.toFixed(2)).join(' ')} → ${result.loadavgAfter.map((x) => x.toFixed(2)).join(' ')}`;

  process.stdout.write(
    [
      '',
      textTable(lines),
      '',
      ...exeText(result.executable, result.machine),
      ...cibText(result.cib),
      ...qemu,
      '',
      'targets:',
      ...result.targets.map((t) => `  ${t}`),
      '',
      'processes spawned (strace pass):',
      ...programLines(result.rows).map((l) => `  ${l}`),
      ...(notes.length ? ['', 'notes:', ...notes.map((n) => `  ${n}`)] : []),
      '',
      'setup:',
      ...scope.map((s) => `  ${s}`),
      `machine: ${machineLine}`,
      `${iterations} samples per side (start/stop: ${cycles} cycles)${nice ? `, nice ${nice}` : ''}, ${result.durationS} s`,
      '',
    ].join('\n'),
  );

  // Microsecond precision is plenty (and keeps the files small).
  const tidy = (_k, v) => (typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 1000) / 1000 : v);
  if (o.outDir) {
    mkdirSync(o.outDir, { recursive: true });
    const stamp = started.toISOString().replace(/[:.]/g, '-');
    const file = join(o.outDir, `${stamp}.json`);
    writeFileSync(file, `${JSON.stringify(result, tidy, 1)}\n`);
    copyFileSync(file, join(o.outDir, 'latest.json'));
    log(`results: ${file} (and ${join(o.outDir, 'latest.json')})`);
  }

  if (o.snapshot) {
    // Small, committed: the figures without the raw samples.
    const slim = structuredClone(result);
    for (const r of slim.rows) for (const s of Object.values(r.sides)) delete s.samples;
    writeFileSync(o.snapshot, `${JSON.stringify(slim, tidy, 1)}\n`);
    log(`snapshot: ${o.snapshot}`);
  }

  if (o.doc) {
    const md = [
      `Measured ${result.date.slice(0, 10)} on: ${machineLine}.`,
      `${iterations} samples per side and row (start/stop: ${cycles} start+stop cycles per side), A/B alternating${nice ? `, everything measured at nice ${nice}` : ''}; full run ${result.durationS} s.`,
      '',
      markdownTable(lines),
      '',
      ...exeText(result.executable, result.machine).map((l) => `- ${l}`),
      ...cibText(result.cib).map((l) => `- ${l}`),
      ...qemu.map((l) => `- ${l}`),
      '',
      'Targets:',
      '',
      ...result.targets.map((t) => `- ${t}`),
      '',
      'Processes spawned on the hot paths (from the strace pass):',
      '',
      ...programLines(result.rows).map((l) => `- ${l}`),
      ...(notes.length ? ['', 'Notes from the run:', '', ...notes.map((n) => `- ${n}`)] : []),
      '',
      'Setups:',
      '',
      ...scope.map((s) => `- ${s}`),
    ].join('\n');
    const doc = readFileSync(o.doc, 'utf8');
    const re = /(<!-- bench:results:start -->\n)[\s\S]*?(\n<!-- bench:results:end -->)/;
    if (!re.test(doc)) throw new Error(`${o.doc} has no <!-- bench:results:start/end --> markers`);
    writeFileSync(o.doc, doc.replace(re, (_, a, b) => `${a}${md}${b}`));
    log(`updated ${o.doc}`);
  }
}
