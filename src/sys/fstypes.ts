import { existsSync, readFileSync } from 'node:fs';
import type { SysCtx } from '../ocf/agent.js';
import { fail } from '../ocf/exit-codes.js';
import { which } from './which.js';

/**
 * Facts about filesystem types, as ocf:heartbeat:Filesystem groups them.
 * Names only: nothing here touches a mounted filesystem.
 */

/** Filesystems without a local block device behind them. */
const NOT_BLOCK = new Set(['nfs', 'nfs4', 'aznfs', 'efs', 'smbfs', 'cifs', 'none', 'glusterfs', 'ceph', 'tmpfs', 'overlay', 'overlayfs', 'rozofs', 'zfs', 'cvfs', 'lustre']);

/** Network filesystems: `umount -f` makes sense when their server is gone. */
const NETWORK = new Set(['nfs', 'nfs4', 'aznfs', 'efs', 'cifs', 'smbfs']);

/** Types whose mount checks or journals itself: run_fsck=auto leaves them alone. */
const NO_FSCK = new Set([
  'ext4', 'ext4dev', 'ext3', 'reiserfs', 'reiser4', 'nss', 'xfs', 'jfs', 'vfat', 'fat', 'nfs4', 'nfs', 'aznfs', 'efs', 'cifs', 'smbfs',
  'ocfs2', 'gfs2', 'none', 'lustre', 'glusterfs', 'ceph', 'tmpfs', 'overlay', 'overlayfs', 'rozofs', 'zfs', 'cvfs',
]);

/** Safe to mount on several nodes at once (cluster or network filesystems). */
const CLUSTER_SAFE = new Set(['nfs4', 'nfs', 'aznfs', 'efs', 'smbfs', 'cifs', 'none', 'gfs2', 'glusterfs', 'ceph', 'ocfs2', 'overlay', 'overlayfs', 'tmpfs', 'cvfs', 'lustre']);

export const isBlockType = (fstype: string | undefined) => !fstype || !NOT_BLOCK.has(fstype);
export const isNetworkType = (fstype: string | undefined) => !!fstype && NETWORK.has(fstype);
export const fsckNeededByDefault = (fstype: string | undefined) => !fstype || !NO_FSCK.has(fstype);
export const isClusterSafe = (fstype: string | undefined) => !!fstype && CLUSTER_SAFE.has(fstype);

/** nfs and nfs4 are one family: the kernel reports an nfs mount of version 4 as nfs4. */
export function sameFstype(configured: string, mounted: string): boolean {
  const norm = (t: string) => (t === 'nfs4' ? 'nfs' : t === 'overlayfs' ? 'overlay' : t);
  return norm(configured) === norm(mounted);
}

/** The kernel filesystem that serves `fstype` (FUSE filesystems → fuse, EFS → nfs4). */
export function kernelFstype(fstype: string): string {
  if (fstype.startsWith('fuse.') || fstype === 'glusterfs' || fstype === 'rozofs') return 'fuse';
  if (fstype === 'efs' || fstype === 'aznfs') return 'nfs4';
  return fstype;
}

/** Registered with the kernel right now (/proc/filesystems). */
export function kernelSupports(fstype: string, filesystems = readFileSync('/proc/filesystems', 'utf8')): boolean {
  return filesystems.split('\n').some((line) => line.split('\t').pop()?.trim() === fstype);
}

/** A userspace mount helper (mount.nfs, mount.cifs, mount.fuse…) that mount(8) would call. */
export function mountHelper(fstype: string): string | undefined {
  for (const dir of ['/sbin', '/usr/sbin', '/bin', '/usr/bin']) {
    const p = `${dir}/mount.${fstype}`;
    if (existsSync(p)) return p;
  }
  return undefined;
}

type Ops = SysCtx<'run' | 'deadline' | 'env'>;

/**
 * The kernel can mount `fstype`, or a mount helper exists; otherwise 5. With
 * `load` (start) a missing module is loaded with modprobe; without (validate-all)
 * modprobe is only asked whether it could.
 */
export async function ensureFstypeSupported(ops: Ops, fstype: string | undefined, load: boolean): Promise<void> {
  if (!fstype || fstype === 'none') return;
  const k = kernelFstype(fstype);
  if (kernelSupports(k) || mountHelper(fstype)) return;
  if (which('modprobe', ops.env.PATH)) {
    const r = await ops.run('modprobe', load ? ['-q', '--', k] : ['-n', '-q', '--', k], { check: false, timeoutMs: 10_000 });
    if (r.code === 0 && (!load || kernelSupports(k))) return;
    if (r.code === 0) {
      // A freshly loaded module may need a moment to register.
      const ok = await ops.deadline.until(`waiting for ${k} in /proc/filesystems`, () => kernelSupports(k), { limitMs: 5000, intervalMs: 250 }).catch(() => false);
      if (ok) return;
    }
  }
  throw fail.installed(`filesystem type ${fstype} is not supported here: not in /proc/filesystems, no kernel module, no mount.${fstype} helper`);
}
