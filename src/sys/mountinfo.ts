import { readFileSync } from 'node:fs';

/** One line of /proc/<pid>/mountinfo (see proc(5)). */
export interface MountEntry {
  id: number;
  parentId: number;
  /** major:minor of the filesystem's device (st_dev). */
  majorMinor: string;
  /** The path inside the filesystem that is mounted here (not "/" for bind mounts of a subdirectory). */
  root: string;
  mountPoint: string;
  options: string[];
  optionalFields: string[];
  fstype: string;
  /** The device or source as the kernel names it ("/dev/loop3", "server:/export", "tmpfs"). */
  source: string;
  superOptions: string[];
}

/** mountinfo escapes space, tab, newline and backslash as \ooo octal. */
export function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (sep < 0 || f.length < sep + 4) continue;
    out.push({
      id: Number(f[0]),
      parentId: Number(f[1]),
      majorMinor: f[2]!,
      root: unescapeMountField(f[3]!),
      mountPoint: unescapeMountField(f[4]!),
      options: f[5]!.split(','),
      optionalFields: f.slice(6, sep),
      fstype: f[sep + 1]!,
      source: unescapeMountField(f[sep + 2]!),
      superOptions: f[sep + 3]!.split(','),
    });
  }
  return out;
}

/** The mount table as this process sees it, read straight from the kernel (no `mount`/`findmnt` fork). */
export function readMounts(pid: number | 'self' = 'self'): MountEntry[] {
  return parseMountinfo(readFileSync(`/proc/${pid}/mountinfo`, 'utf8'));
}

/** The entry mounted last at `mountPoint` (the visible one when mounts are stacked). */
export function mountAt(mountPoint: string, mounts: MountEntry[] = readMounts()): MountEntry | undefined {
  let found: MountEntry | undefined;
  for (const m of mounts) if (m.mountPoint === mountPoint) found = m;
  return found;
}

/** Mounts strictly below `dir`, deepest first: the order to unmount them in. */
export function mountsBelow(dir: string, mounts: MountEntry[] = readMounts()): MountEntry[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return mounts.filter((m) => m.mountPoint.startsWith(prefix)).sort((a, b) => b.mountPoint.split('/').length - a.mountPoint.split('/').length || b.id - a.id);
}

const DELETED = ' (deleted)';

/**
 * The mount a path lies on, from the path's text alone (no stat): the longest
 * mount point prefixing it, the topmost when mounts are stacked. A " (deleted)"
 * suffix, as /proc links show unlinked files, is ignored.
 */
export function mountOfPath(path: string, table: MountEntry[]): MountEntry | undefined {
  const p = path.endsWith(DELETED) ? path.slice(0, -DELETED.length) : path;
  let best: MountEntry | undefined;
  for (const m of table) {
    const mp = m.mountPoint;
    const under = p === mp || mp === '/' || p.startsWith(`${mp}/`);
    if (under && (!best || mp.length >= best.mountPoint.length)) best = m;
  }
  return best;
}
