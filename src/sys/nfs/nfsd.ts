import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { mountAt, type MountEntry } from '../mountinfo.js';

/**
 * The kernel NFS server as the nfsd filesystem (/proc/fs/nfsd) shows it:
 * `threads` is the number of running nfsd threads (0 when stopped; the file
 * is absent when the filesystem is not mounted), `versions` the protocol
 * versions it serves ("-2 +3 +4 +4.1 +4.2").
 */

export const NFSD_FS = '/proc/fs/nfsd';

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** Running nfsd threads; undefined when the nfsd filesystem is not mounted. */
export function nfsdThreads(dir = NFSD_FS): number | undefined {
  const t = read(`${dir}/threads`);
  if (t === undefined) return undefined;
  const n = Number.parseInt(t.trim(), 10);
  return Number.isFinite(n) ? n : 0;
}

/** NFSv4 grace period and lease time (seconds) as the kernel has them for the next nfsd start. */
export interface Nfsv4Times {
  grace?: number;
  lease?: number;
}

const NFSV4_TIME_FILES = { grace: 'nfsv4gracetime', lease: 'nfsv4leasetime' } as const;
/** The kernel's limits for both (nfsd4_write_time). */
export const NFSV4_TIME_MIN = 10;
export const NFSV4_TIME_MAX = 3600;
/** The kernel's lease and grace time when nothing sets them. */
export const KERNEL_NFSV4_TIME = 90;

export function nfsv4Times(dir = NFSD_FS): Nfsv4Times {
  const out: Nfsv4Times = {};
  for (const [k, file] of Object.entries(NFSV4_TIME_FILES) as Array<[keyof Nfsv4Times, string]>) {
    const n = Number.parseInt(read(`${dir}/${file}`) ?? '', 10);
    if (Number.isFinite(n)) out[k] = n;
  }
  return out;
}

/**
 * Sets the times nfsd uses from its next start (the kernel refuses them,
 * EBUSY, while nfsd runs). Returns what could not be set, and why.
 */
export function setNfsv4Times(want: Nfsv4Times, dir = NFSD_FS): string[] {
  const problems: string[] = [];
  for (const [k, file] of Object.entries(NFSV4_TIME_FILES) as Array<[keyof Nfsv4Times, string]>) {
    const v = want[k];
    if (v === undefined) continue;
    try {
      writeFileSync(`${dir}/${file}`, `${v}\n`, { flag: 'r+' }); // never create: only the kernel's file
    } catch (e) {
      problems.push(`${dir}/${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  }
  return problems;
}

export interface NfsVersions {
  /** "3", "4", "4.1"… mapped to enabled (true) or disabled (false). */
  [version: string]: boolean;
}

/** "-2 +3 +4 +4.1 +4.2" → { 2: false, 3: true, 4: true, 4.1: true, 4.2: true }. */
export function parseVersions(text: string): NfsVersions {
  const out: NfsVersions = {};
  for (const tok of text.trim().split(/\s+/)) {
    const m = /^([+-])(\d+(?:\.\d+)?)$/.exec(tok);
    if (m) out[m[2]!] = m[1] === '+';
  }
  return out;
}

export function nfsdVersions(dir = NFSD_FS): NfsVersions | undefined {
  const t = read(`${dir}/versions`);
  return t === undefined ? undefined : parseVersions(t);
}

/** The nfsd filesystem type is known to the kernel (module loaded or built in). */
export function kernelKnowsNfsd(filesystems = read('/proc/filesystems') ?? ''): boolean {
  return /\snfsd$/m.test(filesystems);
}

/**
 * Can this kernel run an NFS server at all: nfsd is loaded/built in, or a
 * module for it is installed (modules.dep / modules.builtin), so modprobe
 * will find it. Read from files, no modprobe fork.
 */
export function kernelCanServeNfs(): boolean {
  if (kernelKnowsNfsd()) return true;
  const dir = `/lib/modules/${release()}`;
  const dep = read(`${dir}/modules.dep`) ?? '';
  const builtin = read(`${dir}/modules.builtin`) ?? '';
  return /(^|\/)nfsd\.ko(\.[gx]z|\.zst)?:/m.test(dep) || /(^|\/)nfsd\.ko$/m.test(builtin);
}

export function nfsdFsMounted(mounts?: MountEntry[]): boolean {
  const m = mountAt(NFSD_FS, mounts);
  return m?.fstype === 'nfsd';
}

/** Whether the kernel has the lockd sysctls (set ports before nfsd starts lockd). */
export function setLockdPort(proto: 'tcp' | 'udp', port: number): boolean {
  const file = `/proc/sys/fs/nfs/nlm_${proto}port`;
  if (!existsSync(file)) return false;
  writeFileSync(file, `${port}\n`);
  return true;
}

/** Drops NLM locks held on the filesystem of `dir` (what exportfs' unlock_on_stop does). */
export function unlockFilesystem(dir: string, nfsdFs = NFSD_FS): boolean {
  try {
    writeFileSync(`${nfsdFs}/unlock_filesystem`, `${dir}\n`);
    return true;
  } catch {
    return false;
  }
}
