import { describe, expect, it } from 'vitest';
import { Deadline } from '../../src/ocf/deadline.js';
import { OCF, OcfError } from '../../src/ocf/exit-codes.js';
import { createLogger } from '../../src/ocf/log.js';
import { createRunner } from '../../src/ocf/run.js';

function setup(timeoutMs: number) {
  const lines: string[] = [];
  const log = createLogger('Test', 'r1', {}, (s) => lines.push(s));
  return { run: createRunner(new Deadline(timeoutMs), log, { PATH: '/usr/bin:/bin' }), lines };
}

describe('command runner', () => {
  it('passes arguments as data, never through a shell', async () => {
    const { run } = setup(10_000);
    const r = await run('printf', ['%s|', '$(id)', 'a b', ';rm -rf /']);
    expect(r.stdout).toBe('$(id)|a b|;rm -rf /|');
  });
  it('logs and throws a failed command with its exit status and stderr', async () => {
    const { run, lines } = setup(10_000);
    const err = await run('ls', ['/nonexistent-ocfkit']).catch((e: OcfError) => e);
    expect(err).toBeInstanceOf(OcfError);
    expect((err as OcfError).code).toBe(OCF.ERR_GENERIC);
    expect((err as OcfError).reason).toMatch(/^ls \/nonexistent-ocfkit: exit 2: .*No such file/);
    expect(lines.join('')).toMatch(/Test\(r1\)\[\d+\]: ERROR: ls \/nonexistent-ocfkit: exit 2/);
  });
  it('returns a failure without throwing when asked', async () => {
    const { run } = setup(10_000);
    const r = await run('sh', ['-c', 'echo out; echo err >&2; exit 3'], { check: false });
    expect([r.code, r.stdout, r.stderr]).toEqual([3, 'out\n', 'err\n']);
  });
  it('maps a missing program to "not installed" (5)', async () => {
    const { run } = setup(10_000);
    const err = (await run('ocfkit-no-such-tool', []).catch((e) => e)) as OcfError;
    expect([err.code, err.reason]).toEqual([OCF.ERR_INSTALLED, 'ocfkit-no-such-tool: command not found']);
  });
  it('kills a command that outlives the op deadline and reports it', async () => {
    // 3 s op timeout → 2.5 s left after the margin, half of it kept for killing; sleep 30 must be killed.
    const { run, lines } = setup(3000);
    const started = Date.now();
    const err = (await run('sleep', ['30']).catch((e) => e)) as OcfError;
    expect(err.code).toBe(OCF.ERR_GENERIC);
    expect(err.reason).toMatch(/^sleep 30: killed after 1\.\ds \(operation deadline\)$/);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(lines.join('')).toContain('ERROR: sleep 30: killed');
  });
  it("kills a command at its own limit when that comes first", async () => {
    const { run } = setup(20_000);
    const err = (await run('sleep', ['30'], { timeoutMs: 300 }).catch((e) => e)) as OcfError;
    expect(err.reason).toBe('sleep 30: killed after 0.3s (its time limit)');
  });
  it('refuses to start a command when the deadline has passed', async () => {
    const { run } = setup(500);
    await new Promise((r) => setTimeout(r, 50));
    const err = (await run('true', []).catch((e) => e)) as OcfError;
    expect(err.reason).toMatch(/^not starting true: timed out/);
  });
});

/** A retry whose first attempt fails with `first` and whose second runs `cmd` (under a `ms` deadline); what it threw. */
async function retryThenRun(ms: number, first: string, cmd: string, args: string[]): Promise<unknown> {
  const deadline = new Deadline(ms);
  const runner = createRunner(deadline, createLogger('Test', 'r1', {}, () => {}), { PATH: '/usr/bin:/bin' });
  return deadline
    .retry(
      async (tries) => {
        if (tries === 1) return first;
        await runner(cmd, args);
        return undefined;
      },
      { intervalMs: 100, marginMs: 0, giveUp: (why, tries) => new OcfError(OCF.ERR_GENERIC, `gave up after ${tries}: ${why}`) },
    )
    .catch((e: unknown) => e);
}

describe('Deadline.retry', () => {
  it('when the deadline kills a retry, gives up with why the attempts before failed, not with the kill', async () => {
    const err = await retryThenRun(2500, 'Multiple primaries not allowed by config', 'sleep', ['30']);
    expect(err).toBeInstanceOf(OcfError);
    expect((err as OcfError).reason).toBe('gave up after 1: Multiple primaries not allowed by config; the next attempt was cut by the operation deadline');
  });

  it('a command that fails on its own still fails the retry as itself', async () => {
    const err = await retryThenRun(5000, 'first', 'false', []);
    expect((err as OcfError).reason).toMatch(/^false: exit 1/);
  });
});
