import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AGENTS } from '../../agents/index.js';
import { invokedName } from '../../src/ocf/main.js';
import { AGENTS_EXE, FIXTURE_BUNDLE, ROOT, runAgent, runInstalled } from '../helpers/agent.js';
import { ocfGen } from '../helpers/ocf-gen.js';
import { sh } from '../helpers/system.js';

// pcs's schema for OCF 1.1 meta-data, and the DTD each document carries inline (what ocf-tester's
// xmllint --valid checks): resource-agents' ra-api-1.dtd and metadata.rng are OCF 1.0 and cannot hold
// reload-agent, reloadable, unique-group, deprecated (docs/readme/metadata.md).
const PCS_RNG = '/usr/share/pcs/data/ocf-1.1.rng';
const tmp = mkdtempSync(join(tmpdir(), 'ocfkit-exe-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function validate(xml: string, name: string): void {
  const file = join(tmp, `${name}.xml`);
  writeFileSync(file, xml);
  // xmllint exits non-zero with the schema violation on stderr: the assertion shows it.
  const dtd = sh('xmllint', ['--noout', '--valid', file], { allowFail: true });
  expect(`dtd: ${dtd.code} ${dtd.stderr}`).toBe('dtd: 0 ');
  const rng = sh('xmllint', ['--noout', '--relaxng', PCS_RNG, file], { allowFail: true });
  expect(`rng: ${rng.code} ${rng.stderr}`).toBe(`rng: 0 ${file} validates\n`);
}

describe('meta-data', () => {
  it.each(Object.keys(AGENTS))('%s: printed by the single executable, valid against its DTD (ocf-tester) and pcs\'s ocf-1.1.rng', (agent) => {
    const r = runAgent(agent, 'meta-data');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(ROOT, 'build', 'metadata', `${agent}.xml`), 'utf8'));
    validate(r.stdout, agent);
  });

  it('escapes text and renders select parameters for both schemas (fixture agent)', () => {
    const xml = runAgent('Dummy', 'meta-data', { exe: FIXTURE_BUNDLE }).stdout;
    expect(xml).toContain('Used by &lt;the runtime tests&gt;.');
    expect(xml).toContain('A boolean "flag" &amp; more.');
    expect(xml).toMatch(/<parameter name="mode" unique="0" required="0">\s*<longdesc lang="en">How to work.\nAllowed values: fast, safe.<\/longdesc>/);
    expect(xml).toMatch(/<content type="select"[^>]*>\s*<option value="fast"\/>\s*<option value="safe"\/>\s*<\/content>/);
    expect(xml).toContain('<content type="integer" default="3"/>');
    validate(xml, 'Dummy');
  });

  it('ocf-gen meta-data prints the same XML as the executable', () => {
    const agent = Object.keys(AGENTS)[0]!;
    const r = ocfGen(['meta-data', agent]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(runAgent(agent, 'meta-data').stdout);
    const bad = ocfGen(['meta-data', 'NoSuchAgent']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown agent 'NoSuchAgent'");
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('the single executable', () => {
  it('runs with no Node.js in the environment and ignores NODE_OPTIONS', () => {
    const r = runAgent('IPaddr2', 'usage', { env: { NODE_OPTIONS: '--require /nonexistent/evil.js', PATH: '/nonexistent' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: IPaddr2 /);
  });
  it('unknown action → 3 (unimplemented) with a reason', () => {
    const r = runAgent('Filesystem', 'frobnicate');
    expect([r.code, r.reason]).toEqual([3, "action 'frobnicate' is not implemented by Filesystem"]);
  });
  it('is selected by the name it was run by: a resource.d-style link, by path and through PATH', () => {
    const dir = join(tmp, 'links');
    mkdirSync(dir, { recursive: true });
    for (const agent of Object.keys(AGENTS)) symlinkSync(AGENTS_EXE, join(dir, agent));
    for (const agent of Object.keys(AGENTS)) {
      const byPath = sh('env', ['-i', join(dir, agent), 'usage'], { allowFail: true });
      expect([byPath.code, byPath.stdout.split('\n')[0]]).toEqual([0, expect.stringMatching(new RegExp(`^usage: ${agent} `))]);
      // execd runs the agent by its path; a bare name (argv[0] without a slash) must work too.
      const byName = sh('env', ['-i', `PATH=${dir}`, agent, 'usage'], { allowFail: true });
      expect([byName.code, byName.stdout.split('\n')[0]]).toEqual([0, expect.stringMatching(new RegExp(`^usage: ${agent} `))]);
    }
  });

  it('reads nothing from its working directory (.env, bunfig.toml)', () => {
    const cwd = join(tmp, 'planted-cwd');
    const marker = join(cwd, 'preloaded');
    mkdirSync(cwd, { recursive: true });
    writeFileSync(join(cwd, '.env'), 'OCF_RESKEY_ip=planted\n');
    writeFileSync(join(cwd, 'planted.js'), `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x');\n`);
    writeFileSync(join(cwd, 'bunfig.toml'), 'preload = ["./planted.js"]\n');
    const r = spawnSync('env', ['-i', 'OCF_ROOT=/usr/lib/ocf', AGENTS_EXE, 'IPaddr2', 'validate-all'], { cwd, encoding: 'utf8' });
    expect([r.status, /^ocf-exit-reason:(.*)$/m.exec(r.stderr)?.[1]]).toEqual([6, "required parameter 'ip' is not set"]);
    expect(existsSync(marker)).toBe(false);
  });

  it('runs the action without the runtime options of BUN_OPTIONS', () => {
    // A preload that rewrites what the process prints: the action's output must not pass through it.
    const preload = join(tmp, 'rewrite-stdout.js');
    writeFileSync(preload, 'const w = process.stdout.write.bind(process.stdout);\nprocess.stdout.write = (s, ...a) => w(`REWRITTEN ${s}`, ...a);\n');
    const r = runAgent('IPaddr2', 'usage', { env: { BUN_OPTIONS: `--preload ${preload}` } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: IPaddr2 /);
    const bad = runAgent('Filesystem', 'frobnicate', { env: { BUN_OPTIONS: '--smol' } });
    expect([bad.code, bad.reason]).toEqual([3, "action 'frobnicate' is not implemented by Filesystem"]);
  });

  it('an unknown agent name → 2 with the list of agents', () => {
    const r = sh('env', ['-i', AGENTS_EXE, 'NoSuchAgent', 'monitor'], { allowFail: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('agents: ');
  });
});

describe('ocf-gen agents', () => {
  it('lists every agent, as text and JSON', () => {
    const json = JSON.parse(ocfGen(['agents', '--json']).stdout) as Array<{ name: string; version: string }>;
    expect(json.map((a) => a.name).sort()).toEqual(Object.keys(AGENTS).sort());
    const text = ocfGen(['agents']).stdout;
    for (const a of json) expect(text).toMatch(new RegExp(`^${a.name} +${a.version.replace(/\./g, '\\.')} `, 'm'));
  });
});

describe('ocf-gen install', () => {
  const prefix = join(tmp, 'ocf');
  const raDir = join(prefix, 'resource.d', 'ocfkit');

  it('--dry-run changes nothing', () => {
    const r = ocfGen(['install', '--prefix', prefix, '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`would install: ${join(prefix, 'lib', 'ocfkit', 'ocfkit-agents')}`);
    expect(() => lstatSync(prefix)).toThrow();
  });

  it('installs runnable agents as links to one executable (mode 0755)', () => {
    const r = ocfGen(['install', '--prefix', prefix]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(raDir).sort()).toEqual(Object.keys(AGENTS).sort());
    const exe = join(prefix, 'lib', 'ocfkit', 'ocfkit-agents');
    expect(lstatSync(exe).mode & 0o777).toBe(0o755);
    for (const agent of Object.keys(AGENTS)) {
      expect(readlinkSync(join(raDir, agent))).toBe('../../lib/ocfkit/ocfkit-agents');
      const run = runInstalled(join(raDir, agent), 'meta-data');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`<resource-agent name="${agent}"`);
    }
  });

  it('is idempotent', () => {
    const r = ocfGen(['install', '--prefix', prefix]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').every((l) => l.startsWith('unchanged: '))).toBe(true);
  });

  it('refuses to overwrite a file it did not install, unless --force', () => {
    const agent = Object.keys(AGENTS)[0]!;
    const foreign = join(raDir, agent);
    rmSync(foreign);
    writeFileSync(foreign, '#!/bin/sh\nexit 0\n');
    chmodSync(foreign, 0o755);
    const refused = ocfGen(['install', '--prefix', prefix]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${foreign} exists and was not installed by ocfkit (use --force to replace it)`);
    expect(readFileSync(foreign, 'utf8')).toBe('#!/bin/sh\nexit 0\n');
    const forced = ocfGen(['install', '--prefix', prefix, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readlinkSync(foreign)).toBe('../../lib/ocfkit/ocfkit-agents');
  });

  it('explains what is wrong when it cannot write (not root)', () => {
    const locked = join(tmp, 'locked');
    mkdirSync(locked, { mode: 0o755 });
    chmodSync(tmp, 0o755);
    const r = ocfGen(['install', '--prefix', join(locked, 'ocf')], { user: 'nobody' });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`cannot write to ${locked} (installing agents needs root)`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('rejects a relative prefix with a clear message', () => {
    const r = ocfGen(['install', '--prefix', 'relative/dir']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--prefix must be an absolute path: relative/dir');
  });
});

describe('the invoked name', () => {
  it('is argv[1] under Node (SEA or a bundle) and process.argv0 in a Bun executable', () => {
    expect(invokedName(['/usr/lib/ocf/lib/ocfkit/ocfkit-agents', '/usr/lib/ocf/resource.d/ocfkit/IPaddr2', 'monitor'], '/usr/lib/ocf/resource.d/ocfkit/IPaddr2')).toBe('IPaddr2');
    expect(invokedName(['/usr/bin/node', '/x/build/agents.cjs', 'drbd', 'monitor'], 'node')).toBe('agents.cjs');
    expect(invokedName(['bun', '/$bunfs/root/ocfkit-agents', 'monitor'], '/usr/lib/ocf/resource.d/ocfkit/Filesystem')).toBe('Filesystem');
    expect(invokedName(['bun', '/$bunfs/root/ocfkit-agents', 'monitor'], 'nfsserver')).toBe('nfsserver');
  });
});

describe('the executable registry', () => {
  it('loads exactly the agents of agents/index.ts, each under its own name', async () => {
    const { AGENT_LOADERS } = await import('../../agents/loaders.js');
    expect(Object.keys(AGENT_LOADERS).sort()).toEqual(Object.keys(AGENTS).sort());
    for (const [name, load] of Object.entries(AGENT_LOADERS)) expect((await load()).name).toBe(name);
  });
});
