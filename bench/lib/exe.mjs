// The single-file executable: its size and how long it takes to start, next
// to the references (bash, Node). And ocf-gen's own start-up (oclif).
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { summary } from './stats.mjs';

const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };

async function time(runner, argv, n, env = ENV) {
  const wall = [];
  const rss = [];
  let code;
  for (let i = -2; i < n; i++) {
    const r = await runner.measure(argv, env, {});
    code = r.code;
    if (i < 0) continue;
    wall.push(r.wallNs / 1e6);
    rss.push(r.maxRssKiB / 1024);
  }
  return { argv: argv.join(' '), code, wallMs: summary(wall), maxRssMiB: summary(rss) };
}

/**
 * @param {import('./runner.mjs').Runner} runner  a runner on the host
 * @param {{ installedExe: string, agentLink: string, root: string, iterations: number }} o
 */
export async function benchExecutable(runner, o) {
  const size = (p) => {
    try {
      return statSync(p).size;
    } catch {
      return null;
    }
  };
  const startup = {
    // The multi-call binary doing the least it can: print an agent's usage.
    sea: await time(runner, [o.agentLink, 'usage'], o.iterations),
    node: await time(runner, ['/usr/bin/node', '-e', '0'], o.iterations),
    bash: await time(runner, ['/bin/bash', '-c', 'true'], o.iterations),
    // The measuring method's own floor: the peak RSS reported for the smallest program.
    true: await time(runner, ['/bin/true'], o.iterations),
    ocfGen: await time(runner, [join(o.root, 'bin', 'ocf-gen'), '--version'], Math.max(3, Math.round(o.iterations / 4))),
  };
  return {
    executable: o.installedExe,
    sizeBytes: size(o.installedExe),
    bundleBytes: size(join(o.root, 'build', 'agents.cjs')),
    ocfGenBundleBytes: size(join(o.root, 'dist', 'ocf-gen.js')),
    startup,
  };
}
