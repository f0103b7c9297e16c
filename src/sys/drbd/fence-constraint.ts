import type { Logger } from '../../ocf/log.js';
import type { Runner } from '../../ocf/run.js';

/**
 * The location constraint DRBD's crm-fence-peer handlers place when a
 * Primary loses its peer (fencing resource-only / resource-and-stonith):
 *
 *   <rsc_location rsc="<clone>" id="drbd-fence-by-handler-<res>-<clone>">      (crm-fence-peer.9.sh)
 *   <rsc_location rsc="<clone>" id="drbd-fence-by-handler-<clone>">            (crm-fence-peer.sh, 8.4)
 *     <rule role="Master" score="-INFINITY" …>
 *       <expression attribute="#uname" operation="ne" value="<node with good data>" …/>
 *
 * i.e. "never promote on a node other than these". Pacemaker enforces it;
 * the agent never promotes around it and never removes it, except as
 * ocf:linbit:drbd's unfence_if_all_uptodate does: once this node is Primary
 * and every local and peer disk is UpToDate (the peer has resynced, so the
 * constraint is stale), and only when the constraint allows this node (the
 * handler's --unfence-only-if-owner-match, the linbit agent's default).
 */

export const FENCE_ID_PREFIX = 'drbd-fence-by-handler';

export interface FenceConstraint {
  id: string;
  rsc: string;
  role?: string;
  score?: string;
  /** The nodes it allows to be promoted ("#uname ne <node>" expressions). */
  allowed: string[];
  /** Expressions on attributes other than #uname (a --fencing-attribute): the owner cannot be told from the node name. */
  otherAttributes: boolean;
}

const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

function attrs(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([\w:-]+)="([^"]*)"/g)) out[m[1]!] = unescape(m[2]!);
  return out;
}

/** The fencing constraints in `cibadmin --query --xpath` output (Pacemaker-written XML: one element per tag, double quotes). */
export function parseFenceConstraints(xml: string): FenceConstraint[] {
  const out: FenceConstraint[] = [];
  for (const m of xml.matchAll(/<rsc_location\b([^>]*?)(\/>|>([\s\S]*?)<\/rsc_location>)/g)) {
    const a = attrs(m[1]!);
    if (!a.id || !a.rsc) continue;
    const body = m[3] ?? '';
    const rule = /<rule\b([^>]*)>/.exec(body);
    const ra = rule ? attrs(rule[1]!) : {};
    const exprs = [...body.matchAll(/<expression\b([^>]*)\/?>/g)].map((e) => attrs(e[1]!));
    out.push({
      id: a.id,
      rsc: a.rsc,
      role: ra.role,
      score: ra.score,
      allowed: exprs.filter((e) => e.attribute === '#uname' && e.operation === 'ne' && e.value).map((e) => e.value!),
      otherAttributes: exprs.some((e) => e.attribute !== '#uname'),
    });
  }
  return out;
}

/** The ids the handlers give the constraint for DRBD resource `res` of promotable clone `clone`. */
export const fenceConstraintIds = (res: string, clone: string) => [`${FENCE_ID_PREFIX}-${res}-${clone}`, `${FENCE_ID_PREFIX}-${clone}`];

/** Why `c` must stay although every disk is UpToDate, or undefined when it may be lifted by `node`. */
export function keepReason(c: FenceConstraint, node: string): string | undefined {
  if (c.otherAttributes) return `constraint ${c.id} names nodes by a node attribute, not by name: cannot tell whether it allows ${node}`;
  if (!c.allowed.some((n) => n.toLowerCase() === node.toLowerCase())) return `constraint ${c.id} does not allow ${node} (it was placed by a peer with better data)`;
  return undefined;
}

export interface CibCtx {
  run: Runner;
  log: Logger;
}

/** XML ids and DRBD resource names as the agent accepts them: nothing that could end an XPath string. */
const XPATH_SAFE = /^[-%+./0-9:=@A-Z_a-z]+$/;

/**
 * The handlers' constraint for this DRBD resource in the CIB, read with
 * cibadmin (the live CIB, or CIB_file). One query on the common path (no
 * constraint: exit 105); the clone is looked up only when one exists.
 */
export async function findFenceConstraint(ctx: CibCtx, res: string, primitive: string): Promise<FenceConstraint | undefined> {
  if (!XPATH_SAFE.test(res) || !XPATH_SAFE.test(primitive)) return undefined;
  const q = await ctx.run('cibadmin', ['--query', '--xpath', `//constraints/rsc_location[starts-with(@id,'${FENCE_ID_PREFIX}-')]`], { check: false, timeoutMs: 15_000 });
  if (q.code === 105) return undefined;
  if (q.code !== 0) throw new Error(`cibadmin --query: exit ${q.code}: ${q.stderr.trim()}`);
  const candidates = parseFenceConstraints(q.stdout);
  if (candidates.length === 0) return undefined;
  const clone = await cloneOf(ctx, primitive);
  if (!clone) return undefined;
  const ids = fenceConstraintIds(res, clone);
  // The 8.4 handler's id has no resource name: with several DRBD resources in one clone it is shared. Prefer ours.
  return ids.map((id) => candidates.find((c) => c.id === id && c.rsc === clone)).find(Boolean);
}

async function cloneOf(ctx: CibCtx, primitive: string): Promise<string | undefined> {
  const r = await ctx.run('cibadmin', ['--query', '--node-path', '--xpath', `//*[self::clone or self::master][primitive/@id='${primitive}']`], { check: false, timeoutMs: 15_000 });
  if (r.code !== 0) return undefined;
  return /\[@id='([^']+)'\]\s*$/.exec(r.stdout.trim().split('\n')[0] ?? '')?.[1];
}

/** Deletes the constraint by its id (cibadmin matches the element by tag and id). */
export async function removeFenceConstraint(ctx: CibCtx, c: FenceConstraint): Promise<boolean> {
  if (!XPATH_SAFE.test(c.id)) return false;
  const r = await ctx.run('cibadmin', ['--delete', '--xml-text', `<rsc_location id="${c.id}"/>`], { check: false, timeoutMs: 15_000 });
  if (r.code !== 0 && r.code !== 105) {
    ctx.log.error(`cannot remove ${c.id}: cibadmin exit ${r.code}: ${r.stderr.trim()}`);
    return false;
  }
  return true;
}
