// CIB XML in the Heartbeat 2.x format, as defined by its crm.dtd
// (Heartbeat's crm.dtd; ocfkit's own schemas/heartbeat-2-cib.rng checks it): no validate-with, <attributes>
// wrappers around nvpairs, master_slave, option names with underscores,
// rsc_colocation from/to/to_role and rsc_order from/action/type/to/to_action.
// Location constraints are written as #uname rules, which every 2.x release
// reads. What has no Heartbeat 2 equivalent is an error, not a silent drop.

import { formatDuration } from './duration.js';
import { Problems } from './errors.js';
import { extraId } from './ids.js';
import type { Cib, Clone, Constraint, Group, NvPair, NvSet, Op, Primitive, Resource, Role, Rule } from './model.js';
import { getNv, isPromotable } from './model.js';
import { newDocument, setAttrs, type XmlEl } from './xml-out.js';

const ROLE: Record<Role, string> = { Started: 'Started', Stopped: 'Stopped', Promoted: 'Master', Unpromoted: 'Slave' };
const META_NAME: Record<string, string> = { 'promoted-max': 'master_max', 'promoted-node-max': 'master_node_max' };
const CLASSES = new Set(['ocf', 'lsb', 'heartbeat', 'stonith']);
const ON_FAIL = new Set(['ignore', 'block', 'stop', 'restart', 'fence']);
/** Resource defaults that Heartbeat 2 keeps as cluster options. */
const RSC_DEFAULT_OPTION: Record<string, string> = { 'resource-stickiness': 'default_resource_stickiness', 'is-managed': 'is_managed_default' };
const OP_DEFAULT_OPTION: Record<string, string> = { timeout: 'default_action_timeout' };

const underscores = (name: string) => name.replace(/-/g, '_');

export function writeHeartbeat2(cib: Cib): string {
  return new Heartbeat2Writer(cib).write();
}

class Heartbeat2Writer {
  private readonly problems = new Problems();
  constructor(private readonly cib: Cib) {}

  write(): string {
    const { doc, root } = newDocument(this.cib.comment, 'cib', {
      admin_epoch: String(this.cib.adminEpoch),
      epoch: String(this.cib.epoch),
      num_updates: '0',
      // Heartbeat 2.1's CRM feature set, as its CIB carried it.
      crm_feature_set: '2.0',
    });
    const conf = root.ele('configuration');
    this.crmConfig(conf.ele('crm_config'));
    const nodes = conf.ele('nodes');
    for (const n of this.cib.nodes) {
      const el = nodes.ele('node', { id: n.id ?? n.uname, uname: n.uname, type: 'normal' });
      this.nvset(el, 'instance_attributes', n.attributes.id, n.attributes.pairs);
    }
    const res = conf.ele('resources');
    for (const r of this.cib.resources) this.resource(res, r);
    const cons = conf.ele('constraints');
    for (const c of this.cib.constraints) this.constraint(cons, c);
    root.ele('status');
    this.problems.throwIfAny();
    return doc.end();
  }

  /** Cluster options, plus the resource/operation defaults Heartbeat 2 keeps there. */
  private crmConfig(parent: XmlEl): void {
    const pairs: NvPair[] = this.cib.properties.pairs.map((p) => ({ ...p, name: underscores(p.name) }));
    const moved = (set: NvSet, table: Record<string, string>, what: string) => {
      for (const p of set.pairs) {
        const name = table[p.name];
        if (name) pairs.push({ ...p, name });
        else this.problems.add(`${what} '${p.name}'`, `has no heartbeat-2 equivalent (Heartbeat 2 knows: ${Object.keys(table).join(', ')})`);
      }
    };
    moved(this.cib.rscDefaults, RSC_DEFAULT_OPTION, 'resource default');
    moved(this.cib.opDefaults, OP_DEFAULT_OPTION, 'operation default');
    if (pairs.length) this.nvset(parent, 'cluster_property_set', this.cib.properties.id ?? extraId(this.cib, 'cib-bootstrap-options'), pairs);
  }

  private nvset(parent: XmlEl, tag: string, id: string | undefined, pairs: NvPair[]): void {
    if (!pairs.length) return;
    const attrs = parent.ele(tag, { id: id! }).ele('attributes');
    for (const p of pairs) attrs.ele('nvpair', { id: p.id!, name: p.name, value: p.value });
  }

  private meta(parent: XmlEl, ownerId: string, set: NvSet, extra: NvPair[] = [], skip?: string): void {
    const pairs = set.pairs
      .filter((p) => p.name !== skip)
      .map((p) => {
        const value = p.name === 'target-role' && p.value in ROLE ? ROLE[p.value as Role] : p.value;
        return { ...p, name: META_NAME[p.name] ?? underscores(p.name), value };
      });
    pairs.push(...extra);
    if (pairs.length) this.nvset(parent, 'meta_attributes', set.id ?? extraId(this.cib, `${ownerId}-meta_attributes`), pairs);
  }

  private resource(parent: XmlEl, r: Resource): void {
    if (r.kind === 'primitive') this.primitive(parent, r);
    else if (r.kind === 'group') this.group(parent, r);
    else this.clone(parent, r);
  }

