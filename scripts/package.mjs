#!/usr/bin/env node
// npm run package [-- --out DIR] [-- --compress gzip]: the Debian package
// build/ocfkit_<version>_amd64.deb (see docs/readme/package.md). Builds what is
// out of date first. Needs dpkg-deb. xz (default): ~40 MiB, minutes on 2 busy
// cores; gzip: ~50 MiB in seconds (what the tests use).
//
//   /usr/lib/ocf/lib/ocfkit/ocfkit-agents        the agents' executable (Bun), where `ocf-gen install` puts it
//   /usr/lib/ocf/resource.d/ocfkit/<Agent>       -> ../../lib/ocfkit/ocfkit-agents (ocf:ocfkit:<Agent>)
//   /usr/lib/ocfkit/                             ocf-gen: package.json, bin/ocf-gen.js, dist/ocf-gen.js (one
//                                                self-contained bundle), cib-templates/, build/ocfkit-agents (link)
//   /usr/bin/ocf-gen                             runs that bundle on the Bun inside the agents' executable
//   /usr/share/doc/ocfkit/, /usr/share/man/man1/ocf-gen.1.gz, /usr/share/lintian/overrides/ocfkit
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opt } = parseArgs({ options: {
    out: { type: 'string', default: join(root, 'build') },
    compress: { type: 'string', default: 'xz' },
    'no-build': { type: 'boolean', default: false },
  } });
const step = (what) => process.stderr.write(`package: ${what}\n`);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const version = pkg.version;
if (!['xz', 'gzip'].includes(opt.compress)) throw new Error(`--compress ${opt.compress}: xz or gzip (what lintian accepts and Debian 12's dpkg reads)`);
const debian = join(root, 'debian');

if (!opt['no-build']) execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), 'agents'], { stdio: ['ignore', 'inherit', 'inherit'] });
const exe = join(root, 'build', 'ocfkit-agents');
const info = JSON.parse(readFileSync(`${exe}.build.json`, 'utf8'));
// ocf-gen runs on the Bun inside the executable: a Node SEA cannot do that.
if (info.runtime !== 'bun') throw new Error(`build/ocfkit-agents is a ${info.runtime} build: the package needs the Bun one (unset OCFKIT_RUNTIME)`);
const agents = readdirSync(join(root, 'build', 'metadata'))
  .filter((f) => f.endsWith('.xml'))
  .map((f) => f.slice(0, -4))
  .sort();

const work = join(opt.out, `deb.${process.pid}`);
const tree = join(work, 'root');
rmSync(work, { recursive: true, force: true });
const put = (rel, data, mode = 0o644) => {
  const p = join(tree, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, data);
  chmodSync(p, mode);
};
const link = (rel, target) => {
  const p = join(tree, rel);
  mkdirSync(dirname(p), { recursive: true });
  symlinkSync(target, p);
};

