import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURE_BUNDLE, runAgent } from '../helpers/agent.js';

// The OCF rules the runtime applies for every agent, proven through a built
// bundle of the test fixture agent (test/fixtures/agents/Dummy.ts), run as
// Pacemaker runs agents: fresh process, env -i, action as argv.
const tmp = mkdtempSync(join(tmpdir(), 'ocfkit-runtime-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const dummy = (action: string, o: Parameters<typeof runAgent>[2] = {}) => runAgent('Dummy', action, { exe: FIXTURE_BUNDLE, instance: 'd1', ...o });

describe('OCF rules, through a built agent', () => {
  const state = join(tmp, 'state', 'dummy');

  it('start / monitor / stop life cycle with exit codes 0 and 7', () => {
    expect(dummy('monitor', { params: { state }, meta: { interval: 10000 } }).code).toBe(7);
    expect(dummy('start', { params: { state } }).code).toBe(0);
    expect(readFileSync(state, 'utf8')).toBe('3\n');
    expect(dummy('monitor', { params: { state }, meta: { interval: 10000 } }).code).toBe(0);
    expect(dummy('stop', { params: { state } }).code).toBe(0);
    expect(dummy('stop', { params: { state } }).code).toBe(0);
    expect(existsSync(state)).toBe(false);
  });

  it('invalid parameters: 6 with an exit reason naming the parameter', () => {
    const r = dummy('start', { params: { state, count: 0 } });
    expect(r.code).toBe(6);
    expect(r.reason).toBe(`parameter 'count': must be at least 1: "0"`);
    expect(r.stderr).toMatch(/^Dummy\(d1\)\[\d+\]: ERROR: parameter 'count'/m);
    expect(dummy('validate-all', { params: { state: 'relative/path' } }).reason).toBe(`parameter 'state': not an absolute path: "relative/path"`);
    expect(dummy('validate-all', { params: { state, mode: 'x;reboot' } }).code).toBe(6);
  });

  it('a probe of an unconfigured resource says "not running", never an error', () => {
    const probe = dummy('monitor', { params: { count: 99 } });
    expect(probe.code).toBe(7);
    expect(probe.reason).toBeUndefined();
    // a recurring monitor with the same broken configuration is an error
    expect(dummy('monitor', { params: { count: 99 }, meta: { interval: 10000 } }).code).toBe(6);
  });

  it('a resource missing something on this node: 5 on start and validate-all, 7 on a probe', () => {
    const params = { state, needs_tool: '/nonexistent/ocfkit-tool' };
    expect(dummy('validate-all', { params }).code).toBe(5);
    const start = dummy('start', { params });
    expect([start.code, start.reason]).toEqual([5, '/nonexistent/ocfkit-tool is not installed on this node']);
    expect(dummy('monitor', { params }).code).toBe(7);
  });

  it('stop succeeds with broken parameters (a failed stop gets the node fenced)', () => {
    const r = dummy('stop', { params: { count: 'many' } });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('WARNING: stop:');
  });

  it('unknown action → 3; no action → 2; usage and meta-data always work', () => {
    const unknown = dummy('frobnicate', { params: { state } });
    expect([unknown.code, unknown.reason]).toEqual([3, "action 'frobnicate' is not implemented by Dummy"]);
    expect(dummy('', {}).code).toBe(3);
    expect(dummy('usage').stdout).toMatch(/^usage: Dummy \{start\|stop\|monitor\|validate-all\|meta-data\|usage\}/);
    expect(dummy('meta-data').stdout).toContain('<resource-agent name="Dummy"');
  });

  it('bounds a command by the op timeout and reports it', () => {
    const r = dummy('monitor', { params: { state, sleep_cmd: 30 }, meta: { interval: 10000, timeout: 3000 } });
    expect(r.code).toBe(1);
    expect(r.reason).toMatch(/^sleep 30: killed after 1\.\ds \(operation deadline\)$/);
  });

  it('counts the op timeout from when the process was created, as execd does: a late start leaves less time', async () => {
    // The shell stops itself before exec'ing the agent (same process, so the same creation time), as a
    // starved CPU would hold a freshly forked agent; the agent must not restart the clock when it runs.
    const env = ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'OCF_ROOT=/usr/lib/ocf', 'OCF_RESOURCE_INSTANCE=d1', `OCF_RESKEY_state=${state}`];
    const meta = ['OCF_RESKEY_sleep_cmd=30', 'OCF_RESKEY_CRM_meta_interval=10000', 'OCF_RESKEY_CRM_meta_timeout=6000'];
    const child = spawn('bash', ['-c', 'kill -STOP $$; exec env -i "$@"', 'sh', ...env, ...meta, FIXTURE_BUNDLE, 'Dummy', 'monitor'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    while (!/\) T /.test(readFileSync(`/proc/${child.pid}/stat`, 'utf8'))) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 3000));
    child.kill('SIGCONT');
    const code = await exited;
    expect(code).toBe(1);
    // Of 6 s less the 0.6 s margin, 3 s went before exec: sleep is ended after ~0.9 s, not ~3.9 s.
    const killedAfter = Number(/sleep 30: killed after (\d+\.\d)s \(operation deadline\)/.exec(stderr)?.[1]);
    expect(killedAfter).toBeLessThan(2);
    expect(stderr).toMatch(/WARNING: started 3\.\ds after execd created the process; \d\.\ds of the 6s timeout left \(a starved CPU\?\)/);
  });

  it('logs to HA_LOGFILE with the agent(instance)[pid] tag; debug only with HA_debug', () => {
    const logfile = join(tmp, 'ha.log');
    const debuglog = join(tmp, 'ha-debug.log');
    dummy('start', { params: { state, count: 42 }, env: { HA_LOGFILE: logfile } });
    expect(readFileSync(logfile, 'utf8')).toMatch(/^\d{4}\/\d\d\/\d\d_\d\d:\d\d:\d\d Dummy\(d1\)\[\d+\]: {4}ERROR: parameter 'count': must be at most 10: "42"$/m);
    dummy('monitor', { params: { state }, meta: { interval: 1000 }, env: { HA_DEBUGLOG: debuglog, HA_debug: '1' } });
    expect(readFileSync(debuglog, 'utf8')).toMatch(/DEBUG: monitor: OCF_NOT_RUNNING/);
    const quiet = dummy('monitor', { params: { state }, meta: { interval: 1000 } });
    expect(quiet.stderr).not.toContain('DEBUG');
  });
});
