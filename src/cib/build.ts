// A validated cluster spec → the CIB model. Everything that can be known
// without a cluster is checked here, each problem at its spec path: unknown
// agents, dangling references, resources used twice, roles on resources
// that have none, and the HA-NFS rule that matters most — a filesystem on
// DRBD must be colocated with, and started after, DRBD's promotion.

import { type AgentName, agentString, parseAgent } from './agent-name.js';
import { defaultOps } from './agent-ops.js';
import { parseDuration } from './duration.js';
import { joinPath, type Notes, Problems } from './errors.js';
import { assignIds, IdRegistry } from './ids.js';
import {
  type Action,
  type Cib,
  type Clone,
  type ClusterNode,
  type Constraint,
  emptySet,
  getNv,
  type Group,
  isPromotable,
  isPromotionAction,
  isPromotionRole,
  isTrue,
  promotableProblem,
  normalizeRole,
  normalizeScore,
  type NvSet,
  type Op,
  type OrderKind,
  type Primitive,
  type Resource,
  type Role,
} from './model.js';
import { type AgentInfo, builtinAgentInfo } from './agent-meta.js';
import { checkParams, type PrimitiveParams } from './check-params.js';
import type { OpSpecT, SpecT } from './spec-schema.js';

type Scalar = string | number | boolean;

const text = (v: Scalar) => String(v);
const bool = (v: Scalar | undefined) => (v === undefined ? undefined : isTrue(v));

function nvset(attrs: Record<string, Scalar> | undefined, dropEmpty = false): NvSet {
  const set = emptySet();
  for (const [name, v] of Object.entries(attrs ?? {})) {
    const value = text(v);
    if (dropEmpty && value === '') continue;
    set.pairs.push({ name, value });
  }
  return set;
}

/** "ip=10.0.0.1 username=admin password='a b'" → pairs (single or double quotes group words). */
export function parseKeyValues(s: string): Record<string, string> | string {
  const out: Record<string, string> = {};
  const re = /\s*([A-Za-z_][\w-]*)=(?:"([^"]*)"|'([^']*)'|(\S*))/y;
  let rest = s.trim();
  while (rest.length) {
    re.lastIndex = 0;
    const m = re.exec(rest);
    if (!m) return `cannot read "${rest}": write name=value pairs separated by spaces`;
    out[m[1]!] = m[2] ?? m[3] ?? m[4] ?? '';
    rest = rest.slice(re.lastIndex).trim();
  }
  return out;
}

/** fencing.agent for watchdog-only SBD (no fence device). */
export const WATCHDOG = 'watchdog';

export const NO_FENCING =
  'stonith-enabled=false: this cluster has NO FENCING. That is acceptable for a test bed only: in production a node that stops responding may still have the filesystem mounted, and without fencing both nodes can end up writing to it. Configure fencing: a fence device per node and stonith-enabled=true (ocf-gen: the template setting fence_agent, or fencing: in a spec).';

export interface BuildResult {
  cib: Cib;
  notes: Notes;
}

export interface BuildOptions {
  /** First lines of the XML comment: where the CIB came from. */
  origin: string[];
  /** Parameter facts of the agents in use (default: ocfkit's own agents only). */
  agentInfo?: (a: AgentName) => AgentInfo | undefined;
}

interface Fencing {
  /** One location a device: never on the node it fences. */
  locations: Constraint[];
  /** Cluster properties fencing needs (stonith-watchdog-timeout, priority-fencing-delay…). */
  properties: Record<string, string>;
  /** fencing.agent as given, trimmed ('' for none). */
  agentName: string;
}

/** The steps of turning a spec into the CIB model; what one step finds, the later ones use. */
class SpecBuilder {
  readonly problems = new Problems();
  readonly registry = new IdRegistry(this.problems);
  readonly notes: Notes = [];
  readonly nodeNames = new Set<string>();
  /** Primitives (checked and collected first; containers are resolved after). */
  readonly prims = new Map<string, { prim: Primitive; spec: SpecT['resources'][string] }>();
  /** Primitives in declaration order, for a stable document order. */
  readonly order: string[] = [];
  /** Member id → container id. */
  readonly owner = new Map<string, string>();
  readonly groups = new Map<string, Group>();
  readonly clones = new Map<string, Clone>();

