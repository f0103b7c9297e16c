// CIB XML (Heartbeat 2, Pacemaker 1.x, Pacemaker 2/3) → the CIB model, with
// ocf-gen's strict XML reader (xml-in.ts). One reader for all dialects: it accepts both spellings
// (from/to and rsc/with-rsc, master_slave/master/clone promotable,
// <attributes> wrappers, underscore option names, Master/Slave) and
// normalizes to Pacemaker 3 names. Ids, attributes, operations and
// constraints are kept; what the model cannot carry (resource sets, ACLs,
// date rules…) is an error naming the element — never silently dropped —
// and what Pacemaker no longer has is dropped with a note saying so.

import { parseDuration } from './duration.js';
import { CibError, type Notes, Problems } from './errors.js';
import { assignIds, ID_RE } from './ids.js';
import {
  type Action,
  ACTIONS,
  type Cib,
  type Clone,
  type ClusterNode,
  type Constraint,
  emptySet,
  type Expression,
  getNv,
  type Group,
  indexResources,
  isTrue,
  promotableProblem,
  promotionUses,
  normalizeRole,
  normalizeScore,
  type NvSet,
  type Op,
  type Primitive,
  type Resource,
  type Role,
  type Rule,
} from './model.js';
import { dashes, DROPPED_OPTIONS, META_NAMES, metaName, MOVED_OPTIONS } from './heartbeat2-names.js';
import { type El, parseXml } from './xml-in.js';


/** How the input spelled things (for notes and for defaults that differ between dialects). */
export type SourceDialect = 'heartbeat-2' | 'pacemaker-1' | 'pacemaker-2+';
const SOURCE_OF = { 'heartbeat-2': 'heartbeat-2', 'pacemaker-1.0': 'pacemaker-1', pacemaker: 'pacemaker-2+' } as const;

export interface ReadResult {
  cib: Cib;
  source: SourceDialect;
  validateWith?: string;
  notes: Notes;
}

export const describeEl = (el: El) => (el.attrs.id !== undefined ? `<${el.name} id="${el.attrs.id}">` : `<${el.name}>`);

export function readCibXml(xml: string, file: string): ReadResult {
  return new Reader(file).read(parseTree(xml, file));
}

class Reader {
  private readonly problems = new Problems();
  private readonly notes: Notes = [];
  private source: SourceDialect = 'pacemaker-2+';

  constructor(private readonly file: string) {}

  private err(el: El, message: string, inside?: El): void {
    this.problems.add(`${this.file}: ${inside ? `${describeEl(inside)} ` : ''}${describeEl(el)}`, message);
  }

  /** Attributes outside `known` are errors: nothing is dropped without a word. */
  private attrs(el: El, known: string[], inside?: El): Record<string, string> {
    for (const k of Object.keys(el.attrs)) if (!known.includes(k)) this.err(el, `attribute ${k}="${el.attrs[k]}" is not supported by ocf-gen`, inside);
    return el.attrs;
  }

  private unsupported(el: El, inside?: El, why = 'is not supported by ocf-gen'): void {
    this.err(el, why, inside);
  }

