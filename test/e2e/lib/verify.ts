import type { Ack, WriteError } from './timeline.js';

/**
 * The data check after every scenario: the file on the NFS export against what the writer was told
 * succeeded. Every acknowledged line must be there exactly once, in order, byte for byte; nothing
 * else may be there except the line(s) the writer had in flight when the file was read (numbered
 * after the last ack read before the file). Any failed write is a failure by itself.
 */
export interface DataCheck {
  ok: boolean;
  problems: string[];
  lines: number;
  acked: number;
}

export function checkData(fileText: string, acks: Ack[], errors: WriteError[]): DataCheck {
  const problems: string[] = [];
  for (const e of errors) problems.push(`write ${e.n} failed: ${e.error}`);
  if (fileText !== '' && !fileText.endsWith('\n')) problems.push('the file does not end with a newline (torn write)');
  const lines = fileText.split('\n');
  if (lines.at(-1) === '') lines.pop();

  const seen = new Map<number, number>();
  const lastAck = acks.at(-1)?.n ?? 0;
  let prev = 0;
  lines.forEach((line, i) => {
    const m = /^(\d+) \d+\.\d{3}$/.exec(line);
    if (!m) {
      problems.push(`line ${i + 1} is malformed: ${JSON.stringify(line.slice(0, 80))}`);
      return;
    }
    const n = Number(m[1]);
    if (seen.has(n)) problems.push(`write ${n} appears twice (lines ${seen.get(n)! + 1} and ${i + 1})`);
    else seen.set(n, i);
    if (n <= prev) problems.push(`write ${n} (line ${i + 1}) is out of order after write ${prev}`);
    prev = Math.max(prev, n);
  });

  const byN = new Map(acks.map((a) => [a.n, a]));
  for (const a of acks) {
    const at = seen.get(a.n);
    if (at === undefined) problems.push(`acknowledged write ${a.n} is missing`);
    else if (lines[at] !== a.line) problems.push(`write ${a.n} differs: ${JSON.stringify(lines[at])} on disk, ${JSON.stringify(a.line)} acknowledged`);
  }
  const failed = new Set(errors.map((e) => e.n));
  // The writer numbers its writes 1, 2, 3…: each is either acknowledged or failed.
  for (let n = 1; n <= lastAck; n++) if (!byN.has(n) && !failed.has(n)) problems.push(`write ${n} is neither acknowledged nor failed (writer logs incomplete)`);
  for (const [n, i] of seen) {
    if (byN.has(n) || failed.has(n)) continue;
    // Written after the ack log was read: only the newest writes may be unacknowledged.
    if (n <= lastAck) problems.push(`write ${n} (line ${i + 1}) is in the file but was never acknowledged`);
  }
  return { ok: problems.length === 0, problems, lines: lines.length, acked: acks.length };
}
