// Runs the rows of one agent: both sides alternating (A B, then B A, …) on
// the same setup, then one untimed strace pass per side for the process count.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ACTIONS, agentEnv } from './agents.mjs';
import { parseStraceFile, STRACE_ARGS } from './forks.mjs';
import { log } from './sys.mjs';

// ocfkit (the executable ocf-gen installs) and the shell agent; optionally the
// same bundle as a Node SEA ('sea'), to compare the runtimes on every row.
const ALL_SIDES = ['ocfkit', 'shell', 'sea'];
const timeoutFor = (action) => (action === 'start' || action === 'stop' ? 60_000 : 20_000);

/** A runner result as a row sample (ms, MiB). */
export function sample(r) {
  const s = {
    wallMs: r.wallNs / 1e6,
    cpuMs: (r.userUs + r.sysUs) / 1000,
    userMs: r.userUs / 1000,
    sysMs: r.sysUs / 1000,
    maxRssMiB: r.maxRssKiB / 1024,
    code: r.code,
  };
  if (r.signal !== null) s.signal = r.signal;
  if (r.timedOut) s.timedOut = true;
  return s;
}

const readTail = (file) => {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-3).join(' | ').slice(0, 400);
  } catch {
    return '';
  }
};

/** Round i's order: A B, B A for two sides; for three also rotated, so each side is first, middle and last alike. */
export function alternate(sides, i) {
  const k = ((i % sides.length) + sides.length) % sides.length;
  const rotated = [...sides.slice(k), ...sides.slice(0, k)];
  return Math.floor(i / sides.length) % 2 === 0 ? rotated : rotated.reverse();
}

/**
 * @param {object} o
 * @param {any} o.agent        entry of AGENTS
 * @param {any} o.setup        what agent.setup() returned
 * @param {import('./runner.mjs').Runner} o.runner
 * @param {Record<string,string>} o.exe   side → executable path (ocfkit, shell; sea optional)
 * @param {Record<string,Set<string>|null>} o.implemented  side → actions it implements (null: all)
 * @param {string} o.tmp
 * @param {number} o.iterations  samples per side for one-shot actions
 * @param {number} o.cycles      start/stop samples per side
 * @param {boolean} o.strace
 */
