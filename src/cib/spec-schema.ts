// The cluster spec (YAML or JSON) as a zod schema. Names follow Pacemaker 3's
// own XML attribute names (with-rsc, first-action, kind…), so a spec reads
// like the CIB it becomes. Every object is strict: an unknown key is an error
// that names its place. Classic zod is fine here: ocf-gen is not an agent.

import { z } from 'zod';
import { parseDuration } from './duration.js';
import { type Issue, joinPath } from './errors.js';
import { ACTIONS, normalizeRole, normalizeScore, ORDER_KINDS } from './model.js';

const Scalar = z.union([z.string(), z.number(), z.boolean()]);
/** name → value; numbers and booleans become their text. */
export const Attrs = z.record(z.string(), Scalar);

const Bool = z.union([z.boolean(), z.enum(['true', 'false', 'yes', 'no'])]);
const Duration = z
  .union([z.number(), z.string()])
  .refine((v) => parseDuration(v) !== undefined, 'not a duration (e.g. 20s, 500ms, 2min; a plain number is seconds)');
const Role = z.string().refine((v) => normalizeRole(v) !== undefined, 'not a role (Started, Stopped, Promoted, Unpromoted)');
const Score = z
  .union([z.number().int(), z.string()])
  .refine((v) => normalizeScore(String(v)) !== undefined, 'not a score (an integer, INFINITY or -INFINITY)');
const Id = z.string().min(1);

export const OpSpec = z.strictObject({
  name: z.string().min(1),
  interval: Duration.optional(),
  timeout: Duration.optional(),
  role: Role.optional(),
  'on-fail': z.enum(['ignore', 'block', 'stop', 'restart', 'standby', 'fence', 'demote']).optional(),
  'start-delay': Duration.optional(),
  depth: z.union([z.number().int().min(0), z.string().regex(/^\d+$/, 'not a number')]).optional(),
  enabled: Bool.optional(),
  description: z.string().optional(),
});

export const PrimitiveSpec = z.strictObject({
  /** class:provider:type (ocf:ocfkit:IPaddr2) or class:type (lsb:apache, systemd:nfs-server, stonith:fence_ipmilan). */
  agent: z.string().min(1),
  description: z.string().optional(),
  params: Attrs.optional(),
  meta: Attrs.optional(),
  ops: z.array(OpSpec).optional(),
});

const GroupObject = z.strictObject({
  resources: z.array(Id).min(1, 'a group needs at least one resource'),
  description: z.string().optional(),
  meta: Attrs.optional(),
});
/** A group is its member list, or an object with `resources`. */
export const GroupSpec = z.preprocess((v) => (Array.isArray(v) ? { resources: v } : v), GroupObject);

export const CloneSpec = z.strictObject({
  resource: Id,
  promotable: Bool.optional(),
  description: z.string().optional(),
  meta: Attrs.optional(),
});

const ExpressionSpec = z.strictObject({
  attribute: z.string().min(1),
  operation: z.enum(['lt', 'gt', 'lte', 'gte', 'eq', 'ne', 'defined', 'not_defined']),
  value: Scalar.optional(),
  type: z.enum(['string', 'integer', 'number', 'version']).optional(),
});
const RuleSpec = z.strictObject({
  id: Id.optional(),
  score: Score.optional(),
  role: Role.optional(),
  'boolean-op': z.enum(['and', 'or']).optional(),
  expressions: z.array(ExpressionSpec).min(1),
});

export const LocationSpec = z.strictObject({
  id: Id.optional(),
  rsc: Id,
  node: z.string().min(1).optional(),
  score: Score.optional(),
  role: Role.optional(),
  rules: z.array(RuleSpec).min(1).optional(),
});
export const ColocationSpec = z.strictObject({
  id: Id.optional(),
  rsc: Id,
  'with-rsc': Id,
  score: Score.optional(),
  'rsc-role': Role.optional(),
  'with-rsc-role': Role.optional(),
  'node-attribute': z.string().min(1).optional(),
});
export const OrderSpec = z.strictObject({
  id: Id.optional(),
  first: Id,
  then: Id,
  'first-action': z.enum(ACTIONS).optional(),
  'then-action': z.enum(ACTIONS).optional(),
  kind: z.enum(ORDER_KINDS as [string, ...string[]]).optional(),
  symmetrical: Bool.optional(),
});

const NodeObject = z.strictObject({
  name: z.string().min(1),
  id: z.union([z.string().min(1), z.number().int().positive()]).optional(),
  attributes: Attrs.optional(),
});
/** A node is its name, or an object with `name`. */
export const NodeSpec = z.preprocess((v) => (typeof v === 'string' ? { name: v } : v), NodeObject);

