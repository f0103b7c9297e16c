import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { defineAgent, fail, OCF, param, type Ctx, type ParamValues } from '../src/ocf/index.js';
import { stateFile, writeStateFile } from '../src/ocf/state-file.js';
import { ocfBoolean, ocfIsTrue } from '../src/ocf/truth.js';
import { deviceState, findBlockDevice, flushBuffers, parseDeviceSpec, readOneBlock, runFsck } from '../src/sys/block.js';
import { ensureFstypeSupported, fsckNeededByDefault, isBlockType, isClusterSafe, isNetworkType } from '../src/sys/fstypes.js';
import { carriesDevice, carriesSource, describeEntry, type MountSource } from '../src/sys/mount-match.js';
import { hasOption, optionsProblem, splitOptions } from '../src/sys/mount-options.js';
import { mountAt, mountsBelow, readMounts, type MountEntry } from '../src/sys/mountinfo.js';
import { parseSignalList } from '../src/sys/signal-names.js';
import { removeStatusFile, writeAndReadBack } from '../src/sys/status-file.js';
import { unmountBusy, unmountOrder } from '../src/sys/unmount.js';
import { which } from '../src/sys/which.js';

const blanksAround = (v: string) => (v !== v.trim() ? 'leading or trailing blanks are not allowed' : undefined);
/** mount(8) would read a device starting with "-" as an option (-v, --fstab=<file>, -oremount); -L/-U/--label=/--uuid= are its own forms. */
const deviceProblem = (v: string) => blanksAround(v) ?? (v.startsWith('-') && parseDeviceSpec(v).kind !== 'tag' ? 'must not start with "-" (mount would read it as an option); use -L label, -U uuid, LABEL=… or UUID=…' : undefined);
/** The mount point is matched against mountinfo as text: it must be the plain absolute path the kernel will show. */
const directoryProblem = (v: string) =>
  blanksAround(v) ??
  (!v.startsWith('/') ? 'not an absolute path' : /^\/+$/.test(v) ? '/ cannot be managed in a cluster' : v.split('/').some((c) => c === '.' || c === '..') ? 'must not contain "." or ".." components' : /[\u0000-\u001f\u007f]/.test(v) ? 'must not contain control characters' : undefined);

function signalsProblem(v: string): string | undefined {
  try {
    return parseSignalList(v).length ? undefined : 'no signal given';
  } catch (e) {
    return (e as Error).message;
  }
}

