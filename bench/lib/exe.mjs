// The agents' executable: its size and how long it takes to start, next to
// the same bundle as a Node SEA, the empty runtimes and the references (bash,
// /bin/true). And ocf-gen's own start-up (oclif).
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { summary } from './stats.mjs';
import { copyAsInstalled } from './page-cache.mjs';
import { sh } from './sys.mjs';

const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', OCF_ROOT: '/usr/lib/ocf' };

/** Samples every variant in turn, A/B alternating (the order reversed every other round), after two warm-up rounds. */
async function timeAll(runner, variants, n) {
  const keys = Object.keys(variants);
  const samples = Object.fromEntries(keys.map((k) => [k, { wall: [], rss: [], code: undefined }]));
  for (let i = -2; i < n; i++) {
    for (const k of i % 2 === 0 ? keys : [...keys].reverse()) {
      const r = await runner.measure(variants[k], ENV, {});
      samples[k].code = r.code;
      if (i < 0) continue;
      samples[k].wall.push(r.wallNs / 1e6);
      samples[k].rss.push(r.maxRssKiB / 1024);
    }
  }
  return Object.fromEntries(keys.map((k) => [k, { argv: variants[k].join(' '), code: samples[k].code, wallMs: summary(samples[k].wall), maxRssMiB: summary(samples[k].rss) }]));
}

const sizeOf = (p) => {
  try {
    return statSync(p).size;
  } catch {
    return null;
  }
};

/**
 * An executable that does nothing, compiled by the same Bun with the same
 * flags as the agents: the runtime's own start-up floor.
 */
function emptyBunExecutable(bun, flags, dir) {
  const src = join(dir, 'empty.js');
  const out = join(dir, 'empty-bun');
  writeFileSync(src, '');
  sh(bun, ['build', ...flags, src, '--outfile', `${out}.built`], { cwd: dir, env: { HOME: dir } });
  return copyAsInstalled(`${out}.built`, out);
}

/**
 * @param {import('./runner.mjs').Runner} runner  a runner on the host
 * @param {{ installedExe: string, agentLink: string, seaLink?: string, seaExe?: string, bun?: {bin: string, flags: string[]}, node24?: string, root: string, tmp: string, iterations: number }} o
 *   agentLink: an installed agent (link to installedExe); seaLink: the same agent's name linked to the Node SEA
 */
export async function benchExecutable(runner, o) {
  const variants = {
    // The multi-call binary doing the least it can: print an agent's usage; and its meta-data.
    usage: [o.agentLink, 'usage'],
    metaData: [o.agentLink, 'meta-data'],
  };
  if (o.seaLink) {
    variants.seaUsage = [o.seaLink, 'usage'];
    variants.seaMetaData = [o.seaLink, 'meta-data'];
  }
  if (o.bun) variants.emptyBun = [emptyBunExecutable(o.bun.bin, o.bun.flags, o.tmp)];
  if (o.node24) variants.node24 = [o.node24, '-e', '0'];
  Object.assign(variants, {
    node: ['/usr/bin/node', '-e', '0'],
    bash: ['/bin/bash', '-c', 'true'],
    // The measuring method's own floor: the peak RSS reported for the smallest program.
    true: ['/bin/true'],
  });
  const startup = await timeAll(runner, variants, o.iterations);
  Object.assign(startup, await timeAll(runner, { ocfGen: [join(o.root, 'bin', 'ocf-gen'), '--version'] }, Math.max(3, Math.round(o.iterations / 4))));
  return {
    executable: o.installedExe,
    sizeBytes: sizeOf(o.installedExe),
    seaSizeBytes: o.seaExe ? sizeOf(o.seaExe) : null,
    emptyBunSizeBytes: variants.emptyBun ? sizeOf(variants.emptyBun[0]) : null,
    bundleBytes: sizeOf(join(o.root, 'build', 'agents.cjs')),
    ocfGenBundleBytes: sizeOf(join(o.root, 'dist', 'ocf-gen.js')),
    startup,
  };
}
