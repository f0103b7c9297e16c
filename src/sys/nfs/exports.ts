import { deriveFsid, fsidKey, formatFsid, normalizeExportPath, parseFsid, type Fsid } from './fsid.js';

/**
 * The export table the agent owns, written once for both nodes (the `exports`
 * parameter, or `exports_file` on the shared storage), in the syntax of
 * exports(5), one export per line or separated by ';':
 *
 *   /srv/nfs/data  192.168.0.0/24(rw,sync,no_root_squash,fsid=1) 10.0.0.5(ro)
 *   "/srv/nfs/with space" -rw,sync  *.example.com  @admins(no_root_squash)
 *
 * '#' starts a comment, a trailing backslash continues a line, "…" quotes
 * and \ooo octal escapes work in paths, "-opts" after the directory are
 * defaults for every client of that line, and a client without "(opts)"
 * gets exportfs' defaults. "(opts)" without a host means every host (*),
 * exactly as in exports(5).
 */

/** One (directory, client) pair as written, before fsid rules. */
export interface ExportLine {
  dir: string;
  /** Host, network, wildcard or @netgroup; '*' for everyone. IPv6 without brackets. */
  client: string;
  /** Options without fsid (that one is kept apart). */
  options: string[];
  /** fsid=… as written, if any. */
  fsidText?: string;
  /** Where it came from, for error messages: "exports entry 2", "/srv/exports:7". */
  where: string;
}

/** An export the agent applies: a line with its final fsid. */
export interface Export extends ExportLine {
  fsid: Fsid;
  /** true when the fsid was derived from the path (no fsid= given). */
  derived: boolean;
}

export class ExportSyntaxError extends Error {}

interface RawEntry {
  text: string;
  where: string;
}

/** Splits the table into entries: newlines and ';' outside quotes and parentheses, comments dropped. */
function splitEntries(text: string, label: (n: number, line: number) => string): RawEntry[] {
  const out: RawEntry[] = [];
  let cur = '';
  let quoted = false;
  let depth = 0;
  let line = 1;
  let startLine = 1;
  const flush = () => {
    if (cur.trim()) out.push({ text: cur.trim(), where: label(out.length + 1, startLine) });
    cur = '';
    startLine = line;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && text[i + 1] === '\n') {
      // Continuation line, as exports(5) allows.
      cur += ' ';
      i++;
      line++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')') depth = Math.max(0, depth - 1);
    else if (!quoted && c === '#') {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
      continue;
    } else if (c === '\n' || (c === ';' && !quoted && depth === 0)) {
      if (c === '\n') {
        if (quoted) throw new ExportSyntaxError(`${label(out.length + 1, startLine)}: unterminated quote`);
        line++;
      }
      flush();
      depth = 0;
      continue;
    }
    cur += c;
  }
  if (quoted) throw new ExportSyntaxError(`${label(out.length + 1, startLine)}: unterminated quote`);
  flush();
  return out;
}

/** \040-style octal escapes, as exports(5) and etab use them. */
export function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

/** Tokens of one entry: whitespace separates, except inside quotes and parentheses. */
function tokenize(text: string, where: string): string[] {
  const tokens: string[] = [];
  let cur = '';
  let quoted = false;
  let depth = 0;
  for (const c of text) {
    if (c === '"') {
      quoted = !quoted;
      cur += c;
    } else if (!quoted && c === '(') {
      depth++;
      cur += c;
    } else if (!quoted && c === ')') {
      if (depth === 0) throw new ExportSyntaxError(`${where}: unbalanced ')'`);
      depth--;
      cur += c;
    } else if (!quoted && depth === 0 && /\s/.test(c)) {
      if (cur) tokens.push(cur);
      cur = '';
    } else cur += c;
  }
  if (depth > 0) throw new ExportSyntaxError(`${where}: missing ')'`);
  if (cur) tokens.push(cur);
  return tokens;
}

const hasDotComponent = (path: string) => path.split('/').some((c) => c === '.' || c === '..');

