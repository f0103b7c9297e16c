import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startedAtMs } from '../../src/sys/processes.js';

// The op deadline counts from when execd created the agent process, which
// /proc tells from the process's starttime and the uptime clock.
const tmp = mkdtempSync(join(tmpdir(), 'ocfkit-pstart-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('startedAtMs: when a process was created, from /proc', () => {
  it('dates a live process to its creation, not to the moment it is asked', async () => {
    const before = Date.now();
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 1500));
      const at = startedAtMs(child.pid!);
      expect(at).toBeDefined();
      // starttime and uptime have 10 ms steps; the fork follows `before` by however long spawn took.
      expect(at!).toBeGreaterThanOrEqual(before - 50);
      expect(at!).toBeLessThan(Date.now() - 1000);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('computes from starttime (ticks of 1/100 s) and /proc/uptime', () => {
    const proc = join(tmp, 'proc');
    mkdirSync(join(proc, '42'), { recursive: true });
    // pid 42 created 1234.56 s after boot; the machine has been up 1240.06 s: 5.5 s ago.
    writeFileSync(join(proc, '42', 'stat'), `42 (ocfkit (x)) S 1 42 42 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 123456 0 0`);
    writeFileSync(join(proc, 'uptime'), '1240.06 2400.00\n');
    expect(startedAtMs(42, proc, 1_000_000)).toBe(1_000_000 - 5500);
    expect(startedAtMs(43, proc, 1_000_000)).toBeUndefined();
    writeFileSync(join(proc, 'uptime'), '1200.00 2400.00\n'); // "started in the future": not to be trusted
    expect(startedAtMs(42, proc, 1_000_000)).toBeUndefined();
  });
});
