import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster } from '../../qemu/lib/cluster.js';
import { fenceIpmilanParams, startGuests, type Bed, type BmcCredentials, type Guest } from '../../qemu/lib/index.js';
import { installLockProbe, NfsClient } from './client.js';
import { addVipName, initDrbd, installPackage, VIP, VIP_NAME } from './ha-nfs.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { host } from '../../qemu/lib/sys.js';
import { addInstanceParam, buildAll, OCF_GEN, scaleOpTimeouts, stage, type Staged } from './host-prep.js';
import { checkShellAgents, NFS_SERVER_UNITS_PATH, prepareShellNode } from './shell-nodes.js';
import { shellStackCib, type AgentsUnderTest } from './shell-stack.js';

/**
 * The HA-NFS bed with fencing, as the end-to-end suite and the soak use it: n1 and n2 with a
 * data disk, a replication link (eth1 on br1: Corosync and DRBD) and a BMC each (ipmi_sim,
 * fence_ipmilan in the guests); the client on eth0's bridge only. The agents from
 * `ocf-gen install`, the CIB from `ocf-gen cib` with the ha-nfs template's fence settings.
 */

/**
 * Corosync token (ms) in the bed: 10 s instead of the 3 s the bed used without fencing, for TCG
 * speed only — emulated guests on 2 host cores shared with other work stall for seconds (measured:
 * with 5 s, a guest starved at load average ~8 lost the token during the first start and was
 * fenced). It decides how soon a lost node is noticed, never whether the result is safe: a
 * partition still ends in a fence (scenario 6; unplanned ones are resolved and checked).
 */
export const TOKEN_MS = 10_000;

/**
 * Static fencing delay on the device that fences n1: when both nodes shoot at once (a cut link),
 * n1 shoots first and survives instead of both going down. The template's fence_node1 setting
 * carries it (pcmk_delay_base), like every other device parameter.
 */
export const N1_FENCE_DELAY = '10s';

/** ha-nfs template settings for this bed (everything else: the template's defaults). */
export function cibSettings(creds: BmcCredentials): Record<string, string> {
  return {
    node1: 'n1',
    node2: 'n2',
    ip: VIP,
    export_clientspec: '10.99.0.0/24',
    fence_agent: 'fence_ipmilan',
    // Guest index 0 and 1: the BMC addresses 10.99.0.21 and .22. pcmk_reboot_action=off: a
    // fenced guest stays off (the BMC has no power-on command; the bed boots it).
    fence_node1: fenceIpmilanParams(0, creds, { pcmk_reboot_action: 'off', pcmk_delay_base: N1_FENCE_DELAY }),
    fence_node2: fenceIpmilanParams(1, creds, { pcmk_reboot_action: 'off' }),
    // TCG speed only: fence_ipmilan is Python started in an emulated guest; on a starved host its
    // monitor took over 20 s (measured under OCFKIT_E2E_CPU_HOG: the device failed to start and
    // stayed stopped, i.e. the node it fences could no longer be fenced).
    fence_timeout: '60s',
  };
}

export interface HaNfsBed {
  bed: Bed;
  n1: Guest;
  n2: Guest;
  client: NfsClient;
  staged: Staged;
  work: string;
  creds: BmcCredentials;
  timings: Record<string, number>;
}

/** `ocf-gen validate` on a CIB the bed changed; throws with its output when it does not pass. */
function validateCib(file: string, what: string): void {
  const v = host(OCF_GEN, ['validate', file], { allowFail: true, timeoutMs: 120_000 });
  if (v.code !== 0) throw new Error(`the CIB ${what} does not validate:\n${v.stdout}${v.stderr}`);
}

/**
 * Builds, stages, boots, sets up DRBD and forms the cluster (without loading the CIB yet). With
 * `agents: 'shell'` the CIB and the servers are the shell agents' (shell-stack.ts, shell-nodes.ts)
 * and the ocfkit package is not installed. With `opTimeoutScale` (the CPU-hog pass, or
 * OCFKIT_E2E_OP_TIMEOUT_SCALE) the CIB's operation timeouts are multiplied by it and probes get
 * 20 s × it (see scaleOpTimeouts); with `nfsParams` the nfs resource gets these parameters too (the
 * tickle_clients pass). Each change is checked with `ocf-gen validate`. With `nfs4` the client
 * runs an NFSv4.2 mount, writer and lock holder beside the NFSv3 ones.
 */
