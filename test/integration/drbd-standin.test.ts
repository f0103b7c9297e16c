import { spawnSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AGENTS_EXE } from '../helpers/agent.js';
import { drbdBed, type DrbdBed, endBed } from '../standins/drbd/bed.js';

/**
 * The BUILT drbd agent, run as Pacemaker runs it, against a STAND-IN for
 * DRBD: this machine's kernel has no DRBD module. The stand-in
 * (test/standins/drbd) replays what drbdadm/drbdsetup and the kernel print
 * in each state, from documented formats until captures from the QEMU
 * guests replace them; it fails loudly on any command it has no recorded
 * answer for, and every test checks that none happened. Promotion scores go
 * through Pacemaker's real crm_attribute into an offline CIB.
 * Real DRBD 8.4 between two guests: test/qemu/drbd-agent.test.ts.
 */

let bed: DrbdBed;

beforeAll(() => {
  if (!existsSync(AGENTS_EXE)) throw new Error(`${AGENTS_EXE} is not built: node scripts/build.mjs agents`);
});

afterEach(() => endBed(bed));

/** Started (Secondary, connected, UpToDate) on a fresh 8.4 bed. */
function started(scenario = 'drbd84'): DrbdBed {
  bed = drbdBed(scenario);
  const r = bed.run('start');
  expect(r.code, r.stderr).toBe(0);
  return bed;
}

describe('drbd 8.4 (stand-in): lifecycle', () => {
  it('probes and stops cleanly where the module is not even loaded, without running any tool', () => {
    bed = drbdBed('drbd84');
    expect(bed.run('monitor', { interval: 0 }).code).toBe(7);
    expect(bed.run('stop').code).toBe(0);
    expect(bed.calls()).toEqual([]);
  });

  it('start loads the module, brings the resource up as Secondary and scores it', () => {
    bed = drbdBed('drbd84');
    const r = bed.run('start');
    expect(r.code, r.stderr).toBe(0);
    const calls = bed.calls().join('\n');
    expect(calls).toContain('modprobe -s drbd minor_count=32');
    expect(calls).toContain('drbdadm adjust r0 -> 0 => secondary-connected');
    expect(bed.run('monitor').code).toBe(0);
    expect(bed.score()).toBe(10000);
  });

  it('start of a started resource succeeds and changes nothing', () => {
    started();
    expect(bed.run('start').code).toBe(0);
    expect(bed.state()).toBe('secondary-connected');
  });

  it('promote → 8, demote → 0, stop → 7 with the score removed', () => {
    started();
    let r = bed.run('promote');
    expect(r.code, r.stderr).toBe(0);
    expect(bed.run('monitor', { meta: { role: 'Promoted' }, interval: 29_000 }).code).toBe(8);
    expect(bed.score()).toBe(10000);
    expect(bed.run('promote').code).toBe(0); // already Primary

    r = bed.run('demote');
    expect(r.code, r.stderr).toBe(0);
    expect(bed.run('monitor').code).toBe(0);
    expect(bed.run('demote').code).toBe(0); // already Secondary

    r = bed.run('stop');
    expect(r.code, r.stderr).toBe(0);
    expect(bed.run('monitor').code).toBe(7);
    expect(bed.run('monitor', { interval: 0 }).code).toBe(7);
    expect(bed.score()).toBeUndefined();
    expect(bed.run('stop').code).toBe(0); // stopping a stopped resource
  });

  it('stop demotes a Primary first', () => {
    started();
    expect(bed.run('promote').code).toBe(0);
    expect(bed.run('stop').code).toBe(0);
    const calls = bed.calls();
    const secondary = calls.findIndex((c) => c.includes('drbdadm secondary r0'));
    const down = calls.findIndex((c) => c.includes('drbdadm down r0'));
    expect(secondary).toBeGreaterThan(-1);
    expect(down).toBeGreaterThan(secondary);
  });

  it.each(['reload-agent', 'reload'])('%s adjusts a running resource; the next monitor scores with the new values (not the reload: see agents/drbd.ts)', (action) => {
    started();
    const params = { adjust_master_score: '0 10 1000 5000' };
    const r = bed.run(action, { params });
    expect(r.code, r.stderr).toBe(0);
    expect(bed.calls().at(-1)).toMatch(/drbdadm adjust r0 -> 0/);
    expect(bed.score()).toBe(10000);
    expect(bed.run('monitor', { params }).code).toBe(0);
    expect(bed.score()).toBe(5000);
  });

  it('reload-agent refuses a bad new value (6) and leaves DRBD alone', () => {
    started();
    const before = bed.calls().length;
    const r = bed.run('reload-agent', { params: { adjust_master_score: 'nonsense' } });
    expect(r.code).toBe(6);
    expect(bed.calls().slice(before).filter((c) => /adjust r0/.test(c))).toEqual([]);
  });
});