  constructor(readonly spec: SpecT) {}

  /** Nodes: names and ids unique, ids for all or none. */
  nodes(): ClusterNode[] {
    const { spec, problems, nodeNames } = this;
    const nodes: ClusterNode[] = [];
    const nodeIds = new Set<string>();
    spec.nodes.forEach((n, i) => {
      if (nodeNames.has(n.name)) problems.add(joinPath(['nodes', i, 'name']), `duplicate node '${n.name}'`);
      nodeNames.add(n.name);
      const id = n.id === undefined ? undefined : String(n.id);
      if (id !== undefined) {
        if (nodeIds.has(id)) problems.add(joinPath(['nodes', i, 'id']), `duplicate node id '${id}'`);
        nodeIds.add(id);
      }
      nodes.push({ ...(id !== undefined ? { id } : {}), uname: n.name, attributes: nvset(n.attributes) });
    });

    if (nodeIds.size && nodeIds.size !== spec.nodes.length && !problems.issues.some((i) => i.path.startsWith('nodes'))) {
      problems.add('nodes', 'give an id to every node or to none (ids default to 1, 2… in corosync nodelist order)');
    }
    return nodes;
  }

  /** One primitive: its agent name checked, its id claimed. */
  addPrimitive(id: string, path: Array<string | number>, p: SpecT['resources'][string]): void {
    const { problems, registry, prims, order } = this;

      const agent = parseAgent(p.agent);
      if (typeof agent === 'string') {
        registry.claim(id, joinPath(path), p);
        problems.add(joinPath([...path, 'agent']), `${agent}: ${JSON.stringify(p.agent)}`);
        return;
      }
      const params = nvset(p.params, true);
      const prim: Primitive = {
        kind: 'primitive',
        id,
        class: agent.class,
        ...(agent.provider ? { provider: agent.provider } : {}),
        type: agent.type,
        ...(p.description ? { description: p.description } : {}),
        params,
        meta: nvset(p.meta),
        ops: [],
      };
      registry.claim(id, joinPath(path), prim);
      prims.set(id, { prim, spec: p });
      order.push(id);
  }

