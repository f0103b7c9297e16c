import { writeSync } from 'node:fs';

/**
 * The agent's stdout and stderr, written with write(2) on fds 1 and 2 rather
 * than through process.stdout/process.stderr: in the Bun executable the first
 * use of those streams loads the runtime's stream machinery, 1-2 MiB of peak
 * RSS on every action (docs/readme/bench.md, "Peak RSS: where it goes").
 *
 * Pacemaker gives an agent blocking pipes: a write returns once the kernel has
 * the text. A non-blocking pipe that is full (EAGAIN) keeps the rest here, in
 * order, retried every few milliseconds; flushStdio() waits for it. (Bun's
 * streams lost it: process.exit() did not wait for their queue.) A descriptor
 * nobody reads any more (EPIPE, closed) loses the text, as a shell agent's
 * echo would.
 */
type Fd = 1 | 2;

const pending: Record<Fd, Buffer[]> = { 1: [], 2: [] };
const RETRY_MS = 5;
let retryTimer: NodeJS.Timeout | undefined;

/** Writes what the descriptor takes; returns the rest when it would block. */
function writeSome(fd: Fd, buf: Buffer): Buffer | undefined {
  let off = 0;
  try {
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return buf.subarray(off);
  }
  return undefined;
}

/** Writes out what is pending, as far as the descriptors take it; true when nothing is left. */
function drain(): boolean {
  for (const fd of [1, 2] as const) {
    const queue = pending[fd];
    while (queue.length) {
      const rest = writeSome(fd, queue[0]!);
      if (rest) {
        queue[0] = rest;
        break;
      }
      queue.shift();
    }
  }
  return !pending[1].length && !pending[2].length;
}

function scheduleRetry(): void {
  retryTimer ??= setTimeout(() => {
    retryTimer = undefined;
    if (!drain()) scheduleRetry();
  }, RETRY_MS);
}

function write(fd: Fd, text: string): void {
  const buf = Buffer.from(text, 'utf8');
  if (pending[fd].length) {
    pending[fd].push(buf);
    return;
  }
  const rest = writeSome(fd, buf);
  if (rest) {
    pending[fd].push(rest);
    scheduleRetry();
  }
}

export const writeStdout = (text: string): void => write(1, text);
export const writeStderr = (text: string): void => write(2, text);

/** Resolves once everything written is with the kernel, or after `limitMs` (a reader that never reads must not hang the agent). */
export async function flushStdio(limitMs: number): Promise<void> {
  const until = Date.now() + limitMs;
  while (!drain() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
}
