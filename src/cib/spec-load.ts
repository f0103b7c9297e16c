// Where a cluster spec comes from: a template in cib-templates/ (settings with
// defaults, `${name}` placeholders, `--set name=value`), or a YAML/JSON spec
// file (which may itself be a template). `--set a.b[0].c=value` sets any
// value of the spec by its path. Then the zod schema checks it all.

import { readdirSync } from 'node:fs';
import { readInput } from './input.js';
import { join } from 'node:path';
import { z } from 'zod';
import { isAlias, LineCounter, parseDocument, visit } from 'yaml';
import { packageRoot } from '../package/paths.js';
import { CibError, type Issue, joinPath } from './errors.js';
import { Spec, type SpecT, specIssues } from './spec-schema.js';

export const DEFAULT_TEMPLATE = 'ha-nfs';

const SETTING_NAME = /^[a-z][a-z0-9_]*$/;
const PLACEHOLDER = /\$\{([^}]*)\}/g;
/** A setting's value, defaults expanded: far above any real one. */
const MAX_SETTING_LENGTH = 64 << 10;

const Setting = z.strictObject({
  default: z.union([z.string(), z.number(), z.boolean()]),
  description: z.string(),
});
const TemplateFile = z.strictObject({
  template: z.string().min(1),
  description: z.string().optional(),
  settings: z.record(z.string().regex(SETTING_NAME, 'setting names are lower case letters, digits and _'), Setting),
  spec: z.record(z.string(), z.unknown()),
});
export type Template = z.infer<typeof TemplateFile>;

export const templatesDir = () => join(packageRoot(), 'cib-templates');

export function listTemplates(): string[] {
  try {
    return readdirSync(templatesDir())
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.slice(0, -5))
      .sort();
  } catch {
    return [];
  }
}

/** Reads YAML or JSON (by extension; `-` is stdin, read as YAML, which includes JSON). */
export function readStructured(file: string): unknown {
  const textIn = readInput(file);
  return file.endsWith('.json') ? parseJson(textIn, file) : parseYaml(textIn, file);
}

/** Deeper than any spec needs; bounds the recursion of everything that walks a spec. */
export const MAX_SPEC_DEPTH = 64;

function lineColOf(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return `${line}:${offset - lineStart + 1}`;
}

const lineCol = (lc: LineCounter, offset: number) => {
  const p = lc.linePos(offset);
  return `${p.line}:${p.col}`;
};

/**
 * JSON, strictly, with a scanner of our own: JSON.parse names no line (and
 * on Node 20 often no position), and keeps the last of two equal keys
 * silently. Every problem names file:line:column; nesting is bounded.
 */
function parseJson(text: string, file: string): unknown {
  const fail = (at: number, message: string): never => {
    throw new CibError([{ path: `${file}:${lineColOf(text, at)}`, message }]);
  };
  const WS = /[ \t\n\r]*/y;
  const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const LITERAL = /true|false|null/y;
  let i = 0;
  const skip = () => {
    WS.lastIndex = i;
    WS.exec(text);
    i = WS.lastIndex;
  };
  const token = (re: RegExp) => {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) return undefined;
    i = re.lastIndex;
    return m[0];
  };
  const describe = () => (i >= text.length ? 'the end of the file' : JSON.stringify(text.slice(i, i + 12).split('\n')[0]));
  // Each open container: its kind and, for objects, the keys seen (with where).
  const stack: Array<{ kind: '{' | '['; keys?: Map<string, number> }> = [];
  const value = () => {
    skip();
    const c = text[i];
    if (c === '{' || c === '[') {
      if (stack.length >= MAX_SPEC_DEPTH) fail(i, `nested deeper than ${MAX_SPEC_DEPTH} levels (a spec needs about 5)`);
      stack.push(c === '{' ? { kind: c, keys: new Map() } : { kind: c });
      i++;
      skip();
      if (text[i] === (c === '{' ? '}' : ']')) {
        stack.pop();
        i++;
        return;
      }
      // The first member; the rest follow in the loop below (recursion only as deep as the bounded nesting).
      if (c === '{') key();
      else value();
      return;
    }
    if (token(STRING) ?? token(NUMBER) ?? token(LITERAL)) return;
    fail(i, `not valid JSON: expected a value, found ${describe()}`);
  };
  const key = () => {
    skip();
    const at = i;
    const k = token(STRING);
    if (k === undefined) fail(i, `not valid JSON: expected a key in double quotes, found ${describe()}`);
    const name = JSON.parse(k!) as string;
    const keys = stack[stack.length - 1]!.keys!;
    const first = keys.get(name);
    if (first !== undefined) fail(at, `duplicate key ${k} (first at line ${lineColOf(text, first).split(':')[0]}): JSON would keep only this one; remove or rename one`);
    keys.set(name, at);
    skip();
    if (text[i] !== ':') fail(i, `not valid JSON: expected ':' after the key ${k}, found ${describe()}`);
    i++;
    value();
  };
  value();
  while (stack.length) {
    skip();
    const top = stack[stack.length - 1]!;
    const close = top.kind === '{' ? '}' : ']';
    if (text[i] === close) {
      stack.pop();
      i++;
    } else if (text[i] === ',') {
      i++;
      if (top.kind === '{') key();
      else value();
    } else fail(i, `not valid JSON: expected ',' or '${close}', found ${describe()}`);
  }
  skip();
  if (i < text.length) fail(i, `not valid JSON: unexpected ${describe()} after the end of the document`);
  return JSON.parse(text);
}