const params = {
  device: param.string({
    shortdesc: 'block device',
    longdesc: `The block device for the filesystem (/dev/drbd0, /dev/disk/by-uuid/…), or "-L label" / "-U uuid" as mount(8) takes them, or an NFS/CIFS export (host:/path, //server/share), or the directory to bind with options=bind.
Labels and UUIDs are found through /dev/disk/by-label|by-uuid, or blkid where udev does not run.`,
    required: true,
    check: deviceProblem,
  }),
  directory: param.string({
    shortdesc: 'mount point',
    longdesc: 'The mount point for the filesystem (an absolute path; created on start when missing). Blanks inside the path are fine.',
    required: true,
    check: directoryProblem,
  }),
  fstype: param.string({
    shortdesc: 'filesystem type',
    longdesc: 'The type of filesystem to be mounted (ext4, xfs, nfs4, none for bind mounts…). When empty, mount(8) detects it.',
    check: (v) => (/^\w[\w.+-]*$/.test(v) ? undefined : 'not a filesystem type name'),
  }),
  options: param.string({
    shortdesc: 'options',
    longdesc: `Any extra options to be given as -o options to mount (comma-separated, no blanks).
For bind mounts, add "bind" here and set fstype to "none". Options such as "bind,ro" work too.`,
    check: optionsProblem,
  }),
  statusfile_prefix: param.string({
    shortdesc: 'status file prefix',
    longdesc: `The prefix to be used for a status file for resource monitoring with depth 20, relative to the mount point.
The file is <directory>/<prefix><instance>[_<clone>]_<node name>; by default in a separate directory.`,
    default: '.Filesystem_status/',
    check: (v) => (v.split('/').includes('..') ? '".." would place the status file outside the filesystem' : /[\u0000-\u001f\u007f]/.test(v) ? 'must not contain control characters' : undefined),
  }),
  run_fsck: param.select(['auto', 'force', 'no'] as const, {
    shortdesc: 'run_fsck',
    longdesc: `Specify how to decide whether to run fsck or not.
"auto": decide to run fsck depending on the fstype (journaling and network filesystems are not checked).
"force": always run fsck regardless of the fstype.
"no": do not run fsck ever.`,
    default: 'auto',
  }),
  fast_stop: param.boolean({
    shortdesc: 'fast stop',
    longdesc: `Normally, we expect no users of the filesystem and the stop operation to finish quickly.
With "yes", each mount gets 6 seconds to go (3 of them with term_signals) instead of the whole stop timeout.
If you cannot control the filesystem users easily and want to prevent the stop action from failing, leave this "no" and give the stop operation an appropriate timeout.`,
    default: false,
  }),
  force_clones: param.boolean({
    shortdesc: 'allow running as a clone, regardless of filesystem type',
    longdesc: `The use of a clone setup for local filesystems is forbidden by default. For special setups like glusterfs, cloning a mount of a local device with a filesystem like ext4 or xfs independently on several nodes is a valid use case.
Only set this to "true" if you know what you are doing!`,
    default: false,
  }),
  force_unmount: param.select(['true', 'safe', 'false'] as const, {
    shortdesc: 'Kill processes before unmount',
    longdesc: `How to handle processes that keep the filesystem busy on stop.
"true": kill the processes that use the mount (working directory, root, executable, open files, memory maps).
"safe": the same, but processes in other mount namespaces are killed only when their use is proven by the kernel's mount ids.
"false": do not kill any processes (stop fails, naming them).
Processes are found by walking /proc without stat()ing any path, so a dead NFS server elsewhere cannot hang the stop; processes that only use the parent directory or another mount are never signalled.`,
    default: 'true',
    accept: (v) => ocfBoolean(v) !== undefined, // ocf_is_true spellings (yes, 1, on…), as the heartbeat agent reads them
  }),
  term_signals: param.string({
    shortdesc: 'Signals to send processes during the graceful termination phase of stop',
    longdesc: 'Signals (names or numbers, whitespace separated) to send processes during the graceful termination phase (the first half of the stop time).',
    default: 'TERM',
    check: signalsProblem,
  }),
  kill_signals: param.string({
    shortdesc: 'Signals to send processes during the forceful killing phase of stop',
    longdesc: 'Signals (names or numbers, whitespace separated) to send processes during the forceful killing phase (the second half of the stop time).',
    default: 'KILL',
    check: signalsProblem,
  }),
  signal_delay: param.string({
    shortdesc: 'Seconds to wait after signalling processes on stop',
    longdesc: 'How many seconds to wait after sending term/kill signals to processes in stop, before the next unmount attempt (fractions allowed). The wait ends early when every signalled process has exited.',
    default: '1',
    check: (v) => (/^\d+(\.\d+)?$/.test(v) ? undefined : 'not a number of seconds'),
  }),
};

type FsCtx = Ctx<ParamValues<typeof params>>;

export const Filesystem = defineAgent({
  name: 'Filesystem',
  version: '1.0.0',
  shortdesc: 'Manages filesystem mounts',
  longdesc: `Mounts a filesystem (a block device such as DRBD, a bind source, or an NFS/CIFS export) on a directory, compatible with ocf:heartbeat:Filesystem.

The standard monitor (depth 0, also a probe) reads /proc/self/mountinfo: no process is started and the filesystem itself is not touched. For deeper tests set OCF_CHECK_LEVEL:
10: read one block of the device with O_DIRECT (a no-op for non-block devices such as NFS or bind mounts);
20: write a status file inside the mount and read it back (O_DIRECT on block devices).
Both run in a child process with a time limit inside the operation timeout, so a hung device fails the monitor instead of hanging it.

Stop unmounts nested mounts and bind mounts of the same device first. Busy mounts are handled per force_unmount: the users are found by walking /proc (working directory, root, executable, open files, memory maps) without stat()ing any path, signalled with term_signals for the first half of the stop time and kill_signals after, every pid logged with its command line.`,
  params,
  validate: validateAll,
  actions: {
    start: { timeout: 60, validate: true, handler: start },
    stop: { timeout: 60, handler: stop },
    monitor: { timeout: 40, interval: 20, depth: 0, handler: monitor },
  },
});

