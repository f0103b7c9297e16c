import { XMLParser } from 'fast-xml-parser';

/**
 * The cluster's own view, read from its own tools: where resources run (`crm_mon --output-as=xml`)
 * and what the executors did, in which order (the CIB's status section, `cibadmin --query --scope
 * status`: one lrm_rsc_op per resource, node and operation kind, with the executor's call-id, which
 * increases with every operation a node's executor runs).
 */

const LISTS = new Set(['node', 'resource', 'clone', 'group', 'node_state', 'lrm_resource', 'lrm_rsc_op', 'attribute']);
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => LISTS.has(name) });

type X = Record<string, unknown>;
const list = (v: unknown): X[] => (Array.isArray(v) ? (v as X[]) : []);
const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

export interface Placement {
  id: string;
  role: string;
  node: string;
  failed: boolean;
}

export interface ClusterState {
  online: string[];
  dc: string | undefined;
  /** Every active resource instance, one entry per node it is on. */
  placements: Placement[];
}

/** crm_mon -1 --output-as=xml → who is online, who is DC, where each resource runs in which role. */
export function parseCrmMon(xml: string): ClusterState {
  const doc = parser.parse(xml) as X;
  const root = (doc['pacemaker-result'] ?? {}) as X;
  const nodes = list((root.nodes as X | undefined)?.node);
  const resources = (root.resources ?? {}) as X;
  const all: X[] = [...list(resources.resource)];
  for (const c of [...list(resources.clone), ...list(resources.group)]) {
    all.push(...list(c.resource));
    for (const g of list(c.group)) all.push(...list(g.resource));
  }
  const placements: Placement[] = [];
  for (const r of all) {
    if (str(r.active) !== 'true') continue;
    for (const n of list(r.node)) placements.push({ id: str(r.id), role: str(r.role), node: str(n.name), failed: str(r.failed) === 'true' });
  }
  return {
    online: nodes.filter((n) => str(n.online) === 'true').map((n) => str(n.name)),
    dc: nodes.find((n) => str(n.is_dc) === 'true')?.name as string | undefined,
    placements,
  };
}

/** Nodes where resource `id` is active in `role` (any role when omitted). */
export function where(s: ClusterState, id: string, role?: string): string[] {
  return s.placements.filter((p) => p.id === id && (role === undefined || p.role === role)).map((p) => p.node);
}

export interface OpRecord {
  node: string;
  rsc: string;
  /** start, stop, promote, demote, monitor, notify… */
  op: string;
  /** The record's id: <rsc>_last_0, <rsc>_monitor_<ms>, <rsc>_last_failure_0, <rsc>_post_notify_… */
  key: string;
  callId: number;
  rc: number;
  interval: number;
  /** Seconds since the epoch (the executor's clock, whole seconds). */
  lastRcChange: number;
  execMs: number;
  exitReason: string;
}

/** cibadmin --query --scope status → every operation record of every node. */
export function parseStatus(xml: string): OpRecord[] {
  const doc = parser.parse(xml) as X;
  const status = (doc.status ?? (doc.cib as X | undefined)?.status ?? {}) as X;
  const out: OpRecord[] = [];
  for (const ns of list(status.node_state)) {
    const node = str(ns.uname);
    const lrm = (ns.lrm ?? {}) as X;
    for (const r of list((lrm.lrm_resources as X | undefined)?.lrm_resource)) {
      for (const op of list(r.lrm_rsc_op)) {
        out.push({
          node,
          // Anonymous clone instances are recorded as "drbd" or "drbd:0".
          rsc: str(r.id).replace(/:\d+$/, ''),
          op: str(op.operation),
          key: str(op.id),
          callId: Number(op['call-id']),
          rc: Number(op['rc-code']),
          interval: Number(op.interval ?? 0),
          lastRcChange: Number(op['last-rc-change'] ?? op['last-run'] ?? 0),
          execMs: Number(op['exec-time'] ?? 0),
          exitReason: str(op['exit-reason']),
        });
      }
    }
  }
  return out;
}

/** The latest completed (call-id ≥ 0) non-recurring operation `op` of `rsc` on `node`. */
export function lastOp(ops: OpRecord[], node: string, rsc: string, op: string): OpRecord | undefined {
  return ops
    .filter((o) => o.node === node && o.rsc === rsc && o.op === op && o.interval === 0 && o.callId >= 0)
    .sort((a, b) => b.callId - a.callId)[0];
}

export interface Step {
  rsc: string;
  op: string;
}

/**
 * Checks that on `node` the steps ran in the given order, each successfully, by the executor's
 * call-ids (all after `afterCallId` when given, i.e. in this scenario). Returns problems in words.
 */
