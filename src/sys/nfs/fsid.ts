/**
 * fsid rules. The kernel puts the export's fsid into every file handle it hands
 * out; a fixed fsid is what keeps handles valid when the export moves to the
 * other node (whose block device numbers differ). exportfs accepts:
 *   fsid=<n>     a number (stored in a C int: 1..2147483647 is what survives),
 *   fsid=root|0  the NFSv4 pseudo-root,
 *   fsid=<uuid>  32 hex digits, optionally split by '-' or ':'.
 */

export type Fsid = { kind: 'number'; value: number } | { kind: 'uuid'; hex: string; text: string };

/** Largest number exportfs keeps as written: it parses with strtoul into an int (3000000000 becomes -1294967296). */
export const FSID_MAX = 0x7fffffff;

/** exportfs takes any string with exactly 32 hex digits as a UUID; we allow only '-' and ':' between them. */
const isUuid = (t: string) => /^[0-9a-f:-]+$/i.test(t) && t.replace(/[-:]/g, '').length === 32;

/** Parses the value of an fsid= option as the agent accepts it; returns a problem text when it is not acceptable. */
export function parseFsid(text: string): Fsid | string {
  const t = text.trim();
  if (t === 'root') return { kind: 'number', value: 0 };
  if (/^\d+$/.test(t)) {
    // exportfs reads numbers with strtoul(…, 0): 010 would silently become 8.
    if (t.length > 1 && t.startsWith('0')) return `fsid=${t}: leading zeros make exportfs read the number as octal`;
    const value = Number(t);
    if (value > FSID_MAX) return `fsid=${t}: larger than ${FSID_MAX} (exportfs would store a different number)`;
    return { kind: 'number', value };
  }
  if (isUuid(t)) return { kind: 'uuid', hex: t.replace(/[-:]/g, '').toLowerCase(), text: t };
  return `fsid=${t}: not a number, "root" or a UUID`;
}

/** One key per distinct fsid, for duplicate checks and comparisons with what exportfs recorded. */
export function fsidKey(f: Fsid): string {
  return f.kind === 'number' ? `n:${f.value}` : `u:${f.hex}`;
}

export function formatFsid(f: Fsid): string {
  return f.kind === 'number' ? String(f.value) : f.text;
}

export function sameFsid(a: Fsid, b: Fsid): boolean {
  return fsidKey(a) === fsidKey(b);
}

/**
 * The derived fsid of an export path: FNV-1a (32 bit) over the UTF-8 bytes of
 * the normalized path, keeping the low 31 bits; 0 (the NFSv4 root) becomes 1.
 * Stable across nodes, releases and restarts; documented in the README so it
 * can be computed by hand.
 */
export function deriveFsid(path: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(normalizeExportPath(path))) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h & FSID_MAX || 1;
}

/** "/srv//nfs/data/" → "/srv/nfs/data": the form exportfs records and the derivation hashes. */
export function normalizeExportPath(path: string): string {
  const p = path.replace(/\/{2,}/g, '/');
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}
