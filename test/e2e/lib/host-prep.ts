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

/**
 * The CIB with every operation timeout multiplied by `factor`, and an op_defaults timeout for
 * operations without their own (probes), as an admin raises them for slow hardware. Used by the
 * CPU-hog pass only: emulated guests starved by the hog run tens of times slower than idle, and the
 * agents' default timeouts (a 20 s probe, a 40 s start) then expire for the machine's speed alone.
 * Ordering, fencing and the data checks are not affected; the idle suite loads ocf-gen's CIB as is.
 */
export function scaleOpTimeouts(xml: string, factor: number, defaultTimeoutS: number): string {
  let n = 0;
  const scaled = xml.replace(/(<op\b[^>]*?\btimeout=")(\d+)s"/g, (_m, head: string, secs: string) => {
    n++;
    return `${head}${Number(secs) * factor}s"`;
  });
  if (n === 0) throw new Error('scaleOpTimeouts: no <op timeout="Ns"> in the CIB (did ocf-gen change its output?)');
  if (/<op_defaults\b/.test(scaled)) throw new Error('scaleOpTimeouts: the CIB has op_defaults already; merge them instead');
  const defaults = `<op_defaults>\n      <meta_attributes id="op-defaults-slow-bed">\n        <nvpair id="op-defaults-slow-bed-timeout" name="timeout" value="${defaultTimeoutS}s"/>\n      </meta_attributes>\n    </op_defaults>\n  `;
  if (!/<\/configuration>/.test(scaled)) throw new Error('scaleOpTimeouts: no </configuration> in the CIB');
  return scaled.replace(/<\/configuration>/, `  ${defaults}</configuration>`);
}

/**
 * The CIB with instance parameter `name`=`value` added to primitive `rsc` (which must not have it yet),
 * as `pcs resource update` would. Used by the end-to-end pass that measures nfsserver's
 * tickle_clients (OCFKIT_E2E_TICKLE=1); the result is checked with `ocf-gen validate` like any CIB.
 */
export function addInstanceParam(xml: string, rsc: string, name: string, value: string): string {
  const attrs = `${rsc}-instance_attributes`;
  const open = new RegExp(`(<primitive id="${rsc}"[^>]*>\\s*<instance_attributes id="${attrs}">)`);
  if (!open.test(xml)) throw new Error(`addInstanceParam: no primitive ${rsc} with instance_attributes ${attrs}`);
  if (xml.includes(`id="${attrs}-${name}"`)) throw new Error(`addInstanceParam: ${rsc} has ${name} already`);
  return xml.replace(open, `$1\n            <nvpair id="${attrs}-${name}" name="${name}" value="${value}"/>`);
}