  read(root: El): ReadResult {
    const vw = root.attrs['validate-with'];
    this.source = SOURCE_OF[dialectOfTree(root)];
    const cib: Cib = {
      adminEpoch: intAttr(root.attrs.admin_epoch),
      epoch: intAttr(root.attrs.epoch),
      properties: emptySet(),
      nodes: [],
      resources: [],
      constraints: [],
      rscDefaults: emptySet(),
      opDefaults: emptySet(),
      comment: [],
    };
    const conf = root.children.find((c) => c.name === 'configuration');
    if (!conf) throw new CibError([{ path: this.file, message: '<cib> has no <configuration>' }]);
    for (const c of root.children) if (c.name !== 'configuration' && c.name !== 'status') this.unsupported(c);
    for (const sec of conf.children) {
      switch (sec.name) {
        case 'crm_config':
          this.crmConfig(sec, cib);
          break;
        case 'nodes':
          for (const n of sec.children) {
            if (n.name === 'node') cib.nodes.push(this.node(n));
            else this.unsupported(n, sec);
          }
          break;
        case 'resources':
          for (const r of sec.children) {
            const res = this.resource(r, sec);
            if (res) cib.resources.push(res);
          }
          break;
        case 'constraints':
          for (const c of sec.children) {
            const con = this.constraint(c);
            if (con) cib.constraints.push(con);
          }
          break;
        case 'rsc_defaults':
        case 'op_defaults':
          for (const s of sec.children) {
            if (s.name !== 'meta_attributes') this.unsupported(s, sec);
            else this.mergeSet(sec.name === 'rsc_defaults' ? cib.rscDefaults : cib.opDefaults, this.nvset(s, sec), s);
          }
          break;
        default:
          this.unsupported(sec, undefined, 'is not supported by ocf-gen (it converts crm_config, nodes, resources, constraints, rsc_defaults and op_defaults)');
      }
    }
    if (this.source === 'heartbeat-2' && getNv(cib.properties, 'stonith-enabled') === undefined) {
      // Heartbeat 2 defaulted to no fencing; Pacemaker defaults to fencing. Keep what the cluster did.
      cib.properties.pairs.unshift({ name: 'stonith-enabled', value: 'false' });
      this.notes.push(`note: ${this.file}: stonith_enabled is not set (Heartbeat 2's default: false); the converted CIB says stonith-enabled=false explicitly`);
    }
    this.checkReferences(cib);
    if (this.problems.empty) assignIds(cib, this.problems);
    this.problems.throwIfAny();
    return { cib, source: this.source, ...(vw ? { validateWith: vw } : {}), notes: this.notes };
  }

  /** One nvset, with or without Heartbeat 2's <attributes> wrapper. Invalid nvpair ids are dropped (regenerated). */
  private nvset(el: El, inside?: El): NvSet {
    this.attrs(el, ['id', 'score'], inside);
    const set: NvSet = { pairs: [] };
    if (el.attrs.id !== undefined) set.id = this.maybeId(el.attrs.id, el);
    const pairsOf = (parent: El) => {
      for (const c of parent.children) {
        if (c.name === 'attributes' && parent === el) pairsOf(c);
        else if (c.name === 'nvpair') {
          this.attrs(c, ['id', 'name', 'value'], el);
          if (c.attrs.name === undefined) {
            this.err(c, 'has no name', el);
            continue;
          }
          const p = { name: c.attrs.name, value: c.attrs.value ?? '' };
          const id = c.attrs.id === undefined ? undefined : this.maybeId(c.attrs.id, c);
          set.pairs.push(id ? { id, ...p } : p);
        } else if (c.name === 'rule') this.unsupported(c, el, 'rules on attribute sets are not supported by ocf-gen');
        else this.unsupported(c, el);
      }
    };
    pairsOf(el);
    return set;
  }

  /** An id we keep if valid; otherwise a note and a fresh one (only for things nothing refers to). */
  private maybeId(id: string, el: El): string | undefined {
    if (ID_RE.test(id)) return id;
    this.notes.push(`note: ${this.file}: <${el.name} id="${id}">: not a valid XML id for Pacemaker; a new id is generated`);
    return undefined;
  }

  private mergeSet(into: NvSet, from: NvSet, el: El): void {
    if (into.id === undefined) {
      if (from.id) into.id = from.id;
    } else if (from.pairs.length) {
      this.notes.push(`note: ${this.file}: ${describeEl(el)} is merged into the first set of its kind`);
    }
    for (const p of from.pairs) {
      if (getNv(into, p.name) !== undefined) this.err(el, `'${p.name}' is set twice`);
      else into.pairs.push(p);
    }
  }

  private crmConfig(sec: El, cib: Cib): void {
    for (const s of sec.children) {
      if (s.name !== 'cluster_property_set') {
        this.unsupported(s, sec);
        continue;
      }
      const set = this.nvset(s, sec);
      const kept: NvSet = set.id ? { id: set.id, pairs: [] } : { pairs: [] };
      for (const p of set.pairs) {
        const name = dashes(p.name);
        const moved = MOVED_OPTIONS[name];
        if (moved) {
          const target = moved[0] === 'rsc' ? cib.rscDefaults : cib.opDefaults;
          this.notes.push(`note: ${this.file}: cluster option ${p.name} becomes the ${moved[0] === 'rsc' ? 'resource' : 'operation'} default ${moved[1]}`);
          if (getNv(target, moved[1]) === undefined) target.pairs.push({ ...p, name: moved[1] });
        } else if (DROPPED_OPTIONS[name]) {
          this.notes.push(`note: ${this.file}: cluster option ${p.name}=${p.value} is left out: ${DROPPED_OPTIONS[name]}`);
        } else kept.pairs.push({ ...p, name });
      }
      this.mergeSet(cib.properties, kept, s);
    }
  }

