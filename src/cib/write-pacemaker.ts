// CIB XML for Pacemaker: the pacemaker-3 dialect (clone promotable=true,
// Promoted/Unpromoted from schema 3.7 on) and the pacemaker-1.0 dialect
// (<master>, Master/Slave, node type=normal, roles in location rules).
// Order constraints always use kind=: score= on rsc_order is deprecated and
// makes crm_verify 2.1.5 fail.

import { type Dialect, usesPromotedNames, validateWith } from './dialects.js';
import { formatDuration } from './duration.js';
import { Problems } from './errors.js';
import { extraId } from './ids.js';
import type { Cib, Clone, Constraint, Group, NvSet, Op, Primitive, Resource, Role, Rule } from './model.js';
import { isPromotable } from './model.js';
import { newDocument, setAttrs, type XmlEl } from './xml-out.js';

interface Style {
  validateWith: string;
  featureSet: string;
  /** Master/Slave instead of Promoted/Unpromoted, master-max instead of promoted-max. */
  legacyNames: boolean;
  /** <master> element (pacemaker-1.0) instead of <clone> with promotable=true. */
  masterElement: boolean;
  /** pacemaker-1.0 requires node type; 3.x deprecates "normal". */
  nodeType: boolean;
  /** pacemaker-1.0 has no role= on rsc_location: use a rule. */
  locationRoleAsRule: boolean;
  /** Expression type=integer arrived with pacemaker-3.5. */
  integerType: boolean;
  /** Resource classes the schema accepts (undefined: any). */
  classes?: ReadonlySet<string>;
}

/** crm_feature_set of Pacemaker 2.0.0, the first release with the pacemaker-3.x schemas. */
const FEATURE_SET_PACEMAKER_2 = '3.0.14';
/**
 * crm_feature_set of Pacemaker 1.1.12, the first 1.x release whose tools exchange v2 patches: pcs and
 * crmsh fail on anything lower ("Application of update diff failed"; measured: 3.0.8 fails, 3.0.9 works).
 */
const FEATURE_SET_PACEMAKER_1 = '3.0.9';

const LEGACY_ROLE: Record<Role, string> = { Started: 'Started', Stopped: 'Stopped', Promoted: 'Master', Unpromoted: 'Slave' };
const LEGACY_META: Record<string, string> = { 'promoted-max': 'master-max', 'promoted-node-max': 'master-node-max' };

export function writePacemaker(cib: Cib, dialect: Dialect): string {
  const style: Style =
    dialect.family === 'pacemaker'
      ? {
          validateWith: validateWith(cib, dialect),
          featureSet: FEATURE_SET_PACEMAKER_2,
          legacyNames: !usesPromotedNames(dialect),
          masterElement: false,
          nodeType: false,
          locationRoleAsRule: false,
          integerType: dialect.major > 3 || dialect.minor >= 5,
        }
      : {
          validateWith: 'pacemaker-1.0',
          featureSet: FEATURE_SET_PACEMAKER_1,
          legacyNames: true,
          masterElement: true,
          nodeType: true,
          locationRoleAsRule: true,
          integerType: false,
          classes: new Set(['ocf', 'lsb', 'heartbeat', 'stonith', 'upstart']),
        };
  return new PacemakerWriter(cib, style).write();
}

class PacemakerWriter {
  private readonly problems = new Problems();

  constructor(
    private readonly cib: Cib,
    private readonly s: Style,
  ) {}

  private role(r: Role): string {
    return this.s.legacyNames ? LEGACY_ROLE[r] : r;
  }

  write(): string {
    // As cibadmin --empty writes it. Without crm_feature_set pcs -f and crmsh cannot apply their edits
    // ("Application of update diff failed"); the lowest value of the Pacemaker releases that read this
    // dialect, since a newer one than the installed Pacemaker's is refused. The DC raises it on join.
    const { doc, root } = newDocument(this.cib.comment, 'cib', {
      crm_feature_set: this.s.featureSet,
      'validate-with': this.s.validateWith,
      epoch: String(this.cib.epoch),
      num_updates: '0',
      admin_epoch: String(this.cib.adminEpoch),
    });
    const conf = root.ele('configuration');
    const crm = conf.ele('crm_config');
    this.nvset(crm, 'cluster_property_set', this.cib.properties);
    const nodes = conf.ele('nodes');
    for (const [i, n] of this.cib.nodes.entries()) {
      const el = nodes.ele('node', { id: n.id ?? String(i + 1), uname: n.uname });
      if (this.s.nodeType) el.att('type', 'normal');
      this.nvset(el, 'instance_attributes', n.attributes);
    }
    const res = conf.ele('resources');
    for (const r of this.cib.resources) this.resource(res, r);
    const cons = conf.ele('constraints');
    for (const c of this.cib.constraints) this.constraint(cons, c);
    if (this.cib.rscDefaults.pairs.length) this.nvset(conf.ele('rsc_defaults'), 'meta_attributes', this.cib.rscDefaults, true);
    if (this.cib.opDefaults.pairs.length) this.nvset(conf.ele('op_defaults'), 'meta_attributes', this.cib.opDefaults);
    root.ele('status');
    this.problems.throwIfAny();
    return doc.end();
  }

