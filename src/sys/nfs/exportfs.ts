import { fail } from '../../ocf/exit-codes.js';
import { rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { describeDiff, diffExports, planExportChanges, readEtab, type AppliedExport, type ExportChanges, type ExportedEntry } from './etab.js';
import { exportOptions, exportTarget, type Export } from './exports.js';
import { readPlainFile, writeFileAtomic } from './files.js';
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

/**
 * Reload: changes the exported table to `wanted` in place, touching only the
 * difference (nfsd, mountd and statd keep running, no grace period; clients
 * of unchanged exports notice nothing). `previous` is what this resource
 * applied before (see recordApplied); with `ownsAll` every etab entry is ours.
 */
export async function reloadExports(ops: Ops, wanted: readonly Export[], previous: readonly AppliedExport[] | undefined, o: { ownsAll: boolean }): Promise<ExportChanges> {
  const plan = planExportChanges(wanted, readEtab(), previous, { ownsAll: o.ownsAll, optionsOf: exportOptions });
  for (const x of plan.remove) {
    ops.log.info(`unexporting ${x.dir} from ${x.client}: no longer in the export table`);
    await unexportOne(ops, x);
  }
  for (const e of plan.change) {
    ops.log.info(`re-exporting ${e.dir} to ${e.client} with ${exportOptions(e)}`);
    await exportOne(ops, e);
  }
  for (const e of plan.add) {
    ops.log.info(`exporting ${e.dir} to ${e.client} (${exportOptions(e)}${e.derived ? ', fsid derived from the path' : ''})`);
    await exportOne(ops, e);
  }
  if (plan.remove.length) await flushExportCache(ops);
  const after = diffExports(wanted, readEtab());
  if (after.missing.length || after.wrongFsid.length) throw fail.generic(`exportfs did not export as configured: ${describeDiff(after)}`);
  return plan;
}

export const appliedOf = (exports: readonly Export[]): AppliedExport[] => exports.map((e) => ({ dir: e.dir, client: e.client, options: exportOptions(e) }));

/** Records the table as applied (root-only file in the agent's state directory, written atomically). */
export function recordApplied(file: string, applied: readonly AppliedExport[]): void {
  writeFileAtomic(dirname(file), basename(file), `${JSON.stringify(applied)}\n`, { uid: 0, gid: 0, mode: 0o600 });
}

/** The table as last applied; undefined when there is no (readable) record. */
export function readApplied(file: string): AppliedExport[] | undefined {
  const f = readPlainFile(file, 16 * 1024 * 1024);
  if ('problem' in f || f.uid !== 0) return undefined;
  try {
    const v: unknown = JSON.parse(f.data.toString('utf8'));
    if (!Array.isArray(v)) return undefined;
    return v.filter((x): x is AppliedExport => typeof x?.dir === 'string' && typeof x?.client === 'string' && typeof x?.options === 'string');
  } catch {
    return undefined;
  }
}

export function forgetApplied(file: string): void {
  rmSync(file, { force: true });
}
