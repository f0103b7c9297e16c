// Tier 1 proof of live reconfiguration (issue #16.2): a parameter change of ocf:ocfkit:drbd on a real
// two-node Pacemaker 2.1 cluster reloads the agent (OCF 1.1 reload-agent) instead of restarting DRBD and
// everything that depends on it. DRBD itself is the stand-in (test/standins/drbd: this kernel has no
// DRBD module), reached through a test-only provider `ocfkit-standin` whose `drbd` is a wrapper that
// puts the stand-in first in PATH and then runs the built agents executable, so Pacemaker's controller
// reads the agent's real meta-data and execd runs the real agent.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drbdCloneXml, drbdStandinCalls, startDrbdStandinCluster, type DrbdStandinCluster } from './lib/drbd-standin.js';
import { TestCluster, unavailable, waitFor } from './lib/index.js';

const skip = unavailable();
if (skip) console.warn(`[tier1] SKIPPED: ${skip}`);

const cibXml = (standinDir: string) => `<configuration>
  <crm_config/>
  <nodes/>
  <resources>
${drbdCloneXml(standinDir, { wfc_timeout: '1' })}
    <group id="svc">
      <primitive id="svc_a" class="ocf" provider="pacemaker" type="Dummy"/>
      <primitive id="svc_b" class="ocf" provider="pacemaker" type="Dummy"/>
    </group>
  </resources>
  <constraints>
    <rsc_colocation id="svc-with-drbd" rsc="svc" with-rsc="ms_r0" with-rsc-role="Promoted" score="INFINITY"/>
    <rsc_order id="drbd-before-svc" first="ms_r0" first-action="promote" then="svc" then-action="start" kind="Mandatory"/>
  </constraints>
</configuration>`;

const pacemakerLog = (nodeDir: string) => {
  const f = join(nodeDir, 'log', 'pacemaker', 'pacemaker.log');
  return existsSync(f) ? readFileSync(f, 'utf8') : '';
};

interface OpRecord {
  rsc: string;
  node: string;
  operation: string;
  callId: number;
}

/** The last non-recurring operation of each resource on each node (`<rsc>_last_0` in the status section). */
function lastOps(cib: string): OpRecord[] {
  const out: OpRecord[] = [];
  for (const state of cib.matchAll(/<node_state\b[^>]*\buname="([^"]+)"[\s\S]*?<\/node_state>/g)) {
    for (const op of state[0].matchAll(/<lrm_rsc_op\b[^>]*\bid="([^"]+)_last_0"[^>]*>/g)) {
      const operation = /\boperation="([^"]+)"/.exec(op[0])?.[1] ?? '';
      const callId = Number(/\bcall-id="(-?\d+)"/.exec(op[0])?.[1]);
      out.push({ rsc: op[1]!, node: state[1]!, operation, callId });
    }
  }
  return out;
}

