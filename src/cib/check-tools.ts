// Checks of a whole CIB with the real tools: crm_verify for Pacemaker CIBs
// (warnings count as failures, as they do for crm_verify's exit code), and
// xmllint for heartbeat-2 CIBs, which Pacemaker 2 and later cannot read:
// against ocfkit's own schema of Heartbeat 2's CIB (schemas/heartbeat-2-cib.rng),
// or Heartbeat's crm.dtd when given. What ocf-gen checks itself lives beside
// the input it checks: build.ts (specs), read-xml.ts (CIB XML), check-xml.ts
// (validate's id scan), agent-meta.ts (parameters against meta-data).

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../package/paths.js';
import { NO_FENCING } from './build.js';
import { emit, EXIT_CHECK, ExitWith, printJson, say } from './cli.js';
import type { Notes } from './errors.js';
import type { Dialect } from './dialects.js';
import { isTrue } from './model.js';
import { parseTree } from './read-xml.js';

export interface Verdict {
  tool: string;
  /** false when the tool is not installed: nothing was checked. */
  ran: boolean;
  ok: boolean;
  /** What the tool said (stderr and stdout), trimmed. */
  output: string;
}

function run(tool: string, args: string[], input: string): Verdict {
  const r = spawnSync(tool, args, { input, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { tool, ran: false, ok: false, output: `${tool} is not installed` };
    return { tool, ran: false, ok: false, output: `${tool}: ${r.error.message}` };
  }
  const output = `${r.stderr ?? ''}${r.stdout ?? ''}`.trim();
  return { tool, ran: true, ok: r.status === 0, output };
}

/**
 * Warnings crm_verify gives for any CIB without a status section when
 * fencing is enabled (nodes never seen are "unclean"): about the file's
 * missing cluster state, not about the configuration.
 */
const STATE_ONLY = [/due to lack of quorum/, /is unclean but cannot be fenced/, /Blind faith: not fencing unseen nodes/, /^crm_verify: Warnings found during check/, /^-V may provide more details/];

/** crm_verify on the XML given (reads it from a pipe; no file needed). */
export function crmVerify(xml: string): Verdict {
  const first = run('crm_verify', ['--xml-pipe'], xml);
  if (!first.ran || first.ok) return { ...first, output: first.output.split('\n').filter((l) => !/^DEBUG: /.test(l)).join('\n').trim() };
  // Failed: ask again with the warnings shown (-VV), and tell state from configuration.
  const v = run('crm_verify', ['--xml-pipe', '-VV'], xml);
  const lines = v.output.split('\n').filter((l) => l.trim() && !/^DEBUG: /.test(l));
  const real = lines.filter((l) => !STATE_ONLY.some((re) => re.test(l)));
  if (real.length === 0 && !lines.some((l) => /error/i.test(l))) {
    return { ...v, ok: true, output: `only warnings about the missing cluster state (no nodes seen yet): ${lines.filter((l) => !/^(crm_verify:|-V )/.test(l)).map((l) => l.replace(/^\(\w+\)\s*warning:\s*/, '')).join('; ')}` };
  }
  return { ...v, output: lines.join('\n') };
}

/** ocfkit's RELAX NG schema of the Heartbeat 2 CIB, written from crm.dtd's rules (shipped with ocf-gen). */
export function heartbeatSchema(): string | undefined {
  try {
    const p = join(packageRoot(), 'schemas', 'heartbeat-2-cib.rng');
    return existsSync(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

/** xmllint against a schema: a .rng file as RELAX NG, anything else as a DTD (Heartbeat's crm.dtd). */
export function xmllintSchema(xml: string, schema: string): Verdict {
  return run('xmllint', ['--noout', schema.endsWith('.rng') ? '--relaxng' : '--dtdvalid', schema, '-'], xml);
}

/** Which real tool checks a CIB of a given dialect. */
export function checkWithTools(xml: string, dialect: Dialect, dtd?: string): Verdict {
  if (dialect.family !== 'heartbeat-2') return crmVerify(xml);
  // Pacemaker 2 and later cannot read heartbeat-2 CIBs, so crm_verify cannot check them: a schema does.
  const path = dtd ?? heartbeatSchema();
  if (!path) {
    return { tool: 'xmllint', ran: false, ok: false, output: "ocf-gen's schemas/heartbeat-2-cib.rng is missing from this installation (give Heartbeat's crm.dtd with --dtd)" };
  }
  return xmllintSchema(xml, path);
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

/**
 * The end of `cib` and `convert`: with --check, the tool's verdict first; then the notes and the
 * CIB on stdout or in --output (with --json, one {cib, output, notes, check} document instead).
 */
export function deliverCib(xml: string, dialect: Dialect, notes: Notes, flags: { check?: boolean; dtd?: string; json?: boolean; output?: string }): void {
  const check = flags.check ? runCheck(xml, dialect, flags.dtd) : undefined;
  if (flags.json) {
    printJson({ cib: flags.output === undefined ? xml : null, output: flags.output ?? null, notes, check: check ? { tool: check.tool, ran: check.ran, ok: check.ok, output: check.lines } : null });
    if (check?.ran && !check.ok) throw new ExitWith(EXIT_CHECK);
    if (flags.output !== undefined) emit(xml, flags.output);
    return;
  }
  // With --check the no-fencing warning comes once, as the check's banner.
  for (const n of notes) if (!(check && n === `warning: ${NO_FENCING}`)) say(n);
  if (check) printCheck(check);
  emit(xml, flags.output);
}
