import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/agent.js';
import { cleanupLoopDisks, makeLoopDisk, mountsUnder, type LoopDisk } from '../helpers/loop.js';
import { ocfGen } from '../helpers/ocf-gen.js';
import { have, isRoot, sh } from '../helpers/system.js';

/**
 * resource-agents' own conformance checker, ocf-tester, against the agent as
 * `ocf-gen install` puts it on a node (<prefix>/resource.d/ocfkit/Filesystem,
 * a link to the multi-call executable), on a real ext4 loop device.
 */
describe('ocf-tester', () => {
  let prefix: string;
  let disk: LoopDisk;
  let agent: string;

  beforeAll(() => {
    if (!isRoot()) throw new Error('ocf-tester needs root here (it mounts, and checks permissions as nobody)');
    for (const tool of ['ocf-tester', 'xmllint']) if (!have(tool)) throw new Error(`${tool} is missing: install resource-agents and libxml2-utils`);
    if (!existsSync(join(ROOT, 'dist', 'ocf-gen.js'))) throw new Error('dist/ocf-gen.js is not built: node scripts/build.mjs ocf-gen');
    prefix = mkdtempSync(join(tmpdir(), 'ocfkit-ra-'));
    chmodSync(prefix, 0o755); // ocf-tester runs meta-data as nobody
    const install = ocfGen(['install', '--prefix', prefix]);
    expect(install.code, install.stderr).toBe(0);
    agent = join(prefix, 'resource.d', 'ocfkit', 'Filesystem');
    disk = makeLoopDisk({ fstype: 'ext4' });
  });
  afterAll(() => {
    try {
      cleanupLoopDisks();
    } finally {
      if (prefix) rmSync(prefix, { recursive: true, force: true });
    }
  });

  it('passes all tests against the installed agent', () => {
    const dir = join(disk.dir, 'mnt');
    const r = sh('ocf-tester', ['-n', 'fs-tester', '-o', `device=${disk.device}`, '-o', `directory=${dir}`, '-o', 'fstype=ext4', agent], { allowFail: true, timeoutMs: 300_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`${agent} passed all tests`);
    expect(mountsUnder(disk.dir)).toEqual([]);
  });

  it('its meta-data validates against its own OCF 1.1 DTD (ocf-tester) and pcs\'s ocf-1.1.rng', () => {
    const xml = sh(agent, ['meta-data']).stdout;
    for (const args of [['--noout', '--valid', '-'], ['--noout', '--relaxng', '/usr/share/pcs/data/ocf-1.1.rng', '-']]) {
      const r = sh('xmllint', args, { input: xml, allowFail: true });
      expect(r.code, r.stderr).toBe(0);
    }
    // heartbeat's names and defaults
    for (const [name, dflt] of <Array<[string, string]>>[['force_unmount', 'true'], ['run_fsck', 'auto'], ['fast_stop', 'false'], ['statusfile_prefix', '.Filesystem_status/'], ['signal_delay', '1'], ['force_clones', 'false'], ['term_signals', 'TERM'], ['kill_signals', 'KILL']]) {
      expect(xml).toMatch(new RegExp(`<parameter name="${name}"[^]*?<content type="\\w+" default="${dflt.replace('.', '\\.')}"\\/?>`));
    }
    expect(xml).toMatch(/<action name="monitor" timeout="40s" interval="20s" depth="0"\/>/);
  });
});