describe('drbd 8.4 (stand-in): promotion scores and promote refusals', () => {
  it.each([
    ['secondary-peer-unknown', 1000],
    ['secondary-synctarget', 10],
    ['secondary-consistent', undefined],
    ['secondary-inconsistent', undefined],
    ['secondary-outdated', undefined],
  ])('%s → score %s', (state, expected) => {
    started();
    bed.enter(state);
    expect(bed.run('monitor').code).toBe(0);
    expect(bed.score()).toBe(expected);
  });

  it.each(['secondary-inconsistent', 'secondary-outdated'])('promote on %s fails at once (exit 17), without retrying, and leaves no score', (state) => {
    started();
    bed.enter(state);
    bed.setScore(10000); // a stale score from before must not survive the refusal
    const r = bed.run('promote', { meta: { timeout: 90_000 } });
    expect(r.code).toBe(1);
    expect(r.reason).toMatch(/refusing to promote r0: no access to UpToDate data/);
    expect(r.reason).toMatch(/Need access to UpToDate data/);
    expect(bed.calls().filter((c) => c.includes('drbdadm primary r0'))).toHaveLength(1);
    expect(bed.score()).toBeUndefined();
    expect(bed.run('monitor').code).toBe(0);
  });

  it('promote while the peer is still Primary retries, and gives up before its deadline with DRBD\'s reason', () => {
    started();
    bed.enter('secondary-peer-primary');
    const r = bed.run('promote', { meta: { timeout: 6000 } });
    expect(r.code).toBe(1);
    expect(r.reason).toMatch(/gave up after \d+ attempts/);
    expect(r.reason).toMatch(/Multiple primaries not allowed by config/);
    expect(bed.calls().filter((c) => c.includes('drbdadm primary r0')).length).toBeGreaterThan(1);
  });

  it('remove_master_score_if_peer_primary=true: no score while connected to a healthy Primary', () => {
    started();
    bed.enter('secondary-peer-primary');
    expect(bed.run('monitor').code).toBe(0);
    expect(bed.score()).toBe(10000);
    expect(bed.run('monitor', { params: { remove_master_score_if_peer_primary: 'true' } }).code).toBe(0);
    expect(bed.score()).toBeUndefined();
  });

  it('promote of a resource that was not started fails', () => {
    bed = drbdBed('drbd84');
    const r = bed.run('promote');
    expect(r.code).toBe(1);
    expect(r.reason).toMatch(/not started/);
  });
});

