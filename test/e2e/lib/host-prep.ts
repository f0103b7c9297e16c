import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../qemu/lib/image.js';
import { host } from '../../qemu/lib/sys.js';

/**
 * What the suite prepares on the host, as an admin would on a build machine: the current build,
 * the Debian package of it (`npm run package`, gzip: seconds; the servers install it with
 * `dpkg -i`, so the suite proves the package), and the CIB from `ocf-gen cib` with the ha-nfs
 * template.
 */

export const OCF_GEN = join(ROOT, 'bin', 'ocf-gen');

export interface Staged {
  /** build/ocfkit_<version>_amd64.deb made now from the current build (in the suite's work dir). */
  deb: string;
  /** sha256 of the agents executable in it (the guests must run exactly this build). */
  agentsSha256: string;
  packageLog: string;
  cibXml: string;
  cibArgs: string[];
}

/** `node scripts/build.mjs` (skips what is up to date): the agents executable and ocf-gen. */
export function buildAll(): void {
  host(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { timeoutMs: 600_000 });
}

export function stage(dir: string, cibSettings: Record<string, string>): Staged {
  const out = join(dir, 'package');
  mkdirSync(out, { recursive: true });
  const pkg = host(process.execPath, [join(ROOT, 'scripts', 'package.mjs'), '--no-build', '--compress', 'gzip', '--out', out], { timeoutMs: 600_000 });
  const deb = pkg.stdout.trim().split('\n').pop()!;
  if (!/^\/.*\/ocfkit_[^/]+_amd64\.deb$/.test(deb)) throw new Error(`npm run package printed ${JSON.stringify(pkg.stdout)}, not the .deb it wrote`);
  // The executable the package carries, read back out of the .deb (not assumed to be build/'s).
  const unpacked = join(out, 'root');
  host('dpkg-deb', ['-x', deb, unpacked], { timeoutMs: 120_000 });
  const agentsSha256 = createHash('sha256').update(readFileSync(join(unpacked, 'usr/lib/ocf/lib/ocfkit/ocfkit-agents'))).digest('hex');
  rmSync(unpacked, { recursive: true, force: true });

  const cibXml = join(dir, 'cib.xml');
  const cibArgs = ['cib', ...Object.entries(cibSettings).flatMap(([k, v]) => ['--set', `${k}=${v}`]), '--check', '--output', cibXml];
  host(OCF_GEN, cibArgs, { timeoutMs: 120_000 });
  return { deb, agentsSha256, packageLog: pkg.stderr, cibXml, cibArgs };
}