async function validateAll(ctx: FsCtx): Promise<void> {
  const r = resource(ctx);
  // 6: wrong wherever it runs.
  if (r.bind && r.spec.kind !== 'path') throw fail.configured(`a bind mount needs the absolute path of a directory as device, not "${r.p.device}"`);
  if (r.spec.kind === 'tag' && !r.spec.value) throw fail.configured(`device "${r.p.device}" names no ${r.spec.tag.toLowerCase()}`);
  cloneCheck(ctx, r);
  // 5: what this node lacks.
  for (const tool of ['mount', 'umount', ...(fsckWanted(r) ? ['fsck'] : []), ...(ctx.checkLevel > 0 ? ['dd'] : []), ...(ctx.checkLevel >= 20 ? ['perl'] : [])]) {
    if (!which(tool, ctx.env.PATH)) throw fail.installed(`${tool} is not installed on this node`);
  }
  await ensureFstypeSupported(ctx, r.p.fstype, ctx.action === 'start');
  // Paths outside /dev are looked at by validate-all only, each in a bounded child (they may lie
  // under a hung mount); start checks the mount point with its bounded mkdir.
  if (ctx.action !== 'validate-all') return;
  const dirKind = await fileKind(ctx, r.dir);
  if (dirKind && dirKind !== 'directory') throw fail.installed(`${r.dir} exists and is not a directory: it cannot be a mount point`);
  if (r.block) await findBlockDevice(ctx, r.spec);
  else if (r.spec.kind === 'path' && !r.bind && !r.loop && isBlockType(r.p.fstype)) {
    const kind = await fileKind(ctx, r.spec.path);
    if (!kind) throw fail.installed(`device ${r.spec.path} does not exist on this node`);
    if (kind.includes('regular')) throw fail.installed(`${r.spec.path} is not a block device (add "loop" to options to mount an image file)`);
    if (kind === 'directory') throw fail.installed(`${r.spec.path} is not a block device (add "bind" to options and set fstype=none to bind-mount a directory)`);
  }
}

async function start(ctx: FsCtx): Promise<number> {
  const r = resource(ctx);
  ctx.log.info(`Running start for ${r.p.device} on ${r.dir}`);
  const before = (await mountedHere(ctx, r, readMounts(), mountPointOf(ctx, r.dir)))[0];
  if (before?.ours) {
    ctx.log.info(`Filesystem ${mountPointOf(ctx, r.dir)} is already mounted`);
    writeNote(ctx, r, before.entry.majorMinor);
    return OCF.SUCCESS;
  }
  const mp = await prepareMountPoint(ctx, r.dir);
  const mounts = readMounts();
  const top = (await mountedHere(ctx, r, mounts, mp))[0];
  if (top?.ours) {
    ctx.log.info(`Filesystem ${mp} is already mounted`);
    writeNote(ctx, r, top.entry.majorMinor);
    return OCF.SUCCESS;
  }
  if (top) throw fail.generic(`${mp} already has ${describeEntry(top.entry)} mounted on it: not mounting ${r.p.device} over it`);
  const below = mountsBelow(mp, mounts);
  if (below.length) throw fail.generic(`mounting on ${mp} would hide what is mounted below it: ${below.map((m) => m.mountPoint).join(', ')}`);

  let source = r.p.device;
  if (r.block) {
    const dev = await findBlockDevice(ctx, r.spec);
    source = dev.path;
    const elsewhere = mounts.filter((m) => carriesDevice(m, dev.path));
    if (elsewhere.length && !cloneAllowed(r)) {
      throw fail.generic(`${dev.path} is already mounted on ${elsewhere.map((m) => m.mountPoint).join(', ')}: refusing to mount it again on ${mp}`);
    }
    if (fsckWanted(r)) await runFsck(ctx, dev.path, r.p.fstype, ioTimeout(ctx));
    await flushBuffers(ctx, dev.path);
  } else if (r.spec.kind === 'tag') {
    // A label/UUID of something that is not a local block device (rare): mount(8) resolves it.
    source = `${r.spec.tag}=${r.spec.value}`;
  }

  const args = [...(r.p.fstype && r.p.fstype !== 'none' ? ['-t', r.p.fstype] : []), ...(r.p.options ? ['-o', r.p.options] : []), '--', source, mp];
  const res = await ctx.run('mount', args, { check: false, timeoutMs: ioTimeout(ctx), mayOutliveStop: true });
  if (res.code !== 0) throw fail.generic(`cannot mount ${source} on ${mp}: ${res.stderr.trim().replace(/^mount: /, '').replace(/\s*\n\s*/g, ' / ') || `mount exit ${res.code}`}`);
  const now = (await mountedHere(ctx, r, readMounts(), mp))[0];
  if (!now?.ours) throw fail.generic(`mount ${source} on ${mp} reported success, but ${now ? describeEntry(now.entry) : 'nothing'} is mounted there`);
  writeNote(ctx, r, now.entry.majorMinor);
  ctx.log.info(`mounted ${source} on ${mp}`);
  return OCF.SUCCESS;
}