const unquote = (s: string) => unescapeOctal(s.replace(/"/g, ''));

function splitOptions(text: string, where: string): string[] {
  const opts = text
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const o of opts) if (!/^[A-Za-z_][\w-]*(=[^\s,()"]+)?$/.test(o)) throw new ExportSyntaxError(`${where}: bad option "${o}"`);
  return opts;
}

/**
 * The client as exportfs records it in etab: IPv6 addresses lose their
 * brackets ("[fd00::]/64" → "fd00::/64"), names are compared lowercase.
 */
export function normalizeClient(client: string): string {
  const c = client === '<world>' ? '*' : client;
  const m = /^\[([^\]]+)\](\/\d+)?$/.exec(c);
  return (m ? `${m[1]}${m[2] ?? ''}` : c).toLowerCase();
}

/** Parses an export table into (directory, client) lines. Throws ExportSyntaxError. */
export function parseExportTable(text: string, source: { file?: string } = {}): ExportLine[] {
  const label = (n: number, line: number) => (source.file ? `${source.file}:${line}` : `exports entry ${n}`);
  const lines: ExportLine[] = [];
  for (const entry of splitEntries(text, label)) {
    const tokens = tokenize(entry.text, entry.where);
    const dirToken = tokens.shift()!;
    const dir = unquote(dirToken);
    if (!dir.startsWith('/')) throw new ExportSyntaxError(`${entry.where}: "${dir}" is not an absolute path`);
    if (hasDotComponent(dir)) throw new ExportSyntaxError(`${entry.where}: "${dir}" has "." or ".." components (write the path without them)`);
    let defaults: string[] = [];
    const clients: Array<{ host: string; opts: string[] }> = [];
    for (const tok of tokens) {
      if (tok.startsWith('-') && clients.length === 0) {
        defaults = [...defaults, ...splitOptions(tok.slice(1), entry.where)];
        continue;
      }
      const m = /^([^()]*)(?:\(([^()]*)\))?$/.exec(tok);
      if (!m) throw new ExportSyntaxError(`${entry.where}: cannot read client "${tok}"`);
      const host = unquote(m[1] ?? '');
      if (/["\s]/.test(host) || host.startsWith('-')) throw new ExportSyntaxError(`${entry.where}: bad client "${host}"`);
      clients.push({ host: host || '*', opts: m[2] === undefined ? [] : splitOptions(m[2], entry.where) });
    }
    if (clients.length === 0) throw new ExportSyntaxError(`${entry.where}: ${dir} has no client (write e.g. "${dir} 192.168.0.0/24(rw)")`);
    for (const c of clients) {
      const all = [...defaults, ...c.opts];
      const fsids = all.filter((o) => o.startsWith('fsid='));
      const options = all.filter((o) => !o.startsWith('fsid='));
      lines.push({
        dir: normalizeExportPath(dir),
        client: normalizeClient(c.host),
        options,
        fsidText: fsids.length ? fsids[fsids.length - 1]!.slice(5) : undefined,
        where: entry.where,
      });
    }
  }
  return lines;
}

/** The single-export parameters of ocf:heartbeat:exportfs, which the agent also accepts. */
export interface ExportfsParams {
  /** One or more directories, separated by spaces. */
  directory?: string;
  clientspec?: string;
  options?: string;
  /** Overrides an fsid= in options; with several directories: fsid, fsid+1, … (as exportfs does). */
  fsid?: string;
}

/** Export lines from directory/clientspec/options/fsid, with ocf:heartbeat:exportfs' meanings. */
export function exportfsParamLines(p: ExportfsParams): ExportLine[] {
  const where = 'directory/clientspec parameters';
  if (!p.directory) {
    if (p.clientspec || p.options || p.fsid) throw new ExportSyntaxError(`clientspec, options and fsid need directory`);
    return [];
  }
  const dirs = p.directory.split(/\s+/).filter(Boolean);
  if (!p.clientspec) throw new ExportSyntaxError(`${where}: directory needs clientspec (the clients allowed to mount it)`);
  if (/\s/.test(p.clientspec.trim())) throw new ExportSyntaxError(`${where}: clientspec is one host or network (use the exports parameter for several)`);
  if (p.clientspec.trim().startsWith('-')) throw new ExportSyntaxError(`${where}: bad clientspec "${p.clientspec.trim()}"`);
  for (const d of dirs) if (!d.startsWith('/')) throw new ExportSyntaxError(`${where}: "${d}" is not an absolute path`);
  for (const d of dirs) if (hasDotComponent(d)) throw new ExportSyntaxError(`${where}: "${d}" has "." or ".." components (write the path without them)`);
  const all = p.options ? splitOptions(p.options, where) : [];
  const options = all.filter((o) => !o.startsWith('fsid='));
  const fromOptions = all.filter((o) => o.startsWith('fsid=')).pop()?.slice(5);
  const fsid = p.fsid?.trim() || fromOptions;
  if (fsid !== undefined && dirs.length > 1 && !/^\d+$/.test(fsid)) throw new ExportSyntaxError(`${where}: use a numeric fsid when exporting several directories (they get fsid, fsid+1, …)`);
  return dirs.map((d, i) => ({
    dir: normalizeExportPath(d),
    client: normalizeClient(p.clientspec!.trim()),
    options,
    fsidText: fsid === undefined || i === 0 ? fsid : String(Number(fsid) + i),
    where,
  }));
}

export interface ResolvedTable {
  exports: Export[];
  /** Configuration errors (the same on every node): duplicate fsids, missing fsids… */
  problems: string[];
}

/**
 * Gives every export its fsid and checks the table as a whole. An fsid
 * belongs to a directory: every client of a directory shares it, two
 * directories never share one. Without an fsid= the fsid is derived from the
 * path (deriveFsid) unless derivation is off, which is then an error.
 */
export function resolveExports(lines: ExportLine[], opts: { derive: boolean }): ResolvedTable {
  const problems: string[] = [];
  const explicit = new Map<string, { fsid: Fsid; where: string }>();
  const seenPair = new Map<string, string>();

  for (const l of lines) {
    const pair = `${l.dir}\0${l.client}`;
    const prior = seenPair.get(pair);
    if (prior) problems.push(`${l.where}: ${l.dir} is exported to ${l.client} twice (also ${prior})`);
    else seenPair.set(pair, l.where);
    if (l.fsidText === undefined) continue;
    const f = parseFsid(l.fsidText);
    if (typeof f === 'string') {
      problems.push(`${l.where}: ${f}`);
      continue;
    }
    const had = explicit.get(l.dir);
    if (had && fsidKey(had.fsid) !== fsidKey(f)) problems.push(`${l.where}: ${l.dir} has two fsids (${formatFsid(had.fsid)} at ${had.where}, ${formatFsid(f)} here): one directory, one fsid`);
    else if (!had) explicit.set(l.dir, { fsid: f, where: l.where });
  }

  const exports: Export[] = [];
  const missing = new Set<string>();
  for (const l of lines) {
    const e = explicit.get(l.dir);
    if (e) exports.push({ ...l, fsid: e.fsid, derived: false });
    else if (opts.derive) exports.push({ ...l, fsid: { kind: 'number', value: deriveFsid(l.dir) }, derived: true });
    else if (!missing.has(l.dir)) {
      missing.add(l.dir);
      problems.push(`${l.where}: ${l.dir} has no fsid= and fsid derivation is off`);
    }
  }

  const byFsid = new Map<string, string>();
  for (const e of exports) {
    const k = fsidKey(e.fsid);
    const dir = byFsid.get(k);
    if (dir === undefined) byFsid.set(k, e.dir);
    else if (dir !== e.dir) {
      const how = e.derived ? ' (derived from the path: give one of them an explicit fsid=)' : '';
      problems.push(`${e.where}: fsid ${formatFsid(e.fsid)} of ${e.dir} is already used by ${dir}${how}`);
      byFsid.set(k, e.dir); // report each clash once
    }
  }
  return { exports, problems: [...new Set(problems)] };
}

/** exportfs options for one export: what the admin wrote plus the fsid. */
export function exportOptions(e: Export): string {
  return [...e.options, `fsid=${formatFsid(e.fsid)}`].join(',');
}

/** The client:path argument of exportfs; IPv6 clients in brackets, or exportfs cannot split them. */
export function exportTarget(client: string, dir: string): string {
  const m = /^([^/]*:[^/]*)(\/\d+)?$/.exec(client);
  const c = m && !client.startsWith('[') ? `[${m[1]}]${m[2] ?? ''}` : client;
  return `${c}:${dir}`;
}

/** Directories of the table, each once, in order. */
export function exportDirs(exports: readonly ExportLine[]): string[] {
  return [...new Set(exports.map((e) => e.dir))];
}
