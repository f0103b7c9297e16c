import { readFileSync, realpathSync } from 'node:fs';
import { normalize } from 'node:path';
import type { Runner } from '../ocf/run.js';
import { deviceState, udevEncode, type DeviceSpec } from './block.js';
import { sameFstype } from './fstypes.js';
import { mountOfPath, type MountEntry } from './mountinfo.js';

/** What a Filesystem resource mounts: its source, type and the options that change what "the source" is. */
export interface MountSource {
  spec: DeviceSpec;
  fstype?: string;
  /** options hold bind/rbind: the source is a directory. */
  bind: boolean;
  /** options hold loop: the source is an image file. */
  loop: boolean;
  /** For a LABEL/UUID: the device number it was mounted from, when known (saves a blkid per monitor). */
  knownMajorMinor?: string;
}

/** A mount source as a path in /dev, symlinks resolved (device nodes live on devtmpfs: local, never hung). Other paths are never walked. */
const realSource = (source: string) => {
  if (!source.startsWith('/dev/')) return source;
  try {
    return realpathSync(source);
  } catch {
    return source;
  }
};

/** A bind or image source as text: a path outside /dev may lie under a hung mount, so it is never resolved. */
const asText = (p: string) => normalize(p).replace(/(?<=.)\/+$/, '');

const trimSlashes = (s: string) => s.replace(/(?<=.)\/+$/, '');

/** The image file behind a loop device, from sysfs. */
function loopBackingFile(source: string): string | undefined {
  const m = /^\/dev\/(loop\d+)$/.exec(realSource(source));
  if (!m) return undefined;
  try {
    return readFileSync(`/sys/block/${m[1]}/loop/backing_file`, 'utf8').trim().replace(/ \(deleted\)$/, '');
  } catch {
    return undefined;
  }
}

/** The mount entry carries this block device: same device number, or the same node after symlinks. */
export function carriesDevice(entry: MountEntry, devicePath: string): boolean {
  if (!devicePath.startsWith('/dev/')) return entry.source === devicePath;
  const ds = deviceState(devicePath);
  if (ds.state === 'block') return entry.majorMinor === ds.majorMinor || realSource(entry.source) === ds.realPath;
  return entry.source === devicePath || realSource(entry.source) === devicePath;
}

/**
 * Whether `entry` (from mountinfo) is this source mounted. Reads only
 * /dev, /sys and the mount table (bind and image sources are compared as
 * text), except that a LABEL/UUID without udev's /dev/disk links is read
 * from the mounted device with blkid (bounded).
 */
export async function carriesSource(entry: MountEntry, s: MountSource, mounts: MountEntry[], run: Runner, timeoutMs: number): Promise<boolean> {
  const spec = s.spec;
  if (s.bind) {
    if (spec.kind !== 'path') return false;
    const src = mountOfPath(asText(spec.path), mounts);
    return !src || entry.majorMinor === src.majorMinor;
  }
  if (s.loop && spec.kind === 'path') return loopBackingFile(entry.source) === asText(spec.path) || entry.source === spec.path;
  switch (spec.kind) {
    case 'path':
      return carriesDevice(entry, spec.path);
    case 'tag': {
      const link = `/dev/disk/by-${spec.tag === 'LABEL' ? 'label' : 'uuid'}/${udevEncode(spec.value)}`;
      const ds = deviceState(link);
      if (ds.state === 'block') return carriesDevice(entry, link);
      if (s.knownMajorMinor === entry.majorMinor) return true;
      if (!entry.source.startsWith('/dev/')) return false;
      const r = await run('blkid', ['-c', '/dev/null', '-s', spec.tag, '-o', 'value', '--', entry.source], { check: false, timeoutMs });
      return r.code === 0 && r.stdout.trim() === spec.value;
    }
    case 'network': {
      if (trimSlashes(entry.source) === trimSlashes(spec.source)) return true;
      // The same export under another server name (name vs address): same path, same kind of filesystem.
      const exportPath = (x: string) => trimSlashes(x.slice(x.lastIndexOf(':') + 1));
      const typeOk = s.fstype ? sameFstype(s.fstype, entry.fstype) : true;
      return typeOk && entry.source.includes(':') && exportPath(entry.source) === exportPath(spec.source);
    }
    case 'virtual':
      return s.fstype ? sameFstype(s.fstype, entry.fstype) : entry.source === spec.source;
  }
}

/** A short description for messages: "/dev/loop3 (ext4)". */
export const describeEntry = (e: MountEntry) => `${e.source} (${e.fstype}${e.root !== '/' ? `, subdirectory ${e.root}` : ''})`;