  private primitive(parent: XmlEl, p: Primitive): void {
    if (!CLASSES.has(p.class)) this.problems.add(`primitive '${p.id}'`, `class ${p.class} does not exist in Heartbeat 2 (classes: ${[...CLASSES].join(', ')})`);
    const el = setAttrs(parent.ele('primitive'), { id: p.id, class: p.class, type: p.type, provider: p.provider, description: p.description });
    this.nvset(el, 'instance_attributes', p.params.id, p.params.pairs);
    this.meta(el, p.id, p.meta);
    if (!p.ops.length) return;
    const ops = el.ele('operations');
    for (const op of p.ops) this.op(ops, p, op);
  }

  private op(parent: XmlEl, p: Primitive, op: Op): void {
    if (op.onFail && !ON_FAIL.has(op.onFail)) this.problems.add(`primitive '${p.id}' operation '${op.name}'`, `on-fail=${op.onFail} does not exist in Heartbeat 2 (${[...ON_FAIL].join(', ')})`);
    const el = setAttrs(parent.ele('op'), {
      id: op.id,
      name: op.name,
      interval: formatDuration(op.interval),
      timeout: op.timeout === undefined ? undefined : formatDuration(op.timeout),
      start_delay: op.startDelay === undefined ? undefined : formatDuration(op.startDelay),
      disabled: op.enabled === false ? 'true' : undefined,
      role: op.role ? ROLE[op.role] : undefined,
      on_fail: op.onFail,
      description: op.description,
    });
    if (op.depth !== undefined) {
      this.nvset(el, 'instance_attributes', extraId(this.cib, `${op.id}-instance_attributes`), [{ id: op.depthId!, name: 'OCF_CHECK_LEVEL', value: String(op.depth) }]);
    }
  }

  private group(parent: XmlEl, g: Group): void {
    const el = setAttrs(parent.ele('group'), { id: g.id, description: g.description });
    this.meta(el, g.id, g.meta);
    for (const m of g.members) this.primitive(el, m);
  }

  private clone(parent: XmlEl, c: Clone): void {
    const ms = isPromotable(c);
    const el = setAttrs(parent.ele(ms ? 'master_slave' : 'clone'), { id: c.id, description: c.description });
    // Heartbeat 2's DTD defaults globally_unique to true; Pacemaker's default is false. Say it.
    const extra: NvPair[] = [];
    if (getNv(c.meta, 'globally-unique') === undefined) {
      extra.push({ id: extraId(this.cib, `${c.meta.id ?? `${c.id}-meta_attributes`}-globally-unique`), name: 'globally_unique', value: 'false' });
    }
    this.meta(el, c.id, c.meta, extra, 'promotable');
    this.resource(el, c.child);
  }

  private rule(parent: XmlEl, r: Rule, role: Role | undefined): void {
    const rr = r.role ?? role;
    const el = setAttrs(parent.ele('rule'), { id: r.id, role: rr ? ROLE[rr] : undefined, score: r.score ?? 'INFINITY', boolean_op: r.booleanOp });
    for (const e of r.expressions) {
      const type = e.type === 'integer' ? 'number' : e.type;
      setAttrs(el.ele('expression'), { id: e.id, attribute: e.attribute, operation: e.operation, value: e.value, type });
    }
  }

  private constraint(parent: XmlEl, c: Constraint): void {
    if (c.type === 'location') {
      const el = setAttrs(parent.ele('rsc_location'), { id: c.id, rsc: c.rsc });
      if (c.node !== undefined) {
        this.rule(
          el,
          { id: extraId(this.cib, `${c.id}-rule`), score: c.score ?? 'INFINITY', expressions: [{ id: extraId(this.cib, `${c.id}-rule-expr`), attribute: '#uname', operation: 'eq', value: c.node }] },
          c.role,
        );
      }
      for (const r of c.rules ?? []) this.rule(el, r, c.role);
    } else if (c.type === 'colocation') {
      setAttrs(parent.ele('rsc_colocation'), {
        id: c.id,
        from: c.rsc,
        from_role: c.rscRole ? ROLE[c.rscRole] : undefined,
        to: c.withRsc,
        to_role: c.withRscRole ? ROLE[c.withRscRole] : undefined,
        node_attribute: c.nodeAttribute,
        score: c.score,
      });
    } else {
      const kind = c.kind ?? 'Mandatory';
      if (kind === 'Serialize') this.problems.add(`order constraint '${c.id}'`, 'kind Serialize has no heartbeat-2 equivalent');
      // "start <then> after promote <first>", the DTD's reading order.
      setAttrs(parent.ele('rsc_order'), {
        id: c.id,
        from: c.then,
        action: c.thenAction ?? 'start',
        type: 'after',
        to: c.first,
        to_action: c.firstAction ?? 'start',
        score: kind === 'Optional' ? '0' : 'INFINITY',
        symmetrical: c.symmetrical === undefined ? undefined : String(c.symmetrical),
      });
    }
  }
}