  /** Fencing: one device per node, kept off the node it fences (or watchdog-only SBD); the properties it needs. */
  fencing(nodes: ClusterNode[]): Fencing {
    const { spec, problems, notes, nodeNames } = this;
    const fenceLocations: Constraint[] = [];
    const fenceProperties: Record<string, string> = {};
    const fencing = spec.fencing;
    const paramsOf = (v: string | Record<string, Scalar> | undefined, at: Array<string | number>): Record<string, Scalar> => {
      if (typeof v !== 'string') return v ?? {};
      const kv = parseKeyValues(v);
      if (typeof kv === 'string') {
        problems.add(joinPath(at), kv);
        return {};
      }
      return kv;
    };
    const hasParams = (v: string | Record<string, Scalar> | undefined) => (typeof v === 'string' ? v.trim() !== '' : !!v && Object.keys(v).length > 0);
    const trimmed = (v: string | number | undefined) => (v === undefined ? '' : String(v).trim());
    const agentName = fencing?.agent.trim() ?? '';
    if (agentName === WATCHDOG) {
      // Watchdog-only SBD: no fence device; a node that loses quorum resets itself, and the others wait this long.
      if (fencing!.devices?.some((d) => hasParams(d.params)) || hasParams(fencing!.params)) problems.add('fencing.devices', 'watchdog fencing has no devices: leave their parameters empty (use fence_sbd for a shared disk)');
      fenceProperties['stonith-watchdog-timeout'] = trimmed(fencing!['watchdog-timeout']) || '10s';
      // The controller sets have-watchdog from sbd at run time; written here so offline checks (crm_verify,
      // crm_simulate) know fencing exists. Without sbd running the cluster says false and starts nothing.
      fenceProperties['have-watchdog'] = 'true';
      notes.push('note: watchdog fencing: sbd must run on every node with a hardware watchdog (SBD_WATCHDOG_TIMEOUT half of stonith-watchdog-timeout); the cluster starts no resource where it does not');
    } else if (fencing && agentName !== '') {
      const devices = fencing.devices ?? [];
      if (!devices.length) problems.add('fencing.devices', `fencing.agent is ${fencing.agent}, but no devices are listed (one per node)`);
      const common = paramsOf(fencing.params, ['fencing', 'params']);
      devices.forEach((d, i) => {
        const at = ['fencing', 'devices', i];
        if (!nodeNames.has(d.node)) problems.add(joinPath([...at, 'node']), `unknown node '${d.node}' (nodes: ${[...nodeNames].join(', ')})`);
        const params = paramsOf(d.params, [...at, 'params']);
        const id = d.id ?? `fence-${d.node}`;
        const agent = agentName.includes(':') ? agentName : `stonith:${agentName}`;
        const timeout = trimmed(fencing.timeout);
        const ops = timeout ? [{ name: 'start', timeout }, { name: 'monitor', timeout }] : undefined;
        this.addPrimitive(id, at, { agent, params: { pcmk_host_list: d.node, ...common, ...params }, ...(ops ? { ops } : {}) });
        // A node never runs the device that fences it: it could not fence itself once it hangs.
        if (nodes.length > 1) fenceLocations.push({ type: 'location', rsc: id, node: d.node, score: '-INFINITY' });
      });
    } else if (fencing?.devices?.some((d) => hasParams(d.params)) || hasParams(fencing?.params)) {
      problems.add('fencing.agent', 'fence device parameters are given, but no fence agent');
    }
    if (agentName !== '' && trimmed(fencing?.['priority-fencing-delay']) !== '') fenceProperties['priority-fencing-delay'] = trimmed(fencing!['priority-fencing-delay']);
    return { locations: fenceLocations, properties: fenceProperties, agentName };
  }

  /** Every primitive's parameters, as the checks take them. */
  primitiveParams(): PrimitiveParams[] {
    const { prims, order } = this;
    return order.map((id) => {
      const prim = prims.get(id)!.prim;
      return { id, agent: { class: prim.class, ...(prim.provider ? { provider: prim.provider } : {}), type: prim.type }, params: Object.fromEntries(prim.params.pairs.map((x) => [x.name, x.value])) };
    });
  }

  /** Groups and clones: members that exist, each in one container. */
  containers(): void {
    const { spec, problems, registry, prims, owner, groups, clones } = this;
    for (const [id, g] of Object.entries(spec.groups ?? {})) {
      const group: Group = { kind: 'group', id, ...(g.description ? { description: g.description } : {}), meta: nvset(g.meta), members: [] };
      registry.claim(id, joinPath(['groups', id]), group);
      g.resources.forEach((m, i) => {
        const at = joinPath(['groups', id, 'resources', i]);
        const p = prims.get(m)?.prim;
        if (!p) {
          problems.add(at, spec.groups?.[m] || spec.clones?.[m] ? `'${m}' is not a primitive (groups hold primitives only)` : `unknown resource '${m}'`);
          return;
        }
        if (m === id) return; // the same id twice: reported as a duplicate id
        if (owner.has(m)) problems.add(at, `'${m}' is already in '${owner.get(m)}'`);
        owner.set(m, id);
        group.members.push(p);
      });
      groups.set(id, group);
    }
    for (const [id, c] of Object.entries(spec.clones ?? {})) {
      registry.claim(id, joinPath(['clones', id]), c);
      const meta = nvset(c.meta);
      if (bool(c.promotable)) {
        meta.pairs = meta.pairs.filter((p) => p.name !== 'promotable');
        meta.pairs.unshift({ name: 'promotable', value: 'true' });
      }
      const at = joinPath(['clones', id, 'resource']);
      const child: Primitive | Group | undefined = prims.get(c.resource)?.prim ?? groups.get(c.resource);
      if (!child) {
        problems.add(at, spec.clones?.[c.resource] ? `'${c.resource}' is a clone (clones hold a primitive or a group)` : `unknown resource '${c.resource}'`);
        continue;
      }
      if (c.resource === id) continue; // the same id twice: reported as a duplicate id
      if (owner.has(c.resource)) problems.add(at, `'${c.resource}' is already in '${owner.get(c.resource)}'`);
      owner.set(c.resource, id);
      clones.set(id, { kind: 'clone', id, ...(c.description ? { description: c.description } : {}), meta, child });
    }
  }

