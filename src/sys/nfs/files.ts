import { randomBytes } from 'node:crypto';
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, fsyncSync, lstatSync, openSync, readSync, renameSync, rmSync, writeSync, type Stats } from 'node:fs';
import { join } from 'node:path';

/**
 * Files root touches in directories an unprivileged user can write (statd's
 * sm/, sm.bak/ on the shared storage): never through a link that user could
 * have planted. Every file is opened with O_NOFOLLOW and checked on the open
 * descriptor (regular file, one link, the inode lstat saw); ownership changes
 * go through that descriptor; files are written under an exclusive temporary
 * name and renamed into place (rename replaces a link, never writes through it).
 */

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY, O_DIRECTORY } = constants;

export interface Owner {
  uid: number;
  gid: number;
}

/** Why `st` is not a plain file root may touch; undefined when it is. */
function notPlainFile(st: Stats): string | undefined {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (!st.isFile()) return 'not a regular file';
  // A hard link to a file elsewhere (another user's, /etc/shadow where protected_hardlinks is off).
  if (st.nlink !== 1) return `a file with ${st.nlink} hard links`;
  return undefined;
}

/** Opens `path` for reading without following a final link; checks it is the plain file lstat saw. */
function openPlainFile(path: string): { fd: number; st: Stats } | { problem: string } {
  let before: Stats;
  try {
    before = lstatSync(path);
  } catch (e) {
    return { problem: `cannot read it: ${(e as NodeJS.ErrnoException).code}` };
  }
  const why = notPlainFile(before);
  if (why) return { problem: why };
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO swapped in meanwhile must not block the agent.
    fd = openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { problem: code === 'ELOOP' ? 'a symbolic link' : `cannot open it: ${code}` };
  }
  const st = fstatSync(fd);
  const changed = st.ino !== before.ino || st.dev !== before.dev ? 'replaced while being opened' : notPlainFile(st);
  if (changed) {
    closeSync(fd);
    return { problem: changed };
  }
  return { fd, st };
}

/**
 * Changes the owner of the plain file `path`; returns why it was left alone
 * otherwise (a link, a directory, a hard-linked file…).
 */
export function chownPlainFile(path: string, o: Owner): string | undefined {
  const f = openPlainFile(path);
  if ('problem' in f) return f.problem;
  try {
    if (f.st.uid !== o.uid || f.st.gid !== o.gid) fchownSync(f.fd, o.uid, o.gid);
    return undefined;
  } finally {
    closeSync(f.fd);
  }
}

/** Changes the owner of the directory `path` itself (never of what a link there points to). */
export function chownDirectory(path: string, o: Owner): void {
  const fd = openSync(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  try {
    const st = fstatSync(fd);
    if (st.uid !== o.uid || st.gid !== o.gid) fchownSync(fd, o.uid, o.gid);
  } finally {
    closeSync(fd);
  }
}

/**
 * Runs `fn` with a path that names the directory `path` as it is now, for
 * good: the directory is opened (O_DIRECTORY|O_NOFOLLOW: a link there is
 * refused) and `fn` gets /proc/self/fd/<fd>, which the kernel resolves to
 * that very directory whatever is renamed or linked in its place
 * meanwhile (what openat() relative to the descriptor does). Where the
 * directory's parent is writable by an unprivileged user (Red Hat's
 * statd/), swapping the directory for a link between our checks and our
 * writes leads nowhere.
 */
export function withDirectory<T>(path: string, fn: (dir: string) => T): T {
  const fd = openSync(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  try {
    return fn(`/proc/self/fd/${fd}`);
  } finally {
    closeSync(fd);
  }
}

/** Is `path` a directory itself (not a link to one)? */
export function isRealDirectory(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

export interface PlainFile {
  data: Buffer;
  uid: number;
  gid: number;
  mode: number;
}

/** The content and owner of the plain file `path` (at most `maxBytes`), or why it was not read. */
export function readPlainFile(path: string, maxBytes = 64 * 1024): PlainFile | { problem: string } {
  const f = openPlainFile(path);
  if ('problem' in f) return f;
  try {
    if (f.st.size > maxBytes) return { problem: `larger than ${maxBytes} bytes` };
    const data = Buffer.alloc(f.st.size);
    let got = 0;
    while (got < data.length) {
      const n = readSync(f.fd, data, got, data.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return { data: data.subarray(0, got), uid: f.st.uid, gid: f.st.gid, mode: f.st.mode & 0o7777 };
  } finally {
    closeSync(f.fd);
  }
}

/**
 * Writes `dir/name` atomically: an exclusive temporary file in `dir` (created
 * with O_EXCL|O_NOFOLLOW, so nothing planted under that name is followed),
 * given its owner and mode through the descriptor, then renamed over `name`.
 */
export function writeFileAtomic(dir: string, name: string, data: Buffer | string, o: { uid: number; gid: number; mode: number }): void {
  const tmp = join(dir, `.${name}.ocfkit-${randomBytes(6).toString('hex')}`);
  const fd = openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY, 0o600);
  try {
    try {
      const buf = typeof data === 'string' ? Buffer.from(data) : data;
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      fchownSync(fd, o.uid, o.gid);
      fchmodSync(fd, o.mode);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(dir, name));
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * "/srv//nfs/info/" → "/srv/nfs/info". Paths from parameters are used in
 * this form only (checked by pathProblem first).
 */
export function normalizePath(path: string): string {
  const p = path.replace(/\/{2,}/g, '/');
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

/** An absolute path without "." or ".." components, or why not. */
export function pathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'not an absolute path';
  if (path.split('/').some((c) => c === '..' || c === '.')) return 'has "." or ".." components (write the path without them)';
  if (/[\x00-\x1f\x7f]/.test(path)) return 'contains a control character';
  return undefined;
}
