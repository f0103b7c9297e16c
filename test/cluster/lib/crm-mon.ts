import { XMLParser } from 'fast-xml-parser';

/** One node as `crm_mon --output-as=xml` reports it. */
export interface NodeState {
  name: string;
  id: string;
  online: boolean;
  standby: boolean;
  pending: boolean;
  unclean: boolean;
  shutdown: boolean;
  isDc: boolean;
}

/** One primitive (groups and clones are flattened; `group`/`clone` name the parent). */
export interface ResourceState {
  id: string;
  /** ocf:<provider>:<type> */
  agent: string;
  role: string;
  active: boolean;
  failed: boolean;
  blocked: boolean;
  managed: boolean;
  /** Nodes it runs on. */
  nodes: string[];
  group?: string;
  clone?: string;
}

export interface OpFailure {
  opKey: string;
  node: string;
  task: string;
  exitcode: number;
  exitreason: string;
}

export interface ClusterStatus {
  dc?: string;
  quorum: boolean;
  nodes: NodeState[];
  resources: ResourceState[];
  failures: OpFailure[];
  /** The XML as crm_mon printed it (for error messages). */
  xml: string;
}

type El = Record<string, unknown>;
const LISTS = new Set(['node', 'resource', 'group', 'clone', 'bundle', 'failure']);
// Elements that may repeat are always arrays (not attributes: <failure node="…"> is a string).
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name, _path, _leaf, isAttribute) => !isAttribute && LISTS.has(name) });
const bool = (v: unknown) => v === 'true';
const str = (v: unknown) => (typeof v === 'string' ? v : '');
const list = (v: unknown) => (Array.isArray(v) ? (v as El[]) : []);

function primitives(parent: El | undefined, into: ResourceState[], ctx: { group?: string; clone?: string }): void {
  if (!parent) return;
  for (const r of list(parent.resource))
    into.push({
      id: str(r.id),
      agent: str(r.resource_agent),
      role: str(r.role),
      active: bool(r.active),
      failed: bool(r.failed),
      blocked: bool(r.blocked),
      managed: bool(r.managed),
      nodes: list(r.node).map((n) => str(n.name)),
      ...ctx,
    });
  for (const g of list(parent.group)) primitives(g, into, { ...ctx, group: str(g.id) });
  for (const c of list(parent.clone)) primitives(c, into, { ...ctx, clone: str(c.id) });
}

/** Parses `crm_mon -1 -r --output-as=xml` (Pacemaker 2.1 API 2.x). */
export function parseCrmMon(xml: string): ClusterStatus {
  const doc = parser.parse(xml) as { 'pacemaker-result'?: El };
  const root = doc['pacemaker-result'];
  if (!root) throw new Error(`not crm_mon XML: ${xml.slice(0, 200)}`);
  const summary = (root.summary ?? {}) as El;
  const dc = (summary.current_dc ?? {}) as El;
  const nodes = list((root.nodes as El | undefined)?.node).map((n) => ({
    name: str(n.name),
    id: str(n.id),
    online: bool(n.online),
    standby: bool(n.standby),
    pending: bool(n.pending),
    unclean: bool(n.unclean),
    shutdown: bool(n.shutdown),
    isDc: bool(n.is_dc),
  }));
  const resources: ResourceState[] = [];
  primitives(root.resources as El | undefined, resources, {});
  const failures = list((root.failures as El | undefined)?.failure).map((f) => ({
    opKey: str(f.op_key),
    node: str(f.node),
    task: str(f.task),
    exitcode: Number(f.exitcode ?? -1),
    exitreason: str(f.exitreason),
  }));
  return { dc: bool(dc.present) ? str(dc.name) : undefined, quorum: bool(dc.with_quorum), nodes, resources, failures, xml };
}