async function stop(ctx: FsCtx): Promise<number> {
  // Our own working directory must never be what keeps the mount busy.
  process.chdir('/');
  const r = resource(ctx);
  ctx.log.info(`Running stop for ${r.p.device} on ${r.dir}`);
  let mounts = readMounts();
  const mp = mountPointOf(ctx, r.dir);
  const here = await mountedHere(ctx, r, mounts, mp);
  const oursAt = here.findIndex((h) => h.ours);
  if (oursAt < 0) {
    if (here.length) ctx.log.warn(`${mp} has ${describeEntry(here[0]!.entry)} mounted on it, which is not ${r.p.device}: leaving it alone`);
    else ctx.log.info(`${mp} is not mounted`);
    rmSync(notePath(ctx), { force: true });
    return OCF.SUCCESS;
  }
  if (oursAt > 0) throw fail.generic(`${describeEntry(here[0]!.entry)} is mounted over ${r.p.device} on ${mp}: not unmounting what is not ours`);
  const main = here[0]!.entry;

  if (ctx.checkLevel === 20) {
    const problem = await removeStatusFile(ctx.run, mp, statusFile(ctx, r), ctx.deadline.bound(5000)).catch((e: Error) => e.message);
    if (problem) ctx.log.warn(`failed to remove status file ${mp}/${statusFile(ctx, r)}: ${problem}`);
  }

  const policy = {
    forceUnmount: r.forceUnmount,
    termSignals: parseSignalList(r.p.term_signals),
    killSignals: parseSignalList(r.p.kill_signals),
    signalDelayMs: Number(r.p.signal_delay) * 1000,
    budgetMs: r.p.fast_stop ? 6000 : undefined,
  };
  const bindCopies = !r.bind && main.source.startsWith('/dev/');
  for (const m of unmountOrder(main, mounts, bindCopies)) {
    if (m.id !== main.id) ctx.log.info(`unmounting ${m.mountPoint} first (${m.mountPoint.startsWith(`${mp}/`) ? 'mounted below' : 'another mount of'} ${mp})`);
    await unmountBusy(ctx, m, { ...policy, forceFlag: isNetworkType(m.fstype) });
  }
  mounts = readMounts();
  if (mounts.some((m) => m.id === main.id)) throw fail.generic(`${mp} is still mounted`);
  if (r.block) await flushBuffers(ctx, main.source);
  rmSync(notePath(ctx), { force: true });
  rmSync(mountPointNote(ctx), { force: true });
  return OCF.SUCCESS;
}

