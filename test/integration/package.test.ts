// The Debian package (npm run package): what it contains, lintian, and an
// install + removal with dpkg into a private root (never the machine's own /usr).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENTS } from '../../agents/index.js';
import { ROOT } from '../helpers/agent.js';
import { sh } from '../helpers/system.js';

const tmp = mkdtempSync(join(tmpdir(), 'ocfkit-deb-'));
const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const deb = join(tmp, `ocfkit_${version}_amd64.deb`);
const agents = Object.keys(AGENTS).sort();
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
/** Runs a command in a given working directory (the shared sh() has no cwd). */
function runIn(cwd: string, cmd: string, args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  // gzip: seconds instead of xz's minutes; the contents are the same.
  const r = sh(process.execPath, [join(ROOT, 'scripts', 'package.mjs'), '--no-build', '--compress', 'gzip', '--out', tmp], { allowFail: true });
  expect(`${r.code} ${r.stderr}`).toMatch(/^0 /);
  expect(r.stdout.trim()).toBe(deb);
}, 300_000);

describe('npm run package', () => {
  it('builds ocfkit_<version>_amd64.deb with the executable, the resource.d links and ocf-gen', () => {
    const listing = sh('dpkg-deb', ['-c', deb]).stdout;
    const entry = (path: string) => listing.split('\n').find((l) => l.endsWith(` ./${path}`) || l.includes(` ./${path} -> `));
    expect(entry('usr/lib/ocf/lib/ocfkit/ocfkit-agents')).toMatch(/^-rwxr-xr-x root\/root /);
    for (const a of agents) expect(entry(`usr/lib/ocf/resource.d/ocfkit/${a}`)).toMatch(new RegExp(`^lrwxrwxrwx root/root .* -> \\.\\./\\.\\./lib/ocfkit/ocfkit-agents$`));
    expect(entry('usr/bin/ocf-gen')).toMatch(/^-rwxr-xr-x root\/root /);
    for (const f of ['usr/lib/ocfkit/dist/ocf-gen.js', 'usr/lib/ocfkit/package.json', 'usr/share/doc/ocfkit/copyright', 'usr/share/man/man1/ocf-gen.1.gz']) expect(entry(f), f).toBeDefined();
    const field = (f: string) => sh('dpkg-deb', ['-f', deb, f]).stdout.trim();
    expect([field('Package'), field('Version'), field('Architecture')]).toEqual(['ocfkit', version, 'amd64']);
    expect(field('Depends')).toMatch(/^libc6 \(>= [\d.]+\)$/);
  });

  it('passes lintian without errors', () => {
    const r = sh('lintian', ['--fail-on', 'error', deb], { allowFail: true, timeoutMs: 240_000 });
    expect(r.stdout.split('\n').filter((l) => l.startsWith('E: '))).toEqual([]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }, 300_000);
});

describe('the package installed with dpkg (into a private root)', () => {
  const root = join(tmp, 'root');
  const dpkg = (...args: string[]) => sh('dpkg', [`--root=${root}`, '--log=/dev/null', ...args], { allowFail: true, timeoutMs: 120_000 });
  const ocfkitFiles = () =>
    ['usr/lib/ocf', 'usr/lib/ocfkit', 'usr/bin/ocf-gen', 'usr/share/doc/ocfkit'].filter((p) => existsSync(join(root, p)) && (statSync(join(root, p)).isFile() || readdirSync(join(root, p)).length > 0));

  beforeAll(() => {
    // An empty dpkg database: only this package (libc6 is the host's: --force-depends).
    for (const d of ['info', 'updates', 'triggers']) mkdirSync(join(root, 'var/lib/dpkg', d), { recursive: true });
    writeFileSync(join(root, 'var/lib/dpkg/status'), '');
    const r = dpkg('--force-depends', '-i', deb);
    expect(`${r.code} ${r.stderr}`).toMatch(/^0 /);
  }, 180_000);

  it('is installed, and the agents run through their resource.d links', () => {
    expect(sh('dpkg-query', [`--root=${root}`, '-W', '-f', '${Status} ${Version}', 'ocfkit']).stdout).toBe(`install ok installed ${version}`);
    for (const a of agents) {
      const link = join(root, 'usr/lib/ocf/resource.d/ocfkit', a);
      expect(readlinkSync(link)).toBe('../../lib/ocfkit/ocfkit-agents');
      const r = sh('env', ['-i', link, 'meta-data'], { allowFail: true });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(readFileSync(join(ROOT, 'build', 'metadata', `${a}.xml`), 'utf8'));
    }
  });

  it('ocf-gen runs without Node (on the executable) and finds the agents installed as it would install them', () => {
    const ocfGen = (...args: string[]) => runIn(tmp, 'env', ['-i', 'PATH=/nonexistent', join(root, 'usr/bin/ocf-gen'), ...args]);
    const list = ocfGen('agents', '--json');
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as Array<{ name: string }>).map((a) => a.name).sort()).toEqual(agents);
    const dry = ocfGen('install', '--prefix', join(root, 'usr/lib/ocf'), '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout.trim().split('\n')).toEqual([
      `would unchanged: ${join(root, 'usr/lib/ocf/lib/ocfkit/ocfkit-agents')}`,
      ...Object.keys(AGENTS).map((a) => `would unchanged: ${join(root, 'usr/lib/ocf/resource.d/ocfkit', a)} -> ../../lib/ocfkit/ocfkit-agents`),
    ]);
    const cib = ocfGen('cib');
    expect(cib.code, cib.stderr).toBe(0);
    expect(cib.stdout).toContain('<cib ');
  });

  it('ocf-gen takes no bunfig.toml (preload scripts) from the working directory', () => {
    const cwd = join(tmp, 'planted');
    mkdirSync(cwd, { recursive: true });
    const marker = join(cwd, 'preloaded');
    writeFileSync(join(cwd, 'planted.js'), `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x');\n`);
    writeFileSync(join(cwd, 'bunfig.toml'), 'preload = ["./planted.js"]\n');
    const r = runIn(cwd, 'env', ['-i', join(root, 'usr/bin/ocf-gen'), '--version']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^ocfkit/${version.replace(/\./g, '\\.')} `));
    expect(existsSync(marker)).toBe(false);
  });

  it('is removed without a trace', () => {
    const r = dpkg('-r', 'ocfkit');
    expect(`${r.code} ${r.stderr}`).toMatch(/^0 /);
    expect(ocfkitFiles()).toEqual([]);
  });
});