/** YAML with unique keys, bounded aliases (no "billion laughs") and bounded depth, errors at file:line:column. */
function parseYaml(text: string, file: string): unknown {
  const lc = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, lineCounter: lc });
  if (doc.errors.length) {
    throw new CibError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        let message = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
        if (/Maximum call stack/.test(message)) message = `nested too deeply (a spec needs about 5 levels)`;
        return { path: pos ? `${file}:${pos.line}:${pos.col}` : file, message: `not valid YAML: ${message}` };
      }),
    );
  }
  let depthProblem: { at: number } | undefined;
  let firstAlias: number | undefined;
  visit(doc, (_key, node, path) => {
    if (isAlias(node) && firstAlias === undefined) firstAlias = node.range?.[0];
    if (path.length > 2 * MAX_SPEC_DEPTH && !depthProblem) {
      depthProblem = { at: (node as { range?: [number] }).range?.[0] ?? 0 };
      return visit.BREAK;
    }
    return undefined;
  });
  if (depthProblem) throw new CibError([{ path: `${file}:${lineCol(lc, depthProblem.at)}`, message: `nested deeper than ${MAX_SPEC_DEPTH} levels (a spec needs about 5)` }]);
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    if (!/alias/i.test((e as Error).message)) throw e;
    const where = firstAlias !== undefined ? `${file}:${lineCol(lc, firstAlias)}` : file;
    throw new CibError([{ path: where, message: `aliases expand too far (${(e as Error).message.replace(/\.$/, '')}): a spec needs no more than a few` }]);
  }
}

export function loadTemplate(name: string): Template {
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || !listTemplates().includes(name)) {
    throw new CibError([{ path: '--template', message: `unknown template '${name}' (templates: ${listTemplates().join(', ') || 'none found in ' + templatesDir()})` }]);
  }
  return parseTemplate(readStructured(join(templatesDir(), `${name}.yaml`)), `cib-templates/${name}.yaml`);
}

export const isTemplate = (v: unknown) => !!v && typeof v === 'object' && 'settings' in v && 'spec' in v;

export function parseTemplate(v: unknown, where: string): Template {
  const r = TemplateFile.safeParse(v);
  if (!r.success) throw new CibError(r.error.issues.map((i) => ({ path: `${where}: ${joinPath(i.path.filter((p): p is string | number => typeof p !== 'symbol'))}`, message: i.message })));
  return r.data;
}

/** Where each spec value came from, for messages: spec path → "setting ip" / "--set x". */
export type Provenance = Map<string, string>;

export interface LoadedSpec {
  raw: unknown;
  provenance: Provenance;
  /** Template settings as used, after --set (for the comment and --list-settings). */
  settings?: Record<string, string>;
}

export interface SetArg {
  key: string;
  value: string;
}

export function parseSetArgs(args: string[]): SetArg[] {
  const issues: Issue[] = [];
  const out: SetArg[] = [];
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq <= 0) issues.push({ path: `--set ${a}`, message: 'expected key=value' });
    else out.push({ key: a.slice(0, eq), value: a.slice(eq + 1) });
  }
  if (issues.length) throw new CibError(issues);
  return out;
}

const isPathKey = (k: string) => k.includes('.') || k.includes('[');