async function monitor(ctx: FsCtx): Promise<number> {
  const r = resource(ctx);
  const mounts = readMounts();
  const mp = mountPointOf(ctx, r.dir);
  const top = (await mountedHere(ctx, r, mounts, mp))[0];
  if (!top) return OCF.NOT_RUNNING;
  if (!top.ours) {
    const what = `another filesystem, ${describeEntry(top.entry)}, is mounted on ${mp} (not ${r.p.device})`;
    if (ctx.isProbe) {
      ctx.log.info(what);
      return OCF.NOT_RUNNING;
    }
    throw fail.generic(what);
  }
  switch (ctx.checkLevel) {
    case 0:
      return OCF.SUCCESS;
    case 10: {
      const device = top.entry.source;
      if (!device.startsWith('/dev/') || deviceState(device).state !== 'block') {
        ctx.log.info(`${device} is not a block device: monitor depth 10 does nothing`);
        return OCF.SUCCESS;
      }
      await readOneBlock(ctx.run, device, ioTimeout(ctx));
      return OCF.SUCCESS;
    }
    case 20: {
      const token = `${ctx.instance} ${hostname()} ${process.pid} ${Date.now()}\n`;
      await writeAndReadBack(ctx.run, mp, statusFile(ctx, r), token, r.block, ioTimeout(ctx));
      return OCF.SUCCESS;
    }
    default:
      throw fail.configured(`unsupported monitor level ${ctx.checkLevel} (use 0, 10 or 20)`);
  }
}

/** The resource as the parameters describe it. */
function resource(ctx: FsCtx) {
  const p = ctx.params;
  const options = splitOptions(p.options ?? '');
  const bind = hasOption(options, 'bind') || hasOption(options, 'rbind');
  const loop = hasOption(options, 'loop');
  const spec = parseDeviceSpec(p.device);
  const source: MountSource = { spec, fstype: p.fstype, bind, loop, knownMajorMinor: spec.kind === 'tag' ? readNote(ctx, spec) : undefined };
  // Heartbeat's "blockdevice": a local block device is expected behind the mount. Only paths in
  // /dev (devtmpfs: local, cannot hang) are looked at; anything else could lie under a hung mount.
  const isDir = (path: string) => {
    if (!path.startsWith('/dev/')) return true;
    const ds = deviceState(path);
    return ds.state === 'not-block' && ds.what === 'directory';
  };
  const block = !bind && !loop && isBlockType(p.fstype) && (spec.kind === 'tag' || (spec.kind === 'path' && !isDir(spec.path)));
  const dir = p.directory.replace(/\/+/g, '/').replace(/\/+$/, '');
  const ro = hasOption(options, 'ro');
  return { p, options, bind, loop, spec, source, block, dir, ro, forceUnmount: p.force_unmount === 'safe' ? 'safe' : ocfIsTrue(p.force_unmount) ? 'true' : 'false' } as const;
}
type Resource = ReturnType<typeof resource>;

/**
 * For a LABEL/UUID resource, start notes the device number it mounted in
 * HA_RSCTMP (per boot), so monitors compare numbers instead of running blkid
 * on the device every time (blkid would read a hung device).
 */
const notePath = (ctx: FsCtx) => stateFile(ctx, 'device');

function readNote(ctx: FsCtx, spec: { tag: string; value: string }): string | undefined {
  try {
    const [mm, tag] = readFileSync(notePath(ctx), 'utf8').trim().split(' ');
    return tag === `${spec.tag}=${spec.value}` ? mm : undefined;
  } catch {
    return undefined;
  }
}

function writeNote(ctx: FsCtx, r: Resource, majorMinor: string): void {
  if (r.spec.kind !== 'tag') return;
  try {
    mkdirSync(ctx.rsctmp, { recursive: true });
    writeStateFile(notePath(ctx), `${majorMinor} ${r.spec.tag}=${r.spec.value}\n`);
  } catch (e) {
    ctx.log.warn(`cannot note the device in ${ctx.rsctmp}: ${(e as Error).message}`);
  }
}

/**
 * The mount point as mountinfo spells it, from text alone: no path is ever
 * walked, so a hung mount above or below cannot hang any action. When the
 * configured directory runs through a symbolic link, start (the one action
 * that must walk it, in bounded child processes) notes where it really is.
 */
const mountPointNote = (ctx: FsCtx) => stateFile(ctx, 'mountpoint');

function mountPointOf(ctx: FsCtx, dir: string): string {
  try {
    const [configured, real] = readFileSync(mountPointNote(ctx), 'utf8').split('\0');
    if (configured === dir && real?.startsWith('/')) return real;
  } catch {
    // no note: the text is the mount point
  }
  return dir;
}

