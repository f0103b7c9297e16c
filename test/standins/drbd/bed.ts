import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runAgent, type AgentRun, type RunAgentOptions } from '../../helpers/agent.js';
import { sh } from '../../helpers/system.js';

/**
 * A test bed for the BUILT drbd agent against the DRBD stand-in (standin.mjs):
 * the stand-in's bin/ first in PATH, its kernel files as the agent's
 * OCFKIT_DRBD_KERNEL_ROOT, and Pacemaker's real crm_attribute on an offline
 * CIB (CIB_file) with nodes node1 and node2, so the promotion score is read
 * back the way Pacemaker stores it.
 */
export const STANDIN = join(import.meta.dirname);
export const STANDIN_BIN = join(STANDIN, 'bin');

export interface DrbdBed {
  dir: string;
  cib: string;
  env: Record<string, string>;
  conf: string;
  run(action: string, o?: RunAgentOptions & { interval?: number }): AgentRun;
  /** The promotion score of drbd_r0 on node1 as crm_attribute reads it from the CIB; undefined when none. */
  score(): number | undefined;
  /** Set a score by hand (as if left over from before). */
  setScore(v: number): void;
  /** What the stand-in was asked, in order: "[state] drbdadm adjust r0 -> 0 => next". */
  calls(): string[];
  /** Commands the stand-in had no recorded answer for (must stay empty). */
  unrecorded(): string[];
  /** Move the stand-in to a state from outside, as a failing disk or a vanishing peer would. */
  enter(state: string): void;
  state(): string;
  cleanup(): void;
}

export const DEFAULT_META = { clone_max: 2, clone_node_max: 1, promoted_max: 1, promoted_node_max: 1, notify: 'true', on_node: 'node1' };

/** An offline CIB with two online nodes (crm_simulate brings them up), as crm_attribute needs. */
function makeCib(dir: string): string {
  const empty = join(dir, 'cib-empty.xml');
  const cib = join(dir, 'cib.xml');
  writeFileSync(empty, sh('cibadmin', ['--empty']).stdout);
  for (const [id, uname] of [['1', 'node1'], ['2', 'node2']]) {
    const r = spawnSync('cibadmin', ['-C', '-o', 'nodes', '-X', `<node id="${id}" uname="${uname}"/>`], { env: { ...process.env, CIB_file: empty }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`cibadmin: ${r.stderr}`);
  }
  sh('crm_simulate', ['-x', empty, '-S', '-u', 'node1', '-u', 'node2', '-O', cib]);
  return cib;
}

export function drbdBed(scenario: string): DrbdBed {
  for (const tool of ['cibadmin', 'crm_simulate', 'crm_attribute']) {
    if (spawnSync('sh', ['-c', 'command -v "$1"', 'sh', tool]).status !== 0) throw new Error(`${tool} missing: apt-get install pacemaker-cli-utils`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'drbd-standin-'));
  chmodSync(dir, 0o755);
  const conf = join(dir, 'drbd.conf');
  // The stand-in does not read it; the agent checks it is readable and passes it to drbdadm -c.
  writeFileSync(conf, '# read by the drbd stand-in scenario, not parsed\n');
  const cib = makeCib(dir);
  const scenarioFile = join(STANDIN, 'scenarios', `${scenario}.json`);
  if (!existsSync(scenarioFile)) throw new Error(`no scenario ${scenarioFile}`);
  const env = {
    PATH: `${STANDIN_BIN}:/usr/sbin:/usr/bin:/sbin:/bin`,
    DRBD_STANDIN_DIR: dir,
    DRBD_STANDIN_SCENARIO: scenarioFile,
    OCFKIT_DRBD_KERNEL_ROOT: join(dir, 'kernel'),
    CIB_file: cib,
    HA_RSCTMP: join(dir, 'rsctmp'),
  };
  const standin = (args: string[]) => {
    const r = spawnSync(join(STANDIN, 'standin.mjs'), args, { env: { ...env }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`stand-in ${args.join(' ')}: ${r.stderr}`);
  };
  const calls = () => (existsSync(join(dir, 'calls.log')) ? readFileSync(join(dir, 'calls.log'), 'utf8').split('\n').filter(Boolean) : []);
  const crm = (args: string[]) => spawnSync('crm_attribute', ['--promotion=drbd_r0', '--node=node1', ...args], { env: { ...process.env, CIB_file: cib }, encoding: 'utf8' });
  return {
    dir,
    cib,
    env,
    conf,
    run(action, o = {}) {
      const meta: Record<string, string | number | boolean> = { ...DEFAULT_META, timeout: 20_000, ...o.meta };
      if (action === 'monitor' && meta.interval === undefined) meta.interval = o.interval ?? 31_000;
      return runAgent('drbd', action, {
        instance: 'drbd_r0:0',
        ...o,
        params: { drbd_resource: 'r0', drbdconf: conf, ...o.params },
        meta,
        env: { ...env, ...o.env },
      });
    },
    score() {
      const r = crm(['--query', '--quiet']);
      if (r.status === 105) return undefined; // ENXIO: no such attribute
      if (r.status !== 0) throw new Error(`crm_attribute --query: exit ${r.status}: ${r.stderr}`);
      return Number(r.stdout.trim());
    },
    setScore(v) {
      const r = crm([`--update=${v}`]);
      if (r.status !== 0) throw new Error(`crm_attribute --update: ${r.stderr}`);
    },
    calls,
    unrecorded: () => calls().filter((l) => l.startsWith('UNRECORDED')),
    enter: (state) => standin(['--enter', state]),
    state: () => (existsSync(join(dir, 'state.json')) ? (JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { state: string }).state : '(initial)'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** afterEach of a test file using drbdBed: clean up, then fail on commands the stand-in had no recorded answer for. */
export function endBed(bed: DrbdBed | undefined): void {
  if (!bed) return;
  const unrecorded = bed.unrecorded();
  bed.cleanup();
  expect(unrecorded, 'commands the stand-in has no recorded answer for').toEqual([]);
}