/** Resolves a template's settings (defaults may use other settings) and fills in its spec. */
export function renderTemplate(tpl: Template, sets: SetArg[], where: string): LoadedSpec {
  const issues: Issue[] = [];
  const given = new Map<string, string>();
  for (const s of sets) {
    if (isPathKey(s.key)) continue;
    if (!(s.key in tpl.settings)) {
      issues.push({ path: `--set ${s.key}`, message: `unknown setting of template ${tpl.template} (settings: ${Object.keys(tpl.settings).join(', ')}; or a spec path such as resources.ip.params.ip)` });
    } else given.set(s.key, s.value);
  }
  const resolved = new Map<string, string>();
  const resolving = new Set<string>();
  const resolve = (name: string, from: string): string => {
    const done = resolved.get(name);
    if (done !== undefined) return done;
    const setting = tpl.settings[name];
    if (!setting) {
      issues.push({ path: from, message: `unknown setting \${${name}}` });
      return '';
    }
    if (resolving.has(name)) {
      issues.push({ path: `${where}: settings.${name}`, message: 'default refers to itself' });
      return '';
    }
    resolving.add(name);
    const raw = given.get(name) ?? String(setting.default);
    // Only defaults are expanded; a --set value is taken literally.
    let value = given.has(name) ? raw : raw.replace(PLACEHOLDER, (_, n: string) => resolve(n, `${where}: settings.${name}`));
    // Defaults that use others twice double at each step: stop before memory does.
    if (value.length > MAX_SETTING_LENGTH) {
      issues.push({ path: `${where}: settings.${name}`, message: `expands to more than ${MAX_SETTING_LENGTH >> 10} KiB (defaults that refer to each other repeatedly?)` });
      value = '';
    }
    resolving.delete(name);
    resolved.set(name, value);
    return value;
  };
  for (const name of Object.keys(tpl.settings)) resolve(name, `${where}: settings.${name}`);

  const provenance: Provenance = new Map();
  const fill = (v: unknown, path: Array<string | number>): unknown => {
    if (typeof v === 'string') {
      const used: string[] = [];
      let size = v.length;
      for (const m of v.matchAll(PLACEHOLDER)) {
        // Unknown names are reported once, by the replace below.
        if (tpl.settings[m[1]!]) size += resolve(m[1]!, `${where}: spec.${joinPath(path)}`).length - m[0].length;
        if (size > MAX_SETTING_LENGTH) {
          issues.push({ path: `${where}: spec.${joinPath(path)}`, message: `expands to more than ${MAX_SETTING_LENGTH >> 10} KiB` });
          return '';
        }
      }
      const out = v.replace(PLACEHOLDER, (_, n: string) => {
        used.push(n);
        return resolve(n, `${where}: spec.${joinPath(path)}`);
      });
      if (used.length) provenance.set(joinPath(path), used.map((n) => (given.has(n) ? `--set ${n}` : `template setting ${n}`)).join(', '));
      return out;
    }
    if (Array.isArray(v)) return v.map((x, i) => fill(x, [...path, i]));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x, [...path, k])]));
    return v;
  };
  const raw = fill(tpl.spec, []);
  if (issues.length) throw new CibError(issues);
  const settings = Object.fromEntries([...Object.keys(tpl.settings)].map((k) => [k, resolved.get(k) ?? '']));
  return { raw, provenance, settings };
}

/** `a.b[0].c` → ['a', 'b', 0, 'c']. */
function parsePath(key: string): Array<string | number> | undefined {
  const out: Array<string | number> = [];
  for (const part of key.split('.')) {
    const m = /^([^[\]]+)((?:\[\d+\])*)$/.exec(part);
    if (!m) return undefined;
    out.push(m[1]!);
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

/** Applies `--set path=value` overrides to a spec object (values are text, as in the CIB). */
export function applyPathSets(loaded: LoadedSpec, sets: SetArg[], templateInUse: boolean): void {
  const issues: Issue[] = [];
  for (const s of sets) {
    if (!isPathKey(s.key)) {
      if (!templateInUse) issues.push({ path: `--set ${s.key}`, message: 'no template in use: give a spec path such as resources.ip.params.ip' });
      continue;
    }
    const path = parsePath(s.key);
    if (!path) {
      issues.push({ path: `--set ${s.key}`, message: 'not a spec path (e.g. resources.ip.params.ip, constraints.order[0].kind)' });
      continue;
    }
    let cur = loaded.raw as Record<string | number, unknown>;
    let ok = !!cur && typeof cur === 'object';
    for (let i = 0; ok && i < path.length - 1; i++) {
      const k = path[i]!;
      let next = cur[k];
      if (Array.isArray(cur) !== (typeof k === 'number') || (Array.isArray(cur) && (k as number) > cur.length)) {
        ok = false;
        break;
      }
      if (next === undefined || next === null) {
        const nextKey = path[i + 1];
        if (typeof nextKey === 'number' && nextKey !== 0) {
          ok = false;
          break;
        }
        next = cur[k] = typeof nextKey === 'number' ? [] : {};
      }
      if (typeof next !== 'object') ok = false;
      else cur = next as Record<string | number, unknown>;
    }
    const last = path[path.length - 1]!;
    if (!ok || Array.isArray(cur) !== (typeof last === 'number') || (Array.isArray(cur) && (last as number) > cur.length)) {
      issues.push({ path: `--set ${s.key}`, message: 'that place does not exist in the spec' });
      continue;
    }
    cur[last] = s.value;
    loaded.provenance.set(joinPath(path), `--set ${s.key}`);
  }
  if (issues.length) throw new CibError(issues);
}

/** Checks the spec with zod; problems name their place and, where a setting filled it, the setting. */
export function validateSpec(loaded: LoadedSpec): SpecT {
  const r = Spec.safeParse(loaded.raw);
  if (!r.success) throw new CibError(annotate(specIssues(r.error, loaded.raw), loaded.provenance));
  return r.data;
}

export function annotate(issues: Issue[], provenance: Provenance): Issue[] {
  if (!provenance.size) return issues;
  return issues.map((i) => {
    const from = provenance.get(i.path);
    return from ? { ...i, message: `${i.message} (from ${from})` } : i;
  });
}