  private nvset(parent: XmlEl, tag: string, set: NvSet, meta = false, skip?: (name: string) => boolean): void {
    const pairs = skip ? set.pairs.filter((p) => !skip(p.name)) : set.pairs;
    if (!pairs.length) return;
    const el = parent.ele(tag, { id: set.id! });
    for (const p of pairs) {
      const name = meta && this.s.legacyNames ? (LEGACY_META[p.name] ?? p.name) : p.name;
      let value = p.value;
      if (meta && p.name === 'target-role') {
        const r = value as Role;
        if (r in LEGACY_ROLE) value = this.role(r);
      }
      el.ele('nvpair', { id: p.id!, name, value });
    }
  }

  private resource(parent: XmlEl, r: Resource): void {
    if (r.kind === 'primitive') this.primitive(parent, r);
    else if (r.kind === 'group') this.group(parent, r);
    else this.clone(parent, r);
  }

  private primitive(parent: XmlEl, p: Primitive): void {
    if (this.s.classes && !this.s.classes.has(p.class)) {
      this.problems.add(`primitive '${p.id}'`, `class ${p.class} does not exist in ${this.s.validateWith} (classes: ${[...this.s.classes].join(', ')})`);
    }
    const el = parent.ele('primitive');
    setAttrs(el, { id: p.id, class: p.class, provider: p.provider, type: p.type, description: p.description });
    this.nvset(el, 'instance_attributes', p.params);
    this.nvset(el, 'meta_attributes', p.meta, true);
    if (p.ops.length) {
      const ops = el.ele('operations');
      for (const op of p.ops) this.op(ops, p, op);
    }
  }

  private op(parent: XmlEl, p: Primitive, op: Op): void {
    if (op.onFail === 'demote' && this.s.validateWith === 'pacemaker-1.0') {
      this.problems.add(`primitive '${p.id}' operation '${op.name}'`, 'on-fail=demote does not exist in pacemaker-1.0');
    }
    const el = parent.ele('op');
    setAttrs(el, {
      id: op.id,
      name: op.name,
      interval: formatDuration(op.interval),
      timeout: op.timeout === undefined ? undefined : formatDuration(op.timeout),
      role: op.role ? this.role(op.role) : undefined,
      'on-fail': op.onFail,
      'start-delay': op.startDelay === undefined ? undefined : formatDuration(op.startDelay),
      enabled: op.enabled === false ? 'false' : undefined,
      description: op.description,
    });
    if (op.depth !== undefined) {
      el.ele('instance_attributes', { id: extraId(this.cib, `${op.id}-instance_attributes`) }).ele('nvpair', {
        id: op.depthId!,
        name: 'OCF_CHECK_LEVEL',
        value: String(op.depth),
      });
    }
  }

  private group(parent: XmlEl, g: Group): void {
    const el = parent.ele('group');
    setAttrs(el, { id: g.id, description: g.description });
    this.nvset(el, 'meta_attributes', g.meta, true);
    for (const m of g.members) this.primitive(el, m);
  }

  private clone(parent: XmlEl, c: Clone): void {
    const master = this.s.masterElement && isPromotable(c);
    const el = parent.ele(master ? 'master' : 'clone');
    setAttrs(el, { id: c.id, description: c.description });
    this.nvset(el, 'meta_attributes', c.meta, true, master ? (n) => n === 'promotable' : undefined);
    this.resource(el, c.child);
  }

  private rule(parent: XmlEl, r: Rule, role: Role | undefined): void {
    const el = parent.ele('rule');
    const rr = r.role ?? role;
    setAttrs(el, { id: r.id, score: r.score ?? 'INFINITY', 'boolean-op': r.booleanOp, role: rr ? this.role(rr) : undefined });
    for (const e of r.expressions) {
      const type = e.type === 'integer' && !this.s.integerType ? 'number' : e.type;
      setAttrs(el.ele('expression'), { id: e.id, attribute: e.attribute, operation: e.operation, value: e.value, type });
    }
  }

  private constraint(parent: XmlEl, c: Constraint): void {
    if (c.type === 'location') {
      const el = parent.ele('rsc_location');
      const roleAsRule = c.role !== undefined && this.s.locationRoleAsRule;
      setAttrs(el, { id: c.id, rsc: c.rsc, role: c.role && !roleAsRule ? this.role(c.role) : undefined });
      if (c.node !== undefined && !roleAsRule) {
        setAttrs(el, { node: c.node, score: c.score ?? 'INFINITY' });
      } else if (c.node !== undefined) {
        this.rule(el, { id: extraId(this.cib, `${c.id}-rule`), score: c.score ?? 'INFINITY', expressions: [{ id: extraId(this.cib, `${c.id}-rule-expr`), attribute: '#uname', operation: 'eq', value: c.node }] }, c.role);
      }
      for (const r of c.rules ?? []) this.rule(el, r, roleAsRule ? c.role : undefined);
    } else if (c.type === 'colocation') {
      setAttrs(parent.ele('rsc_colocation'), {
        id: c.id,
        rsc: c.rsc,
        'rsc-role': c.rscRole ? this.role(c.rscRole) : undefined,
        'with-rsc': c.withRsc,
        'with-rsc-role': c.withRscRole ? this.role(c.withRscRole) : undefined,
        'node-attribute': c.nodeAttribute,
        score: c.score,
      });
    } else {
      setAttrs(parent.ele('rsc_order'), {
        id: c.id,
        first: c.first,
        'first-action': c.firstAction,
        then: c.then,
        'then-action': c.thenAction,
        kind: c.kind ?? 'Mandatory',
        symmetrical: c.symmetrical === undefined ? undefined : String(c.symmetrical),
      });
    }
  }
}