  /** The clone a resource is in (directly or through its group), if any. */
  cloneOf(rid: string): Clone | undefined {
    return containersOf(this.owner, rid).map((c) => this.clones.get(c)).find((c) => c !== undefined);
  }

  /** The outermost container of a resource, or the resource itself. */
  top(rid: string): string {
    return containersOf(this.owner, rid).at(-1) ?? rid;
  }

  /** Operations: the agent's defaults, then the spec's, matched by name and role. */
  operations(): void {
    const { problems, prims } = this;
    for (const [id, { prim, spec: ps }] of prims) {
      const clone = this.cloneOf(id);
      const promotable = clone ? isPromotable(clone) : false;
      const notify = clone ? isTrue(getNv(clone.meta, 'notify')) : false;
      prim.ops = mergeOps(id, defaultOps(prim.class, prim.provider, prim.type, { promotable, notify }), ps.ops ?? [], promotable, problems);
    }
  }

  /** Top level, in the order the primitives were declared (a container sits where its first primitive was). */
  topLevel(): Resource[] {
    const { prims, order, groups, clones } = this;
    const resources: Resource[] = [];
    const placed = new Set<string>();
    const place = (rid: string) => {
      if (placed.has(rid)) return;
      placed.add(rid);
      const r = clones.get(rid) ?? groups.get(rid) ?? prims.get(rid)?.prim;
      if (r) resources.push(r);
    };
    for (const pid of order) place(this.top(pid));
    for (const gid of groups.keys()) place(this.top(gid)); // empty groups (already reported)
    return resources;
  }

