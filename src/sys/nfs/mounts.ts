import { mkdirSync, statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { fail } from '../../ocf/exit-codes.js';
import { mountAt, readMounts, type MountEntry } from '../mountinfo.js';
import { isBound, NFS_STATE_DIR } from './infodir.js';
import { NFSD_FS, kernelKnowsNfsd, nfsdFsMounted } from './nfsd.js';
import type { Ops } from './ops.js';
import { holdersOf } from './processes.js';

/** The mounts an NFS server needs: the shared state directory, rpc_pipefs, the nfsd filesystem. */

export async function bindInfodir(ops: Ops, infodir: string): Promise<void> {
  if (isBound(infodir)) {
    ops.log.debug(`${infodir} is already bound to ${NFS_STATE_DIR}`);
    return;
  }
  mkdirSync(NFS_STATE_DIR, { recursive: true });
  await ops.run('mount', ['--bind', '--', infodir, NFS_STATE_DIR]);
  if (!isBound(infodir)) throw fail.generic(`mount --bind ${infodir} ${NFS_STATE_DIR} did not take effect`);
  ops.log.info(`bound ${infodir} to ${NFS_STATE_DIR}`);
}

/**
 * Unmounts `dir` while `mounted()` says so (once per stacked mount), retrying
 * while it is busy, within the deadline. Fails with the names of the
 * processes that keep it busy.
 */
export async function unmount(ops: Ops, dir: string, what: string, mounted: () => boolean): Promise<void> {
  // Keep a second of the deadline to name the holders in the exit reason.
  const stopAt = Date.now() + Math.max(0, ops.deadline.bound(10_000) - 1000);
  let why = '';
  while (mounted()) {
    if (Date.now() < stopAt) {
      const r = await ops.run('umount', ['--', dir], { check: false, timeoutMs: Math.max(100, stopAt - Date.now()) });
      if (r.code === 0) continue;
      why = r.stderr.trim().replace(/^umount: /, '');
    }
    if (Date.now() >= stopAt) {
      const holders = await holdersOf(dir, Math.max(500, ops.deadline.remaining()));
      const held = holders.length ? `held by ${holders.join(', ')}` : 'no process holds it (the kernel does: nfsd or lockd still running?)';
      throw fail.generic(`cannot unmount ${what} ${dir}: ${why || 'busy'}; ${held}`);
    }
    await ops.deadline.sleep(Math.min(500, stopAt - Date.now()));
  }
}

/** Mounts made inside the mount `top` (its descendants), deepest first. */
export function mountsInside(top: MountEntry, mounts: MountEntry[]): MountEntry[] {
  const inside = new Set<number>([top.id]);
  const out: MountEntry[] = [];
  // mountinfo lists parents before children
  for (const m of mounts) {
    if (inside.has(m.parentId) && !inside.has(m.id)) {
      inside.add(m.id);
      out.push(m);
    }
  }
  return out.reverse();
}

/** Unbinds /var/lib/nfs (first what was mounted inside the bind, e.g. rpc_pipefs) while it shows `infodir`. */
export async function unbindInfodir(ops: Ops, infodir: string): Promise<void> {
  if (!isBound(infodir)) return;
  const mounts = readMounts();
  const top = mountAt(NFS_STATE_DIR, mounts);
  if (top) {
    for (const m of mountsInside(top, mounts)) {
      await unmount(ops, m.mountPoint, `${m.fstype} inside ${NFS_STATE_DIR}`, () => readMounts().some((x) => x.id === m.id));
    }
  }
  await unmount(ops, NFS_STATE_DIR, 'the NFS state directory', () => isBound(infodir));
  ops.log.info(`unbound ${infodir} from ${NFS_STATE_DIR}`);
}

/** rpc_pipefs's superblock magic (RPCAUTH_GSSMAGIC), as statfs(2) reports it. */
const RPC_PIPEFS_MAGIC = 0x67596969;

/**
 * rpc_pipefs is what `dir` shows: statfs sees the visible mount, not one
 * hidden under a later bind (mountinfo lists both at the same path).
 */
export function rpcPipefsMounted(dir: string): boolean {
  try {
    return statfsSync(dir).type === RPC_PIPEFS_MAGIC && statSync(dir).dev !== statSync(dirname(dir)).dev;
  } catch {
    return false;
  }
}

/** rpc_pipefs at `dir`: the kernel's pipes to rpc.idmapd, rpc.gssd and nfsdcld. */
export async function mountRpcPipefs(ops: Ops, dir: string): Promise<void> {
  if (rpcPipefsMounted(dir)) return;
  mkdirSync(dir, { recursive: true });
  await ops.run('mount', ['-t', 'rpc_pipefs', '--', 'sunrpc', dir]);
}

export async function unmountRpcPipefs(ops: Ops, dir: string): Promise<void> {
  await unmount(ops, dir, 'rpc_pipefs', () => rpcPipefsMounted(dir));
}

/**
 * The nfsd filesystem at /proc/fs/nfsd: load the module if the kernel does
 * not know nfsd yet, mount it if needed. 5 when this kernel cannot serve NFS.
 */
export async function ensureNfsdFs(ops: Ops): Promise<void> {
  if (!kernelKnowsNfsd()) {
    const r = await ops.run('modprobe', ['nfsd'], { check: false });
    if (!kernelKnowsNfsd()) throw fail.installed(`this kernel has no NFS server: modprobe nfsd: ${r.stderr.trim() || `exit ${r.code}`}`);
  }
  if (!nfsdFsMounted(readMounts())) {
    mkdirSync(NFSD_FS, { recursive: true });
    await ops.run('mount', ['-t', 'nfsd', '--', 'nfsd', NFSD_FS]);
  }
}
