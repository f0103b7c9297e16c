import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { have, isRoot, uniqueName } from '../../helpers/system.js';
import { ArpCapture } from './capture.js';
import { type LoadedCib, loadCib, seedCib } from './cib.js';
import { corosyncConf } from './corosync-conf.js';
import { type ClusterStatus, parseCrmMon, type ResourceState } from './crm-mon.js';
import { Hopeless, type RunOptions, type RunResult, waitFor } from './exec.js';
import { LoopDisk } from './loop-disk.js';
import { ClusterNode } from './node.js';
import { BRIDGE, deleteNetns, nodeAddress, Switch } from './network.js';
import { installOcfkit } from './ocfkit.js';
import { reapStaleRuns, RunManifest } from './stale-runs.js';
import { tiersRequired } from '../../helpers/tiers.js';

/** Tools the bed needs on the host (Debian: pacemaker corosync pacemaker-cli-utils resource-agents libxml2-utils iproute2 iputils-arping tcpdump e2fsprogs util-linux). */
export const REQUIRED_TOOLS = [
  'corosync', 'corosync-cfgtool', 'pacemakerd', 'cibadmin', 'crm_mon', 'crm_resource', 'crm_attribute',
  'xmllint', 'ip', 'arping', 'tcpdump', 'nsenter', 'unshare', 'setsid', 'setpriv', 'findmnt', 'losetup', 'mkfs.ext4',
];

/**
 * Why this machine cannot host the bed at all (not root, no namespaces), or undefined when it can.
 * Tests skip the tier with this reason. Missing tools are not a reason to skip: create() fails.
 */
export function unavailable(): string | undefined {
  const reason = whyUnavailable();
  // CI sets OCFKIT_TIERS_REQUIRED=1: there a tier that cannot run is a failure, never a quiet skip.
  if (reason && tiersRequired()) throw new Error(`tier-1 cluster bed required (OCFKIT_TIERS_REQUIRED=1) but unavailable: ${reason}`);
  return reason;
}

function whyUnavailable(): string | undefined {
  if (!isRoot()) return 'the tier-1 cluster bed needs root (network/mount/PID namespaces, loop devices)';
  const r = spawnSync('unshare', ['--net', '--mount', '--uts', '--pid', '--fork', 'true'], { encoding: 'utf8', timeout: 10_000 });
  if (!r.error && r.status !== 0) return `namespaces are not available here: ${(r.stderr ?? '').trim()}`;
  return undefined;
}

/** Host tools the bed needs and this machine lacks. */
export function missingTools(): string[] {
  return REQUIRED_TOOLS.filter((t) => !have(t));
}

export interface ClusterOptions {
  /** Number of nodes: 2 (two_node quorum) or 3. */
  nodes?: number;
  /** Corosync's totem token (ms). 1000 → a dead node is noticed in ~2 s. */
  tokenMs?: number;
  /** Overlay the built ocfkit agents (ocf-gen install) on every node's /usr/lib/ocf. Default true. */
  ocfkit?: boolean;
  /** Bound on cluster formation. */
  formTimeoutMs?: number;
  /** Adds to the installed OCF tree (e.g. a test provider) before the nodes overlay it. */
  prepareOcf?: (ocfDir: string) => Promise<void> | void;
}

/** Clusters not yet torn down: the safety net below cleans them up if the process exits first. */
const live = new Set<TestCluster>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live) c.emergencyTeardown();
  });
}

