// XML ids: valid (xsd:ID, which every Pacemaker schema uses), unique across
// the whole file (cibadmin refuses an nvpair and a constraint sharing one),
// and stable: generated ids follow Pacemaker's and pcs's own conventions and
// depend only on the input, so the same input gives byte-identical XML.
// One Map lookup per id: linear in the size of the CIB.

import type { Cib, NvSet, Op, Resource, Rule } from './model.js';
import { formatDuration } from './duration.js';
import type { Problems } from './errors.js';

/** An XML NCName restricted to ASCII, which is what Pacemaker's tools handle well. */
export const ID_RE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
export const ID_RULE = "letters, digits, '_', '.', '-'; starting with a letter or '_'";

/** Turns any text into a usable id fragment. */
export function sanitizeId(s: string): string {
  let out = s.replace(/[^A-Za-z0-9_.-]/g, '_');
  if (!/^[A-Za-z_]/.test(out)) out = `_${out}`;
  return out;
}

export class IdRegistry {
  private readonly owners = new Map<string, { where: string; owner: unknown }>();

  constructor(private readonly problems: Problems) {}

  /** An id the input gave explicitly: a second, different owner is an error. */
  claim(id: string, where: string, owner: unknown): void {
    const prev = this.owners.get(id);
    if (prev && prev.owner !== owner) {
      this.problems.add(where, `duplicate id '${id}' (already used by ${prev.where})`);
      return;
    }
    if (!prev && !ID_RE.test(id)) this.problems.add(where, `'${id}' is not a valid XML id (${ID_RULE})`);
    this.owners.set(id, { where, owner });
  }

  /** A generated id: `base`, or `base-1`, `base-2`… when taken. */
  fresh(base: string, where: string, owner?: unknown): string {
    let id = sanitizeId(base);
    if (this.owners.has(id)) {
      let n = 1;
      while (this.owners.has(`${id}-${n}`)) n++;
      id = `${id}-${n}`;
    }
    this.owners.set(id, { where, owner });
    return id;
  }

  has(id: string): boolean {
    return this.owners.has(id);
  }

  all(): Set<string> {
    return new Set(this.owners.keys());
  }
}

/** Fresh id for an element a writer has to add (e.g. a rule in an old dialect), never clashing with the model's. */
export function extraId(cib: Cib, base: string): string {
  return claimUniqueId(cib.ids ?? (cib.ids = new Set()), base, 1);
}

/** `base` made a valid id, with -<n> (from `first` on) when `ids` has it already; added to `ids`. */
export function claimUniqueId(ids: Set<string>, base: string, first: number): string {
  let id = sanitizeId(base);
  if (ids.has(id)) {
    let n = first;
    while (ids.has(`${id}-${n}`)) n++;
    id = `${id}-${n}`;
  }
  ids.add(id);
  return id;
}

const opIdBase = (rsc: string, op: Op) => `${rsc}-${op.name}-interval-${formatDuration(op.interval)}`;

/**
 * Registers every id the model already has (duplicates are problems), then
 * gives an id to everything that lacks one. Two passes, so a generated id
 * never steals a name the input uses further down.
 */
export function assignIds(cib: Cib, problems: Problems, registry = new IdRegistry(problems), o: { claimed?: boolean } = {}): void {
  const claimSet = (s: NvSet, where: string) => {
    if (s.id) registry.claim(s.id, `${where} attribute set`, s);
    for (const p of s.pairs) if (p.id) registry.claim(p.id, `${where} attribute '${p.name}'`, p);
  };
  const claimRules = (rules: Rule[] | undefined, where: string) => {
    for (const r of rules ?? []) {
      if (r.id) registry.claim(r.id, `${where} rule`, r);
      for (const e of r.expressions) if (e.id) registry.claim(e.id, `${where} rule expression`, e);
    }
  };
  const claimResource = (r: Resource) => {
    const where = `${r.kind} '${r.id}'`;
    registry.claim(r.id, where, r);
    claimSet(r.meta, where);
    if (r.kind === 'primitive') {
      claimSet(r.params, where);
      for (const op of r.ops) {
        if (op.id) registry.claim(op.id, `${where} operation '${op.name}'`, op);
        if (op.depthId) registry.claim(op.depthId, `${where} operation '${op.name}' depth`, op);
      }
    } else if (r.kind === 'group') r.members.forEach(claimResource);
    else claimResource(r.child);
  };

  if (!o.claimed) {
    claimSet(cib.properties, 'cluster properties');
    for (const n of cib.nodes) claimSet(n.attributes, `node '${n.uname}'`);
    cib.resources.forEach(claimResource);
    for (const c of cib.constraints) {
      if (c.id) registry.claim(c.id, `${c.type} constraint '${c.id}'`, c);
      if (c.type === 'location') claimRules(c.rules, `location constraint '${c.id ?? c.rsc}'`);
    }
    claimSet(cib.rscDefaults, 'resource defaults');
    claimSet(cib.opDefaults, 'operation defaults');
  }

  const fillSet = (s: NvSet, setBase: string, where: string) => {
    if (!s.pairs.length) return;
    s.id ??= registry.fresh(setBase, where, s);
    for (const p of s.pairs) p.id ??= registry.fresh(`${s.id}-${p.name}`, where, p);
  };
  const fillRules = (rules: Rule[] | undefined, base: string) => {
    for (const r of rules ?? []) {
      r.id ??= registry.fresh(`${base}-rule`, base, r);
      for (const e of r.expressions) e.id ??= registry.fresh(`${r.id}-expr`, base, e);
    }
  };
  const fillResource = (r: Resource) => {
    fillSet(r.meta, `${r.id}-meta_attributes`, r.id);
    if (r.kind === 'primitive') {
      fillSet(r.params, `${r.id}-instance_attributes`, r.id);
      for (const op of r.ops) {
        op.id ??= registry.fresh(opIdBase(r.id, op), r.id, op);
        if (op.depth !== undefined) op.depthId ??= registry.fresh(`${op.id}-OCF_CHECK_LEVEL`, r.id, op);
      }
    } else if (r.kind === 'group') r.members.forEach(fillResource);
    else fillResource(r.child);
  };

  fillSet(cib.properties, 'cib-bootstrap-options', 'cluster properties');
  cib.nodes.forEach((n, i) => fillSet(n.attributes, `nodes-${n.id ?? i + 1}`, `node ${n.uname}`));
  cib.resources.forEach(fillResource);
  for (const c of cib.constraints) {
    if (!c.id) {
      const base =
        c.type === 'location'
          ? c.node !== undefined
            ? `location-${c.rsc}-${c.node}-${c.score ?? 'INFINITY'}`
            : `location-${c.rsc}`
          : c.type === 'colocation'
            ? `colocation-${c.rsc}-${c.withRsc}-${c.score}`
            : `order-${c.first}-${c.then}-${(c.kind ?? 'Mandatory').toLowerCase()}`;
      c.id = registry.fresh(base, `${c.type} constraint`, c);
    }
    if (c.type === 'location') fillRules(c.rules, c.id);
  }
  fillSet(cib.rscDefaults, 'rsc-options', 'resource defaults');
  fillSet(cib.opDefaults, 'op-options', 'operation defaults');
  cib.ids = registry.all();
}