export async function benchAgent(o) {
  const { agent, setup, runner, tmp } = o;
  const SIDES = ALL_SIDES.filter((s) => o.exe[s]);
  const params = agent.params(setup);
  const out = join(tmp, 'stdout');
  const err = join(tmp, 'stderr');
  const rsctmp = join(tmp, 'rsctmp');
  const envFor = (side, action, interval) =>
    agentEnv({ agent: agent.name, provider: side === 'shell' ? agent.provider : 'ocfkit', params, interval, timeoutMs: timeoutFor(action), rsctmp });
  const run = async (side, action, interval) => {
    const r = await runner.measure([o.exe[side], action], envFor(side, action, interval), { stdout: out, stderr: err, timeoutS: timeoutFor(action) / 1000 + 10 });
    const s = sample(r);
    s.stderr = readTail(err);
    return s;
  };
  const countForks = async (side, action, interval) => {
    const traceFile = join(tmp, `strace-${side}.txt`);
    rmSync(traceFile, { force: true });
    const r = await runner.measure(['/usr/bin/strace', ...STRACE_ARGS(traceFile), o.exe[side], action], envFor(side, action, interval), {
      stdout: out,
      stderr: err,
      timeoutS: timeoutFor(action) / 1000 + 30,
    });
    const f = parseStraceFile(traceFile);
    return { ...f, code: r.code };
  };
  const has = (side, action) => o.implemented[side] === null || o.implemented[side].has(action);
  const newRow = (a) => ({
    agent: agent.name,
    action: a.id,
    argv: a.action,
    interval: a.interval,
    expect: agent.expect && a.id in agent.expect ? agent.expect[a.id] : a.expect,
    sides: Object.fromEntries(SIDES.map((s) => [s, has(s, a.action) ? { samples: [], forks: null } : { skipped: `${agent.name} ${a.action} is not implemented yet` }])),
    notes: [],
  });
  const active = (row) => SIDES.filter((s) => !row.sides[s].skipped);
  const ensureDown = (row) => {
    if (setup.isUp?.()) {
      row.notes.push('resource was left up: removed by the bench');
      setup.forceDown();
    }
  };
  const rows = [];

  // One-shot actions: meta-data, validate-all, probe, monitor (running).
  for (const a of ACTIONS.filter((x) => x.state !== 'cycle')) {
    if (!agent.full && a.state === 'up') continue;
    const row = newRow(a);
    rows.push(row);
    if (a.state === 'up') {
      // Brought up once by the shell agent (the reference), then both sides monitor the same running resource.
      const r = await run('shell', 'start', 0);
      if (r.code !== 0 || !setup.isUp()) {
        row.error = `could not bring the resource up with the shell agent (exit ${r.code}: ${r.stderr})`;
        ensureDown(row);
        continue;
      }
      // Let what start left in the background finish (IPaddr2's gratuitous ARPs, ~1 s), bounded.
      for (let t = 0; t < 50 && (await runner.orphans()).length > 0; t++) await new Promise((res) => setTimeout(res, 100));
    } else if (a.state === 'down') ensureDown(row);
    const sides = active(row);
    log(`${agent.name} ${a.id}: ${o.iterations} × ${sides.join(' + ')}`);
    for (let i = -2; i < o.iterations; i++) {
      const order = alternate(sides, i);
      for (const side of order) {
        const s = await run(side, a.action, a.interval);
        if (i >= 0) row.sides[side].samples.push(s); // the first two rounds warm the page cache
      }
    }
    if (o.strace) for (const side of sides) row.sides[side].forks = await countForks(side, a.action, a.interval);
    if (a.state === 'up') {
      const r = await run('shell', 'stop', 0);
      if (r.code !== 0) row.notes.push(`shell stop after the monitors: exit ${r.code}: ${r.stderr}`);
      ensureDown(row);
    }
  }

  // start/stop: each sample is a start followed by a stop of the same side.
  if (agent.full) {
    const start = newRow(ACTIONS.find((x) => x.id === 'start'));
    const stop = newRow(ACTIONS.find((x) => x.id === 'stop'));
    rows.push(start, stop);
    const sides = SIDES.filter((s) => !start.sides[s].skipped && !stop.sides[s].skipped);
    for (const s of SIDES) if (!sides.includes(s) && !start.sides[s].skipped) start.sides[s] = { skipped: stop.sides[s].skipped };
    for (const s of SIDES) if (!sides.includes(s) && !stop.sides[s].skipped) stop.sides[s] = { skipped: start.sides[s].skipped };
    ensureDown(start);
    log(`${agent.name} start/stop: ${o.cycles} cycles × ${sides.join(' + ')}`);
    const cycle = async (side, record) => {
      const a = await run(side, 'start', 0);
      a.stateOk = setup.isUp();
      const b = await run(side, 'stop', 0);
      b.stateOk = !setup.isUp();
      if (!b.stateOk) setup.forceDown();
      if (record) {
        start.sides[side].samples.push(a);
        stop.sides[side].samples.push(b);
      }
    };
    for (let i = -1; i < o.cycles; i++) {
      const order = alternate(sides, i);
      for (const side of order) await cycle(side, i >= 0);
    }
    if (o.strace) {
      for (const side of sides) {
        start.sides[side].forks = await countForks(side, 'start', 0);
        stop.sides[side].forks = await countForks(side, 'stop', 0);
        if (setup.isUp()) setup.forceDown();
      }
    }
    for (const row of [start, stop]) {
      const bad = sides.filter((s) => row.sides[s].samples.some((x) => !x.stateOk));
      if (bad.length) row.notes.push(`${bad.join(', ')}: after ${row.argv} the resource was not ${row.argv === 'start' ? 'up' : 'down'} in some samples`);
    }
  }

  const left = await runner.killOrphans();
  if (left.length) rows[rows.length - 1].notes.push(`stopped ${left.length} background process(es) the agents left running (PIDs ${left.join(', ')})`);
  return rows;
}
