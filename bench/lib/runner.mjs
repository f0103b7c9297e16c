// The Node side of bench/lib/measure-runner.py: one long-lived measuring
// process (optionally inside a network namespace), one request at a time;
// each sample is taken by bench/lib/measure-one.c (see there why).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { sh, which } from './sys.mjs';

const RUNNER = fileURLToPath(new URL('./measure-runner.py', import.meta.url));
const MEASURE_ONE_C = fileURLToPath(new URL('./measure-one.c', import.meta.url));
export const PYTHON = '/usr/bin/python3';

/** Compiles measure-one into `dir` with the system's C compiler; returns its path. */
export function buildMeasureOne(dir) {
  const cc = which('cc') ?? which('gcc');
  if (!cc) throw new Error('no C compiler (cc): scripts/bench.sh installs gcc');
  const out = join(dir, 'measure-one');
  sh(cc, ['-O2', '-Wall', '-o', out, MEASURE_ONE_C]);
  return out;
}

export class Runner {
  /**
   * @param {{ measureOne: string, netns?: string, nice?: number }} o
   *   measureOne: the compiled helper (buildMeasureOne);
   *   netns: start the runner inside it, so the measured agents are too;
   *   nice: niceness increment for everything it runs (negative: higher priority).
   */
  constructor(o) {
    const cmd = [PYTHON, RUNNER, o.measureOne, String(o.nice ?? 0)];
    const argv = o.netns ? ['/usr/sbin/ip', 'netns', 'exec', o.netns, ...cmd] : cmd;
    // The runner's own environment is clean too; each request carries the child's full environment.
    this.proc = spawn(argv[0], argv.slice(1), { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }, stdio: ['pipe', 'pipe', 'inherit'] });
    this.pending = [];
    this.exited = false;
    this.proc.on('exit', (code, signal) => {
      this.exited = true;
      for (const p of this.pending.splice(0)) p.reject(new Error(`rusage runner exited (${code ?? signal})`));
    });
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      const p = this.pending.shift();
      if (!p) return;
      const res = JSON.parse(line);
      if (res.error) p.reject(new Error(`rusage runner: ${res.error}`));
      else p.resolve(res);
    });
  }

  /** @returns {Promise<any>} */
  request(req) {
    if (this.exited) return Promise.reject(new Error('rusage runner is not running'));
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.proc.stdin.write(`${JSON.stringify(req)}\n`);
    });
  }

  /**
   * Runs argv (argv[0] an absolute path) with exactly `env`; stdout/stderr go to the given files.
   * @returns {Promise<{wallNs:number,userUs:number,sysUs:number,maxRssKiB:number,code:number|null,signal:number|null,timedOut:boolean,pid:number}>}
   */
  measure(argv, env, o = {}) {
    return this.request({ argv, env, stdout: o.stdout, stderr: o.stderr, timeout_s: o.timeoutS ?? 120 });
  }

  /** Background processes the measured agents left behind (re-parented to the runner). */
  async orphans() {
    return (await this.request({ op: 'orphans' })).pids;
  }

  /** Stops those left-behind processes, by PID (TERM, then KILL). */
  async killOrphans() {
    const pids = await this.orphans();
    if (pids.length === 0) return [];
    await this.request({ op: 'kill', pids });
    return pids;
  }

  async close() {
    if (this.exited) return;
    const done = new Promise((r) => this.proc.once('exit', r));
    this.proc.stdin.end();
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(t);
  }
}
