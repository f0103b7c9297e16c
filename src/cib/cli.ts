// What ocf-gen's commands share (the one way a command reports a problem): atomic output, and how problems reach
// the user — one line each on stderr, nothing on stdout, a non-zero exit,
// never a stack trace for bad input.

import { Args, Flags } from '@oclif/core';
import { writeFileAtomic } from '../package/atomic.js';
import { CibError, formatIssue } from './errors.js';

/** Exit codes: 2 bad input (spec, flags, files); 1 the CIB fails crm_verify/xmllint or cannot be written. */
export const EXIT_INPUT = 2;
export const EXIT_CHECK = 1;

export class ExitWith extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** Flags and arguments several commands take, declared once. */
export const outputFlag = () => Flags.string({ char: 'o', description: 'write to this file (atomically) instead of stdout' });
export const cibFileArg = () => Args.string({ required: true, description: 'CIB XML file (- for stdin)' });

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
