import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { run } from './exec.js';

export const ROOT = resolve(import.meta.dirname, '../../..');

/** An OCF provider the proofs can run against: Debian's resource-agents, or ours. */
export type Provider = 'heartbeat' | 'ocfkit';

/**
 * Builds the agents' executable and ocf-gen (node scripts/build.mjs; the executable is only
 * re-linked when its bundle changed), so a cluster never runs a stale copy of the code under test.
 */
export async function buildOcfkit(): Promise<void> {
  await run(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), 'agents', 'ocf-gen'], { timeoutMs: 300_000 });
}

/**
 * Installs the built agents into `prefix` the way a user would (`ocf-gen install --prefix`):
 * <prefix>/lib/ocfkit/ocfkit-agents and <prefix>/resource.d/ocfkit/<Agent> links. Nodes overlay this
 * tree on their /usr/lib/ocf; the host's /usr/lib/ocf is never touched.
 */
export async function installOcfkit(prefix: string): Promise<void> {
  for (const f of ['build/ocfkit-agents', 'dist/ocf-gen.js'])
    if (!existsSync(join(ROOT, f))) throw new Error(`${f} is not built: run node scripts/build.mjs`);
  await run(process.execPath, [join(ROOT, 'bin', 'ocf-gen'), 'install', '--prefix', prefix], { timeoutMs: 60_000 });
}

/**
 * A CIB from ocf-gen, as a user makes one: `ocf-gen cib --spec -` with the spec (an object is sent
 * as JSON) on stdin, plus any other flags (`--set …`, `--schema …`). Load it with cluster.loadCib().
 */
export async function ocfGenCib(spec: object | string, args: string[] = []): Promise<string> {
  if (!existsSync(join(ROOT, 'dist', 'ocf-gen.js'))) throw new Error('dist/ocf-gen.js is not built: run node scripts/build.mjs');
  const input = typeof spec === 'string' ? spec : JSON.stringify(spec);
  return (await run(process.execPath, [join(ROOT, 'bin', 'ocf-gen'), 'cib', '--spec', '-', ...args], { input, timeoutMs: 60_000 })).stdout;
}
