// Helpers for the CIB generator's integration tests: run the built ocf-gen,
// run Pacemaker's own tools on files (CIB_file=, no cluster), and read what
// they say — placement from crm_mon's XML, ordering from crm_simulate's
// transition graph (-G), so tests assert the ORDER of actions, not just where
// things end up.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { ROOT } from '../helpers/agent.js';
import { have } from '../helpers/system.js';

export { ROOT };
export const OCF_GEN = join(ROOT, 'bin', 'ocf-gen');
/** ocfkit's own schema of the Heartbeat 2 CIB (what the tests and `ocf-gen validate` use). */
export const HB2_SCHEMA = join(ROOT, 'schemas', 'heartbeat-2-cib.rng');
/**
 * Heartbeat 2.1's original crm.dtd, not ours to ship: ../shared beside the
 * checkout (CI puts it there; OCFKIT_SHARED_DIR overrides). Tests that compare
 * against it are skipped, saying so, where it is missing.
 */
export const SHARED = process.env.OCFKIT_SHARED_DIR ?? resolve(ROOT, '..', 'shared');
export const HB2_ORIGINAL_DTD = join(SHARED, 'schemas', 'heartbeat-2-crm.dtd');
export const HAVE_ORIGINAL_DTD = existsSync(HB2_ORIGINAL_DTD);
if (!HAVE_ORIGINAL_DTD) console.log(`note: ${HB2_ORIGINAL_DTD} is missing: the cross-checks against Heartbeat's original crm.dtd are skipped (ocfkit's own schema ${HB2_SCHEMA} is used)`);

/** xmllint against our Heartbeat 2 schema (and the original DTD where it exists). */
export function hb2Verdicts(file: string): { ours: Run; original?: Run } {
  const ours = run('xmllint', ['--noout', '--relaxng', HB2_SCHEMA, file]);
  return HAVE_ORIGINAL_DTD ? { ours, original: run('xmllint', ['--noout', '--dtdvalid', HB2_ORIGINAL_DTD, file]) } : { ours };
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A command with an argument array and its own environment additions (never a shell). */
export function run(cmd: string, args: string[], o: { env?: Record<string, string>; input?: string } = {}): Run {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    input: o.input,
    timeout: 120_000,
    maxBuffer: 64 << 20,
    env: { ...process.env, ...o.env },
  });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export const ocfGen = (args: string[], o: { input?: string; env?: Record<string, string> } = {}) => run(OCF_GEN, args, o);

/** Builds dist/ocf-gen.js (about a second; writes atomically, so parallel builds are fine). */
export function buildOcfGen(): void {
  const r = run(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), 'ocf-gen']);
  if (r.code !== 0) throw new Error(`build failed: ${r.stderr}`);
}

/** The tools these tests need; missing ones fail the test run loudly (the test script installs them). */
export function requireTools(...tools: string[]): void {
  const missing = tools.filter((t) => !have(t));
  if (missing.length) throw new Error(`missing tools: ${missing.join(', ')} (apt-get install -y pacemaker-cli-utils libxml2-utils fence-agents)`);
}

export function tempDir(prefix: string): { dir: string; file: (name: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `ocfkit-${prefix}-`));
  return { dir, file: (name) => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function mustRun(cmd: string, args: string[], o: { env?: Record<string, string>; input?: string } = {}): Run {
  const r = run(cmd, args, o);
  if (r.code !== 0) throw new Error(`${[cmd, ...args].join(' ')} → exit ${r.code}\n${r.stderr}${r.stdout}`);
  return r;
}

export const crmVerifyFile = (file: string) => run('crm_verify', ['--xml-file', file]);

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: () => true, parseAttributeValue: false });
type X = Record<string, unknown>;
const arr = (v: unknown): X[] => (Array.isArray(v) ? (v as X[]) : v === undefined ? [] : [v as X]);
const attr = (x: X, k: string) => (typeof x[k] === 'string' ? (x[k] as string) : Array.isArray(x[k]) && typeof (x[k] as unknown[])[0] === 'string' ? ((x[k] as string[])[0] as string) : undefined);

/** crm_simulate on a file: -S runs the transition, -O keeps the result, -G the graph. Extra args e.g. --node-fail. */
export function simulate(inFile: string, outFile: string, graphFile: string, extra: string[] = []): Run {
  return mustRun('crm_simulate', ['-x', inFile, '-S', '-O', outFile, '-G', graphFile, ...extra]);
}