describe.skipIf(skip)('drbd: a reloadable parameter changes on a running cluster without a restart (reload-agent)', () => {
  let bed: DrbdStandinCluster | undefined;
  let cluster: TestCluster;
  let standinDir: string;

  beforeAll(async () => {
    bed = await startDrbdStandinCluster('drbd-reload-', cibXml);
    ({ cluster, standinDir } = bed);
  }, 240_000);

  afterAll(() => bed?.teardown());

  const query = async () => (await cluster.exec('cibadmin', ['--query'], { timeoutMs: 15_000 })).stdout;
  const calls = (node: string) => drbdStandinCalls(standinDir, node);

  it('crm_simulate on the running CIB: reload of drbd_r0, no restart, nothing of the group; drbd_resource still restarts', async () => {
    const where = await cluster.waitPlaced(['svc_a', 'svc_b'], 120_000);
    await cluster.settle();
    const running = await query();
    expect(lastOps(running).filter((o) => o.rsc === 'drbd_r0').map((o) => o.operation).sort()).toEqual(['promote', 'start'].sort());

    // The controller recorded that the agent reloads: op-force-restart lists what does not (drbd_resource only).
    expect(running).toMatch(/id="drbd_r0_last_0"[^>]*op-force-restart="\s*drbd_resource\s*"/);

    const dir = mkdtempSync(join(tmpdir(), 'drbd-reload-sim-'));
    try {
      const simulate = async (param: string, value: string) => {
        const file = join(dir, `${param}.xml`);
        writeFileSync(file, running);
        await cluster.exec('crm_resource', ['--resource', 'drbd_r0', '--set-parameter', param, '--parameter-value', value], { env: { CIB_file: file } });
        return (await cluster.exec('crm_simulate', ['-x', file, '-S'], { timeoutMs: 30_000 })).stdout;
      };
      // wfc_timeout is the example; adjust_master_score changes what the monitors score.
      for (const [param, value] of [['adjust_master_score', '0 10 1000 20000'], ['wfc_timeout', '7']] as const) {
        const reload = await simulate(param, value);
        const summary = reload.slice(reload.indexOf('Transition Summary:'), reload.indexOf('Executing Cluster Transition:'));
        expect(summary, param).toMatch(/Reload\s+drbd_r0:\d\s/);
        expect(summary).not.toMatch(/^\s*\* (Restart|Stop|Start|Demote|Promote|Move|Recover)\s/m);
        expect(reload).toMatch(/Resource action: drbd_r0\s+reload-agent on node/);
        expect(reload).not.toMatch(/Resource action: svc_[ab]\s+(stop|start)/);
      }

      // Control: a parameter that is not reloadable (the unique drbd_resource) still restarts, and the group with it.
      const restart = await simulate('drbd_resource', 'r1');
      expect(restart).toMatch(/Restart\s+drbd_r0:\d/);
      expect(restart).toMatch(/Restart\s+svc_a/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(where.name).toMatch(/^node[12]$/);
  }, 240_000);

  it('crm_resource --set-parameter on the live cluster: reload-agent runs, DRBD and the group are not stopped', async () => {
    await cluster.settle();
    const before = lastOps(await query());
    const promotedBefore = (await cluster.status()).resources.find((r) => r.id === 'drbd_r0' && r.role === 'Promoted');
    expect(promotedBefore).toBeDefined();
    const callsBefore = Object.fromEntries(cluster.nodes.map((n) => [n.name, calls(n.name).length]));
    const logBefore = Object.fromEntries(cluster.nodes.map((n) => [n.name, pacemakerLog(n.dir).length]));

    await cluster.exec('crm_resource', ['--resource', 'drbd_r0', '--set-parameter', 'wfc_timeout', '--parameter-value', '3']);
    // Pacemaker records a successful reload as a new "start" of the same resource (pcmk__create_history_xml).
    const drbdCall = (ops: OpRecord[], node: string) => ops.find((o) => o.rsc === 'drbd_r0' && o.node === node)?.callId ?? -1;
    let seen: OpRecord[] = [];
    await waitFor('a new drbd_r0 operation recorded on both nodes', 60_000, async () => {
      seen = lastOps(await query());
      return cluster.nodes.every((n) => drbdCall(seen, n.name) > drbdCall(before, n.name));
    }, 500).catch((e: unknown) => {
      throw new Error(`${String(e)}; last operations: ${JSON.stringify(seen)}`);
    });
    await cluster.settle();
    const after = lastOps(await query());

    for (const n of cluster.nodes) {
      // The controller ran reload-agent, and nothing that stops or restarts DRBD.
      const log = pacemakerLog(n.dir).slice(logBefore[n.name]);
      expect(log, n.name).toMatch(/Result of reload-agent operation for drbd_r0 on /);
      expect(log, n.name).not.toMatch(/Result of (stop|demote|start|promote) operation for drbd_r0 on /);
      // DRBD (the stand-in) saw the reload's adjust and never a down or a role change.
      const newCalls = calls(n.name).slice(callsBefore[n.name]).join('\n');
      expect(newCalls, n.name).toMatch(/drbdadm adjust r0/);
      expect(newCalls, n.name).not.toMatch(/drbdadm (down|secondary|primary) r0/);
      expect(calls(n.name).filter((l) => l.startsWith('UNRECORDED')), n.name).toEqual([]);
    }
    // The group: the same last operation with the same call id on every node (never stopped or started again).
    for (const rsc of ['svc_a', 'svc_b']) expect(after.filter((o) => o.rsc === rsc), rsc).toEqual(before.filter((o) => o.rsc === rsc));

    // Still Promoted where it was, with its score.
    const promoted = (await cluster.status()).resources.find((r) => r.id === 'drbd_r0' && r.role === 'Promoted');
    expect(promoted?.nodes).toEqual(promotedBefore!.nodes);
    const score = await cluster.exec('crm_attribute', ['--promotion=drbd_r0', '--node', promoted!.nodes[0]!, '--lifetime=reboot', '--query', '--quiet']);
    expect(score.stdout.trim()).toBe('10000');
  }, 180_000);

  /**
   * Pacemaker 2.1.5 (and its main branch as of 2026-12): a probe that finds a resource running (after
   * crm_resource --refresh, or --cleanup of a failure) is kept twice, as <rsc>_last_0 and as
   * <rsc>_last_failure_0, and only the first copy gets the reload digest (op-restart-digest). The
   * scheduler checks both: for the copy without it, "agent doesn't support reload", so the next change
   * of a reloadable parameter is first planned as a restart. The controller deletes the stale copy as
   * that transition starts, which aborts it and the recomputed transition reloads; what was dispatched
   * in between (the stop of what depends on the resource) has run. The agent is never stopped.
   */
  it('after crm_resource --refresh (Pacemaker keeps the probe as a failure record without the reload digest): drbd still reloads, never stops', async () => {
    await cluster.settle();
    await cluster.exec('crm_resource', ['--refresh', '--resource', 'drbd_r0'], { timeoutMs: 30_000 });
    await cluster.settle();
    const staleFailureRecords = (cib: string) =>
      [...cib.matchAll(/<lrm_rsc_op\b[^>]*\bid="drbd_r0_last_failure_0"[^>]*>/g)].map((m) => m[0]).filter((op) => /\boperation="monitor"/.test(op) && /\binterval="0"/.test(op) && !/\bop-restart-digest=/.test(op));
    // The precondition this test is about: if Pacemaker stops keeping the record, this fails and the docs change.
    expect(staleFailureRecords(await query()), 'probe results kept as last_failure_0 without op-restart-digest').toHaveLength(2);
    const callsBefore = Object.fromEntries(cluster.nodes.map((n) => [n.name, calls(n.name).length]));
    const logBefore = Object.fromEntries(cluster.nodes.map((n) => [n.name, pacemakerLog(n.dir).length]));

    await cluster.exec('crm_resource', ['--resource', 'drbd_r0', '--set-parameter', 'wfc_timeout', '--parameter-value', '4']);
    const since = (n: { name: string; dir: string }) => pacemakerLog(n.dir).slice(logBefore[n.name]);
    await waitFor('reload-agent of drbd_r0 on both nodes', 60_000, async () => cluster.nodes.every((n) => /Result of reload-agent operation for drbd_r0 on /.test(since(n))), 500);
    await cluster.settle();
    const dc = cluster.nodes.map((n) => since(n)).join('\n');
    console.log(`[tier1] after --refresh, the scheduler: ${dc.split('\n').filter((l) => /Actions: |aborted by deletion/.test(l)).map((l) => l.replace(/^.*?(Actions: |Transition)/, '$1').replace(/\s+/g, ' ').slice(0, 120)).join(' | ')}`);
    for (const n of cluster.nodes) {
      const log = since(n);
      expect(log, n.name).toMatch(/Result of reload-agent operation for drbd_r0 on /);
      expect(log, n.name).not.toMatch(/Result of (stop|demote|start|promote) operation for drbd_r0 on /);
      const newCalls = calls(n.name).slice(callsBefore[n.name]).join('\n');
      expect(newCalls, n.name).not.toMatch(/drbdadm (down|secondary|primary) r0/);
    }
    expect(staleFailureRecords(await query()), 'the stale records are gone after the transition').toEqual([]);
  }, 180_000);
});
