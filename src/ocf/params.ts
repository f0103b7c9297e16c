import * as z from 'zod/mini';
import { OcfError, OCF } from './exit-codes.js';
import { ocfBoolean, ocfIsTrue } from './truth.js';

/** OCF parameter types. `select` is rendered for both OCF schemas (see metadata.ts). */
export type OcfType = 'string' | 'integer' | 'boolean' | 'select';

interface ParamText {
  shortdesc: string;
  longdesc: string;
  /** No two resources of this agent may share the value: unique="1" and unique-group="<name>" (pcs reads only the group). */
  unique?: boolean;
  /**
   * OCF 1.1 unique-group: no two resources may share the values of all
   * parameters of the group together. Alone (without `unique`) it renders
   * unique="0": the OCF 1.0 attribute cannot say "together".
   */
  uniqueGroup?: string;
  /** Pacemaker ≥ 2.1 reloads (reload-agent) instead of restarting when only reloadable parameters change. */
  reloadable?: boolean;
  /** Deprecated: `true`, or the name of the parameter that replaces it. */
  deprecated?: true | string;
}

export interface ParamDecl<T> extends ParamText {
  type: OcfType;
  /** Validates a non-empty raw string from the environment into the typed value. */
  schema: z.ZodMiniType<T, string>;
  values?: readonly string[];
  default?: string;
  required?: boolean;
}

type Presence<O> = O extends { default: unknown } | { required: true } ? never : undefined;

/** A check on the value alone, independent of this node: returns a problem or nothing. */
type Check<T> = (value: T) => string | undefined;

function withCheck<T>(schema: z.ZodMiniType<T, string>, check?: Check<T>): z.ZodMiniType<T, string> {
  if (!check) return schema;
  return schema.check(
    z.superRefine((value: T, ctx) => {
      const problem = check(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, input: value });
    }),
  );
}


export const param = {
  string<O extends ParamText & { default?: string; required?: boolean; check?: Check<string> }>(
    o: O,
  ): ParamDecl<string | Presence<O>> {
    return { ...o, type: 'string', schema: withCheck(z.string(), o.check) } as ParamDecl<string | Presence<O>>;
  },

  integer<O extends ParamText & { default?: number; required?: boolean; min?: number; max?: number }>(
    o: O,
  ): ParamDecl<number | Presence<O>> {
    const schema = z.pipe(
      z.string().check(z.regex(/^[+-]?\d+$/, 'not an integer')),
      z.transform((s: string) => Number.parseInt(s, 10)),
    );
    const range: Check<number> = (n) => {
      if (o.min !== undefined && n < o.min) return `must be at least ${o.min}`;
      if (o.max !== undefined && n > o.max) return `must be at most ${o.max}`;
      return undefined;
    };
    return {
      ...o,
      type: 'integer',
      default: o.default === undefined ? undefined : String(o.default),
      schema: withCheck(schema as unknown as z.ZodMiniType<number, string>, range),
    } as ParamDecl<number | Presence<O>>;
  },

  /** OCF booleans as ocf_is_true reads them (yes/true/1/on…), but garbage is an error, not "false". */
  boolean<O extends ParamText & { default?: boolean; required?: boolean }>(o: O): ParamDecl<boolean | Presence<O>> {
    const schema = z.pipe(
      z.string().check(
        z.refine((s: string) => ocfBoolean(s) !== undefined, 'not a boolean (true/false)'),
      ),
      z.transform((s: string) => ocfIsTrue(s)),
    );
    return {
      ...o,
      type: 'boolean',
      default: o.default === undefined ? undefined : String(o.default),
      schema: schema as unknown as z.ZodMiniType<boolean, string>,
    } as ParamDecl<boolean | Presence<O>>;
  },

  /**
   * A choice: `type="select"` with its options in the meta-data. `accept`
   * admits other spellings the agent has always taken (e.g. "yes" for "true")
   * without advertising them; the value is then any accepted string.
   */
  select<const V extends readonly string[], O extends ParamText & { default?: V[number]; required?: boolean; accept?: (v: string) => boolean }>(
    values: V,
    o: O,
  ): ParamDecl<(O extends { accept: unknown } ? string : V[number]) | Presence<O>> {
    const { accept, ...text } = o;
    // With other accepted spellings "one of" would not be true: name the choices plainly then.
    const message = accept ? `must be ${values.slice(0, -1).join(', ')} or ${values.at(-1)}` : `must be one of: ${values.join(', ')}`;
    const schema = z.string().check(z.refine((s: string) => (values as readonly string[]).includes(s) || (accept?.(s) ?? false), message));
    return { ...text, type: 'select', values, schema } as unknown as ParamDecl<(O extends { accept: unknown } ? string : V[number]) | Presence<O>>;
  },
};

export type ParamDecls = Record<string, ParamDecl<unknown>>;
export type ParamValues<P extends ParamDecls> = { [K in keyof P]: P[K] extends ParamDecl<infer T> ? T : never };

function shown(raw: string): string {
  const s = JSON.stringify(raw);
  return s.length > 80 ? `${s.slice(0, 77)}..."` : s;
}

/**
 * OCF_RESKEY_<name> → typed values. Unset or empty means "use the default";
 * a required parameter without a value, or a value its schema rejects, is a
 * configuration error (6): the same CIB is wrong on every node.
 */
export function parseParams<P extends ParamDecls>(decls: P, env: NodeJS.ProcessEnv): ParamValues<P> {
  const out: Record<string, unknown> = {};
  for (const [name, decl] of Object.entries(decls)) {
    let raw = env[`OCF_RESKEY_${name}`];
    if (raw === undefined || raw === '') raw = decl.default;
    if (raw === undefined || raw === '') {
      if (decl.required) throw new OcfError(OCF.ERR_CONFIGURED, `required parameter '${name}' is not set`);
      out[name] = undefined;
      continue;
    }
    const result = decl.schema.safeParse(raw);
    if (!result.success) {
      const message = result.error.issues[0]?.message ?? 'invalid value';
      throw new OcfError(OCF.ERR_CONFIGURED, `parameter '${name}': ${message}: ${shown(raw)}`);
    }
    out[name] = result.data;
  }
  return out as ParamValues<P>;
}