export const FencingSpec = z.strictObject({
  /** A fence agent (fence_ipmilan, fence_sbd, external/ipmi…), `watchdog` (watchdog-only SBD); empty: no fencing. */
  agent: z.string(),
  /** Parameters every device gets (e.g. fence_sbd's devices=…), "k=v k=v" or a map. */
  params: z.union([z.string(), Attrs]).optional(),
  /** Cluster option priority-fencing-delay: in a split, the node with the higher-priority resources is fenced last (wins). */
  'priority-fencing-delay': z.union([z.string(), z.number()]).optional(),
  /** With agent `watchdog`: stonith-watchdog-timeout (twice SBD_WATCHDOG_TIMEOUT). */
  'watchdog-timeout': z.union([z.string(), z.number()]).optional(),
  /** Timeout of every device's start and monitor operations (a slow BMC answers in tens of seconds); empty: 20s. */
  timeout: z.union([Duration, z.literal('')]).optional(),
  devices: z
    .array(
      z.strictObject({
        node: z.string().min(1),
        id: Id.optional(),
        /** "ip=10.0.0.11 username=admin" or a map. */
        params: z.union([z.string(), Attrs]).optional(),
      }),
    )
    .optional(),
});

export const Spec = z.strictObject({
  nodes: z.array(NodeSpec).min(1, 'at least one node'),
  properties: Attrs.optional(),
  'resource-defaults': Attrs.optional(),
  'operation-defaults': Attrs.optional(),
  fencing: FencingSpec.optional(),
  resources: z.record(z.string(), PrimitiveSpec),
  groups: z.record(z.string(), GroupSpec).optional(),
  clones: z.record(z.string(), CloneSpec).optional(),
  constraints: z
    .strictObject({
      location: z.array(LocationSpec).optional(),
      colocation: z.array(ColocationSpec).optional(),
      order: z.array(OrderSpec).optional(),
    })
    .optional(),
});

export type SpecT = z.infer<typeof Spec>;
export type PrimitiveSpecT = z.infer<typeof PrimitiveSpec>;
export type OpSpecT = z.infer<typeof OpSpec>;

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'a map' : `${typeof v} ${JSON.stringify(v)}`;
}

function knownKeys(schema: unknown): string[] {
  const shape = (schema as { shape?: Record<string, unknown> })?.shape;
  return shape ? Object.keys(shape) : [];
}

/** zod issues → our one-line, place-naming messages. */
export function specIssues(error: z.ZodError, input: unknown): Issue[] {
  const out: Issue[] = [];
  const valueAt = (path: PropertyKey[]) => path.reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<PropertyKey, unknown>)[k] : undefined), input);
  for (const i of error.issues) {
    const path = i.path.filter((p): p is string | number => typeof p !== 'symbol');
    switch (i.code) {
      case 'unrecognized_keys':
        for (const k of i.keys) out.push({ path: joinPath([...path, k]), message: `unknown key${hintKeys(path, input)}` });
        break;
      case 'invalid_type': {
        const got = valueAt(path);
        out.push({ path: joinPath(path), message: got === undefined ? 'required' : `expected ${i.expected}, got ${describe(got)}` });
        break;
      }
      case 'invalid_value':
        out.push({ path: joinPath(path), message: `must be one of: ${i.values.map(String).join(', ')} (got ${describe(valueAt(path))})` });
        break;
      case 'invalid_union':
        out.push({ path: joinPath(path), message: `not a valid value (got ${describe(valueAt(path))})` });
        break;
      default: {
        const got = valueAt(path);
        const shown = got !== undefined && typeof got !== 'object' ? `: ${JSON.stringify(got)}` : '';
        out.push({ path: joinPath(path), message: `${i.message}${shown}` });
      }
    }
  }
  return out;
}

/** "(known: a, b)" for the object at `path`, found by walking the schema. */
function hintKeys(path: ReadonlyArray<string | number>, _input: unknown): string {
  let schema: unknown = Spec;
  for (const p of path) {
    schema = unwrap(schema);
    const s = schema as { shape?: Record<string, unknown>; element?: unknown; valueType?: unknown };
    if (typeof p === 'number') schema = s.element;
    else if (s.shape) schema = s.shape[p];
    else if (s.valueType) schema = s.valueType;
    else return '';
  }
  const keys = knownKeys(unwrap(schema));
  return keys.length ? ` (known: ${keys.join(', ')})` : '';
}

function unwrap(schema: unknown): unknown {
  let s = schema as { def?: { type?: string; innerType?: unknown; out?: unknown; options?: unknown[] } } | undefined;
  for (let guard = 0; s?.def && guard < 10; guard++) {
    const d = s.def;
    if (d.type === 'optional' || d.type === 'nullable' || d.type === 'default') s = d.innerType as typeof s;
    else if (d.type === 'pipe') s = d.out as typeof s;
    else break;
  }
  return s;
}
