import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecResult } from './channel.js';
import type { Guest } from './guest.js';

/** One real command output, kept for stand-ins used by the fast tiers (test/fixtures/...). */
export interface Capture {
  state: string;
  stateText: string;
  guest: string;
  argv: string[];
  result: ExecResult;
}

const slug = (argv: string[]) =>
  argv
    .join('-')
    .replace(/^\/proc\//, 'proc-')
    .replace(/[^A-Za-z0-9.]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .replace(/^cat-proc/, 'proc');

/**
 * Collects command outputs in named states; `save` writes them as plain text files with a header
 * comment (source, state, command, exit status, stderr) followed by the exact stdout.
 */
export class Captures {
  readonly all: Capture[] = [];

  constructor(private readonly source: string) {}

  /** Runs argv on the guest, records it under `state`, returns the result. */
  async run(g: Guest, state: string, stateText: string, argv: string[], timeoutMs = 60_000): Promise<ExecResult> {
    const result = await g.exec(argv, { timeoutMs });
    this.all.push({ state, stateText, guest: g.name, argv, result });
    return result;
  }

  /** Runs several commands at once (a transient state, e.g. a running resync, is caught in one go). */
  async runAll(g: Guest, state: string, stateText: string, cmds: string[][]): Promise<ExecResult[]> {
    return Promise.all(cmds.map((c) => this.run(g, state, stateText, c)));
  }

  fileName(c: Capture) {
    return `${c.state}--${c.guest}--${slug(c.argv)}.txt`;
  }

  /** Writes every capture into `dir` (old .txt captures there are replaced). */
  save(dir: string, extraHeader: string[] = []) {
    mkdirSync(dir, { recursive: true });
    for (const f of readdirSync(dir)) if (f.endsWith('.txt')) rmSync(join(dir, f));
    for (const c of this.all) {
      const header = [
        `# source: ${this.source}, guest ${c.guest}`,
        ...extraHeader.map((l) => `# ${l}`),
        `# state: ${c.stateText}`,
        `# command: ${c.argv.join(' ')}`,
        `# exit status: ${c.result.code}`,
        c.result.stderr === '' ? '# stderr: (empty)' : '# stderr:',
        ...(c.result.stderr === '' ? [] : c.result.stderr.replace(/\n$/, '').split('\n').map((l) => `#   ${l}`)),
        '# ---- stdout follows, byte for byte ----',
      ];
      writeFileSync(join(dir, this.fileName(c)), `${header.join('\n')}\n${c.result.stdout}`);
    }
  }
}