  private node(n: El): ClusterNode {
    this.attrs(n, ['id', 'uname', 'type', 'description']);
    if (n.attrs.type === 'ping' || n.attrs.type === 'remote') this.err(n, `type ${n.attrs.type} nodes are not supported by ocf-gen`);
    const node: ClusterNode = { uname: n.attrs.uname ?? '', attributes: emptySet() };
    if (!n.attrs.uname) this.err(n, 'has no uname');
    if (n.attrs.id !== undefined) node.id = n.attrs.id;
    for (const c of n.children) {
      if (c.name === 'instance_attributes') this.mergeSet(node.attributes, this.nvset(c, n), c);
      else this.unsupported(c, n);
    }
    return node;
  }

  private resourceId(el: El): string {
    const id = el.attrs.id ?? '';
    if (!ID_RE.test(id)) this.err(el, `'${id}' is not a valid XML id: rename the resource (and its constraints) first`);
    return id;
  }

  /** Heartbeat 2 resource options written as XML attributes → meta attributes. */
  private attrsToMeta(el: El, names: string[], meta: NvSet): void {
    for (const n of names) {
      const v = el.attrs[n];
      if (v === undefined) continue;
      const name = metaName(n);
      // The DTD's own defaults change nothing when written out; leave them out.
      if ((name === 'restart-type' && v === 'ignore') || ((name === 'ordered' || name === 'collocated') && el.name === 'group' && isTrue(v))) continue;
      if (getNv(meta, name) === undefined) meta.pairs.push({ name, value: v });
    }
  }

  private resourceSets(el: El, p: { params?: NvSet; meta: NvSet }, inside?: El): void {
    for (const c of el.children) {
      if (c.name === 'meta_attributes') this.mergeSet(p.meta, this.normMeta(this.nvset(c, el)), c);
      else if (c.name === 'instance_attributes') {
        const set = this.nvset(c, el);
        if (this.source === 'heartbeat-2') {
          // Heartbeat 2 took resource options as instance attributes too.
          const meta = set.pairs.filter((x) => META_NAMES.has(metaName(x.name)));
          if (meta.length) {
            this.notes.push(`note: ${this.file}: ${describeEl(el)}: ${meta.map((x) => x.name).join(', ')} ${meta.length > 1 ? 'are resource options' : 'is a resource option'} (meta attribute) in Pacemaker`);
            set.pairs = set.pairs.filter((x) => !meta.includes(x));
            this.mergeSet(p.meta, this.normMeta({ pairs: meta }), c);
          }
        }
        if (p.params) this.mergeSet(p.params, set, c);
        else if (set.pairs.length) this.err(c, `instance attributes on a ${el.name} are not supported by ocf-gen`, inside);
      }
    }
  }

  private normMeta(set: NvSet): NvSet {
    for (const p of set.pairs) {
      p.name = metaName(p.name);
      if (p.name === 'target-role') {
        const r = normalizeRole(p.value);
        if (r) p.value = r;
      }
    }
    return set;
  }

  private resource(el: El, inside?: El): Resource | undefined {
    switch (el.name) {
      case 'primitive':
        return this.primitive(el, inside);
      case 'group':
        return this.group(el, inside);
      case 'clone':
      case 'master':
      case 'master_slave':
        return this.clone(el, inside);
      default:
        this.unsupported(el, inside);
        return undefined;
    }
  }