/** Where each resource runs and in which role, from `crm_mon --output-as=xml` on a CIB file. */
export function placement(cibFile: string): Map<string, Array<{ node: string; role: string }>> {
  const r = mustRun('crm_mon', ['-1', '--output-as=xml'], { env: { CIB_file: cibFile } });
  const doc = parser.parse(r.stdout) as X;
  const out = new Map<string, Array<{ node: string; role: string }>>();
  const visit = (x: X) => {
    for (const res of arr(x.resource)) {
      const id = attr(res, 'id')!;
      const role = attr(res, 'role')!;
      for (const n of arr(res.node)) {
        const list = out.get(id) ?? [];
        list.push({ node: attr(n, 'name')!, role });
        out.set(id, list);
      }
    }
    for (const k of ['clone', 'group']) for (const c of arr(x[k])) visit(c);
  };
  for (const result of arr(doc['pacemaker-result'])) for (const rs of arr(result.resources)) visit(rs);
  return out;
}

/** The node a resource runs on in `role` (Started/Promoted/Unpromoted), or undefined. */
export function whereIs(p: Map<string, Array<{ node: string; role: string }>>, rsc: string, role = 'Started'): string[] {
  return (p.get(rsc) ?? []).filter((x) => x.role === role).map((x) => x.node);
}

export interface GraphAction {
  id: string;
  /** Resource (primitive id, without clone instance suffix) or pseudo action key. */
  rsc?: string;
  operation: string;
  node?: string;
  key: string;
  inputs: string[];
}

/** crm_simulate's transition graph: every action with the actions it waits for. */
export function readGraph(graphFile: string): Map<string, GraphAction> {
  const doc = parser.parse(readFileSync(graphFile, 'utf8')) as X;
  const actions = new Map<string, GraphAction>();
  for (const g of arr(doc.transition_graph)) {
    for (const syn of arr(g.synapse)) {
      for (const set of arr(syn.action_set)) {
        for (const kind of ['rsc_op', 'pseudo_event', 'crm_event']) {
          for (const a of arr(set[kind])) {
            const prim = arr(a.primitive)[0];
            const inputs: string[] = [];
            for (const inp of arr(syn.inputs)) for (const trig of arr(inp.trigger)) for (const k of ['rsc_op', 'pseudo_event', 'crm_event']) for (const t of arr(trig[k])) inputs.push(attr(t, 'id')!);
            const action: GraphAction = {
              id: attr(a, 'id')!,
              operation: attr(a, 'operation')!,
              key: attr(a, 'operation_key')!,
              inputs,
            };
            const rsc = prim ? attr(prim, 'id') : undefined;
            if (rsc) action.rsc = rsc;
            const node = attr(a, 'on_node');
            if (node) action.node = node;
            actions.set(action.id, action);
          }
        }
      }
    }
  }
  return actions;
}

/** The one graph action doing `operation` on resource `rsc` (on `node`, if given). */
export function findAction(g: Map<string, GraphAction>, rsc: string, operation: string, node?: string): GraphAction {
  const found = [...g.values()].filter((a) => a.rsc === rsc && a.operation === operation && (node === undefined || a.node === node));
  if (found.length !== 1) throw new Error(`expected one ${operation} of ${rsc}${node ? ` on ${node}` : ''} in the graph, found ${found.length}: ${[...g.values()].map((a) => `${a.operation} ${a.rsc ?? a.key}@${a.node ?? '-'}`).join(', ')}`);
  return found[0]!;
}

/** Whether `a` must finish before `b` starts: `a` is among `b`'s inputs, transitively. */
export function happensBefore(g: Map<string, GraphAction>, a: GraphAction, b: GraphAction): boolean {
  const seen = new Set<string>();
  const stack = [...b.inputs];
  while (stack.length) {
    const id = stack.pop()!;
    if (id === a.id) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(g.get(id)?.inputs ?? []));
  }
  return false;
}

/** Asserts a chain of actions happens strictly in this order (each before the next, per the graph). */
export function assertChain(g: Map<string, GraphAction>, chain: GraphAction[]): void {
  for (let i = 0; i + 1 < chain.length; i++) {
    const [a, b] = [chain[i]!, chain[i + 1]!];
    if (!happensBefore(g, a, b)) throw new Error(`${a.operation} ${a.rsc}@${a.node} does not come before ${b.operation} ${b.rsc}@${b.node} in the transition graph`);
    if (happensBefore(g, b, a)) throw new Error(`cycle between ${a.key} and ${b.key}`);
  }
}

/** Promotion scores as the drbd agent sets them (crm_simulate runs no agents). */
export function setPromotionScore(cibFile: string, primitive: string, node: string, score: number): void {
  mustRun('crm_attribute', [`--promotion=${primitive}`, '-N', node, '-v', String(score)], { env: { CIB_file: cibFile } });
}

export const write = (file: string, text: string) => writeFileSync(file, text);
export const read = (file: string) => readFileSync(file, 'utf8');
