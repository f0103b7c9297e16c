// Where a cluster spec comes from: a template in cib-templates/ (settings with
// defaults, `${name}` placeholders, `--set name=value`), or a YAML/JSON spec
// file (which may itself be a template). `--set a.b[0].c=value` sets any
// value of the spec by its path. Then the zod schema checks it all.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseDocument } from 'yaml';
import { packageRoot } from '../gen/paths.js';
import { CibError, type Issue, joinPath } from './errors.js';
import { Spec, type SpecT, specIssues } from './spec-schema.js';

export const DEFAULT_TEMPLATE = 'ha-nfs';

const SETTING_NAME = /^[a-z][a-z0-9_]*$/;
const PLACEHOLDER = /\$\{([^}]*)\}/g;

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
  let textIn: string;
  try {
    textIn = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new CibError([{ path: file, message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }]);
  }
  if (file.endsWith('.json')) {
    try {
      return JSON.parse(textIn);
    } catch (e) {
      throw new CibError([{ path: file, message: `not valid JSON: ${(e as Error).message}` }]);
    }
  }
  const doc = parseDocument(textIn, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    throw new CibError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        const message = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
        return { path: pos ? `${file}:${pos.line}:${pos.col}` : file, message: `not valid YAML: ${message}` };
      }),
    );
  }
  return doc.toJS({ maxAliasCount: 100 });
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
    const value = given.has(name) ? raw : raw.replace(PLACEHOLDER, (_, n: string) => resolve(n, `${where}: settings.${name}`));
    resolving.delete(name);
    resolved.set(name, value);
    return value;
  };
  for (const name of Object.keys(tpl.settings)) resolve(name, `${where}: settings.${name}`);

  const provenance: Provenance = new Map();
  const fill = (v: unknown, path: Array<string | number>): unknown => {
    if (typeof v === 'string') {
      const used: string[] = [];
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