  private primitive(el: El, inside?: El): Primitive {
    const a = this.attrs(el, ['id', 'class', 'provider', 'type', 'description', 'is_managed', 'restart_type', 'multiple_active', 'resource_stickiness'], inside);
    const p: Primitive = {
      kind: 'primitive',
      id: this.resourceId(el),
      class: a.class ?? '',
      ...(a.provider ? { provider: a.provider } : {}),
      type: a.type ?? '',
      ...(a.description ? { description: a.description } : {}),
      params: emptySet(),
      meta: emptySet(),
      ops: [],
    };
    if (!a.class || !a.type) this.err(el, 'needs class and type', inside);
    if (a.class === 'ocf' && !a.provider) this.err(el, 'an ocf primitive needs a provider', inside);
    this.attrsToMeta(el, ['is_managed', 'restart_type', 'multiple_active', 'resource_stickiness'], p.meta);
    this.resourceSets(el, p, inside);
    for (const c of el.children) {
      if (c.name === 'operations') {
        this.attrs(c, ['id'], el);
        for (const o of c.children) {
          if (o.name === 'op') {
            const op = this.op(o, el, p);
            if (op) p.ops.push(op);
          } else this.unsupported(o, el);
        }
      } else if (!['meta_attributes', 'instance_attributes'].includes(c.name)) this.unsupported(c, el);
    }
    return p;
  }

  private op(o: El, prim: El, p: Primitive): Op | undefined {
    const a = this.attrs(o, ['id', 'name', 'interval', 'timeout', 'start_delay', 'start-delay', 'disabled', 'enabled', 'role', 'prereq', 'requires', 'on_fail', 'on-fail', 'description'], prim);
    if (!a.name) {
      this.err(o, 'has no name', prim);
      return undefined;
    }
    const dur = (v: string | undefined, what: string) => {
      if (v === undefined) return undefined;
      const ms = parseDuration(v);
      if (ms === undefined) this.err(o, `${what} "${v}" is not a duration`, prim);
      return ms;
    };
    const op: Op = { name: a.name, interval: dur(a.interval, 'interval') ?? 0 };
    if (a.id !== undefined) {
      const id = this.maybeId(a.id, o);
      if (id) op.id = id;
    }
    const timeout = dur(a.timeout, 'timeout');
    if (timeout !== undefined) op.timeout = timeout;
    if (a.role !== undefined) {
      const r = normalizeRole(a.role);
      if (r) op.role = r;
      else this.err(o, `role "${a.role}" is not a role`, prim);
    }
    const onFail = a['on-fail'] ?? a.on_fail;
    if (onFail !== undefined) op.onFail = onFail;
    const sd = dur(a['start-delay'] ?? a.start_delay, 'start-delay');
    if (sd) op.startDelay = sd;
    if (isTrue(a.disabled)) op.enabled = false;
    if (a.enabled !== undefined && /^(false|no|0)$/i.test(a.enabled)) op.enabled = false;
    if (a.description) op.description = a.description;
    const prereq = a.requires ?? a.prereq;
    if (prereq !== undefined) {
      if (a.name === 'start' && getNv(p.meta, 'requires') === undefined) {
        p.meta.pairs.push({ name: 'requires', value: prereq });
        this.notes.push(`note: ${this.file}: ${describeEl(prim)} start prereq=${prereq} becomes the resource option requires=${prereq}`);
      } else this.notes.push(`note: ${this.file}: ${describeEl(prim)} ${a.name} prereq=${prereq} is left out: Pacemaker sets requirements per resource`);
    }
    for (const c of o.children) {
      if (c.name !== 'instance_attributes') {
        this.unsupported(c, prim);
        continue;
      }
      for (const nv of this.nvset(c, o).pairs) {
        if (nv.name === 'OCF_CHECK_LEVEL' && /^\d+$/.test(nv.value)) {
          op.depth = Number(nv.value);
          if (nv.id) op.depthId = nv.id;
        } else this.err(c, `operation attribute ${nv.name} is not supported by ocf-gen (only OCF_CHECK_LEVEL)`, prim);
      }
    }
    return op;
  }

  private group(el: El, inside?: El): Group {
    const a = this.attrs(el, ['id', 'description', 'is_managed', 'restart_type', 'multiple_active', 'resource_stickiness', 'ordered', 'collocated'], inside);
    const g: Group = { kind: 'group', id: this.resourceId(el), ...(a.description ? { description: a.description } : {}), meta: emptySet(), members: [] };
    this.attrsToMeta(el, ['is_managed', 'restart_type', 'multiple_active', 'resource_stickiness', 'ordered', 'collocated'], g.meta);
    this.resourceSets(el, g, inside);
    for (const c of el.children) {
      if (c.name === 'primitive') g.members.push(this.primitive(c, el));
      else if (!['meta_attributes', 'instance_attributes'].includes(c.name)) this.unsupported(c, el);
    }
    if (!g.members.length) this.err(el, 'is empty', inside);
    return g;
  }

