import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import type { SysCtx } from '../ocf/agent.js';
import { fail, OCF, OcfError } from '../ocf/exit-codes.js';
import type { Logger } from '../ocf/log.js';
import type { Runner } from '../ocf/run.js';
import { which } from './which.js';

type Ops = SysCtx<'run' | 'log' | 'deadline' | 'env'>;

/**
 * What a mount source names, as mount(8) reads it: a path (block device,
 * image file, bind source), a filesystem label or UUID, a network export, or
 * a virtual source such as "tmpfs".
 */
export type DeviceSpec =
  | { kind: 'path'; path: string }
  | { kind: 'tag'; tag: 'LABEL' | 'UUID'; value: string }
  | { kind: 'network'; source: string }
  | { kind: 'virtual'; source: string };

const TAG_FORMS: Array<[RegExp, 'LABEL' | 'UUID']> = [
  [/^(?:-L|--label(?==|\s))[=\s]*(.*)$/s, 'LABEL'],
  [/^(?:-U|--uuid(?==|\s))[=\s]*(.*)$/s, 'UUID'],
  [/^LABEL=(.*)$/s, 'LABEL'],
  [/^UUID=(.*)$/s, 'UUID'],
];

/** `-L label`, `-Llabel`, `--label=label`, `LABEL=label` (and the same for UUIDs), `host:/path`, `//server/share`, `/dev/x`. */
export function parseDeviceSpec(device: string): DeviceSpec {
  for (const [re, tag] of TAG_FORMS) {
    const m = re.exec(device);
    if (m) return { kind: 'tag', tag, value: m[1]!.trim() };
  }
  if (device.startsWith('//')) return { kind: 'network', source: device };
  if (device.startsWith('/')) return { kind: 'path', path: device };
  if (/^(\[[^\]]+\]|[^/\s]+):\//.test(device)) return { kind: 'network', source: device };
  return { kind: 'virtual', source: device };
}

