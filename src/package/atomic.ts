// Files ocf-gen writes (often as root, sometimes into directories others can
// write to) appear atomically under their final name, and nothing is ever
// written through a link someone planted: the temporary name is random and
// created exclusively (O_EXCL|O_NOFOLLOW), then renamed over the target
// (rename replaces a link at the target itself, never what it points to).

import { randomBytes } from 'node:crypto';
import { closeSync, constants, fchmodSync, fsyncSync, openSync, renameSync, symlinkSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const tempNameFor = (file: string) => join(dirname(file), `.${basename(file)}.${randomBytes(9).toString('base64url')}.tmp`);

/** Tries `create` on fresh random names next to `file` until one is ours (EEXIST: someone else's). */
function exclusive<T>(file: string, create: (tmp: string) => T): { tmp: string; value: T } {
  for (let attempt = 0; ; attempt++) {
    const tmp = tempNameFor(file);
    try {
      return { tmp, value: create(tmp) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 10) throw e;
    }
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/**
 * Bytes per write(2). A kernel with large page-cache folios (ext4 from Linux 6.16, XFS) keeps
 * a file in folios as large as the writes that made it, and maps a whole folio into a process
 * that touches any page of it: the agents' executable written in one 107 MiB write peaked at
 * 55 MiB RSS on an action that peaks at 42 MiB when it was written in 16 KiB pieces
 * (docs/readme/bench.md, "Peak RSS: where it goes"). 16 KiB: as small as 4 KiB there, ~0.1 s.
 */
const WRITE_CHUNK = 16 * 1024;

/** Writes `data` to `file` atomically with `mode`. */
export function writeFileAtomic(file: string, data: string | Buffer, mode = 0o644): void {
  const { tmp, value: fd } = exclusive(file, (t) => openSync(t, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode));
  try {
    try {
      const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, Math.min(WRITE_CHUNK, buf.length - off));
      fchmodSync(fd, mode); // the umask may have taken bits away
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    removeQuietly(tmp);
    throw e;
  }
}

/** Makes `file` a symbolic link to `target`, atomically (replacing whatever is at `file`). */
export function symlinkAtomic(target: string, file: string): void {
  const { tmp } = exclusive(file, (t) => symlinkSync(target, t));
  try {
    renameSync(tmp, file);
  } catch (e) {
    removeQuietly(tmp);
    throw e;
  }
}