  private clone(el: El, inside?: El): Clone | undefined {
    const a = this.attrs(
      el,
      ['id', 'description', 'is_managed', 'restart_type', 'multiple_active', 'resource_stickiness', 'notify', 'globally_unique', 'ordered', 'interleave'],
      inside,
    );
    const meta = emptySet();
    if (el.name !== 'clone') meta.pairs.push({ name: 'promotable', value: 'true' });
    this.attrsToMeta(el, ['is_managed', 'restart_type', 'multiple_active', 'resource_stickiness', 'notify', 'globally_unique', 'ordered', 'interleave'], meta);
    const holder = { meta };
    this.resourceSets(el, holder, inside);
    // <master>/<master_slave> with promotable in its meta as well: keep one.
    meta.pairs = meta.pairs.filter((p, i) => p.name !== 'promotable' || meta.pairs.findIndex((q) => q.name === 'promotable') === i);
    const kids = el.children.filter((c) => c.name === 'primitive' || c.name === 'group');
    for (const c of el.children) if (!['meta_attributes', 'instance_attributes', 'primitive', 'group'].includes(c.name)) this.unsupported(c, el);
    if (kids.length !== 1) {
      this.err(el, `must hold exactly one primitive or group (has ${kids.length})`, inside);
      return undefined;
    }
    if (this.source === 'heartbeat-2' && getNv(meta, 'globally-unique') === undefined) {
      this.notes.push(
        `note: ${this.file}: ${describeEl(el)} does not set globally_unique: Heartbeat 2's DTD defaults it to true, Pacemaker to false; the converted CIB uses false (set globally-unique=true if the instances really differ)`,
      );
    }
    const child = kids[0]!.name === 'primitive' ? this.primitive(kids[0]!, el) : this.group(kids[0]!, el);
    return { kind: 'clone', id: this.resourceId(el), ...(a.description ? { description: a.description } : {}), meta, child };
  }

  private role(el: El, v: string | undefined, what: string): Role | undefined {
    if (v === undefined) return undefined;
    const r = normalizeRole(v);
    if (!r) this.err(el, `${what} "${v}" is not a role`);
    return r;
  }

  private score(el: El, v: string | undefined, dflt?: string): string | undefined {
    if (v === undefined) return dflt;
    const s = normalizeScore(v);
    if (s === undefined) this.err(el, `score "${v}" is not a score`);
    return s;
  }

