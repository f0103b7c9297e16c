import { fail } from '../../ocf/exit-codes.js';
import { describeDiff, diffExports, readEtab, type ExportedEntry } from './etab.js';
import { exportOptions, exportTarget, type Export } from './exports.js';
import { nfsdFsMounted } from './nfsd.js';
import type { Ops } from './ops.js';

/**
 * Changing what is exported, through exportfs (it keeps etab, rmtab and the
 * kernel's export caches consistent). -i: only our options count, not
 * /etc/exports.
 */

/** exportfs' words for options it does not know: a configuration error, the same on every node. */
const OPTION_ERROR = /unknown keyword|bad option|bad fsid|Invalid export syntax|invalid .*option/i;

async function exportOne(ops: Ops, e: Export): Promise<void> {
  const r = await ops.run('exportfs', ['-i', '-o', exportOptions(e), '--', exportTarget(e.client, e.dir)], { check: false });
  if (r.code === 0) return;
  const why = r.stderr.trim().split('\n').filter(Boolean).join(' / ') || `exit ${r.code}`;
  if (OPTION_ERROR.test(why)) throw fail.configured(`${e.where}: exportfs rejects ${e.dir} ${e.client}(${exportOptions(e)}): ${why}`);
  throw fail.generic(`exportfs ${e.client}:${e.dir}: ${why}`);
}

async function unexportOne(ops: Ops, e: ExportedEntry): Promise<void> {
  const r = await ops.run('exportfs', ['-u', '--', exportTarget(e.client, e.dir)], { check: false });
  // "Could not find … to unexport": already gone, which is what we want.
  if (r.code !== 0 && !/could not find/i.test(r.stderr)) throw fail.generic(`exportfs -u ${e.client}:${e.dir}: ${r.stderr.trim() || `exit ${r.code}`}`);
}

/** Drops the kernel's cached export decisions (they pin the exported filesystems). */
export async function flushExportCache(ops: Ops): Promise<void> {
  if (nfsdFsMounted()) await ops.run('exportfs', ['-f'], { check: false });
}

/**
 * Makes the exported table equal to `wanted`: exports what is missing or has
 * another fsid, and with `removeOthers` (the etab on the shared directory is
 * ours alone) unexports what is not in the table, e.g. left behind by a node
 * that died. Then checks etab: exportfs exits 0 even when it skipped a
 * client it could not resolve.
 */
export async function applyExports(ops: Ops, wanted: readonly Export[], o: { removeOthers: boolean }): Promise<void> {
  const before = diffExports(wanted, readEtab());
  if (o.removeOthers) {
    for (const x of before.extra) {
      ops.log.info(`unexporting ${x.dir} to ${x.client}: not in the export table`);
      await unexportOne(ops, x);
    }
  }
  for (const e of [...before.missing, ...before.wrongFsid.map((w) => w.want)]) {
    ops.log.info(`exporting ${e.dir} to ${e.client} (${exportOptions(e)}${e.derived ? ', fsid derived from the path' : ''})`);
    await exportOne(ops, e);
  }
  const after = diffExports(wanted, readEtab());
  if (after.missing.length || after.wrongFsid.length) throw fail.generic(`exportfs did not export as configured: ${describeDiff(after)}`);
}

/** Unexports every entry of etab (the shared one is ours) and flushes the caches. */
export async function unexportAll(ops: Ops): Promise<void> {
  if (readEtab().length) {
    ops.log.info('unexporting all exports');
    await ops.run('exportfs', ['-ua']);
  }
  await flushExportCache(ops);
}

/** Unexports the table's entries that are exported (others are not ours) and flushes the caches. */
export async function unexportListed(ops: Ops, wanted: readonly Export[]): Promise<void> {
  const d = diffExports(wanted, readEtab());
  for (const { got } of [...d.present, ...d.wrongFsid]) {
    ops.log.info(`unexporting ${got.dir} from ${got.client}`);
    await unexportOne(ops, got);
  }
  await flushExportCache(ops);
}