export function checkOrder(ops: OpRecord[], node: string, steps: Step[], afterCallId = -1): { ok: boolean; problems: string[]; records: OpRecord[] } {
  const problems: string[] = [];
  const records: OpRecord[] = [];
  let prev: OpRecord | undefined;
  for (const s of steps) {
    const r = lastOp(ops, node, s.rsc, s.op);
    if (!r) {
      problems.push(`${node}: no ${s.op} of ${s.rsc} in the cluster's history`);
      continue;
    }
    records.push(r);
    if (r.callId <= afterCallId) problems.push(`${node}: the last ${s.op} of ${s.rsc} (call ${r.callId}) is older than this scenario (call ${afterCallId})`);
    const okRc = s.op === 'monitor' ? [0, 8].includes(r.rc) : r.rc === 0;
    if (!okRc) problems.push(`${node}: ${s.op} of ${s.rsc} returned ${r.rc}${r.exitReason ? ` (${r.exitReason})` : ''}`);
    if (prev && r.callId <= prev.callId) problems.push(`${node}: ${s.op} of ${s.rsc} (call ${r.callId}) ran before ${prev.op} of ${prev.rsc} (call ${prev.callId})`);
    prev = r;
  }
  return { ok: problems.length === 0, problems, records };
}

/**
 * The executor's time for each of `steps` on `node` that ran after `afterCallId` (in this scenario),
 * in seconds, keyed "<rsc> <op>" ("nfs start"): where a takeover's time went, agent by agent. Steps
 * that did not run there since are left out.
 */
export function stepSeconds(ops: OpRecord[], node: string, steps: Step[], afterCallId: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of steps) {
    const r = lastOp(ops, node, s.rsc, s.op);
    if (r && r.callId > afterCallId) out[`${s.rsc} ${s.op}`] = r.execMs / 1000;
  }
  return out;
}

/** A restart of `members` (in start order): stopped in reverse, then started in order. */
export const restartSteps = (members: readonly string[]): Step[] => [
  ...[...members].reverse().map((rsc) => ({ rsc, op: 'stop' })),
  ...members.map((rsc) => ({ rsc, op: 'start' })),
];

/** The highest call-id of a node's executor so far (the start of a scenario's history). */
export function maxCallId(ops: OpRecord[], node: string): number {
  return ops.filter((o) => o.node === node).reduce((m, o) => Math.max(m, o.callId), -1);
}

/**
 * Pacemaker's log lines for completed operations, in file order:
 * "... Result of start operation for fs on n1: ok | ..." (pacemaker-controld, log_executor_event).
 */
export function resultLines(log: string): Array<{ op: string; rsc: string; node: string; result: string; line: string }> {
  const out = [];
  for (const line of log.split('\n')) {
    const m = /Result of ([\w-]+) operation for (\S+) on (\S+): (.*?)(?: \||$)/.exec(line);
    if (m) out.push({ op: m[1]!, rsc: m[2]!.replace(/:\d+$/, ''), node: m[3]!, result: m[4]!.trim(), line });
  }
  return out;
}

export type ResultLine = ReturnType<typeof resultLines>[number];

/**
 * Checks that Pacemaker's log has, for `node`, the steps in this order, each with result "ok"
 * (other results may come in between: monitors, notifications). For sequences the CIB's history
 * cannot show (a stop followed by a start of the same resource keeps only the start there).
 */
export function checkLogSequence(results: ResultLine[], node: string, steps: Step[]): { ok: boolean; problems: string[]; found: ResultLine[] } {
  const found: ResultLine[] = [];
  let i = 0;
  for (const s of steps) {
    while (i < results.length && !(results[i]!.node === node && results[i]!.rsc === s.rsc && results[i]!.op === s.op)) i++;
    if (i === results.length) {
      const seen = results.filter((r) => r.node === node).map((r) => `${r.op} ${r.rsc}: ${r.result}`);
      return { ok: false, problems: [`${node}: no "${s.op} ${s.rsc}" after ${found.map((f) => `${f.op} ${f.rsc}`).join(', ') || 'the start'} in Pacemaker's log (seen: ${seen.join('; ') || 'nothing'})`], found };
    }
    found.push(results[i]!);
    i++;
  }
  const bad = found.filter((f) => f.result !== 'ok').map((f) => `${node}: ${f.op} ${f.rsc}: ${f.result}`);
  return { ok: bad.length === 0, problems: bad, found };
}

/**
 * Resources whose record on `node` Pacemaker lost between two reads of the CIB and rebuilt by a
 * probe: they had history on `node` in `before`, and `after` has a newer probe (a non-recurring
 * monitor) of them there. Pacemaker probes a resource on a node only when it has no record of it
 * there, and the scenarios that use this neither clean up nor refresh, so on a node that stayed up
 * a probe means its record was erased by Pacemaker itself.
 */
export function reprobed(before: OpRecord[], after: OpRecord[], node: string): string[] {
  const base = maxCallId(before, node);
  const known = new Set(before.filter((o) => o.node === node).map((o) => o.rsc));
  const probed = after.filter((o) => o.node === node && o.op === 'monitor' && o.interval === 0 && o.callId > base && known.has(o.rsc));
  return [...new Set(probed.map((o) => o.rsc))].sort();
}