  private constraint(el: El): Constraint | undefined {
    if (el.children.some((c) => c.name === 'resource_set')) {
      this.unsupported(el, undefined, 'resource sets are not supported by ocf-gen: rewrite it as constraints between pairs of resources');
      return undefined;
    }
    if (el.children.some((c) => c.name === 'lifetime')) {
      this.unsupported(el, undefined, 'lifetime is not supported by ocf-gen');
      return undefined;
    }
    const id = el.attrs.id;
    if (id === undefined || !ID_RE.test(id)) this.err(el, `'${id ?? ''}' is not a valid XML id`);
    switch (el.name) {
      case 'rsc_location':
        return this.location(el);
      case 'rsc_colocation': {
        const a = this.attrs(el, ['id', 'rsc', 'with-rsc', 'rsc-role', 'with-rsc-role', 'score', 'node-attribute', 'from', 'to', 'from_role', 'to_role', 'node_attribute', 'symmetrical', 'description']);
        for (const c of el.children) this.unsupported(c, el);
        if (isTrue(a.symmetrical)) this.notes.push(`note: ${this.file}: ${describeEl(el)}: symmetrical on a colocation has no meaning in Pacemaker; left out`);
        if (a.description) this.notes.push(`note: ${this.file}: ${describeEl(el)}: description is left out`);
        const rsc = a.rsc ?? a.from;
        const withRsc = a['with-rsc'] ?? a.to;
        if (!rsc || !withRsc) {
          this.err(el, 'needs rsc and with-rsc (from and to)');
          return undefined;
        }
        const rscRole = this.role(el, a['rsc-role'] ?? a.from_role, 'role');
        const withRscRole = this.role(el, a['with-rsc-role'] ?? a.to_role, 'role');
        const nodeAttribute = a['node-attribute'] ?? a.node_attribute;
        return {
          type: 'colocation',
          id: id!,
          rsc,
          withRsc,
          score: this.score(el, a.score, 'INFINITY') ?? 'INFINITY',
          ...(rscRole ? { rscRole } : {}),
          ...(withRscRole ? { withRscRole } : {}),
          ...(nodeAttribute ? { nodeAttribute } : {}),
        };
      }
      case 'rsc_order': {
        const a = this.attrs(el, ['id', 'first', 'then', 'first-action', 'then-action', 'kind', 'score', 'symmetrical', 'from', 'to', 'action', 'to_action', 'type', 'description']);
        for (const c of el.children) this.unsupported(c, el);
        if (a.description) this.notes.push(`note: ${this.file}: ${describeEl(el)}: description is left out`);
        let first: string | undefined;
        let then: string | undefined;
        let fa: string | undefined;
        let ta: string | undefined;
        if (a.from !== undefined || a.to !== undefined) {
          // Heartbeat 2: "<action> <from> <type> <to_action> <to>", e.g. start fs after promote drbd.
          const before = (a.type ?? 'after') === 'before';
          if (!['before', 'after'].includes(a.type ?? 'after')) this.err(el, `type "${a.type}" is neither before nor after`);
          [first, fa, then, ta] = before ? [a.from, a.action ?? 'start', a.to, a.to_action ?? 'start'] : [a.to, a.to_action ?? 'start', a.from, a.action ?? 'start'];
        } else {
          [first, fa, then, ta] = [a.first, a['first-action'], a.then, a['then-action']];
        }
        if (!first || !then) {
          this.err(el, 'needs first and then (from and to)');
          return undefined;
        }
        for (const act of [fa, ta]) if (act !== undefined && !(ACTIONS as readonly string[]).includes(act)) this.err(el, `action "${act}" is not one of ${ACTIONS.join(', ')}`);
        let kind = a.kind;
        if (kind !== undefined && !['Mandatory', 'Optional', 'Serialize'].includes(kind)) this.err(el, `kind "${kind}" is not Mandatory, Optional or Serialize`);
        if (kind === undefined && a.score !== undefined) {
          const s = this.score(el, a.score);
          if (s === '0') kind = 'Optional';
          else if (s !== undefined && !s.startsWith('-')) kind = 'Mandatory';
          else if (s !== undefined) this.err(el, `a negative score (${s}) on an order has no meaning in Pacemaker`);
        }
        const sym = a.symmetrical === undefined ? undefined : isTrue(a.symmetrical);
        return {
          type: 'order',
          id: id!,
          first,
          then,
          ...(fa ? { firstAction: fa as Action } : {}),
          ...(ta ? { thenAction: ta as Action } : {}),
          kind: (kind as 'Mandatory' | 'Optional' | 'Serialize' | undefined) ?? 'Mandatory',
          ...(sym !== undefined ? { symmetrical: sym } : {}),
        };
      }
      default:
        this.unsupported(el);
        return undefined;
    }
  }

