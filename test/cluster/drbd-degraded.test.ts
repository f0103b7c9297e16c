// Tier 1 proof of OCF 1.1's degraded results (issue #18.4) on a real two-node Pacemaker 2.1.5
// cluster: the Promoted drbd instance loses its peer (the stand-in enters "primary-peer-unknown", as
// DRBD does when the replication link goes), its monitor returns 191 with the cause as exit reason,
// and Pacemaker shows that in crm_mon's failed resource actions while recovering nothing: no fail
// count, no demote, stop or restart, the clone stays Promoted where it was. When the peer is back the
// monitor says 8 again and `crm_resource --cleanup` clears the record. Pacemaker 2.1.5 maps 190/191
// of a monitor to 0/8 (pcmk__effective_rc in lib/pengine/unpack.c and the controller) and lists the
// result with record_failed_op. DRBD is the stand-in (test/cluster/lib/drbd-standin.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STANDIN, STANDIN_BIN } from '../standins/drbd/bed.js';
import { drbdCloneXml, drbdStandinCalls, startDrbdStandinCluster, type DrbdStandinCluster } from './lib/drbd-standin.js';
import { sleep, TestCluster, unavailable, waitFor, type OpFailure } from './lib/index.js';

const skip = unavailable();
if (skip) console.warn(`[tier1] SKIPPED: ${skip}`);

const cibXml = (standinDir: string) => `<configuration>
  <crm_config/>
  <nodes/>
  <resources>
${drbdCloneXml(standinDir, { wfc_timeout: '1' })}
  </resources>
  <constraints/>
</configuration>`;

const pacemakerLog = (nodeDir: string) => {
  const f = join(nodeDir, 'log', 'pacemaker', 'pacemaker.log');
  return existsSync(f) ? readFileSync(f, 'utf8') : '';
};

describe.skipIf(skip)('drbd: a degraded state reaches crm_mon without a recovery action (Pacemaker 2.1.5, OCF 1.1)', () => {
  let bed: DrbdStandinCluster | undefined;
  let cluster: TestCluster;
  let standinDir: string;

  beforeAll(async () => {
    bed = await startDrbdStandinCluster('drbd-degraded-', cibXml);
    ({ cluster, standinDir } = bed);
  }, 240_000);

  afterAll(() => bed?.teardown());

  /** Moves `node`'s stand-in to `state` from outside, as DRBD changes state when a peer goes or comes. */
  const enter = (node: string, state: string) => {
    const env = {
      PATH: `${STANDIN_BIN}:/usr/sbin:/usr/bin:/sbin:/bin`,
      DRBD_STANDIN_DIR: join(standinDir, node),
      DRBD_STANDIN_SCENARIO: join(STANDIN, 'scenarios', 'drbd84.json'),
      OCFKIT_DRBD_KERNEL_ROOT: join(standinDir, node, 'kernel'),
    };
    const r = spawnSync(join(STANDIN, 'standin.mjs'), ['--enter', state], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`stand-in --enter ${state} on ${node}: ${r.stderr}`);
  };
  const promotedOn = async () => (await cluster.status()).resources.filter((r) => r.id === 'drbd_r0' && r.role === 'Promoted').flatMap((r) => r.nodes);
  const drbdFailures = async (): Promise<OpFailure[]> => (await cluster.status()).failures.filter((f) => f.opKey.startsWith('drbd_r0'));

  it('191 from the Promoted monitor: listed by crm_mon with its reason; no fail count, no demote, stop or restart', async () => {
    await waitFor('drbd_r0 promoted', 120_000, async () => ((await promotedOn()).length ? true : undefined), 500);
    await cluster.settle();
    const [promoted] = await promotedOn();
    const node = cluster.node(promoted!);
    expect(await drbdFailures()).toEqual([]);
    const callsBefore = drbdStandinCalls(standinDir, node.name).length;
    const logBefore = Object.fromEntries(cluster.nodes.map((n) => [n.name, pacemakerLog(n.dir).length]));

    enter(node.name, 'primary-peer-unknown');
    const failures = await waitFor('crm_mon to list the degraded monitor', 60_000, async () => {
      const f = await drbdFailures();
      return f.length ? f : undefined;
    }, 500);
    expect(failures).toEqual([
      expect.objectContaining({ node: node.name, task: 'monitor', exitcode: 191, exitreason: 'r0 without full redundancy: peer Connecting' }),
    ]);
    // Several more Promoted monitors (every 5 s) in that state: nothing is recovered anywhere.
    await sleep(16_000);
    await cluster.settle();
    const s = await cluster.status();
    expect(s.resources.filter((r) => r.id === 'drbd_r0').map((r) => [r.role, r.nodes.join(), r.failed]).sort()).toEqual(
      [['Promoted', node.name, false], ['Unpromoted', cluster.nodes.find((n) => n !== node)!.name, false]].sort(),
    );
    const failcount = await cluster.exec('crm_failcount', ['--query', '--resource', 'drbd_r0', '--node', node.name], { allowFail: true });
    expect(failcount.stdout, failcount.stderr).toMatch(/value=0\b/);
    for (const n of cluster.nodes) {
      const log = pacemakerLog(n.dir).slice(logBefore[n.name]);
      expect(log, n.name).not.toMatch(/Result of (stop|demote|start|promote) operation for drbd_r0 on /);
      expect(log, n.name).not.toMatch(/Recover\s+drbd_r0|Restart\s+drbd_r0/);
    }
    expect(pacemakerLog(node.dir).slice(logBefore[node.name])).toMatch(/Result of monitor operation for drbd_r0 on \S+: promoted \(degraded\)/);
    const newCalls = drbdStandinCalls(standinDir, node.name).slice(callsBefore).join('\n');
    expect(newCalls).not.toMatch(/drbdadm (down|secondary|primary) r0/);
    expect(drbdStandinCalls(standinDir, node.name).filter((l) => l.startsWith('UNRECORDED'))).toEqual([]);
    // crm_mon as an admin reads it.
    const text = (await cluster.exec('crm_mon', ['-1'], { timeoutMs: 15_000 })).stdout;
    expect(text).toMatch(/Failed Resource Actions:[\s\S]*drbd_r0[\s\S]*peer Connecting/);
    console.log(`[tier1] crm_mon -1 while degraded:\n${text.slice(text.indexOf('Failed Resource Actions:')).trim()}`);

    // The peer is back: 8 again; the record stays until an admin cleans it up, then crm_mon is clean.
    enter(node.name, 'primary-connected');
    await sleep(6_000);
    await cluster.exec('crm_resource', ['--cleanup', '--resource', 'ms_r0']);
    await waitFor('no failed drbd_r0 action after the cleanup', 60_000, async () => ((await drbdFailures()).length === 0 ? true : undefined), 500);
    await cluster.settle();
    expect(await drbdFailures()).toEqual([]);
    expect(await promotedOn()).toEqual([node.name]);
  }, 240_000);
});
