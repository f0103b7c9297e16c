import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { fail } from '../../ocf/exit-codes.js';
import { chownDirectory, chownPlainFile, isRealDirectory, readPlainFile, withDirectory, writeFileAtomic, type Owner } from './files.js';
import { join } from 'node:path';
import { NFS_STATE_DIR } from './infodir.js';
import { argValue } from './processes.js';

/**
 * rpc.statd's state: `sm/` lists the clients holding locks (one file per
 * client), `sm.bak/` the clients still to be told of a restart, `state` the
 * NSM state number. Debian keeps them in /var/lib/nfs itself, Red Hat in
 * /var/lib/nfs/statd; with /var/lib/nfs bound to the shared directory they
 * live on the shared storage either way. `sm.ha/` is ours (as in the
 * heartbeat agent): a copy of the client list taken at stop and before
 * notifying, so every floating address notifies every client, even after a
 * node died without a stop.
 */

export type { Owner } from './files.js';

/** Where statd keeps its files below `root` (/var/lib/nfs or the shared directory). */
export function statdDir(root = NFS_STATE_DIR): string {
  return isRealDirectory(join(root, 'statd')) ? join(root, 'statd') : root;
}

/** Users rpc.statd runs as on Debian (statd) and Red Hat/SUSE (rpcuser). */
const STATD_USERS = ['statd', 'rpcuser'];

export function passwdLookup(name: string, passwd = readPasswd()): Owner | undefined {
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 4) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

const readPasswd = () => {
  try {
    return readFileSync('/etc/passwd', 'utf8');
  } catch {
    return '';
  }
};

/**
 * The user statd runs as: it drops root for the owner of its sm directory.
 * Taken from this node's own sm directory (before the shared one is bound
 * over it; a link there does not count), else the distribution's statd
 * user, else root.
 */
export function statdOwner(localRoot = NFS_STATE_DIR): Owner {
  try {
    const st = lstatSync(join(statdDir(localRoot), 'sm'));
    if (st.isDirectory()) return { uid: st.uid, gid: st.gid };
  } catch {
    // no local statd directory
  }
  for (const u of STATD_USERS) {
    const o = passwdLookup(u);
    if (o) return o;
  }
  return { uid: 0, gid: 0 };
}

export type Warn = (message: string) => void;

const ROOT: Owner = { uid: 0, gid: 0 };