  /** Constraints: references, roles and actions checked at their spec paths; the fence locations first. */
  constraints(fenceLocations: Constraint[]): Constraint[] {
    const { spec, problems, registry, nodeNames, prims, owner, groups, clones } = this;
    const all = new Map<string, Resource>();
    for (const [k, v] of prims) all.set(k, v.prim);
    for (const [k, v] of groups) all.set(k, v);
    for (const [k, v] of clones) all.set(k, v);
    const constraints: Constraint[] = [...fenceLocations];
    const ref = (at: Array<string | number>, id: string): Resource | undefined => {
      const r = all.get(id);
      if (!r) {
        problems.add(joinPath(at), `unknown resource '${id}'`);
        return undefined;
      }
      const c = owner.has(id) ? clones.get(this.top(id)) : undefined;
      if (c && r.kind !== 'clone') problems.add(joinPath(at), `'${id}' is inside clone '${c.id}': constrain the clone instead`);
      return r;
    };
    const needsPromotable = (at: Array<string | number>, r: Resource | undefined, what: string) => {
      const problem = promotableProblem(r, what);
      if (problem) problems.add(joinPath(at), problem);
    };
    const role = (v: string | undefined) => (v === undefined ? undefined : (normalizeRole(v) as Role));
    const cs = spec.constraints ?? {};
    const push = (at: Array<string | number>, c: Constraint) => {
      if (c.id) registry.claim(c.id, joinPath(at), c);
      if (c.type === 'location') c.rules?.forEach((r, j) => r.id && registry.claim(r.id, joinPath([...at.slice(0, -1), 'rules', j, 'id']), r));
      constraints.push(c);
    };

    (cs.location ?? []).forEach((l, i) => {
      const at = ['constraints', 'location', i];
      const r = ref([...at, 'rsc'], l.rsc);
      const lr = role(l.role);
      if (isPromotionRole(lr)) needsPromotable([...at, 'role'], r, `role ${lr}`);
      if ((l.node === undefined) === (l.rules === undefined)) {
        problems.add(joinPath(at), 'give either node (with score) or rules');
        return;
      }
      if (l.node !== undefined && !nodeNames.has(l.node)) problems.add(joinPath([...at, 'node']), `unknown node '${l.node}' (nodes: ${[...nodeNames].join(', ')})`);
      push([...at, 'id'], {
        type: 'location',
        ...(l.id ? { id: l.id } : {}),
        rsc: l.rsc,
        ...(lr ? { role: lr } : {}),
        ...(l.node !== undefined ? { node: l.node, score: normalizeScore(String(l.score ?? 'INFINITY'))! } : {}),
        ...(l.rules
          ? {
              rules: l.rules.map((ru, j) => {
                const rr = role(ru.role);
                if (isPromotionRole(rr)) needsPromotable([...at, 'rules', j, 'role'], r, `role ${rr}`);
                return {
                  ...(ru.id ? { id: ru.id } : {}),
                  score: normalizeScore(String(ru.score ?? 'INFINITY'))!,
                  ...(rr ? { role: rr } : {}),
                  ...(ru['boolean-op'] ? { booleanOp: ru['boolean-op'] } : {}),
                  expressions: ru.expressions.map((e) => ({
                    attribute: e.attribute,
                    operation: e.operation,
                    ...(e.value !== undefined ? { value: text(e.value) } : {}),
                    ...(e.type ? { type: e.type } : {}),
                  })),
                };
              }),
            }
          : {}),
      });
    });

    (cs.colocation ?? []).forEach((c, i) => {
      const at = ['constraints', 'colocation', i];
      const r = ref([...at, 'rsc'], c.rsc);
      const w = ref([...at, 'with-rsc'], c['with-rsc']);
      if (c.rsc === c['with-rsc']) problems.add(joinPath(at), `'${c.rsc}' cannot be colocated with itself`);
      const rr = role(c['rsc-role']);
      const wr = role(c['with-rsc-role']);
      if (isPromotionRole(rr)) needsPromotable([...at, 'rsc-role'], r, `rsc-role ${rr}`);
      if (isPromotionRole(wr)) needsPromotable([...at, 'with-rsc-role'], w, `with-rsc-role ${wr}`);
      push([...at, 'id'], {
        type: 'colocation',
        ...(c.id ? { id: c.id } : {}),
        rsc: c.rsc,
        withRsc: c['with-rsc'],
        score: normalizeScore(String(c.score ?? 'INFINITY'))!,
        ...(rr ? { rscRole: rr } : {}),
        ...(wr ? { withRscRole: wr } : {}),
        ...(c['node-attribute'] ? { nodeAttribute: c['node-attribute'] } : {}),
      });
    });

    (cs.order ?? []).forEach((o, i) => {
      const at = ['constraints', 'order', i];
      const f = ref([...at, 'first'], o.first);
      const t = ref([...at, 'then'], o.then);
      if (o.first === o.then) problems.add(joinPath(at), `'${o.first}' cannot be ordered after itself`);
      const fa = o['first-action'] as Action | undefined;
      const ta = o['then-action'] as Action | undefined;
      if (isPromotionAction(fa)) needsPromotable([...at, 'first-action'], f, `first-action ${fa}`);
      if (isPromotionAction(ta)) needsPromotable([...at, 'then-action'], t, `then-action ${ta}`);
      const sym = bool(o.symmetrical);
      push([...at, 'id'], {
        type: 'order',
        ...(o.id ? { id: o.id } : {}),
        first: o.first,
        then: o.then,
        ...(fa ? { firstAction: fa } : {}),
        ...(ta ? { thenAction: ta } : {}),
        kind: (o.kind as OrderKind | undefined) ?? 'Mandatory',
        ...(sym !== undefined ? { symmetrical: sym } : {}),
      });
    });
    return constraints;
  }

