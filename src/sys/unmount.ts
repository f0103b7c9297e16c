import type { SysCtx } from '../ocf/agent.js';
import { race } from '../ocf/deadline.js';
import { fail } from '../ocf/exit-codes.js';
import { mountsBelow, readMounts, type MountEntry } from './mountinfo.js';
import { commandLine, describeUses, findMountUsers, isAlive, signalUser, type ProcUser, type ScanResult } from './proc-users.js';
import { signalName } from './signal-names.js';

type Ops = SysCtx<'run' | 'log' | 'deadline'>;

export interface UnmountPolicy {
  /** What to do with processes that keep the mount busy: kill them (true/safe) or not (false). */
  forceUnmount: 'true' | 'safe' | 'false';
  termSignals: Array<NodeJS.Signals | number>;
  killSignals: Array<NodeJS.Signals | number>;
  /** Wait after signalling, before the next unmount attempt (signal_delay). */
  signalDelayMs: number;
  /** Time for this mount (fast_stop: 6 s); never past the op deadline. Half of it is the TERM phase. */
  budgetMs?: number;
  /** `umount -f` in the KILL phase (network filesystems whose server may be gone). */
  forceFlag: boolean;
}

const stillMounted = (m: MountEntry) => readMounts().some((e) => e.id === m.id);

/**
 * One `umount` of exactly this mount. `-c` (no canonicalization): umount(8)
 * would otherwise stat() the path, which hangs when it is on a dead server.
 */
async function tryUmount(ctx: Ops, m: MountEntry, extra: string[], limitMs: number): Promise<{ gone: boolean; why: string }> {
  if (!stillMounted(m)) return { gone: true, why: '' };
  const r = await ctx.run('umount', [...extra, '-c', '--', m.mountPoint], { check: false, timeoutMs: Math.max(1, limitMs) });
  if (!stillMounted(m)) return { gone: true, why: '' };
  return { gone: false, why: r.stderr.trim().replace(/^umount: /, '') || `umount exit ${r.code}` };
}

/** A bounded /proc walk: a walk that does not finish in time reports nothing rather than hanging the stop. */
async function scan(ctx: Ops, m: MountEntry, mode: 'all' | 'safe', limitMs: number): Promise<ScanResult & { timedOut: boolean }> {
  const timedOut = { users: [], unproven: [], timedOut: true };
  const r = await race(findMountUsers(m, { mode }).then((x) => ({ ...x, timedOut: false })), Math.max(1, limitMs), timedOut);
  if (r.timedOut) ctx.log.warn(`looking for processes using ${m.mountPoint} did not finish in ${Math.round(limitMs / 100) / 10}s`);
  return r;
}

/** "pid 123 (sleep 1000: cwd /srv/data)" for logs and exit reasons. */
async function who(users: ProcUser[], names: Map<string, string>): Promise<string[]> {
  const out: string[] = [];
  for (const u of users) {
    const key = `${u.pid}/${u.startTime}`;
    if (!names.has(key)) names.set(key, await race(commandLine(u.pid, u.comm), 1000, `[${u.comm}]`));
    out.push(`pid ${u.pid} (${names.get(key)}: ${describeUses(u.uses, 2)})`);
  }
  return out;
}

/**
 * Unmounts one mount; when it is busy and policy allows, signals the
 * processes that use it (found by findMountUsers, never by stat()),
 * TERM signals for the first half of the budget, KILL signals after, waiting
 * signal_delay after each round. Every signalled pid is logged with its
 * command line. Throws a generic error naming the remaining users when the
 * mount is still there at the end of the budget.
 */