/** `path` as a directory of its own (created if missing); a link or a file there is refused. */
function ensureDirectory(path: string): void {
  try {
    mkdirSync(path, { mode: 0o755 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  if (!isRealDirectory(path)) throw fail.generic(`${path} is not a directory (a link?): refusing to use it`);
}

/**
 * sm and sm.bak in `dir` (and `dir` itself when it is statd's own
 * subdirectory) owned by statd's user, with the plain files in them; sm.ha
 * owned by root (only the agent writes it; statd must not be able to plant
 * anything the notifier would copy as root). Links, hard-linked files and
 * anything else in statd's directories are left alone and logged: statd's
 * user can write there, and a link would make root chown its target.
 */
export function prepareStatdDir(dir: string, owner: Owner, ownDir: boolean, warn: Warn = () => undefined): void {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  if (!isRealDirectory(dir)) throw fail.generic(`${dir} is not a directory (a link?): refusing to use it`);
  if (ownDir) chownDirectory(dir, owner);
  for (const sub of ['sm', 'sm.bak']) {
    const path = join(dir, sub);
    ensureDirectory(path);
    chownDirectory(path, owner);
    withDirectory(path, (d) => {
      for (const f of readdirSync(d)) {
        const why = chownPlainFile(join(d, f), owner);
        if (why) warn(`left ${join(path, f)} alone: ${why}`);
      }
    });
  }
  ensureDirectory(join(dir, 'sm.ha'));
  chownDirectory(join(dir, 'sm.ha'), ROOT);
  withDirectory(dir, (d) => {
    if (!lstatOrUndefined(join(d, 'state'))) return;
    const why = chownPlainFile(join(d, 'state'), owner);
    if (why) warn(`left ${join(dir, 'state')} alone: ${why}`);
  });
}

const lstatOrUndefined = (path: string) => {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
};

/** Names in `dir` (none when it is missing or not a directory of its own). */
const entries = (dir: string): string[] => {
  if (!isRealDirectory(dir)) return [];
  try {
    return readdirSync(dir).filter((f) => !f.startsWith('.'));
  } catch {
    return [];
  }
};

/**
 * Copies the plain file `name` from `srcDir` to `dstDir` atomically, with its
 * owner and mode; false (logged) when it is not one. Both directories are
 * held open while copying (withDirectory).
 */
function copyPlainFile(srcDir: string, dstDir: string, name: string, warn: Warn): boolean {
  const f = withDirectory(srcDir, (d) => readPlainFile(join(d, name)));
  if ('problem' in f) {
    warn(`left ${join(srcDir, name)} alone: ${f.problem}`);
    return false;
  }
  withDirectory(dstDir, (d) => writeFileAtomic(d, name, f.data, f));
  return true;
}

/** sm.ha := the clients in sm/ and sm.bak/ (replacing the old copy). */
export function snapshotNotifyList(dir: string, warn: Warn = () => undefined): number {
  const ha = join(dir, 'sm.ha');
  if (!isRealDirectory(ha)) return 0;
  // Clear the old copy: unlink removes a link itself, never its target.
  for (const f of readdirSync(ha)) {
    const st = lstatOrUndefined(join(ha, f));
    if (st && !st.isDirectory()) rmSync(join(ha, f), { force: true });
  }
  const names = new Set<string>();
  for (const sub of ['sm.bak', 'sm']) {
    for (const f of entries(join(dir, sub))) {
      if (copyPlainFile(join(dir, sub), ha, f, warn)) names.add(f);
    }
  }
  return names.size;
}

/** Clients in sm.ha that neither sm/ nor sm.bak/ list go back to sm/, so the next sm-notify tells them. */
export function restoreNotifyList(dir: string, warn: Warn = () => undefined): string[] {
  // A link statd planted under a client's name is no record of it: replaced like a missing one.
  const have = new Set(['sm', 'sm.bak'].flatMap((sub) => entries(join(dir, sub)).filter((f) => lstatOrUndefined(join(dir, sub, f))?.isFile())));
  const restored: string[] = [];
  if (!isRealDirectory(join(dir, 'sm'))) return restored;
  for (const f of entries(join(dir, 'sm.ha'))) {
    if (have.has(f)) continue;
    if (copyPlainFile(join(dir, 'sm.ha'), join(dir, 'sm'), f, warn)) restored.push(f);
  }
  return restored;
}

export interface StatdConfig {
  /** The name statd and sm-notify use for this server: the floating address. */
  identity?: string;
  dir: string;
  port?: number;
  outgoingPort?: number;
}

/**
 * rpc.statd's arguments: no notification at start (the agent sends it once
 * nfsd, the exports and the floating address are up), the shared identity,
 * the state directory, fixed ports when asked.
 */
export function statdArgs(c: StatdConfig): string[] {
  const args = ['--no-notify', '-P', c.dir];
  if (c.identity) args.push('-n', c.identity);
  if (c.port !== undefined) args.push('-p', String(c.port));
  if (c.outgoingPort !== undefined) args.push('-o', String(c.outgoingPort));
  return args;
}

/** Does a running statd's argv match what we would start it with? (Order-independent.) */
export function statdArgvMatches(argv: readonly string[], c: StatdConfig): string | undefined {
  const val = (...flags: string[]) => argValue(argv, ...flags);
  const name = val('-n', '--name');
  const dir = val('-P', '--state-directory-path') ?? NFS_STATE_DIR;
  if (c.identity && name !== c.identity) return `rpc.statd runs as ${name ? `"${name}"` : 'this host'}, not as ${c.identity}`;
  if (dir.replace(/\/+$/, '') !== c.dir.replace(/\/+$/, '')) return `rpc.statd keeps its state in ${dir}, not in ${c.dir}`;
  return undefined;
}