export async function startHaNfsBed(log: (l: string) => void, o: { agents?: AgentsUnderTest; opTimeoutScale?: number; nfsParams?: Record<string, string>; nfs4?: boolean } = {}): Promise<HaNfsBed> {
  const shell = o.agents === 'shell';
  const timings: Record<string, number> = {};
  const creds: BmcCredentials = { username: 'fencer', password: randomBytes(6).toString('hex') };
  let t = Date.now();
  buildAll();
  const work = mkdtempSync(join(tmpdir(), 'ocfkit-e2e-'));
  const staged = stage(work, cibSettings(creds));
  log(`e2e: npm run package:\n${staged.packageLog.trim()}\ne2e: ocf-gen ${staged.cibArgs.join(' ').replaceAll(creds.password, '<password>')}`);
  if (shell) {
    // First, so that the other changes below apply to the shell agents' operations and parameters.
    const rewritten = shellStackCib(readFileSync(staged.cibXml, 'utf8'), { nfsInitScript: NFS_SERVER_UNITS_PATH, notifyName: VIP_NAME });
    writeFileSync(staged.cibXml, rewritten.xml);
    validateCib(staged.cibXml, 'rewritten for the shell agents');
    log(`e2e: OCFKIT_E2E_AGENTS=shell: the CIB rewritten for ocf:heartbeat:{Filesystem,nfsserver,exportfs,IPaddr2,nfsnotify} and ocf:linbit:drbd (their meta-data's operations); left out: ${rewritten.dropped.join('; ') || 'nothing'}; ocf-gen validate: ok`);
  }
  if (o.opTimeoutScale && o.opTimeoutScale !== 1) {
    writeFileSync(staged.cibXml, scaleOpTimeouts(readFileSync(staged.cibXml, 'utf8'), o.opTimeoutScale, 20 * o.opTimeoutScale));
    validateCib(staged.cibXml, `with operation timeouts ×${o.opTimeoutScale}`);
    log(`e2e: operation timeouts ×${o.opTimeoutScale} (slow bed), op_defaults timeout ${20 * o.opTimeoutScale}s; ocf-gen validate: ok`);
  }
  const extra = Object.entries(o.nfsParams ?? {});
  if (extra.length) {
    let xml = readFileSync(staged.cibXml, 'utf8');
    for (const [k, v] of extra) xml = addInstanceParam(xml, 'nfs', k, v);
    writeFileSync(staged.cibXml, xml);
    validateCib(staged.cibXml, `with nfs ${extra.map(([k, x]) => `${k}=${x}`).join(' ')}`);
    log(`e2e: nfs ${extra.map(([k, x]) => `${k}=${x}`).join(' ')}; ocf-gen validate: ok`);
  }
  timings.hostPrep = Date.now() - t;

  t = Date.now();
  const bed = await startGuests({
    guests: [
      { name: 'n1', dataDiskMiB: 128, repl: true, bmc: true },
      { name: 'n2', dataDiskMiB: 128, repl: true, bmc: true },
      { name: 'client', dataDiskMiB: 0, memoryMiB: 512 },
    ],
    agents: false,
    bmc: creds,
    files: { 'ocfkit.deb': staged.deb, 'cib.xml': staged.cibXml },
    log,
  });
  timings.boot = Date.now() - t;
  const n1 = bed.guest('n1');
  const n2 = bed.guest('n2');
  const client = new NfsClient(bed.guest('client'), { nfs4: o.nfs4 });
  try {
    t = Date.now();
    await Promise.all(
      [n1, n2].map(async (g) => {
        if (shell) {
          log(`e2e: ${g.name}: shell agents ${await checkShellAgents(g)} (the ocfkit package is not installed)`);
          await prepareShellNode(g);
        } else {
          await installPackage(g, '/opt/ocfkit/files/ocfkit.deb', staged.agentsSha256);
        }
        await addVipName(g);
        await installLockProbe(g);
      }),
    );
    await client.prepare();
    await client.startProber();
    timings.guestSetup = Date.now() - t;

    t = Date.now();
    await initDrbd(n1, n2, log);
    timings.drbdInitialSync = Date.now() - t;

    t = Date.now();
    await startCluster([n1, n2], { tokenMs: TOKEN_MS, fencing: true });
    timings.clusterForm = Date.now() - t;
  } catch (e) {
    await bed.teardown().catch(() => undefined);
    throw e;
  }
  return { bed, n1, n2, client, staged, work, creds, timings };
}