export async function unmountBusy(ctx: Ops, m: MountEntry, p: UnmountPolicy): Promise<void> {
  const started = Date.now();
  const end = started + ctx.deadline.bound(p.budgetMs);
  const termEnd = started + (end - started) / 2;
  const left = () => Math.max(0, end - Date.now());
  // A hung umount is SIGTERMed, SIGKILLed and abandoned: keep room for that and for the report.
  const umountLimit = () => ctx.deadline.hangLimit(left());
  const mp = m.mountPoint;
  const names = new Map<string, string>();

  let r = await tryUmount(ctx, m, [], umountLimit());
  if (r.gone) {
    ctx.log.info(`unmounted ${mp}`);
    return;
  }
  ctx.log.warn(`cannot unmount ${mp}: ${r.why}`);
  if (p.forceUnmount === 'false') {
    const found = await scan(ctx, m, 'all', Math.min(left(), 5000));
    const users = await who(found.users, names);
    throw fail.generic(`cannot unmount ${mp}: ${r.why}; force_unmount=false, no process signalled${users.length ? `; used by ${users.join(', ')}` : ''}`);
  }

  const mode = p.forceUnmount === 'safe' ? 'safe' : 'all';
  let remaining: ProcUser[] = [];
  let warnedUnproven = false;
  while (left() > 0) {
    const kill = Date.now() >= termEnd;
    const found = await scan(ctx, m, mode, left());
    remaining = found.users;
    if (found.unproven.length && !warnedUnproven) {
      warnedUnproven = true;
      ctx.log.warn(`force_unmount=safe: not signalling processes in other mount namespaces whose use of ${mp} is not proven: ${(await who(found.unproven, names)).join(', ')}`);
    }
    const signalled: ProcUser[] = [];
    const described = await who(found.users, names);
    for (const [i, u] of found.users.entries()) {
      for (const sig of kill ? p.killSignals : p.termSignals) {
        if (!(await signalUser(u, sig))) continue;
        ctx.log.info(`sent ${signalName(sig)} to ${described[i]}`);
        if (!signalled.includes(u)) signalled.push(u);
      }
    }
    if (!found.users.length) ctx.log.info(`no process found using ${mp} (force_unmount=${p.forceUnmount})`);

    // Wait up to signal_delay, less when everyone signalled has gone.
    await ctx.deadline.poll(async () => signalled.length > 0 && !(await Promise.all(signalled.map((u) => isAlive(u)))).some(Boolean), {
      intervalMs: 100,
      limitMs: Math.min(Math.max(p.signalDelayMs, 100), left()),
    });
    if (left() <= 0) break;
    r = await tryUmount(ctx, m, kill && p.forceFlag ? ['-f'] : [], umountLimit());
    if (r.gone) {
      ctx.log.info(`unmounted ${mp}`);
      return;
    }
  }

  const alive = [];
  for (const u of remaining) if (await isAlive(u)) alive.push(u);
  const users = await who(alive, names);
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  throw fail.generic(
    users.length
      ? `cannot unmount ${mp} after ${seconds}s: still used by ${users.join(', ')}`
      : `cannot unmount ${mp} after ${seconds}s: ${r.why}; no process found using it (a loop device or swap file on it, an NFS export, or a user in another mount namespace?)`,
  );
}

/**
 * What stopping the filesystem at `main` unmounts, in order: the mounts below
 * it (deepest first); with `bindCopies`, the other mounts of the same
 * filesystem elsewhere (bind mounts: the device stays in use until they go),
 * each after the mounts below it; then `main`.
 */
export function unmountOrder(main: MountEntry, mounts: MountEntry[], bindCopies: boolean): MountEntry[] {
  const order: MountEntry[] = [...mountsBelow(main.mountPoint, mounts)];
  if (bindCopies) {
    const copies = mounts
      .filter((e) => e.id !== main.id && e.majorMinor === main.majorMinor && e.mountPoint !== main.mountPoint)
      .sort((a, b) => b.mountPoint.split('/').length - a.mountPoint.split('/').length || b.id - a.id);
    for (const c of copies) order.push(...mountsBelow(c.mountPoint, mounts), c);
  }
  order.push(main);
  const seen = new Set<number>();
  return order.filter((e) => !seen.has(e.id) && seen.add(e.id));
}
