// Reading what ocf-gen is given (specs, CIBs, haresources, meta-data): one
// bounded read for all of them, so `--spec /dev/zero` or a huge file is bad
// input with its name, not a process eating memory until it dies.

import { closeSync, openSync, readSync } from 'node:fs';
import { CibError } from './errors.js';

const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/** Far above any real CIB (a large one is a few MiB) or spec. */
export const MAX_INPUT_BYTES = 64 << 20;

/** The file as UTF-8 text (`-`: standard input), at most MAX_INPUT_BYTES; problems are CibErrors naming the file. */
export function readInput(file: string, limit = MAX_INPUT_BYTES): string {
  let fd: number;
  try {
    fd = file === '-' ? 0 : openSync(file, 'r');
  } catch (e) {
    throw new CibError([{ path: file, message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }]);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(1 << 20, limit + 1 - total));
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          Atomics.wait(PAUSE, 0, 0, 20); // a non-blocking stdin: wait for data
          continue;
        }
        if (code === 'EOF') break;
        throw new CibError([{ path: file, message: `cannot read: ${code ?? (e as Error).message}` }]);
      }
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
      if (total > limit) throw new CibError([{ path: file, message: `larger than ${limit >> 20} MiB: not a file ocf-gen reads` }]);
    }
  } finally {
    if (fd !== 0) closeSync(fd);
  }
  return Buffer.concat(chunks).toString('utf8');
}