try {
  step(`staging in ${tree}`);
  // The agents, laid out exactly as `ocf-gen install` lays them (so it finds them unchanged).
  mkdirSync(join(tree, 'usr/lib/ocf/lib/ocfkit'), { recursive: true });
  copyFileSync(exe, join(tree, 'usr/lib/ocf/lib/ocfkit/ocfkit-agents'));
  chmodSync(join(tree, 'usr/lib/ocf/lib/ocfkit/ocfkit-agents'), 0o755);
  for (const a of agents) link(`usr/lib/ocf/resource.d/ocfkit/${a}`, '../../lib/ocfkit/ocfkit-agents');

  // ocf-gen: one ESM bundle with every dependency and oclif's execute (one @oclif/core instance for the
  // entry and the commands); a minimal package.json for oclif's configuration.
  step('ocf-gen bundle');
  await esbuild.build({
    stdin: {
      contents: "export { COMMANDS } from './src/commands/index.ts';\nexport { execute } from '@oclif/core';\n",
      resolveDir: root,
      loader: 'ts',
      sourcefile: 'ocf-gen-packaged.ts',
    },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    outfile: join(tree, 'usr/lib/ocfkit/dist/ocf-gen.js'),
    logLevel: 'warning',
    legalComments: 'none',
    // oclif loads TypeScript only to run commands from .ts sources (a development checkout): 9 MB never used here.
    external: ['typescript'],
    minify: true,
    keepNames: true,
    // CommonJS dependencies inside an ESM bundle still call require().
    banner: { js: "import { createRequire as __ocfkitRequire } from 'node:module'; const require = __ocfkitRequire(import.meta.url);" },
  });
  const { name, description, license, oclif } = pkg;
  put('usr/lib/ocfkit/package.json', `${JSON.stringify({ name, version, description, license, type: 'module', private: true, oclif }, null, 2)}\n`);
  put('usr/lib/ocfkit/bin/ocf-gen.js', readFileSync(join(debian, 'ocf-gen.js')));
  put('usr/lib/ocfkit/bunfig.toml', '# ocf-gen runs with this (empty) Bun configuration, never one from the working directory.\n');
  cpSync(join(root, 'cib-templates'), join(tree, 'usr/lib/ocfkit/cib-templates'), { recursive: true });
  link('usr/lib/ocfkit/build/ocfkit-agents', '../../ocf/lib/ocfkit/ocfkit-agents');
  put('usr/bin/ocf-gen', readFileSync(join(debian, 'ocf-gen')), 0o755);

  // Documentation and what lintian asks for.
  const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? execFileSync('git', ['-C', root, 'log', '-1', '--format=%ct'], { encoding: 'utf8' }).trim());
  const maintainer = /^Maintainer: (.*)$/m.exec(readFileSync(join(debian, 'control.in'), 'utf8'))[1];
  const changelog = `ocfkit (${version}) unstable; urgency=medium\n\n  * Release ${version}.\n\n -- ${maintainer}  ${new Date(epoch * 1000).toUTCString().replace('GMT', '+0000')}\n`;
  const gz = (s) => gzipSync(s, { level: 9 }).subarray(0); // zlib writes no name and no time: reproducible
  put('usr/share/doc/ocfkit/changelog.gz', gz(changelog));
  put('usr/share/doc/ocfkit/copyright', readFileSync(join(debian, 'copyright')));
  put('usr/share/man/man1/ocf-gen.1.gz', gz(readFileSync(join(debian, 'ocf-gen.1'))));
  put('usr/share/lintian/overrides/ocfkit', readFileSync(join(debian, 'lintian-overrides')));

  // DEBIAN/: control (with the installed size) and md5sums.
  const files = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir).sort()) {
      const p = join(dir, e);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else files.push({ path: p, st });
    }
  };
  walk(tree);
  const kib = Math.ceil(files.reduce((n, f) => n + (f.st.isFile() ? f.st.size : 0), 0) / 1024) + files.length;
  const control = readFileSync(join(debian, 'control.in'), 'utf8').replace('@VERSION@', version).replace('@INSTALLED_SIZE@', String(kib));
  const md5sums = files
    .filter((f) => f.st.isFile())
    .map((f) => `${createHash('md5').update(readFileSync(f.path)).digest('hex')}  ${relative(tree, f.path)}\n`)
    .join('');
  put('DEBIAN/control', control);
  put('DEBIAN/md5sums', md5sums);
  // Directories 0755, one time stamp for everything: the same input gives the same package.
  execFileSync('find', [tree, '-type', 'd', '-exec', 'chmod', '0755', '{}', '+']);
  execFileSync('find', [tree, '-exec', 'touch', '-h', '-d', `@${epoch}`, '{}', '+']);

  const deb = join(opt.out, `ocfkit_${version}_amd64.deb`);
  step(`dpkg-deb → ${deb}`);
  execFileSync('dpkg-deb', ['--root-owner-group', `-Z${opt.compress}`, '--build', tree, `${deb}.tmp-${process.pid}`], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) },
  });
  renameSync(`${deb}.tmp-${process.pid}`, deb);
  step(`${deb}: ${(statSync(deb).size / 2 ** 20).toFixed(1)} MiB (installed ${(kib / 1024).toFixed(1)} MiB)`);
  process.stdout.write(`${deb}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
