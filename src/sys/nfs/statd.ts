import { chownSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
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

export interface Owner {
  uid: number;
  gid: number;
}

/** Where statd keeps its files below `root` (/var/lib/nfs or the shared directory). */
export function statdDir(root = NFS_STATE_DIR): string {
  return existsSync(join(root, 'statd')) ? join(root, 'statd') : root;
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
 * over it), else the distribution's statd user, else root.
 */
export function statdOwner(localRoot = NFS_STATE_DIR): Owner {
  try {
    const st = statSync(join(statdDir(localRoot), 'sm'));
    return { uid: st.uid, gid: st.gid };
  } catch {
    // no local statd directory
  }
  for (const u of STATD_USERS) {
    const o = passwdLookup(u);
    if (o) return o;
  }
  return { uid: 0, gid: 0 };
}

function chownTree(path: string, o: Owner): void {
  chownSync(path, o.uid, o.gid);
  if (lstatSync(path).isDirectory()) for (const f of readdirSync(path)) chownTree(join(path, f), o);
}

/** sm, sm.bak and sm.ha in `dir`, owned by statd's user (and `dir` too when it is statd's own subdirectory). */
export function prepareStatdDir(dir: string, owner: Owner, ownDir: boolean): void {
  mkdirSync(dir, { recursive: true });
  if (ownDir) chownSync(dir, owner.uid, owner.gid);
  for (const sub of ['sm', 'sm.bak', 'sm.ha']) {
    mkdirSync(join(dir, sub), { recursive: true });
    chownTree(join(dir, sub), owner);
  }
  if (existsSync(join(dir, 'state'))) chownSync(join(dir, 'state'), owner.uid, owner.gid);
}

const files = (dir: string): string[] => {
  try {
    return readdirSync(dir).filter((f) => lstatSync(join(dir, f)).isFile());
  } catch {
    return [];
  }
};

function copyKeepingOwner(src: string, dst: string): void {
  const st = statSync(src);
  copyFileSync(src, dst);
  chownSync(dst, st.uid, st.gid);
}

/** sm.ha := the clients in sm/ and sm.bak/ (replacing the old copy). */
export function snapshotNotifyList(dir: string): number {
  const ha = join(dir, 'sm.ha');
  if (!existsSync(ha)) return 0;
  for (const f of files(ha)) rmSync(join(ha, f), { force: true });
  const names = new Set<string>();
  for (const sub of ['sm.bak', 'sm']) {
    for (const f of files(join(dir, sub))) {
      copyKeepingOwner(join(dir, sub, f), join(ha, f));
      names.add(f);
    }
  }
  return names.size;
}

/** Clients in sm.ha that neither sm/ nor sm.bak/ list go back to sm/, so the next sm-notify tells them. */
export function restoreNotifyList(dir: string): string[] {
  const have = new Set([...files(join(dir, 'sm')), ...files(join(dir, 'sm.bak'))]);
  const restored: string[] = [];
  if (!existsSync(join(dir, 'sm'))) return restored;
  for (const f of files(join(dir, 'sm.ha'))) {
    if (have.has(f)) continue;
    copyKeepingOwner(join(dir, 'sm.ha', f), join(dir, 'sm', f));
    restored.push(f);
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