/** Like Promise.all, but waits for every promise to settle first (so a teardown never races a node still booting). */
async function allOrThrow(ps: Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(ps)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

export interface WaitOptions {
  /** Keep waiting when crm_mon lists failed operations (a test of recovery); by default one ends the wait. */
  tolerateFailures?: boolean;
}

function checkFailures(s: ClusterStatus, o: WaitOptions): void {
  if (!s.failures.length) return;
  const text = `failed operations: ${s.failures.map((f) => `${f.opKey} on ${f.node}: rc=${f.exitcode} ${f.exitreason}`).join('; ')}`;
  throw o.tolerateFailures ? new Error(text) : new Hopeless(text);
}

export interface Timing {
  label: string;
  ms: number;
}

/**
 * A real Pacemaker+Corosync cluster on this machine: N nodes in their own namespaces on a private
 * bridge. Create it with `await TestCluster.create()`, always `await cluster.teardown()`.
 */
export class TestCluster {
  readonly nodes: ClusterNode[] = [];
  readonly timings: Timing[] = [];
  private switch_?: Switch;
  private readonly disks: LoopDisk[] = [];
  private readonly captures: ArpCapture[] = [];
  private tornDown = false;
  private readonly manifest: RunManifest;

  private constructor(
    /** Unique per run: prefix of every namespace. */
    readonly id: string,
    /** Host directory with all of the run's files. */
    readonly dir: string,
  ) {
    this.manifest = new RunManifest(dir);
  }

  static async create(o: ClusterOptions = {}): Promise<TestCluster> {
    const why = unavailable();
    if (why) throw new Error(why);
    const missing = missingTools();
    if (missing.length)
      throw new Error(`missing tools: ${missing.join(', ')} (apt-get install -y pacemaker corosync pacemaker-cli-utils resource-agents libxml2-utils iproute2 iputils-arping tcpdump e2fsprogs)`);
    const count = o.nodes ?? 2;
    if (count < 2 || count > 3) throw new Error('the bed runs 2 or 3 nodes');
    for (const d of reapStaleRuns()) console.log(`[tier1] cleaned up after a killed run: ${d}`);
    const id = uniqueName('ocl');
    const c = new TestCluster(id, mkdtempSync(join(tmpdir(), `ocfkit-${id}-`)));
    installExitHook();
    live.add(c);
    try {
      c.manifest.addNamespace(`${id}-sw`); // recorded before it exists: a killed run leaves nothing unlisted
      c.switch_ = await Switch.create(`${id}-sw`);
      const ocfDir = o.ocfkit === false ? undefined : join(c.dir, 'ocf');
      if (ocfDir) await installOcfkit(ocfDir);
      if (ocfDir && o.prepareOcf) await o.prepareOcf(ocfDir);
      const seed = await seedCib(c.dir);
      const members = Array.from({ length: count }, (_, i) => ({ name: `node${i + 1}`, nodeid: i + 1, address: nodeAddress(i + 1) }));
      const conf = corosyncConf({ clusterName: id, members, tokenMs: o.tokenMs ?? 1000 });
      for (const m of members) {
        const node = new ClusterNode(m.name, m.nodeid, `${id}-${m.name}`, m.address, join(c.dir, m.name), ocfDir);
        c.nodes.push(node);
        c.manifest.addNamespace(node.ns);
        await c.switch_.plug(`sw-${m.name}`, node.ns);
        node.prepare(conf, seed);
      }
      await allOrThrow(c.nodes.map((n) => n.powerOn()));
      const t0 = Date.now();
      await allOrThrow(c.nodes.map((n) => n.startStack()));
      await c.waitFormed(o.formTimeoutMs ?? 60_000);
      c.record('formation', Date.now() - t0);
      return c;
    } catch (e) {
      await c.teardown().catch((te: unknown) => console.error(`[tier1] teardown after a failed create: ${String(te)}`));
      throw e;
    }
  }

  get switch(): Switch {
    if (!this.switch_) throw new Error('no switch');
    return this.switch_;
  }

  node(name: string): ClusterNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  /** Nodes whose cluster stack runs (powered on, not gracefully stopped). */
  get members(): ClusterNode[] {
    return this.nodes.filter((n) => n.stackRunning);
  }

  /** Runs a command on a node (default: the first member). */
  exec(cmd: string, args: string[], o: RunOptions & { on?: ClusterNode } = {}): Promise<RunResult> {
    const on = o.on ?? this.members[0];
    if (!on) throw new Error('no node runs the cluster stack');
    return on.exec(cmd, args, o);
  }

  /** The cluster as `crm_mon` on `on` sees it. */
  async status(on?: ClusterNode): Promise<ClusterStatus> {
    return parseCrmMon((await this.exec('crm_mon', ['-1', '-r', '--output-as=xml'], { on, timeoutMs: 15_000 })).stdout);
  }

  /**
   * Waits until every node whose cluster stack runs sees the same DC, quorum, and exactly the
   * stack-running nodes online.
   */
  async waitFormed(timeoutMs = 60_000, members: ClusterNode[] = this.members): Promise<void> {
    const want = members.map((n) => n.name).sort().join(',');
    await waitFor(`the cluster to form with ${want}`, timeoutMs, async () => {
      const dcs = new Set<string>();
      for (const n of members) {
        const s = await this.status(n);
        const online = s.nodes.filter((x) => x.online).map((x) => x.name).sort().join(',');
        if (!s.dc || !s.quorum || online !== want) throw new Error(`${n.name} sees dc=${s.dc ?? 'none'} quorum=${s.quorum} online=[${online}]`);
        dcs.add(s.dc);
      }
      if (dcs.size !== 1) throw new Error(`nodes disagree on the DC: ${[...dcs].join(', ')}`);
      return true;
    }, 250);
  }

  /** Loads a CIB (`ocf-gen cib` output or a test's XML) into the running cluster: see loadCib. */
  loadCib(xml: string): Promise<LoadedCib> {
    return loadCib((cmd, args, o) => this.exec(cmd, args, o), xml);
  }

  /** Primitives (groups and clones flattened) as `on` sees them. */
  async resources(on?: ClusterNode): Promise<ResourceState[]> {
    return (await this.status(on)).resources;
  }

  /**
   * Waits until each of `ids` is Started on `node` alone (as `node` itself reports it). A failed
   * operation ends the wait at once (unless o.tolerateFailures). Returns when that was first seen.
   */
  async waitStarted(ids: string[], node: ClusterNode, timeoutMs = 60_000, o: WaitOptions = {}): Promise<number> {
    await waitFor(`${ids.join(', ')} to be started on ${node.name}`, timeoutMs, async () => {
      const s = await this.status(node);
      checkFailures(s, o);
      for (const id of ids) {
        const r = s.resources.find((x) => x.id === id);
        if (!r) throw new Error(`no resource ${id}`);
        if (r.role !== 'Started' || !r.active || r.failed || r.nodes.join(',') !== node.name)
          throw new Error(`${id}: role=${r.role} on [${r.nodes.join(',')}]`);
      }
      return true;
    }, 100);
    return Date.now();
  }

  /**
   * Waits until each of `ids` is Started on one and the same node, a member (the harness knows a
   * powered-off node is gone before the cluster does); returns that node.
   */
  async waitPlaced(ids: string[], timeoutMs = 60_000, o: WaitOptions = {}): Promise<ClusterNode> {
    const name = await waitFor(`${ids.join(', ')} to be started`, timeoutMs, async () => {
      const s = await this.status();
      checkFailures(s, o);
      const where = new Set<string>();
      for (const id of ids) {
        const r = s.resources.find((x) => x.id === id);
        if (!r || r.role !== 'Started' || !r.active || r.nodes.length !== 1) throw new Error(`${id}: ${r ? `role=${r.role} on [${r.nodes.join(',')}]` : 'missing'}`);
        where.add(r.nodes[0]!);
      }
      const [name] = [...where];
      if (where.size !== 1 || !this.members.some((n) => n.name === name)) throw new Error(`started on [${[...where].join(',')}]`);
      return name;
    }, 100);
    return this.node(name!);
  }

  /** Waits until the cluster has no pending actions (`crm_resource --wait`), bounded by `timeoutMs`. */
  async settle(timeoutMs = 60_000): Promise<void> {
    await this.exec('crm_resource', ['--wait', `--timeout=${Math.ceil(timeoutMs / 1000)}s`], { timeoutMs: timeoutMs + 5000 });
  }

  /** `crm_resource --move` (a cli-prefer constraint) to `node`. */
  async move(resource: string, node: ClusterNode): Promise<void> {
    await this.exec('crm_resource', ['--move', '--resource', resource, '--node', node.name]);
  }

  /** `crm_resource --clear`: removes the constraints --move/--ban left. */
  async clear(resource: string): Promise<void> {
    await this.exec('crm_resource', ['--clear', '--resource', resource]);
  }

  /** Hard power off of a node (see ClusterNode.powerOff). Returns the kill time. */
  powerOff(node: ClusterNode): Promise<number> {
    return node.powerOff();
  }

  /** Powers a node back on and starts its stack; returns once it has rejoined the cluster. */
  async powerOn(node: ClusterNode, timeoutMs = 60_000): Promise<void> {
    const t0 = Date.now();
    await node.powerOn();
    await node.startStack();
    await this.waitFormed(timeoutMs);
    this.record('rejoin after power on', Date.now() - t0);
  }

  /** Graceful stop of a node's Pacemaker and Corosync (the node stays on); waits until the others see it leave. */
  async stop(node: ClusterNode, timeoutMs = 60_000): Promise<void> {
    const t0 = Date.now();
    await node.stopStack(timeoutMs);
    await this.waitFormed(timeoutMs);
    this.record('graceful stop', Date.now() - t0);
  }

  /** Starts a gracefully stopped node's stack again; returns once it has rejoined. */
  async start(node: ClusterNode, timeoutMs = 60_000): Promise<void> {
    const t0 = Date.now();
    await node.startStack();
    await this.waitFormed(timeoutMs);
    this.record('rejoin after graceful stop', Date.now() - t0);
  }

  /** A disk all nodes see (loop device with a fresh filesystem); detached at teardown. */
  async sharedDisk(o: { sizeMiB?: number; fstype?: 'ext4' | 'xfs' } = {}): Promise<LoopDisk> {
    const d = await LoopDisk.create(this.dir, { name: `disk${this.disks.length}`, ...o, onAttached: (dev, img) => this.manifest.addLoop(dev, img) });
    this.disks.push(d);
    return d;
  }

  /** Starts capturing ARP on the switch's bridge; stopped at teardown (or by the test). */
  async captureArp(): Promise<ArpCapture> {
    const c = await ArpCapture.start(this.switch.ns, BRIDGE, this.dir, `arp${this.captures.length}`);
    this.captures.push(c);
    return c;
  }

  /** Records a measured duration: printed, kept in `timings`, appended to $OCFKIT_CLUSTER_TIMINGS (JSON lines) if set. */
  record(label: string, ms: number): void {
    this.timings.push({ label, ms });
    console.log(`[tier1] ${label}: ${(ms / 1000).toFixed(2)} s`);
    const file = process.env.OCFKIT_CLUSTER_TIMINGS;
    if (file) appendFileSync(file, `${JSON.stringify({ bed: 'tier1', nodes: this.nodes.length, label, ms })}\n`);
  }

  /**
   * Always safe to call (idempotent, every step attempted): stops the captures, kills each node's
   * PID 1 (by PID), detaches the loop devices, deletes the namespaces and the run's directory
   * (kept when OCFKIT_CLUSTER_KEEP=1).
   */
  async teardown(): Promise<void> {
    if (this.tornDown) return;
    this.tornDown = true;
    live.delete(this);
    const errors: unknown[] = [];
    const attempt = async (f: () => Promise<unknown>) => {
      try {
        await f();
      } catch (e) {
        errors.push(e);
      }
    };
    for (const c of this.captures) await attempt(() => c.stop());
    for (const n of this.nodes) if (n.isOn) await attempt(() => n.powerOff());
    for (const d of this.disks) await attempt(() => d.detach());
    for (const n of this.nodes) await attempt(() => deleteNetns(n.ns));
    if (this.switch_) await attempt(() => deleteNetns(this.switch.ns));
    // OCFKIT_CLUSTER_KEEP=1 keeps the run's directory (node logs, CIBs, captures) for a post-mortem.
    if (process.env.OCFKIT_CLUSTER_KEEP === '1') {
      console.log(`[tier1] kept ${this.dir}`);
      await attempt(async () => rmSync(join(this.dir, 'manifest.json'), { force: true })); // nothing left to reap
    } else await attempt(async () => rmSync(this.dir, { recursive: true, force: true }));
    if (errors.length) throw new AggregateError(errors, `teardown of ${this.id}: ${errors.map(String).join('; ')}`);
  }

  /**
   * Synchronous last resort when the process exits without teardown() (a test that forgot it):
   * same steps, best effort. Processes are also covered by their parent-death signal.
   */
  emergencyTeardown(): void {
    if (this.tornDown) return;
    this.tornDown = true;
    const quiet = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
    for (const c of this.captures) c.kill();
    for (const n of this.nodes) n.emergencyKill();
    for (const d of this.disks) {
      const back = spawnSync('losetup', ['--list', '--noheadings', '--output', 'BACK-FILE', d.device], { encoding: 'utf8', timeout: 10_000 });
      if (back.stdout?.trim().replace(/ \(deleted\)$/, '') === d.image) quiet('losetup', ['--detach', d.device]);
    }
    for (const ns of [...this.nodes.map((n) => n.ns), `${this.id}-sw`]) if (existsSync(`/run/netns/${ns}`)) quiet('ip', ['netns', 'del', ns]);
    rmSync(process.env.OCFKIT_CLUSTER_KEEP === '1' ? join(this.dir, 'manifest.json') : this.dir, { recursive: true, force: true });
  }
}