  private location(el: El): Constraint | undefined {
    const a = this.attrs(el, ['id', 'rsc', 'node', 'score', 'role', 'description']);
    if (a.description) this.notes.push(`note: ${this.file}: ${describeEl(el)}: description is left out`);
    if (!a.rsc) {
      this.err(el, 'has no rsc');
      return undefined;
    }
    const role = this.role(el, a.role, 'role');
    const rules: Rule[] = [];
    for (const c of el.children) {
      if (c.name !== 'rule') {
        this.unsupported(c, el);
        continue;
      }
      const ra = this.attrs(c, ['id', 'score', 'role', 'boolean_op', 'boolean-op'], el);
      const exprs: Expression[] = [];
      for (const e of c.children) {
        if (e.name !== 'expression') {
          this.unsupported(e, el, `is not supported by ocf-gen (only node attribute expressions)`);
          continue;
        }
        const ea = this.attrs(e, ['id', 'attribute', 'operation', 'value', 'type'], el);
        if (!ea.attribute || !ea.operation) this.err(e, 'needs attribute and operation', el);
        const ex: Expression = { attribute: ea.attribute ?? '', operation: ea.operation ?? '' };
        if (ea.id && ID_RE.test(ea.id)) ex.id = ea.id;
        if (ea.value !== undefined) ex.value = ea.value;
        if (ea.type !== undefined) ex.type = ea.type;
        exprs.push(ex);
      }
      const rule: Rule = { expressions: exprs };
      if (ra.id && ID_RE.test(ra.id)) rule.id = ra.id;
      rule.score = this.score(c, ra.score, 'INFINITY')!;
      const rr = this.role(c, ra.role, 'role');
      if (rr) rule.role = rr;
      const bop = ra['boolean-op'] ?? ra.boolean_op;
      if (bop === 'and' || bop === 'or') rule.booleanOp = bop;
      else if (bop !== undefined) this.err(c, `boolean-op "${bop}" is neither and nor or`, el);
      rules.push(rule);
    }
    if (a.node !== undefined) {
      if (rules.length) this.err(el, 'has both node and rules');
      return { type: 'location', id: a.id!, rsc: a.rsc, ...(role ? { role } : {}), node: a.node, score: this.score(el, a.score, 'INFINITY')! };
    }
    if (!rules.length) {
      this.err(el, 'has neither node nor rules');
      return undefined;
    }
    // A "#uname eq node" rule with the ids ocf-gen writes for old dialects is its node= form again.
    const only = rules.length === 1 ? rules[0]! : undefined;
    const e = only?.expressions.length === 1 ? only.expressions[0]! : undefined;
    if (only && e && e.attribute === '#uname' && e.operation === 'eq' && e.value !== undefined && only.id === `${a.id}-rule` && e.id === `${a.id}-rule-expr` && (e.type ?? 'string') === 'string') {
      const r = only.role ?? role;
      return { type: 'location', id: a.id!, rsc: a.rsc, ...(r ? { role: r } : {}), node: e.value, score: only.score ?? 'INFINITY' };
    }
    return { type: 'location', id: a.id!, rsc: a.rsc, ...(role ? { role } : {}), rules };
  }

  /** Every constraint names existing resources; roles and promote/demote only on promotable clones. */
  private checkReferences(cib: Cib): void {
    const index = indexResources(cib.resources);
    const seenNodes = new Set<string>();
    for (const n of cib.nodes) {
      if (seenNodes.has(n.uname)) this.problems.add(`${this.file}: <node uname="${n.uname}">`, 'duplicate node');
      seenNodes.add(n.uname);
    }
    const place = (c: Constraint) => `${this.file}: <${c.type === 'location' ? 'rsc_location' : c.type === 'colocation' ? 'rsc_colocation' : 'rsc_order'} id="${c.id}">`;
    const check = (c: Constraint, rid: string) => {
      if (!index.has(rid)) this.problems.add(place(c), `refers to '${rid}', which is not a resource here`);
    };
    // Checked on the model, so every dialect's spelling (Master, master_slave, action=promote) is covered.
    for (const c of cib.constraints) {
      for (const u of promotionUses(c)) {
        const problem = promotableProblem(index.get(u.rsc)?.rsc, u.what);
        if (problem) this.problems.add(place(c), problem);
      }
    }
    for (const c of cib.constraints) {
      if (c.type === 'location') check(c, c.rsc);
      else if (c.type === 'colocation') {
        check(c, c.rsc);
        check(c, c.withRsc);
      } else {
        check(c, c.first);
        check(c, c.then);
      }
    }
  }
}

function intAttr(v: string | undefined): number {
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : 0;
}

/** Parses well-formed XML into a light tree (for the reader, and for checks that need no model). */
export function parseTree(xml: string, file: string): El {
  const root = parseXml(xml, file);
  if (root.name !== 'cib') throw new CibError([{ path: file, message: `not a CIB: the root element is <${root.name}>, not <cib>` }]);
  return root;
}

/** The dialect a CIB's validate-with names (none or 0.6: Heartbeat 2). */
export function dialectOfTree(root: El): 'heartbeat-2' | 'pacemaker-1.0' | 'pacemaker' {
  const vw = root.attrs['validate-with'];
  if (vw === undefined || /^(pacemaker-0\.|transitional-0\.)/.test(vw)) return 'heartbeat-2';
  return /^pacemaker-1\./.test(vw) ? 'pacemaker-1.0' : 'pacemaker';
}
