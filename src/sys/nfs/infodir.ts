import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { mountAt, readMounts, type MountEntry } from '../mountinfo.js';

/**
 * The NFS state directory. nfs-utils keeps everything a failover must carry
 * in /var/lib/nfs: etab/rmtab (exports, mounts), statd's client list and state
 * number, the NFSv4 client records (v4recovery, nfsdcltrack, nfsdcld). The
 * agent bind-mounts nfs_shared_infodir (on the shared filesystem) over it.
 */
export const NFS_STATE_DIR = '/var/lib/nfs';

/** Files and directories nfs-utils expects in the state directory (exportfs fails without etab). */
export const STATE_FILES = ['etab', 'rmtab'];
export const STATE_DIRS = ['v4recovery'];

/**
 * Is `infodir` what /var/lib/nfs shows? A bind mount shows the same inode on
 * the same device; two stat calls, no mount table parsing.
 */
export function isBound(infodir: string, target = NFS_STATE_DIR): boolean {
  try {
    const a = statSync(infodir);
    const b = statSync(target);
    return a.dev === b.dev && a.ino === b.ino && mountAt(target) !== undefined;
  } catch {
    return false;
  }
}

/** The mount at /var/lib/nfs, if anything is mounted there. */
export function stateDirMount(mounts: MountEntry[] = readMounts(), target = NFS_STATE_DIR): MountEntry | undefined {
  return mountAt(target, mounts);
}

/**
 * Creates what nfs-utils needs in the shared directory: etab and rmtab
 * (empty), v4recovery. Statd's part is prepared by statd.ts. Never touches
 * existing content.
 */
export function prepareInfodir(infodir: string): void {
  mkdirSync(infodir, { recursive: true, mode: 0o755 });
  for (const d of STATE_DIRS) mkdirSync(join(infodir, d), { recursive: true, mode: 0o755 });
  for (const f of STATE_FILES) {
    try {
      // wx: O_CREAT|O_EXCL, which never follows a link left under that name.
      writeFileSync(join(infodir, f), '', { mode: 0o644, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/**
 * Problems with the shared directory on this node: its parent must exist
 * (else the shared filesystem is not mounted here, and creating it would put
 * NFS state on the local disk).
 */
export function infodirProblem(infodir: string): string | undefined {
  if (existsSync(infodir)) return statSync(infodir).isDirectory() ? undefined : `${infodir} is not a directory`;
  if (!existsSync(dirname(infodir))) return `${dirname(infodir)} does not exist (is the shared filesystem mounted?)`;
  return undefined;
}

/** Same filesystem as "/": the "shared" directory is most likely on the local disk. */
export function onRootFilesystem(infodir: string): boolean {
  try {
    return statSync(infodir).dev === statSync('/').dev;
  } catch {
    return false;
  }
}
