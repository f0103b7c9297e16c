import { readFileSync } from 'node:fs';
import { normalizeClient, unescapeOctal, type Export } from './exports.js';
import { fsidKey, formatFsid, parseFsid, type Fsid } from './fsid.js';

/**
 * What is exported right now. exportfs records the table in
 * /var/lib/nfs/etab and rpc.mountd serves the kernel from it, so reading that
 * file answers "is it exported, with which fsid?" without forking exportfs.
 * The same entries are what `exportfs -v` prints.
 */

export const ETAB = '/var/lib/nfs/etab';

export interface ExportedEntry {
  dir: string;
  /** As recorded: '*' for everyone (`exportfs -v` shows "<world>"), IPv6 without brackets. */
  client: string;
  options: string[];
}

/** Splits "client(opt,opt)" at its last '(' (IPv6 clients contain no parentheses, options do not either). */
function clientAndOptions(s: string): { client: string; options: string[] } {
  const open = s.lastIndexOf('(');
  if (open < 0 || !s.endsWith(')')) return { client: normalizeClient(s.trim()), options: [] };
  return { client: normalizeClient(s.slice(0, open).trim()), options: s.slice(open + 1, -1).split(',').filter(Boolean) };
}

/** etab: "<path with \ooo escapes>\t<client>(<all options>)" per line. */
export function parseEtab(text: string): ExportedEntry[] {
  const out: ExportedEntry[] = [];
  for (const line of text.split('\n')) {
    const tab = line.indexOf('\t');
    if (!line.startsWith('/') || tab < 0) continue;
    out.push({ dir: unescapeOctal(line.slice(0, tab)), ...clientAndOptions(line.slice(tab + 1)) });
  }
  return out;
}

/** The etab this node's mountd serves; empty when there is none. */
export function readEtab(path = ETAB): ExportedEntry[] {
  try {
    return parseEtab(readFileSync(path, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/**
 * `exportfs -v` (and plain `exportfs`): the path padded to 14 columns, then a
 * tab and "client(options)"; a longer path stands alone and its clients follow
 * on lines that start with tabs. Paths are printed raw (no escapes).
 */
export function parseExportfsVerbose(text: string): ExportedEntry[] {
  const out: ExportedEntry[] = [];
  let dir: string | undefined;
  for (const raw of text.split('\n')) {
    if (!raw.trim()) continue;
    if (/^\s/.test(raw)) {
      if (dir !== undefined) out.push({ dir, ...clientAndOptions(raw.trim()) });
      continue;
    }
    const tab = raw.indexOf('\t');
    if (tab < 0) {
      dir = raw.replace(/\s+$/, '');
      continue;
    }
    dir = raw.slice(0, tab).replace(/ +$/, '');
    out.push({ dir, ...clientAndOptions(raw.slice(tab + 1).trim()) });
  }
  return out;
}

/** The fsid an exported entry carries, if any. */
export function exportedFsid(e: ExportedEntry): Fsid | undefined {
  const opt = e.options.find((o) => o.startsWith('fsid='));
  if (!opt) return undefined;
  const f = parseFsid(opt.slice(5));
  // etab holds what exportfs stored; a negative number only appears for fsids we never write.
  return typeof f === 'string' ? undefined : f;
}

/**
 * Does a recorded client stand for the one in the table? Equal after
 * normalization, or a host name that exportfs recorded in its canonical
 * (fully qualified) form.
 */
export function clientMatches(wanted: string, recorded: string): boolean {
  const w = normalizeClient(wanted);
  const r = normalizeClient(recorded);
  if (w === r) return true;
  const isName = /^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(w) && !/^[\d.]+$/.test(w);
  return isName && r.startsWith(`${w}.`);
}

export interface ExportDiff {
  /** In the table, not exported. */
  missing: Export[];
  /** Exported with another fsid (or none). */
  wrongFsid: Array<{ want: Export; got: ExportedEntry }>;
  /** Exported, not in the table. */
  extra: ExportedEntry[];
  /** Table entries that are exported as configured, with what etab recorded. */
  present: Array<{ want: Export; got: ExportedEntry }>;
}

export function diffExports(wanted: readonly Export[], actual: readonly ExportedEntry[]): ExportDiff {
  const used = new Set<ExportedEntry>();
  const diff: ExportDiff = { missing: [], wrongFsid: [], extra: [], present: [] };
  for (const w of wanted) {
    const got = actual.find((a) => !used.has(a) && a.dir === w.dir && clientMatches(w.client, a.client));
    if (!got) {
      diff.missing.push(w);
      continue;
    }
    used.add(got);
    const f = exportedFsid(got);
    if (!f || fsidKey(f) !== fsidKey(w.fsid)) diff.wrongFsid.push({ want: w, got });
    else diff.present.push({ want: w, got });
  }
  diff.extra = actual.filter((a) => !used.has(a));
  return diff;
}

/** One line for logs and exit reasons. */
export function describeDiff(d: ExportDiff): string {
  const parts: string[] = [];
  if (d.missing.length) parts.push(`not exported: ${d.missing.map((e) => `${e.dir} to ${e.client}`).join(', ')}`);
  if (d.wrongFsid.length) {
    parts.push(
      `wrong fsid: ${d.wrongFsid
        .map(({ want, got }) => {
          const f = exportedFsid(got);
          return `${want.dir} to ${want.client} has ${f ? `fsid=${formatFsid(f)}` : 'no fsid'}, want fsid=${formatFsid(want.fsid)}`;
        })
        .join(', ')}`,
    );
  }
  return parts.join('; ');
}

/** An export as this resource last applied it (recorded so a reload knows what it owns and what changed). */
export interface AppliedExport {
  dir: string;
  client: string;
  /** The exportfs -o argument it was exported with. */
  options: string;
}

/** What a reload must do to turn the exported table into the wanted one. */
export interface ExportChanges {
  add: Export[];
  /** Exported with other options or another fsid: exported again (exportfs replaces an entry's options in place). */
  change: Export[];
  remove: ExportedEntry[];
  /** Exported as wanted: not touched. */
  unchanged: Export[];
}

/**
 * The difference between what is exported (`actual`, etab) and the wanted
 * table. What was applied before (`previous`) tells which entries are ours
 * and with which options; with `ownsAll` (etab on the shared directory) every
 * entry is ours. Without a record of an exported entry's options, it is
 * exported again: the same options give the same entry.
 */
export function planExportChanges(wanted: readonly Export[], actual: readonly ExportedEntry[], previous: readonly AppliedExport[] | undefined, o: { ownsAll: boolean; optionsOf: (e: Export) => string }): ExportChanges {
  const d = diffExports(wanted, actual);
  const recordOf = (dir: string, client: string) => previous?.find((p) => p.dir === dir && (clientMatches(p.client, client) || clientMatches(client, p.client)));
  const changed = d.present.filter(({ want }) => recordOf(want.dir, want.client)?.options !== o.optionsOf(want)).map(({ want }) => want);
  return {
    add: d.missing,
    change: [...d.wrongFsid.map(({ want }) => want), ...changed],
    remove: d.extra.filter((x) => o.ownsAll || recordOf(x.dir, x.client) !== undefined),
    unchanged: d.present.filter(({ want }) => !changed.includes(want)).map(({ want }) => want),
  };
}
