import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../qemu/lib/image.js';
import { host } from '../../qemu/lib/sys.js';

/**
 * What the suite prepares on the host, as an admin would on a build machine: the current build,
 * the agents installed with `ocf-gen install` into a staging root (packed as a tar for the guests,
 * which have no Node to run ocf-gen), and the CIB from `ocf-gen cib` with the ha-nfs template.
 */

export const OCF_GEN = join(ROOT, 'bin', 'ocf-gen');

export interface Staged {
  /** tar of <OCF root> after `ocf-gen install --prefix <OCF root>`: lib/ocfkit/ocfkit-agents + resource.d/ocfkit/* links. */
  agentsTar: string;
  /** sha256 of the installed executable (the guests must run exactly this build). */
  agentsSha256: string;
  installLog: string;
  cibXml: string;
  cibArgs: string[];
}

/** `node scripts/build.mjs` (skips what is up to date): the agents executable and ocf-gen. */
export function buildAll(): void {
  host(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { timeoutMs: 600_000 });
}

export function stage(dir: string, cibSettings: Record<string, string>): Staged {
  const ocfRoot = join(dir, 'stage', 'usr', 'lib', 'ocf');
  mkdirSync(ocfRoot, { recursive: true });
  const install = host(OCF_GEN, ['install', '--prefix', ocfRoot], { timeoutMs: 120_000 });
  const exe = join(ocfRoot, 'lib', 'ocfkit', 'ocfkit-agents');
  const agentsSha256 = createHash('sha256').update(readFileSync(exe)).digest('hex');
  const agentsTar = join(dir, 'ocfkit-ocf.tar');
  // Relative links (resource.d/ocfkit/drbd -> ../../lib/ocfkit/ocfkit-agents) stay links in the tar.
  host('tar', ['-C', ocfRoot, '-cf', agentsTar, 'lib', 'resource.d'], { timeoutMs: 120_000 });

  const cibXml = join(dir, 'cib.xml');
  const cibArgs = ['cib', ...Object.entries(cibSettings).flatMap(([k, v]) => ['--set', `${k}=${v}`]), '--check', '--output', cibXml];
  host(OCF_GEN, cibArgs, { timeoutMs: 120_000 });
  return { agentsTar, agentsSha256, installLog: install.stdout, cibXml, cibArgs };
}
