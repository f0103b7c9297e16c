import { writeSync } from 'node:fs';

/**
 * The agent's stdout and stderr, written with write(2) on fds 1 and 2 rather
 * than through process.stdout/process.stderr: in the Bun executable the first
 * use of those streams loads the runtime's stream machinery, 1-2 MiB of peak
 * RSS on every action (docs/readme/bench.md, "Peak RSS: where it goes").
 * A write the descriptor cannot take now (a full non-blocking pipe: EAGAIN)
 * goes on through the stream, which queues it, and so does everything after
 * it on that descriptor, in order; flushStdio() waits for what is queued.
 * A descriptor nobody reads any more (EPIPE, closed) loses the text, as a
 * shell agent's echo would.
 */
type Fd = 1 | 2;

const queued: Record<Fd, boolean> = { 1: false, 2: false };
const stream = (fd: Fd): NodeJS.WriteStream => (fd === 1 ? process.stdout : process.stderr);

function write(fd: Fd, text: string): void {
  if (queued[fd]) {
    stream(fd).write(text);
    return;
  }
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  try {
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') return;
    queued[fd] = true;
    stream(fd).write(buf.subarray(off));
  }
}

export const writeStdout = (text: string): void => write(1, text);
export const writeStderr = (text: string): void => write(2, text);

/** Resolves once what went through a stream is written, or after `limitMs` (a reader that never reads must not hang the agent). */
export async function flushStdio(limitMs: number): Promise<void> {
  const streams = ([1, 2] as const).filter((fd) => queued[fd]).map(stream);
  if (!streams.length) return;
  const flushed = (s: NodeJS.WriteStream) =>
    new Promise<void>((resolve) => {
      if (s.destroyed || !s.writable) return resolve();
      s.write('', () => resolve());
    });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(streams.map(flushed)), new Promise<void>((resolve) => (timer = setTimeout(resolve, limitMs)))]);
  clearTimeout(timer);
}
