import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Deadline } from '../../src/ocf/deadline.js';
import { MAX_TIMEOUT_MS, readTimeout } from '../../src/ocf/env.js';
import { capExitReason, MAX_EXIT_REASON } from '../../src/ocf/exit-reason.js';
import { createLogger } from '../../src/ocf/log.js';
import { createRunner } from '../../src/ocf/run.js';

const tmp = mkdtempSync(join(tmpdir(), 'ocfkit-harden-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('process groups (issue 14, item 5)', () => {
  it('a command killed at its bound takes what it forked with it', async () => {
    const lines: string[] = [];
    const run = createRunner(new Deadline(30_000), createLogger('T', 'r', {}, (s) => lines.push(s)), { PATH: '/usr/bin:/bin' });
    const marker = join(tmp, 'orphan-was-here');
    // The grandchild outlives its parent unless the whole group is ended.
    const err = await run('sh', ['-c', `(sleep 2; touch ${marker}) & sleep 60`], { timeoutMs: 300 }).catch((e) => e);
    expect(err.reason).toMatch(/killed after 0\.3s/);
    await new Promise((r) => setTimeout(r, 3500));
    expect(existsSync(marker)).toBe(false);
  });
});

describe('operation timeout from Pacemaker (item 11)', () => {
  it('0, negative and garbage fall back to the default with a warning', () => {
    for (const v of ['0', '-5', 'abc', '20s', '']) {
      const t = readTimeout(v);
      expect(t.timeoutMs).toBeUndefined();
      expect(t.warning).toMatch(/not a usable timeout/);
    }
    expect(readTimeout(undefined)).toEqual({});
    expect(readTimeout('20000')).toEqual({ timeoutMs: 20000 });
  });
  it('huge values are clamped to what a timer can wait', () => {
    const t = readTimeout('99999999999');
    expect(t.timeoutMs).toBe(MAX_TIMEOUT_MS);
    expect(t.warning).toMatch(/too large/);
  });
});

describe('exit reasons crm_mon can show (item 10)', () => {
  it('a list is summarised with the number of items left out', () => {
    const users = Array.from({ length: 200 }, (_, i) => `pid ${1000 + i} (sleep 1000: cwd /srv/data)`);
    const r = capExitReason(`cannot unmount /srv/data after 30s: still used by ${users.join(', ')}`);
    expect(r.length).toBeLessThanOrEqual(MAX_EXIT_REASON);
    expect(r).toMatch(/^cannot unmount \/srv\/data after 30s: still used by pid 1000 \(sleep 1000: cwd \/srv\/data\), pid 1001 .* … and \d+ more$/);
    const shown = r.split(', ').length;
    expect(r).toContain(`and ${200 - shown} more`);
  });
  it('anything else is cut with a count; control characters never reach the line', () => {
    const r = capExitReason(`device /dev/${'x'.repeat(100_000)} does not exist`);
    expect(r.length).toBeLessThanOrEqual(MAX_EXIT_REASON);
    expect(r).toMatch(/… \(\d+ more characters\)$/);
    expect(capExitReason('a\u0007b\nc\rd')).toBe('a?b c?d');
    expect(capExitReason('short')).toBe('short');
    expect(capExitReason('bad value "x\nocf-exit-reason:forged"')).toBe('bad value "x ocf-exit-reason :forged"');
  });
});

describe('state files in HA_RSCTMP are never written through a planted link', () => {
  it('the announcer pid file: a link at its temporary name is replaced, its target untouched', async () => {
    const { writePidFile } = await import('../../src/sys/net/background.js');
    const { chmodSync, lstatSync, readFileSync, writeFileSync } = await import('node:fs');
    const { spawnSync } = await import('node:child_process');
    const dir = join(tmp, 'rsctmp');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { mode: 0o1777 });
    chmodSync(dir, 0o777); // the worst case: writable by everyone, no sticky bit
    const victim = join(tmp, 'victim');
    writeFileSync(victim, 'precious\n', { mode: 0o644 });
    chmodSync(tmp, 0o755);
    const path = join(dir, 'IPaddr2-announce-192.0.2.9.json');
    // nobody plants the link at the name this process will use
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', 'ln', '-s', victim, `${path}.${process.pid}`]);
    expect(r.status, String(r.stderr)).toBe(0);
    writePidFile(path, '192.0.2.9', [{ pid: 12345, start: '1' }]);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(lstatSync(path).isFile()).toBe(true);
    expect(JSON.parse(readFileSync(path, 'utf8')).key).toBe('192.0.2.9');
  });
});
