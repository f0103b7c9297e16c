// Default operations for a primitive, taken from the agent's own meta-data:
// ocfkit's agents from their declarations (agents/index.ts: actions with
// timeout, interval, role, ops); the resource-agents/drbd-utils agents ocfkit
// replaces from their meta-data as printed on Debian 12 (FALLBACK below: no
// tool is needed to generate a CIB); anything else Pacemaker's usual 20 s /
// monitor every 10 s.

import { AGENTS } from '../../agents/index.js';
import type { OpDecl } from '../ocf/agent.js';
import type { Op, Role } from './model.js';

interface OpDefault {
  name: string;
  timeout: number; // seconds
  interval?: number; // seconds
  role?: Role;
  depth?: number;
}

type ActionTable = Record<string, OpDefault[]>;

const t = (name: string, timeout: number, interval?: number, role?: Role): OpDefault => ({ name, timeout, interval, role });

/** resource-agents 4.12 / drbd-utils 9.22 meta-data of the agents ocfkit replaces. */
const FALLBACK: Record<string, ActionTable> = {
  // ocf:linbit:drbd
  drbd: {
    start: [t('start', 240)],
    stop: [t('stop', 100)],
    promote: [t('promote', 90)],
    demote: [t('demote', 90)],
    notify: [t('notify', 90)],
    monitor: [t('monitor', 20, 10, 'Promoted'), t('monitor', 20, 20, 'Unpromoted')],
  },
  // ocf:heartbeat:Filesystem
  Filesystem: { start: [t('start', 60)], stop: [t('stop', 60)], monitor: [t('monitor', 40, 20)] },
  // ocf:heartbeat:nfsserver
  nfsserver: { start: [t('start', 40)], stop: [t('stop', 20)], monitor: [t('monitor', 20, 10)] },
  // ocf:heartbeat:IPaddr2
  IPaddr2: { start: [t('start', 20)], stop: [t('stop', 20)], monitor: [t('monitor', 20, 10)] },
};

/** Pacemaker's default operation timeout is 20 s; a monitor every 10 s (fence devices: 60 s, as pcs does). */
function generic(cls: string): ActionTable {
  return {
    start: [t('start', 20)],
    stop: [t('stop', 20)],
    promote: [t('promote', 20)],
    demote: [t('demote', 20)],
    notify: [t('notify', 20)],
    monitor: [t('monitor', 20, cls === 'stonith' ? 60 : 10)],
  };
}

function fromDecl(actions: Record<string, OpDecl & { ops?: OpDecl[] }>): ActionTable {
  const out: ActionTable = {};
  for (const [name, a] of Object.entries(actions)) {
    out[name] = (a.ops ?? [a]).map((o) => ({ name, timeout: o.timeout, interval: o.interval, role: o.role, depth: o.depth }));
  }
  return out;
}

/** Where the defaults come from, for the README and messages. */
export function actionSource(cls: string, provider: string | undefined, type: string): 'ocfkit' | 'fallback' | 'generic' {
  if (cls === 'ocf' && provider === 'ocfkit' && AGENTS[type]) return 'ocfkit';
  if (cls === 'ocf' && FALLBACK[type]) return 'fallback';
  return 'generic';
}

function table(cls: string, provider: string | undefined, type: string): ActionTable {
  switch (actionSource(cls, provider, type)) {
    case 'ocfkit':
      return fromDecl(AGENTS[type]!.actions as Record<string, OpDecl>);
    case 'fallback':
      return FALLBACK[type]!;
    default:
      return generic(cls);
  }
}

/**
 * The operations Pacemaker should run for a primitive: start, stop and the
 * recurring monitor(s); promote/demote with a Promoted and an Unpromoted
 * monitor inside a promotable clone; notify when the clone notifies.
 * Probes (interval 0 monitors) are Pacemaker's own business and not listed.
 */
export function defaultOps(cls: string, provider: string | undefined, type: string, ctx: { promotable: boolean; notify: boolean }): Op[] {
  const tab = table(cls, provider, type);
  const gen = generic(cls);
  const pick = (name: string) => tab[name] ?? gen[name] ?? [];
  const ops: Op[] = [];
  const push = (d: OpDefault, role?: Role, interval?: number) =>
    ops.push({
      name: d.name,
      interval: Math.round((interval ?? (d.name === 'monitor' ? (d.interval ?? 10) : 0)) * 1000),
      timeout: Math.round(d.timeout * 1000),
      ...(role ? { role } : {}),
      ...(d.depth ? { depth: d.depth } : {}),
    });

  for (const d of pick('start')) push(d);
  for (const d of pick('stop')) push(d);
  if (ctx.promotable) {
    for (const d of pick('promote')) push(d);
    for (const d of pick('demote')) push(d);
  }
  if (ctx.notify) for (const d of pick('notify')) push(d);

  const monitors = pick('monitor').filter((m) => (m.interval ?? 10) > 0);
  if (ctx.promotable) {
    const promoted = monitors.find((m) => m.role === 'Promoted');
    const unpromoted = monitors.find((m) => m.role === 'Unpromoted');
    const plain = monitors.find((m) => !m.role) ?? promoted ?? unpromoted ?? t('monitor', 20, 10);
    const p = promoted ?? plain;
    push(p, 'Promoted', p.interval ?? 10);
    // Pacemaker needs a different interval per role of the same operation.
    const u = unpromoted ?? plain;
    let ui = u.interval ?? 10;
    if (ui === (p.interval ?? 10)) ui += 1;
    push(u, 'Unpromoted', ui);
  } else {
    const m = monitors.find((x) => !x.role) ?? monitors[0] ?? t('monitor', 20, 10);
    push(m, undefined, m.interval ?? 10);
  }
  return ops;
}