  /** Cluster properties: stonith-enabled follows the fencing devices unless set; the XML comment warns when it is off. */
  properties(fence: Fencing, origin: string[]): { properties: NvSet; comment: string[] } {
    const { spec, notes, prims, groups, clones } = this;
    const properties = nvset(spec.properties);
    const hasFencing = fence.agentName === WATCHDOG || [...prims.values()].some((p) => p.prim.class === 'stonith');
    if (getNv(properties, 'stonith-enabled') === undefined) properties.pairs.unshift({ name: 'stonith-enabled', value: hasFencing ? 'true' : 'false' });
    for (const [name, value] of Object.entries(fence.properties)) {
      if (getNv(properties, name) === undefined) properties.pairs.push({ name, value });
    }
    if (fence.properties['priority-fencing-delay'] && ![...prims.values()].some((p) => Number(getNv(p.prim.meta, 'priority') ?? 0) > 0) && ![...groups.values(), ...clones.values()].some((r) => Number(getNv(r.meta, 'priority') ?? 0) > 0)) {
      notes.push('warning: priority-fencing-delay has no effect: no resource has a priority meta attribute (give the service, e.g. its group, priority=10)');
    }
    const comment = [...origin];
    if (!isTrue(getNv(properties, 'stonith-enabled'))) {
      comment.push(`WARNING: ${NO_FENCING}`);
      notes.push(`warning: ${NO_FENCING}`);
    }
    return { properties, comment };
  }
}

export function buildCib(spec: SpecT, opts: BuildOptions): BuildResult {
  const b = new SpecBuilder(spec);
  const nodes = b.nodes();
  const fence = b.fencing(nodes);
  for (const [id, p] of Object.entries(spec.resources)) b.addPrimitive(id, ['resources', id], p);
  checkParams(b.primitiveParams(), opts.agentInfo ?? builtinAgentInfo, b.problems);
  b.containers();
  b.operations();
  const resources = b.topLevel();
  const constraints = b.constraints(fence.locations);
  const { properties, comment } = b.properties(fence, opts.origin);
  const { problems, notes, registry } = b;
  checkHaNfs([...b.prims.values()].map((p) => p.prim), (rid) => b.cloneOf(rid), b.owner, constraints, problems);

  const cib: Cib = {
    adminEpoch: 0,
    epoch: 1,
    properties,
    nodes,
    resources,
    constraints,
    rscDefaults: nvset(spec['resource-defaults']),
    opDefaults: nvset(spec['operation-defaults']),
    comment,
  };
  // Every explicit id was claimed above, with its spec path; assignIds only fills in the rest.
  if (problems.empty) assignIds(cib, problems, registry, { claimed: true });
  problems.throwIfAny();
  return { cib, notes };
}

/**
 * The containers of a resource, innermost first (member id → container id in `owner`). Containers
 * nest at most clone → group → primitive; the bound guards against ids reused across sections.
 */
function containersOf(owner: ReadonlyMap<string, string>, rid: string): string[] {
  const out: string[] = [];
  for (let cur = owner.get(rid); cur !== undefined && out.length < 3; cur = owner.get(cur)) out.push(cur);
  return out;
}

function mergeOps(rscId: string, defaults: Op[], specOps: OpSpecT[], promotable: boolean, problems: Problems): Op[] {
  const ops = defaults.map((o) => ({ ...o }));
  const replaceable = new Set(ops); // each default is replaced at most once; further spec ops are added
  const key = (name: string, role?: Role) => `${name}/${role ?? ''}`;
  specOps.forEach((s, i) => {
    const at = ['resources', rscId, 'ops', i];
    const r = s.role === undefined ? undefined : normalizeRole(s.role);
    if ((r === 'Promoted' || r === 'Unpromoted') && !promotable) problems.add(joinPath([...at, 'role']), `role ${r}, but '${rscId}' is not in a promotable clone`);
    const fields: Partial<Op> = {
      ...(s.interval !== undefined ? { interval: parseDuration(s.interval)! } : {}),
      ...(s.timeout !== undefined ? { timeout: parseDuration(s.timeout)! } : {}),
      ...(r ? { role: r } : {}),
      ...(s['on-fail'] ? { onFail: s['on-fail'] } : {}),
      ...(s['start-delay'] !== undefined ? { startDelay: parseDuration(s['start-delay'])! } : {}),
      ...(s.depth !== undefined ? { depth: Number(s.depth) } : {}),
      ...(s.enabled !== undefined ? { enabled: bool(s.enabled)! } : {}),
      ...(s.description ? { description: s.description } : {}),
    };
    const existing = ops.find((o) => replaceable.has(o) && key(o.name, o.role) === key(s.name, r));
    if (existing) {
      Object.assign(existing, fields);
      replaceable.delete(existing);
    }
    else ops.push({ name: s.name, interval: 0, ...fields });
  });
  const seen = new Map<string, number>();
  ops.forEach((o) => {
    const k = `${o.name}/${o.interval}`;
    if (seen.has(k)) {
      problems.add(joinPath(['resources', rscId, 'ops']), `two '${o.name}' operations with interval ${o.interval / 1000}s: Pacemaker needs a different interval for each (e.g. per role)`);
    }
    seen.set(k, 1);
  });
  return ops;
}