/** What `path` is ("directory", "regular file", "block special file"…), or undefined when it does not exist; a bounded child looks. */
async function fileKind(ctx: FsCtx, path: string): Promise<string | undefined> {
  const r = await ctx.run('stat', ['-L', '--printf=%F', '--', path], { check: false, timeoutMs: ctx.deadline.bound(5000) });
  if (r.code === 0) return r.stdout;
  if (/No such file or directory/.test(r.stderr)) return undefined;
  throw fail.installed(`cannot look at ${path}: ${r.stderr.trim().replace(/^stat: /, '') || `stat exit ${r.code}`}`);
}

/** Start: create the mount point and find its real path, each in a child with a time limit. */
async function prepareMountPoint(ctx: FsCtx, dir: string): Promise<string> {
  const mk = await ctx.run('mkdir', ['-p', '--', dir], { check: false, timeoutMs: ctx.deadline.bound(10_000) });
  if (mk.code !== 0) throw fail.installed(`cannot create mount point ${dir}: ${mk.stderr.trim().replace(/^mkdir: /, '') || `mkdir exit ${mk.code}`}`);
  const rp = await ctx.run('realpath', ['-e', '--', dir], { check: false, timeoutMs: ctx.deadline.bound(10_000) });
  const real = rp.stdout.replace(/\n$/, '');
  if (rp.code !== 0 || !real.startsWith('/')) throw fail.installed(`cannot resolve mount point ${dir}: ${rp.stderr.trim() || `realpath exit ${rp.code}`}`);
  if (real === dir) rmSync(mountPointNote(ctx), { force: true });
  else {
    ctx.log.info(`mount point ${dir} is ${real}`);
    mkdirSync(ctx.rsctmp, { recursive: true });
    writeStateFile(mountPointNote(ctx), `${dir}\0${real}`);
  }
  return real;
}

/** Running as a clone, and whether this filesystem may be: heartbeat's CLUSTERSAFE rules. */
function cloneCheck(ctx: FsCtx, r: Resource): void {
  if (!ctx.meta.cloneMax || ctx.meta.cloneMax <= 0) return;
  const fstype = r.p.fstype ?? '(detected)';
  if (isClusterSafe(r.p.fstype)) return;
  if (r.p.force_clones) {
    ctx.log.warn(`${fstype} on ${r.p.device} is NOT cluster-aware! Running it as a clone because force_clones is set.`);
    return;
  }
  const journaled = ['ext4', 'ext4dev', 'ext3', 'reiserfs', 'reiser4', 'xfs', 'jfs'].includes(r.p.fstype ?? '');
  if (r.ro && !journaled) {
    ctx.log.warn(`${fstype} on ${r.p.device} is NOT cluster-aware! Running it as a clone because it is mounted read-only; make sure its metadata is read-only too.`);
    return;
  }
  throw fail.configured(`DANGER! ${fstype} on ${r.p.device} is NOT cluster-aware: refusing to run it as a clone (set force_clones only if you know it is safe)`);
}

const cloneAllowed = (r: Resource) => isClusterSafe(r.p.fstype) || r.p.force_clones || r.ro;

const fsckWanted = (r: Resource) => r.block && (r.p.run_fsck === 'force' || (r.p.run_fsck === 'auto' && fsckNeededByDefault(r.p.fstype)));

/** Entries mounted at the mount point, topmost first, each with whether it is ours. */
async function mountedHere(ctx: FsCtx, r: Resource, mounts: MountEntry[], mp: string) {
  const here = mounts.filter((m) => m.mountPoint === mp).reverse();
  const out: Array<{ entry: MountEntry; ours: boolean }> = [];
  for (const entry of here) out.push({ entry, ours: await carriesSource(entry, r.source, mounts, ctx.run, ctx.deadline.bound(10_000)) });
  return out;
}

/** A limit for a command that may hang on I/O (mount, fsck, dd). */
const ioTimeout = (ctx: FsCtx) => ctx.deadline.hangLimit();

/** <statusfile_prefix><instance>[_<clone>]_<node> below the mount point, as ocf:heartbeat:Filesystem names it. */
function statusFile(ctx: FsCtx, r: Resource): string {
  const suffix = `${ctx.instance}${ctx.meta.clone !== undefined ? `_${ctx.meta.clone}` : ''}_${hostname()}`.replace(/\//g, '_');
  return `${r.p.statusfile_prefix}${suffix}`;
}
