// The in-memory CIB: what a cluster spec, a haresources file or an existing
// CIB XML turns into, and what every dialect writer reads. Names and values
// are Pacemaker 3 style (dashes, Promoted/Unpromoted, kind=); the writers
// translate them for older dialects.

export type Role = 'Started' | 'Stopped' | 'Promoted' | 'Unpromoted';
export const ROLES: readonly Role[] = ['Started', 'Stopped', 'Promoted', 'Unpromoted'];

export type OrderKind = 'Mandatory' | 'Optional' | 'Serialize';
export const ORDER_KINDS: readonly OrderKind[] = ['Mandatory', 'Optional', 'Serialize'];

export const ACTIONS = ['start', 'stop', 'promote', 'demote'] as const;
export type Action = (typeof ACTIONS)[number];

/** One name/value pair; `id` is filled in by assignIds() when the source had none. */
export interface NvPair {
  id?: string;
  name: string;
  value: string;
}

/** instance_attributes / meta_attributes / cluster_property_set (rules on sets are not modelled). */
export interface NvSet {
  id?: string;
  pairs: NvPair[];
}

export interface Op {
  id?: string;
  name: string;
  /** Milliseconds; 0 for non-recurring operations. */
  interval: number;
  timeout?: number;
  role?: Role;
  onFail?: string;
  startDelay?: number;
  /** OCF_CHECK_LEVEL, written as an instance attribute of the op. */
  depth?: number;
  depthId?: string;
  enabled?: boolean;
  description?: string;
}

export interface Primitive {
  kind: 'primitive';
  id: string;
  class: string;
  provider?: string;
  type: string;
  description?: string;
  params: NvSet;
  meta: NvSet;
  ops: Op[];
}

export interface Group {
  kind: 'group';
  id: string;
  description?: string;
  meta: NvSet;
  members: Primitive[];
}

/** A clone; promotable when its meta has promotable=true (written as <master>/<master_slave> in old dialects). */
export interface Clone {
  kind: 'clone';
  id: string;
  description?: string;
  meta: NvSet;
  child: Primitive | Group;
}

export type Resource = Primitive | Group | Clone;

export interface Expression {
  id?: string;
  attribute: string;
  operation: string;
  value?: string;
  type?: string;
}

export interface Rule {
  id?: string;
  score?: string;
  role?: Role;
  booleanOp?: 'and' | 'or';
  expressions: Expression[];
}

export interface Location {
  type: 'location';
  id?: string;
  rsc: string;
  role?: Role;
  node?: string;
  score?: string;
  rules?: Rule[];
}

export interface Colocation {
  type: 'colocation';
  id?: string;
  rsc: string;
  withRsc: string;
  score: string;
  rscRole?: Role;
  withRscRole?: Role;
  nodeAttribute?: string;
}

export interface Order {
  type: 'order';
  id?: string;
  first: string;
  then: string;
  firstAction?: Action;
  thenAction?: Action;
  kind?: OrderKind;
  symmetrical?: boolean;
}

export type Constraint = Location | Colocation | Order;

export interface ClusterNode {
  /**
   * Corosync node id for Pacemaker, Heartbeat's node UUID for heartbeat-2 (not
   * an XML ID). Unset: Pacemaker dialects number the nodes 1, 2… (corosync's
   * nodelist order), heartbeat-2 uses the node name.
   */
  id?: string;
  uname: string;
  attributes: NvSet;
}

export interface Cib {
  adminEpoch: number;
  epoch: number;
  properties: NvSet;
  nodes: ClusterNode[];
  resources: Resource[];
  constraints: Constraint[];
  rscDefaults: NvSet;
  opDefaults: NvSet;
  /** Lines for the comment at the top of the file (where it came from, warnings such as "no fencing"). */
  comment: string[];
  /** Every XML id in use, filled by assignIds(): writers that must add an element take fresh ids from here. */
  ids?: Set<string>;
}

export const emptySet = (id?: string): NvSet => (id === undefined ? { pairs: [] } : { id, pairs: [] });

export function getNv(set: NvSet, name: string): string | undefined {
  for (const p of set.pairs) if (p.name === name) return p.value;
  return undefined;
}

export function setNv(set: NvSet, name: string, value: string): void {
  const p = set.pairs.find((x) => x.name === name);
  if (p) p.value = value;
  else set.pairs.push({ name, value });
}

