// What ocf-gen's CIB commands share: atomic output, and how problems reach
// the user — one line each on stderr, nothing on stdout, a non-zero exit,
// never a stack trace for bad input.

import { writeFileAtomic } from '../gen/atomic.js';
import { CibError, formatIssue } from './errors.js';
import { checkWithTools } from './check.js';
import type { Dialect } from './dialects.js';
import { isTrue } from './model.js';
import { parseTree } from './read-xml.js';

/** Exit codes: 2 bad input (spec, flags, files); 1 the CIB fails crm_verify/xmllint or cannot be written. */
export const EXIT_INPUT = 2;
export const EXIT_CHECK = 1;

export class ExitWith extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export const say = (line: string) => process.stderr.write(`ocf-gen: ${line}\n`);

/** --json output: one document on stdout. */
export const printJson = (v: unknown) => process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);

/** Writes `text` to stdout, or to `file` atomically: an exclusive temporary file in the same directory, then a rename. */
export function emit(text: string, file?: string): void {
  if (file === undefined || file === '-') {
    process.stdout.write(text);
    return;
  }
  try {
    writeFileAtomic(file, text);
  } catch (e) {
    say(`error: cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    throw new ExitWith(EXIT_CHECK);
  }
}

/**
 * Runs a command body; turns input problems into messages and an exit code. Returns the exit code.
 * With `json`, input problems go to stdout as {"errors": [{place, message}]} instead.
 */
export async function guarded(body: () => Promise<void> | void, json = false): Promise<number> {
  try {
    await body();
    return 0;
  } catch (e) {
    if (e instanceof ExitWith) return e.code;
    if (e instanceof CibError) {
      if (json) printJson({ errors: e.issues.map((i) => ({ place: i.path, message: i.message })) });
      else for (const i of e.issues) say(`error: ${formatIssue(i)}`);
      return EXIT_INPUT;
    }
    say(`internal error: ${(e as Error).message}${process.env.OCF_GEN_DEBUG ? `\n${(e as Error).stack}` : ' (set OCF_GEN_DEBUG=1 for details)'}`);
    return 70;
  }
}

/** Whether the CIB switches fencing off (stonith-enabled, or Heartbeat 2's stonith_enabled, false). */
function fencingOff(xml: string): boolean {
  const root = parseTree(xml, 'cib');
  const conf = root.children.find((c) => c.name === 'configuration');
  const crm = conf?.children.find((c) => c.name === 'crm_config');
  const pairs: Array<Record<string, string>> = [];
  const walk = (el: NonNullable<typeof crm>) => {
    for (const c of el.children) {
      if (c.name === 'nvpair') pairs.push(c.attrs);
      else walk(c);
    }
  };
  if (crm) walk(crm);
  const v = pairs.find((p) => p.name === 'stonith-enabled' || p.name === 'stonith_enabled')?.value;
  return v !== undefined && !isTrue(v);
}

/** Loud, on stderr, and the exit code unchanged: a CIB without fencing is for test beds only. */
function warnNoFencing(): void {
  const bar = '*'.repeat(72);
  for (const l of [
    bar,
    'WARNING: stonith-enabled=false: this CIB has NO FENCING.',
    'A node that stops responding may still write to the shared data; with DRBD both',
    'nodes can become Primary (split brain) and acknowledged writes are lost.',
    'Acceptable for a test bed only. Configure fencing (fence_agent=fence_ipmilan,',
    'fence_sbd or watchdog; see docs/readme/cib.md, "Fencing").',
    bar,
  ])
    say(l);
}

export interface CheckReport {
  tool: string;
  /** false: the tool is not installed, only ocf-gen's own checks ran. */
  ran: boolean;
  ok: boolean;
  /** What the tool said, one entry per line, without repeats and without what ocf-gen reported itself. */
  lines: string[];
  fencingOff: boolean;
}

/**
 * Runs the tool for the dialect. `alreadyReported`: ids of dangling references ocf-gen named itself,
 * whose IDREF errors from the tool would only repeat them.
 */
export function runCheck(xml: string, dialect: Dialect, dtd?: string, alreadyReported: ReadonlySet<string> = new Set()): CheckReport {
  const v = checkWithTools(xml, dialect, dtd);
  const seen = new Set<string>();
  const lines = v.output
    .split('\n')
    .filter((l) => l.trim() !== '')
    .filter((l) => {
      const ref = /references an unknown ID "([^"]*)"/.exec(l)?.[1];
      if (ref !== undefined && alreadyReported.has(ref)) return false;
      if (seen.has(l)) return false;
      seen.add(l);
      return true;
    });
  return { tool: v.tool, ran: v.ran, ok: v.ok, lines, fencingOff: fencingOff(xml) };
}

/** Prints a check report on stderr; throws ExitWith(1) when the tool found problems. */
export function printCheck(r: CheckReport): void {
  if (r.fencingOff) warnNoFencing();
  if (!r.ran) {
    say(`note: ${r.lines.join(' ')}: only ocf-gen's own checks ran`);
    return;
  }
  for (const l of r.lines) say(`${r.tool}: ${l}`);
  if (r.ok) {
    say(`${r.tool}: no problems found`);
    return;
  }
  say(`error: ${r.tool} found problems`);
  throw new ExitWith(EXIT_CHECK);
}

/** --check: runs the tool for the dialect and reports; throws ExitWith(1) when it fails. */
export function reportCheck(xml: string, dialect: Dialect, dtd?: string): void {
  printCheck(runCheck(xml, dialect, dtd));
}