describe('drbd 8.4 (stand-in): failures', () => {
  it('monitor says 9 when the backing disk is gone under a Primary', () => {
    started();
    expect(bed.run('promote').code).toBe(0);
    bed.enter('primary-detached');
    const r = bed.run('monitor', { interval: 29_000 });
    expect(r.code).toBe(9);
    expect(r.reason).toMatch(/Primary but its local disk failed/);
    expect(r.reason).toMatch(/Diskless/);
    expect(bed.score()).toBe(10); // data still reachable through the peer, but any UpToDate node is better
  });

  it('a split brain is reported loudly but keeps 8 (a restart cannot fix it)', () => {
    started();
    expect(bed.run('promote').code).toBe(0);
    bed.enter('primary-split-brain');
    const r = bed.run('monitor', { interval: 29_000 });
    expect(r.code).toBe(8);
    expect(r.reason).toMatch(/split brain: r0 is StandAlone/);
    expect(r.reason).toMatch(/drbdadm connect --discard-my-data r0/);
    expect(r.stderr).toMatch(/CRIT: split brain/);
    expect(bed.score()).toBe(10000);
  });

  it('a split brain seen from the Secondary: 0, reported, score lowered (peer unknown)', () => {
    started();
    bed.enter('secondary-split-brain');
    const r = bed.run('monitor');
    expect(r.code).toBe(0);
    expect(r.reason).toMatch(/split brain/);
    expect(bed.score()).toBe(1000);
  });

  it('StandAlone after a disconnect by hand is not called a split brain (named as lost redundancy)', () => {
    started();
    expect(bed.run('promote').code).toBe(0);
    bed.enter('primary-disconnected-by-hand');
    const r = bed.run('monitor', { interval: 29_000 });
    expect(r.code).toBe(8);
    expect(r.reason).toBe('r0 without full redundancy: peer StandAlone');
    expect(r.stderr).not.toMatch(/split brain/);
  });

  it('demote of a device still held open fails before the deadline with DRBD\'s reason', () => {
    started();
    expect(bed.run('promote').code).toBe(0);
    bed.enter('primary-in-use');
    const r = bed.run('demote', { meta: { timeout: 5000 } });
    expect(r.code).toBe(1);
    expect(r.reason).toMatch(/Device is held open by someone/);
  });

  it('start fails (1) when the backing disk cannot be attached, after one more try', () => {
    bed = drbdBed('drbd84');
    bed.enter('down-no-disk');
    const r = bed.run('start');
    expect(r.code).toBe(1);
    expect(r.reason).toMatch(/cannot attach the backing disk of r0/);
    expect(r.reason).toMatch(/Can not open backing device/);
    expect(bed.calls().filter((c) => c.includes('drbdadm adjust r0'))).toHaveLength(2);
    expect(bed.score()).toBeUndefined();
    expect(bed.run('stop').code).toBe(0);
    expect(bed.state()).toBe('down');
  });

  it('wfc_timeout bounds the wait for a peer that does not come', () => {
    bed = drbdBed('drbd84');
    bed.enter('down-peer-absent');
    const r = bed.run('start', { params: { wfc_timeout: 1 } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/peer not connected after 1s/);
    expect(bed.state()).toBe('secondary-peer-unknown');
    expect(bed.score()).toBe(1000);
    // Not a number: do not wait (the linbit agent's meaning).
    expect(bed.run('start', { params: { wfc_timeout: 'no' } }).stderr).toMatch(/peer not connected after 0s/);
  });
});

describe('drbd 8.4 (stand-in): degraded states (OCF 1.1: 190/191 where the executor announces 1.1)', () => {
  const OCF11 = { OCF_RA_VERSION_MAJOR: '1', OCF_RA_VERSION_MINOR: '1' };
  const OCF10 = { OCF_RA_VERSION_MAJOR: '1', OCF_RA_VERSION_MINOR: '0' };
  const PROMOTED = new Set(['primary-connected', 'primary-peer-unknown', 'primary-split-brain', 'primary-disconnected-by-hand']);
  it.each([
    ['primary-connected', 8, undefined],
    ['secondary-connected', 0, undefined],
    ['secondary-peer-primary', 0, undefined],
    ['primary-peer-unknown', 191, 'r0 without full redundancy: peer Connecting'],
    ['primary-disconnected-by-hand', 191, 'r0 without full redundancy: peer StandAlone'],
    ['primary-split-brain', 191, /^split brain: r0 is StandAlone .*; r0 without full redundancy: peer StandAlone$/],
    ['secondary-peer-unknown', 190, 'r0 without full redundancy: peer Connecting'],
    ['secondary-synctarget', 190, 'r0 without full redundancy: local disk 0:Inconsistent; peer SyncTarget'],
    ['secondary-outdated', 190, /^r0 without full redundancy: local disk 0:Outdated; peer /],
    ['secondary-inconsistent', 190, /^r0 without full redundancy: local disk 0:Inconsistent; peer /],
  ])('%s: monitor %s', (state, code, reason) => {
    started();
    bed.enter(state);
    const interval = PROMOTED.has(state) ? 29_000 : 31_000;
    const r = bed.run('monitor', { interval, env: OCF11 });
    expect(r.code, r.stderr).toBe(code);
    if (reason === undefined) expect(r.reason).toBeUndefined();
    else expect(r.reason).toMatch(typeof reason === 'string' ? new RegExp(`^${reason.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : reason);
    // Anywhere else (an OCF 1.0 executor, none announced, a probe): 0/8 as before, the cause still told.
    const healthy = PROMOTED.has(state) ? 8 : 0;
    for (const run of [bed.run('monitor', { interval, env: OCF10 }), bed.run('monitor', { interval }), bed.run('monitor', { interval: 0, env: OCF11 })]) {
      expect(run.code, run.stderr).toBe(healthy);
      expect(run.reason).toBe(r.reason);
    }
  });
});

describe('drbd 8.4 (stand-in): notifications', () => {
  const post = (op: string, extra: Record<string, string> = {}) => ({ notify_type: 'post', notify_operation: op, ...extra });

  it('pre-start of a peer: adjust (reconnect), always 0', () => {
    started();
    const r = bed.run('notify', { meta: { notify_type: 'pre', notify_operation: 'start', notify_start_uname: 'node2' } });
    expect(r.code).toBe(0);
    expect(bed.calls().filter((c) => c.includes('drbdadm adjust r0'))).toHaveLength(2); // start's and the notification's
  });

  it('post notifications recompute the score', () => {
    started();
    bed.enter('secondary-peer-unknown');
    expect(bed.run('notify', { meta: post('stop', { notify_stop_uname: 'node2' }) }).code).toBe(0);
    expect(bed.score()).toBe(1000);
  });

  it('stop_outdates_secondary: a Secondary cut off from a promoted peer outdates itself and loses its score', () => {
    started();
    bed.enter('secondary-peer-unknown');
    const meta = post('promote', { notify_promote_uname: 'node2', notify_promoted_uname: 'node2', notify_stop_uname: ' ' });
    expect(bed.run('notify', { meta }).code).toBe(0);
    expect(bed.state()).toBe('secondary-peer-unknown'); // not asked to: nothing happens
    const r = bed.run('notify', { meta, params: { stop_outdates_secondary: 'true' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/outdating r0: node2 is still Primary/);
    expect(bed.state()).toBe('secondary-outdated');
    expect(bed.score()).toBeUndefined();
  });

  it('a failing notification still returns 0', () => {
    bed = drbdBed('drbd84');
    bed.enter('down');
    const r = bed.run('notify', { meta: post('start'), params: { drbd_resource: 'nope' } });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/not found/);
  });
});

describe('drbd 8.4 (stand-in): configuration checks', () => {
  it('refuses a clone without notify=true (6), unless ignore_missing_notifications', () => {
    bed = drbdBed('drbd84');
    const r = bed.run('start', { meta: { notify: 'false' } });
    expect(r.code).toBe(6);
    expect(r.reason).toMatch(/notify=true/);
    expect(bed.run('start', { meta: { notify: 'false' }, params: { ignore_missing_notifications: 'true' } }).code).toBe(0);
  });

  it('refuses more than one instance per node (6)', () => {
    bed = drbdBed('drbd84');
    const r = bed.run('start', { meta: { clone_node_max: 2 } });
    expect(r.code).toBe(6);
    expect(r.reason).toMatch(/clone-node-max must be 1/);
  });

  it('refuses two Primaries unless the resource allows them (6)', () => {
    bed = drbdBed('drbd84');
    const r = bed.run('start', { meta: { promoted_max: 2 } });
    expect(r.code).toBe(6);
    expect(r.reason).toMatch(/does not allow-two-primaries/);
    bed.cleanup();
    bed = drbdBed('drbd84-two-primaries');
    expect(bed.run('start', { meta: { promoted_max: 2 } }).code).toBe(0);
  });

  it('refuses bad values when the configuration is applied (6), yet a running resource still stops and monitors', () => {
    started();
    expect(bed.run('validate-all', { params: { adjust_master_score: '0 10 1000' } }).code).toBe(6);
    expect(bed.run('promote', { params: { adjust_master_score: '0 1000 10 10000' } }).code).toBe(6);
    expect(bed.run('validate-all', { params: { require_drbd_module_version_ge: '9' } }).code).toBe(6);
    expect(bed.run('validate-all', { params: { drbd_resource: 'r0;reboot' } }).code).toBe(6);
    // As the linbit agent: monitor falls back to the default scores (and says so), stop takes DRBD down.
    const m = bed.run('monitor', { params: { adjust_master_score: 'x' } });
    expect(m.code).toBe(0);
    expect(m.stderr).toMatch(/bad adjust_master_score "x": using the default/);
    expect(bed.score()).toBe(10000);
    expect(bed.run('stop', { params: { adjust_master_score: 'x' } }).code).toBe(0);
    expect(bed.state()).toBe('down');
  });

  it('a resource this host does not have is 5 here, "not running" to a probe', () => {
    bed = drbdBed('drbd84');
    const r = bed.run('validate-all', { params: { drbd_resource: 'nope' } });
    expect(r.code).toBe(5);
    expect(r.reason).toMatch(/not found in .* for this host/);
    bed.enter('down');
    expect(bed.run('monitor', { interval: 0, params: { drbd_resource: 'nope' } }).code).toBe(7);
  });

  it('a module version outside the required range is 5', () => {
    bed = drbdBed('drbd84');
    const r = bed.run('validate-all', { params: { require_drbd_module_version_ge: '9.0.0' } });
    expect(r.code).toBe(5);
    expect(r.reason).toMatch(/8\.4\.11 is older than require_drbd_module_version_ge=9\.0\.0/);
  });
});

describe('drbd 9 (stand-in, documented formats)', () => {
  it('start/promote/monitor/demote/stop through drbdsetup status --json', () => {
    bed = drbdBed('drbd9');
    expect(bed.run('monitor', { interval: 0 }).code).toBe(7);
    expect(bed.run('start').code).toBe(0);
    expect(bed.run('monitor').code).toBe(0);
    expect(bed.score()).toBe(10000);
    expect(bed.run('promote').code).toBe(0);
    expect(bed.run('monitor', { interval: 29_000 }).code).toBe(8);
    expect(bed.run('demote').code).toBe(0);
    expect(bed.run('stop').code).toBe(0);
    expect(bed.run('monitor').code).toBe(7);
    expect(bed.score()).toBeUndefined();
  });

  it('no quorum: no score', () => {
    bed = drbdBed('drbd9');
    expect(bed.run('start').code).toBe(0);
    bed.enter('secondary-no-quorum');
    expect(bed.run('monitor').code).toBe(0);
    expect(bed.score()).toBeUndefined();
  });

  it('a diskless client scores just below a node with its own UpToDate disk', () => {
    bed = drbdBed('drbd9');
    expect(bed.run('start').code).toBe(0);
    bed.enter('diskless-client');
    expect(bed.run('monitor').code).toBe(0);
    expect(bed.score()).toBe(9999);
  });

  it('promote refused on Outdated data (exit 17)', () => {
    bed = drbdBed('drbd9');
    expect(bed.run('start').code).toBe(0);
    bed.enter('secondary-outdated');
    const r = bed.run('promote');
    expect(r.code).toBe(1);
    expect(r.reason).toMatch(/no access to UpToDate data/);
    expect(bed.calls().filter((c) => c.includes('drbdadm primary r0'))).toHaveLength(1);
  });

  it('monitor 9 for a detached Primary', () => {
    bed = drbdBed('drbd9');
    expect(bed.run('start').code).toBe(0);
    bed.enter('primary-detached');
    expect(bed.run('monitor', { interval: 29_000 }).code).toBe(9);
  });

  it('split brain named by events2 (sync-state:SplitBrain)', () => {
    bed = drbdBed('drbd9');
    expect(bed.run('start').code).toBe(0);
    bed.enter('primary-split-brain');
    const r = bed.run('monitor', { interval: 29_000 });
    expect(r.code).toBe(8);
    expect(r.reason).toMatch(/split brain: r0 is StandAlone from nodeb/);
  });

  it('StandAlone without a split brain (older drbd-utils, disconnect in the kernel log): no split brain reported, the lost redundancy named', () => {
    bed = drbdBed('drbd9');
    expect(bed.run('start').code).toBe(0);
    bed.enter('primary-standalone-older-utils');
    const r = bed.run('monitor', { interval: 29_000 });
    expect(r.code).toBe(8);
    expect(r.reason).toBe('r0 without full redundancy: peer nodeb StandAlone');
    expect(r.stderr).not.toMatch(/split brain/);
    expect(bed.run('monitor', { interval: 29_000, env: { OCF_RA_VERSION_MAJOR: '1', OCF_RA_VERSION_MINOR: '1' } }).code).toBe(191);
    expect(bed.calls().join('\n')).toContain('drbdsetup events2 r0 --now');
  });
});

describe('ocf-tester (stand-in)', () => {
  it('passes every check, the promotable ones included', () => {
    bed = drbdBed('drbd84');
    // ocf-tester runs the agent by path; the multi-call executable dispatches on the link's name.
    const link = join(bed.dir, 'drbd');
    symlinkSync(AGENTS_EXE, link);
    const env = [...Object.entries(bed.env).map(([k, v]) => `${k}=${v}`), 'OCF_ROOT=/usr/lib/ocf'];
    const r = spawnSync('env', ['-i', ...env, 'ocf-tester', '-n', 'drbd_r0',
      '-o', 'drbd_resource=r0', '-o', `drbdconf=${bed.conf}`,
      // what Pacemaker passes a promotable clone with notify=true
      '-o', 'CRM_meta_notify=true', '-o', 'CRM_meta_clone_max=2', '-o', 'CRM_meta_on_node=node1',
      link], { encoding: 'utf8', timeout: 300_000 });
    expect(r.error).toBeUndefined();
    const out = `${r.stdout}${r.stderr}`;
    expect(out, out).toContain(`${link} passed all tests`);
    expect(r.status).toBe(0);
    // It really went through promote and demote, not around them.
    const calls = bed.calls().join('\n');
    expect(calls).toContain('drbdadm primary r0 -> 0 => primary-connected');
    expect(calls).toContain('drbdadm secondary r0 -> 0 => secondary-connected');
  });
});