/**
 * A CIB truth value as Pacemaker reads it (crm_is_true: true, on, yes, y, 1, any case), and as
 * Heartbeat 2 did: the one truth test for every CIB value, spec value and ha.cf option ocf-gen reads.
 * Not resource-agents' ocf_is_true (yes/true/1/ja/on, fixed cases): that one is for agent parameters,
 * which the agents' runtime (src/ocf) reads; ocf-gen never interprets a parameter's truth.
 */
export const isTrue = (v: string | boolean | number | undefined) => v === true || (typeof v !== 'boolean' && v !== undefined && /^(true|yes|y|on|1)$/i.test(String(v)));

export const isPromotable = (c: Clone) => isTrue(getNv(c.meta, 'promotable'));

/** Roles and actions only a promotable clone has. */
export const isPromotionRole = (r: Role | undefined) => r === 'Promoted' || r === 'Unpromoted';
export const isPromotionAction = (a: Action | undefined) => a === 'promote' || a === 'demote';

/** `r` is missing (reported elsewhere) or a promotable clone; otherwise why `what` cannot be. */
export function promotableProblem(r: Resource | undefined, what: string): string | undefined {
  return r && !(r.kind === 'clone' && isPromotable(r)) ? `${what} needs a promotable clone, and '${r.id}' is not one` : undefined;
}

/** What a constraint asks of a promotable clone: each role or promote/demote (as its attribute says it) and the resource. */
export function promotionUses(c: Constraint): Array<{ what: string; rsc: string }> {
  const uses: Array<{ what: string; rsc: string }> = [];
  if (c.type === 'location') {
    if (isPromotionRole(c.role)) uses.push({ what: `role ${c.role}`, rsc: c.rsc });
    for (const r of c.rules ?? []) if (isPromotionRole(r.role)) uses.push({ what: `role ${r.role}`, rsc: c.rsc });
  } else if (c.type === 'colocation') {
    if (isPromotionRole(c.rscRole)) uses.push({ what: `rsc-role ${c.rscRole}`, rsc: c.rsc });
    if (isPromotionRole(c.withRscRole)) uses.push({ what: `with-rsc-role ${c.withRscRole}`, rsc: c.withRsc });
  } else {
    if (isPromotionAction(c.firstAction)) uses.push({ what: `first-action ${c.firstAction}`, rsc: c.first });
    if (isPromotionAction(c.thenAction)) uses.push({ what: `then-action ${c.thenAction}`, rsc: c.then });
  }
  return uses;
}

/** Every primitive, depth first, in document order. */
export function* primitives(resources: Resource[]): Generator<Primitive> {
  for (const r of resources) {
    if (r.kind === 'primitive') yield r;
    else if (r.kind === 'group') yield* r.members;
    else yield* primitives([r.child]);
  }
}

/** Every resource (clones, groups and primitives) by id, with its parent. */
export function indexResources(resources: Resource[]): Map<string, { rsc: Resource; parent?: Group | Clone }> {
  const out = new Map<string, { rsc: Resource; parent?: Group | Clone }>();
  const visit = (r: Resource, parent?: Group | Clone) => {
    out.set(r.id, parent ? { rsc: r, parent } : { rsc: r });
    if (r.kind === 'group') for (const m of r.members) visit(m, r);
    else if (r.kind === 'clone') visit(r.child, r);
  };
  for (const r of resources) visit(r);
  return out;
}

/** Legacy role names (Master/Slave, any case) → Pacemaker 3 names; undefined when not a role. */
export function normalizeRole(s: string): Role | undefined {
  switch (s.toLowerCase()) {
    case 'started':
      return 'Started';
    case 'stopped':
      return 'Stopped';
    case 'promoted':
    case 'master':
      return 'Promoted';
    case 'unpromoted':
    case 'slave':
      return 'Unpromoted';
    default:
      return undefined;
  }
}

/** Pacemaker scores: integers, INFINITY, +INFINITY, -INFINITY (written without the plus). */
export function normalizeScore(s: string): string | undefined {
  const t = s.trim();
  if (/^[+]?(INFINITY|inf)$/i.test(t)) return 'INFINITY';
  if (/^-(INFINITY|inf)$/i.test(t)) return '-INFINITY';
  if (/^[+-]?\d{1,9}$/.test(t)) return String(Number.parseInt(t, 10));
  return undefined;
}
