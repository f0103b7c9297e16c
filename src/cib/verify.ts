// Checks with the real tools: crm_verify for Pacemaker CIBs (warnings count
// as failures, as they do for crm_verify's exit code), xmllint for
// heartbeat-2 CIBs: against ocfkit's own schema of Heartbeat 2's CIB
// (schemas/heartbeat-2-cib.rng), or Heartbeat's crm.dtd when given.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../gen/paths.js';

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