/** Linux dev_t → "major:minor", the form /proc/self/mountinfo and /sys/dev/block use. */
export function majorMinor(rdev: bigint): string {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

export type DeviceState =
  | { state: 'missing'; path: string }
  | { state: 'not-block'; path: string; what: 'directory' | 'file' | 'other' }
  | {
      state: 'block';
      path: string;
      /** Symlinks resolved (/dev/drbd/by-res/r0/0 → /dev/drbd0). */
      realPath: string;
      majorMinor: string;
      /** 0 for a device without medium: a detached loop device, an empty drive. */
      sizeBytes: number | undefined;
    };

/**
 * Facts about a device node. Only /dev and /sys are touched (local
 * pseudo-filesystems), never a mounted filesystem.
 */
export function deviceState(path: string): DeviceState {
  let st;
  try {
    st = statSync(path, { bigint: true });
  } catch {
    return { state: 'missing', path };
  }
  if (!st.isBlockDevice()) return { state: 'not-block', path, what: st.isDirectory() ? 'directory' : st.isFile() ? 'file' : 'other' };
  const mm = majorMinor(st.rdev);
  let sizeBytes: number | undefined;
  try {
    sizeBytes = Number(readFileSync(`/sys/dev/block/${mm}/size`, 'utf8').trim()) * 512;
  } catch {
    sizeBytes = undefined;
  }
  let realPath = path;
  try {
    realPath = realpathSync(path);
  } catch {
    // keep the configured name
  }
  return { state: 'block', path, realPath, majorMinor: mm, sizeBytes };
}

/** udev's encoding of a label or UUID in /dev/disk/by-* names (blanks and specials as \xHH). */
export function udevEncode(s: string): string {
  let out = '';
  for (const ch of s) {
    if (/^[0-9A-Za-z#+\-.:=@_]$/.test(ch) || ch.codePointAt(0)! > 0x7f) out += ch;
    else out += `\\x${ch.codePointAt(0)!.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** Block devices with a medium, from sysfs: the candidates for a LABEL/UUID search. */
export function blockDevices(sys = '/sys/class/block'): string[] {
  const out: string[] = [];
  for (const name of readdirSafe(sys)) {
    try {
      if (Number(readFileSync(`${sys}/${name}/size`, 'utf8').trim()) > 0) out.push(name);
    } catch {
      // vanished while we looked
    }
  }
  return out.sort();
}

const readdirSafe = (dir: string) => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

/** Among devices carrying the same tag, the one on top: DRBD, device-mapper and MD devices show their backing disk's filesystem too. */
export function preferredDevice(names: string[], sys = '/sys/class/block'): string | undefined {
  const rank = (n: string) => (readdirSafe(`${sys}/${n}/holders`).length > 0 ? 2 : /^(drbd|dm-|md)/.test(n) ? 0 : 1);
  return [...names].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))[0];
}

/**
 * The device that carries a filesystem LABEL or UUID: udev's
 * /dev/disk/by-label|by-uuid link when udev runs (no fork). Otherwise each
 * block device is probed by its own `blkid -p` child with its own time limit,
 * several at once: `blkid -L` would probe them one after the other in one
 * process, and a single hung device on the node would hang it.
 */
export async function resolveTag(run: Runner, tag: 'LABEL' | 'UUID', value: string, timeoutMs: number, log?: Logger): Promise<string | undefined> {
  const link = `/dev/disk/by-${tag === 'LABEL' ? 'label' : 'uuid'}/${udevEncode(value)}`;
  if (existsSync(link)) return link;
  const perDevice = Math.max(500, Math.min(5000, timeoutMs));
  const names = blockDevices();
  const found: string[] = [];
  let next = 0;
  const probe = async () => {
    while (next < names.length) {
      const name = names[next++]!;
      try {
        const r = await run('blkid', ['-c', '/dev/null', '-p', '-s', tag, '-o', 'value', '--', `/dev/${name}`], { check: false, timeoutMs: perDevice });
        if (r.code === 0 && r.stdout.trim() === value) found.push(name);
      } catch (e) {
        log?.warn(`cannot probe /dev/${name} for ${tag}=${value}: ${(e as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, names.length) }, probe));
  if (found.length > 1) log?.info(`${tag}=${value} is on ${found.map((n) => `/dev/${n}`).join(', ')}; using the device on top`);
  const best = preferredDevice(found);
  return best ? `/dev/${best}` : undefined;
}

/**
 * Reads one 4 KiB block from `device` in a child process (`dd`, O_DIRECT so
 * the read reaches the device, not the page cache). The child has its own
 * time limit: a hung device makes this throw instead of hanging the caller.
 */
export async function readOneBlock(run: Runner, device: string, timeoutMs: number): Promise<void> {
  const args = [`if=${device}`, 'of=/dev/null', 'bs=4096', 'count=1', 'status=none'];
  let r = await run('dd', [...args, 'iflag=direct'], { check: false, timeoutMs });
  // Some devices refuse O_DIRECT (EINVAL): a cached read still proves the device answers.
  if (r.code !== 0 && /invalid argument/i.test(r.stderr)) r = await run('dd', args, { check: false, timeoutMs });
  if (r.code !== 0) throw new OcfError(OCF.ERR_GENERIC, `cannot read from ${device}: ${r.stderr.trim() || `dd exit ${r.code}`}`);
}

/**
 * The block device `spec` names, found and checked; 5 (installed) for what
 * this node lacks: a path that does not exist (after udev settled, where udev
 * runs), a label/UUID no device carries, something that is not a block device,
 * a device without medium (size 0: a detached loop device, an unconfigured
 * DRBD minor, an empty drive).
 */
export async function findBlockDevice(ops: Ops, spec: DeviceSpec): Promise<DeviceState & { state: 'block' }> {
  let path: string | undefined;
  if (spec.kind === 'tag') {
    path = await resolveTag(ops.run, spec.tag, spec.value, ops.deadline.bound(5000), ops.log);
    if (!path) throw fail.installed(`no filesystem with ${spec.tag}=${spec.value} found on this node`);
  } else if (spec.kind === 'path') path = spec.path;
  else throw fail.configured(`${spec.source} is not a block device`);

  let ds = deviceState(path);
  if (ds.state === 'missing' && which('udevadm', ops.env.PATH) && existsSync('/run/udev/control')) {
    // A device that just appeared (a promoted DRBD, a new LUN) may still be on its way through udev.
    await ops.run('udevadm', ['settle', `--exit-if-exists=${path}`, '-t', '10'], { check: false, timeoutMs: ops.deadline.bound(11_000) });
    ds = deviceState(path);
  }
  if (ds.state === 'missing') throw fail.installed(`device ${path} does not exist on this node`);
  if (ds.state === 'not-block') {
    const hint = ds.what === 'file' ? ' (add "loop" to options to mount an image file)' : ds.what === 'directory' ? ' (add "bind" to options and set fstype=none to bind-mount a directory)' : '';
    throw fail.installed(`${path} is not a block device${hint}`);
  }
  if (ds.sizeBytes === 0) throw fail.installed(`device ${path} has no medium (size 0: a detached loop device, an unconfigured DRBD minor, an empty drive)`);
  return ds;
}

/**
 * `fsck -p` (preen: repair what is safe without asking) with the given time
 * limit; its output goes to the log. fsck(8) exits 1 when it corrected errors,
 * 2 when a reboot is advised, 4 and up when errors are left or it failed: 1.
 */
export async function runFsck(ops: Ops, device: string, fstype: string | undefined, timeoutMs: number): Promise<void> {
  if (!device.startsWith('/')) throw fail.configured(`fsck: ${device} is not a device path`);
  ops.log.info(`starting filesystem check on ${device}`);
  const res = await ops.run('fsck', [...(fstype ? ['-t', fstype] : []), '-p', device], { check: false, timeoutMs });
  for (const line of `${res.stdout}\n${res.stderr}`.split('\n').filter((l) => l.trim())) ops.log.info(`fsck: ${line.trim()}`);
  if (res.code === null || res.code >= 4) throw fail.generic(`fsck of ${device} failed (exit ${res.code ?? res.signal}): ${res.stderr.trim().split('\n').pop() ?? ''}`);
  if (res.code !== 0) ops.log.warn(`fsck of ${device} corrected errors (exit ${res.code})`);
}

/** `blockdev --flushbufs`, as ocf:heartbeat:Filesystem does around mount and unmount; a failure is only logged. */
export async function flushBuffers(ops: Ops, device: string): Promise<void> {
  if (!device.startsWith('/dev/') || !which('blockdev', ops.env.PATH)) return;
  await ops.run('blockdev', ['--flushbufs', device], { check: false, timeoutMs: ops.deadline.bound(5000) }).catch((e: Error) => ops.log.warn(`blockdev --flushbufs ${device}: ${e.message}`));
}
