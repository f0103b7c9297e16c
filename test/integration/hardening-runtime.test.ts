import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_EXIT_REASON } from '../../src/ocf/exit-reason.js';
import { AGENTS_EXE, FIXTURE_BUNDLE, runAgent } from '../helpers/agent.js';

// Issue 14, items 10 and 11, through the built executable run as execd runs it.
const tmp = mkdtempSync(join(tmpdir(), 'ocfkit-harden-rt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('output through a pipe (item 10)', () => {
  it('a reader slower than the agent still gets the whole stderr, ending with a short exit reason', () => {
    // A 100k-character parameter value ends up in the log and the reason. The reader starts
    // only after the agent has exited: everything must already be in the pipe (or still written).
    const device = `/dev/${'x'.repeat(100_000)}`;
    const script = `env -i PATH=/usr/bin:/bin OCF_RESOURCE_INSTANCE=fs-pipe OCF_RESKEY_device="$DEVICE" OCF_RESKEY_directory=${tmp}/mnt "${AGENTS_EXE}" Filesystem start 2>&1 >/dev/null | { sleep 2; cat; }; exit "\${PIPESTATUS[0]}"`;
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { DEVICE: device }, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
    expect(r.status).toBe(5);
    const lines = r.stdout.trimEnd().split('\n');
    const reason = lines.at(-1)!;
    expect(reason).toMatch(/^ocf-exit-reason:device \/dev\/x+… \(\d+ more characters\)$/);
    expect(reason.length).toBeLessThanOrEqual('ocf-exit-reason:'.length + MAX_EXIT_REASON);
  });
});

describe('OCF_RESKEY_CRM_meta_timeout (item 11)', () => {
  const state = join(tmp, 'dummy-state');
  const dummy = (meta: Record<string, string>) =>
    runAgent('Dummy', 'monitor', { exe: FIXTURE_BUNDLE, instance: 'd1', params: { state, sleep_cmd: '0.2' }, meta: { interval: 10000, ...meta } });

  it('0, negative or garbage: the action runs with its default timeout, with a warning', () => {
    writeFileSync(state, '3\n');
    for (const timeout of ['0', '-5', 'soon']) {
      const r = dummy({ timeout });
      expect(r.code, `timeout=${timeout}: ${r.stderr}`).toBe(0);
      expect(r.stderr).toContain(`WARNING: OCF_RESKEY_CRM_meta_timeout="${timeout}" is not a usable timeout in ms`);
    }
  });
  it('a huge value is clamped: no timer overflow killing commands at once', () => {
    const r = dummy({ timeout: '99999999999' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('TimeoutOverflowWarning');
    expect(r.stderr).toContain('is too large');
  });
});
