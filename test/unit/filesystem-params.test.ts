import { describe, expect, it } from 'vitest';
import { Filesystem } from '../../agents/Filesystem.js';
import type { AgentDecl } from '../../src/ocf/index.js';
import { runAgentAction } from '../../src/ocf/main.js';

/** The agent's parameter checks, run in-process (no root, nothing mounted): codes and exit reasons. */
async function run(action: string, params: Record<string, string>, meta: Record<string, string> = {}) {
  const env: NodeJS.ProcessEnv = { OCF_RESOURCE_INSTANCE: 'fs-unit', PATH: process.env.PATH };
  for (const [k, v] of Object.entries(params)) env[`OCF_RESKEY_${k}`] = v;
  for (const [k, v] of Object.entries(meta)) env[`OCF_RESKEY_CRM_meta_${k}`] = v;
  let stderr = '';
  const code = await runAgentAction(Filesystem as unknown as AgentDecl, action, env, { stdout: () => {}, stderr: (s) => (stderr += s) });
  return { code, reason: /^ocf-exit-reason:(.*)$/m.exec(stderr)?.[1] ?? '' };
}

const ok = { device: '/dev/nonexistent-ocfkit', directory: '/nonexistent/ocfkit-unit/mnt', fstype: 'ext4' };

describe('Filesystem parameters', () => {
  it('rejects / as the directory: 6, but a probe says not running and stop succeeds', async () => {
    expect(await run('validate-all', { ...ok, directory: '/' })).toMatchObject({ code: 6, reason: expect.stringMatching(/cannot be managed/) });
    expect((await run('monitor', { ...ok, directory: '//' }, { interval: '0' })).code).toBe(7);
    expect((await run('stop', { ...ok, directory: '/' })).code).toBe(0);
  });

  it('rejects relative directories, blanks around the device, malformed options and unknown values: 6', async () => {
    expect((await run('start', { ...ok, directory: 'srv/data' })).reason).toMatch(/directory.*absolute/);
    expect((await run('start', { ...ok, device: ' /dev/sdb1' })).reason).toMatch(/device.*blanks/);
    expect((await run('start', { ...ok, options: 'ro, noatime' })).reason).toMatch(/options.*blank/);
    expect((await run('start', { ...ok, force_unmount: 'maybe' })).reason).toMatch(/force_unmount.*true, safe or false/);
    expect((await run('start', { ...ok, run_fsck: 'sometimes' })).reason).toMatch(/run_fsck/);
    expect((await run('start', { ...ok, term_signals: 'TERM NOSUCH' })).reason).toMatch(/NOSUCH/);
    expect((await run('start', { ...ok, signal_delay: '-1' })).reason).toMatch(/signal_delay/);
    expect((await run('start', { ...ok, statusfile_prefix: '../x' })).reason).toMatch(/outside/);
    for (const p of <Array<Record<string, string>>>[{ directory: 'srv' }, { options: ',ro' }, { fstype: 'ext4;rm' }]) expect((await run('validate-all', { ...ok, ...p })).code).toBe(6);
  });

  it('accepts heartbeat-style booleans for force_unmount', async () => {
    // validate-all, not stop: stop succeeds even for a rejected value (it cannot have been started), so it proves nothing.
    for (const v of ['yes', 'safe', 'no', '1', 'false']) {
      const r = await run('validate-all', { ...ok, force_unmount: v });
      expect(r.code).not.toBe(6);
      expect(r.reason ?? '').not.toMatch(/force_unmount/);
    }
    expect((await run('validate-all', { ...ok, force_unmount: 'maybe' })).code).toBe(6);
  });

  it('refuses to run a local filesystem as a clone unless forced or read-only where that is safe', async () => {
    const clone = { clone_max: '2', clone: '0' };
    expect(await run('validate-all', ok, clone)).toMatchObject({ code: 6, reason: expect.stringMatching(/NOT cluster-aware/) });
    // ext4 stays unsafe even read-only (its journal is replayed), as in ocf:heartbeat:Filesystem
    expect((await run('validate-all', { ...ok, options: 'ro' }, clone)).code).toBe(6);
    // forced: the remaining failure is this node's missing device (5), not the clone rule
    expect((await run('validate-all', { ...ok, force_clones: 'true' }, clone)).code).toBe(5);
  });

  it('names what this node lacks with 5', async () => {
    expect(await run('validate-all', ok)).toMatchObject({ code: 5, reason: expect.stringMatching(/nonexistent-ocfkit does not exist/) });
    expect(await run('validate-all', { ...ok, fstype: 'nosuchfs' })).toMatchObject({ code: 5, reason: expect.stringMatching(/nosuchfs is not supported/) });
    expect(await run('validate-all', { ...ok, device: '/etc/hostname' })).toMatchObject({ code: 5, reason: expect.stringMatching(/not a block device.*loop/) });
    expect(await run('validate-all', { ...ok, directory: '/etc/hostname' })).toMatchObject({ code: 5, reason: expect.stringMatching(/not a directory/) });
  });

  it('reports an unmounted directory as not running', async () => {
    expect((await run('monitor', ok)).code).toBe(7);
    expect((await run('monitor', ok, { interval: '0' })).code).toBe(7);
  });
});
