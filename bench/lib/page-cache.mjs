// Every executable the bench runs gets its page cache into the same state.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';

const CHUNK = 16 * 1024;
const writeChunk = (fd, data, off) => writeSync(fd, data, off, Math.min(CHUNK, data.length - off));

/**
 * Writes a copy of `src` at `dst` in 16 KiB pieces, as `ocf-gen install` writes the agents' executable
 * (src/package/atomic.ts). A kernel with large page-cache folios (ext4 from 6.16, XFS) keeps a file in
 * folios as large as the writes that made it and maps a whole folio into a process that touches any
 * page of it: the same executable written in one piece peaks 9-14 MiB higher (docs/readme/bench.md,
 * "Peak RSS: where it goes"). The build's outputs (the Node SEA, the empty Bun executable) would
 * otherwise be measured in another state than the installed agents.
 */
export function copyAsInstalled(src, dst, mode = 0o755) {
  const data = readFileSync(src);
  const tmp = `${dst}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'wx', mode);
  try {
    for (let off = 0; off < data.length; ) off += writeChunk(fd, data, off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, dst);
  return dst;
}