const DRBD_PROVIDERS = new Set(['ocfkit', 'linbit', 'heartbeat']);
const isDrbd = (p: Primitive) => p.class === 'ocf' && p.type === 'drbd' && DRBD_PROVIDERS.has(p.provider ?? '');
const isDrbdDevice = (dev: string) => /^\/dev\/drbd(\d+|\/)/.test(dev);

/**
 * DRBD runs as a promotable clone that notifies, and a filesystem on a DRBD
 * device (or the group holding it) is colocated with the Promoted role and
 * started after the promotion — otherwise it mounts where DRBD is Secondary.
 */
function checkHaNfs(prims: Primitive[], cloneOf: (rid: string) => Clone | undefined, owner: Map<string, string>, constraints: Constraint[], problems: Problems): void {
  const drbdClones: Clone[] = [];
  for (const p of prims) {
    if (!isDrbd(p)) continue;
    const clone = cloneOf(p.id);
    if (!clone || !isPromotable(clone)) {
      problems.add(joinPath(['resources', p.id]), `${agentString(p)} must run as a promotable clone (clones: {<id>: {resource: ${p.id}, promotable: true, meta: {notify: true}}})`);
      continue;
    }
    if (!isTrue(getNv(clone.meta, 'notify'))) problems.add(joinPath(['clones', clone.id, 'meta', 'notify']), `${agentString(p)} needs notify=true on its clone`);
    drbdClones.push(clone);
  }
  if (!drbdClones.length) return;
  const cloneIds = new Set(drbdClones.map((c) => c.id));
  const named = drbdClones.length === 1 ? drbdClones[0]!.id : '<the DRBD clone>';
  // Indexed once, so a thousand filesystems do not each scan every constraint.
  const colocatedWithPromoted = new Set<string>();
  const startedAfterPromote = new Set<string>();
  for (const c of constraints) {
    if (c.type === 'colocation' && cloneIds.has(c.withRsc) && c.withRscRole === 'Promoted' && c.score === 'INFINITY') colocatedWithPromoted.add(c.rsc);
    if (c.type === 'order' && cloneIds.has(c.first) && c.firstAction === 'promote' && (c.thenAction ?? 'start') === 'start' && (c.kind ?? 'Mandatory') === 'Mandatory') startedAfterPromote.add(c.then);
  }
  for (const p of prims) {
    if (p.class !== 'ocf' || p.type !== 'Filesystem') continue;
    const dev = getNv(p.params, 'device');
    if (!dev || !isDrbdDevice(dev)) continue;
    const units = new Set([p.id]);
    const g = owner.get(p.id);
    if (g) units.add(g);
    const unit = g ?? p.id;
    const colocated = [...units].some((u) => colocatedWithPromoted.has(u));
    const ordered = [...units].some((u) => startedAfterPromote.has(u));
    const at = joinPath(['resources', p.id, 'params', 'device']);
    if (!colocated) {
      problems.add(
        at,
        `${dev} is a DRBD device, but nothing keeps '${unit}' on the node where DRBD is Promoted: add constraints.colocation {rsc: ${unit}, with-rsc: ${named}, with-rsc-role: Promoted, score: INFINITY}`,
      );
    }
    if (!ordered) {
      problems.add(
        at,
        `${dev} is a DRBD device, but '${unit}' may start before DRBD is promoted: add constraints.order {first: ${named}, first-action: promote, then: ${unit}, then-action: start}`,
      );
    }
  }
}
