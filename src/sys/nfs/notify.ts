import { lstatSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { writeStateFile } from '../../ocf/state-file.js';
import { dirname } from 'node:path';
import { race } from '../../ocf/deadline.js';
import type { Ops } from './ops.js';
import { alive, cmdline, inOurNamespaces, terminate } from './processes.js';

/**
 * Reboot notification (sm-notify) after a start or failover. It must go out
 * once nfsd and the exports are up AND from the floating address, which
 * IPaddr2 adds only after this agent's start returns (it follows nfsserver in
 * the group). So start leaves a small detached notifier behind: it waits,
 * bounded, until every floating address is configured on this node (and past
 * IPv6 duplicate address detection), then runs `sm-notify -f -v <name>` per
 * name (it backgrounds itself to retry unresponsive clients). stop ends it.
 *
 * The notifier is a fixed script; every value reaches it as an argument.
 * Before each name it puts the saved client list (sm.ha) back into sm/, so
 * every name notifies every client: sm.ha is root's and holds only plain
 * files the agent wrote; the copy runs as statd's user (the owner of sm/), so
 * whatever that user links or swaps in sm/ gives it nothing it could not do
 * itself; -P copies a link as a link, -n overwrites nothing.
 *
 * When notifying fails (an address never came up, sm-notify exited non-zero) the notifier leaves
 * the reason in `failedFile` (root's per-boot state directory; written under an exclusive
 * temporary name, then renamed), for the monitor to report as degraded.
 *
 * With a list of client connections (`tickleFile`, root's, checked lines "ip:port ip:port"), the
 * notifier first resets them once the addresses are up (src/sys/nfs/tickle.ts): three rounds of
 * `tickle_tcp -n 3`, at once, after 1 s and after 3 s, because a client whose ARP cache still
 * holds the dead node's MAC answers into the void until IPaddr2's gratuitous ARP reaches it.
 */
export const NOTIFIER_SCRIPT = `exec </dev/null >/dev/null 2>&1
pidfile=$1 limit=$2 dir=$3 retry=$4 tag=$5 names=$6 uid=$7 gid=$8 failedfile=$9 tickle=\${10} tickler=\${11}
shift 11
echo $$ >"$pidfile"
rm -f "$failedfile"
say() { logger -t "$tag" -p daemon.notice -- "$*" || :; }
failed() {
  say "$*"
  (set -C; printf '%s\n' "$*" >"$failedfile.$$") && mv -f -- "$failedfile.$$" "$failedfile"
}
waited=0
for ip in "$@"; do
  until [ -n "$(ip -o addr show to "$ip" -tentative)" ]; do
    if [ "$waited" -ge "$limit" ]; then
      failed "no sm-notify: $ip did not come up within $limit s"
      rm -f "$pidfile"
      exit 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
done
if [ -n "$tickle" ] && [ -s "$tickle" ]; then
  for pause in 1 2 0; do
    "$tickler" -n 3 <"$tickle"
    [ "$pause" -eq 0 ] || sleep "$pause"
  done
  say "reset $(grep -c . "$tickle") recorded NFS client connection(s) to the floating address (tickle_tcp)"
fi
IFS=,
for name in $names; do
  setpriv --reuid="$uid" --regid="$gid" --clear-groups -- cp -pnP "$dir"/sm.ha/* "$dir"/sm/ 2>/dev/null
  if [ -n "$retry" ]; then sm-notify -f -P "$dir" -m "$retry" -v "$name"; else sm-notify -f -P "$dir" -v "$name"; fi
  rc=$?
  if [ "$rc" -eq 0 ]; then say "sm-notify as $name: exit 0"; else failed "sm-notify as $name: exit $rc"; fi
done
rm -f "$pidfile"`;

/**
 * The host name of a floating address, as sm-notify will look it up
 * (getnameinfo, NSS: /etc/hosts, then DNS). sm-notify never sends a bare
 * address as its name: without a name for the address it notifies nobody.
 */
export async function hostNameOf(address: string, limitMs: number): Promise<string | undefined> {
  const { lookupService } = (await import('node:dns')).promises;
  return bounded(lookupService(address, 0).then((r) => r.hostname), limitMs);
}

/** The addresses a host name resolves to (NSS, as sm-notify binds to it); empty when none. */
export async function addressesOf(name: string, limitMs: number): Promise<string[]> {
  const { lookup } = (await import('node:dns')).promises;
  return (await bounded(lookup(name, { all: true }).then((r) => r.map((a) => a.address)), limitMs)) ?? [];
}

/** A name lookup, bounded: a resolver that hangs must not hold up start; a failed one is no answer. */
const bounded = <T>(p: Promise<T>, limitMs: number): Promise<T | undefined> => race(p.catch(() => undefined), limitMs, undefined);

/** argv[0] of the notifier's shell: how stop recognizes it behind its pid file. */
export const NOTIFIER_NAME = 'nfsserver-notify';

export interface NotifyPlan {
  /** Floating addresses to wait for. */
  waitFor: string[];
  /** Names (or addresses) to notify as, one sm-notify each (-v). None: once, as this host, right away. */
  names: string[];
  statdDir: string;
  /** sm-notify -m: minutes to keep retrying unresponsive clients. */
  retryMinutes?: number;
  /** How long the notifier waits for the addresses, in seconds. */
  waitSeconds: number;
  pidFile: string;
  /** Where the notifier leaves the reason it failed (none: it did not). */
  failedFile: string;
  /** syslog tag, e.g. "nfsserver(nfs)". */
  tag: string;
  /** statd's user: the saved client list is copied back into sm/ as this user, never as root. */
  statdOwner: { uid: number; gid: number };
  /** Client connections to reset once the addresses are up (lines for tickle_tcp), and tickle_tcp's path. */
  tickle?: { file: string; program: string };
}

export function smNotifyArgs(dir: string, retryMinutes?: number, address?: string): string[] {
  const args = ['-f', '-P', dir];
  if (retryMinutes !== undefined) args.push('-m', String(retryMinutes));
  if (address) args.push('-v', address);
  return args;
}

/** $0… of the notifier script. */
export function notifierArgs(plan: NotifyPlan): string[] {
  return [
    NOTIFIER_NAME,
    plan.pidFile,
    String(plan.waitSeconds),
    plan.statdDir,
    plan.retryMinutes === undefined ? '' : String(plan.retryMinutes),
    plan.tag,
    plan.names.join(','),
    String(plan.statdOwner.uid),
    String(plan.statdOwner.gid),
    plan.failedFile,
    plan.tickle?.file ?? '',
    plan.tickle?.program ?? '',
    ...plan.waitFor,
  ];
}

/** The notifier process recorded in `pidFile`, if it still runs. */
export function notifierPid(pidFile: string): number | undefined {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
  } catch {
    return undefined;
  }
  // A reused pid is not ours: the shell runs as "sh -c <script> nfsserver-notify …".
  if (!Number.isInteger(pid) || pid <= 1 || !alive(pid) || !inOurNamespaces(pid) || !cmdline(pid).includes(NOTIFIER_NAME)) return undefined;
  return pid;
}

export async function startNotifier(ops: Ops, plan: NotifyPlan): Promise<void> {
  await stopNotifier(ops, plan.pidFile, plan.failedFile);
  if (plan.names.length === 0 && plan.waitFor.length === 0) {
    ops.log.info('sending reboot notifications (sm-notify)');
    const r = await ops.run('sm-notify', smNotifyArgs(plan.statdDir, plan.retryMinutes), { check: false });
    if (r.code !== 0) writeStateFile(plan.failedFile, `sm-notify: exit ${r.code}\n`);
    return;
  }
  mkdirSync(dirname(plan.pidFile), { recursive: true });
  // setsid -f: the notifier leaves our session and the op returns at once.
  await ops.run('setsid', ['-f', 'sh', '-c', NOTIFIER_SCRIPT, ...notifierArgs(plan)]);
  const when = plan.waitFor.length ? `once ${plan.waitFor.join(', ')} ${plan.waitFor.length > 1 ? 'are' : 'is'} up (waiting at most ${plan.waitSeconds}s)` : 'now';
  if (plan.tickle) ops.log.info(`the recorded NFS client connections will be reset ${when}`);
  if (plan.names.length || !plan.tickle) ops.log.info(`sm-notify will notify clients as ${plan.names.join(', ') || 'this host'} ${when}`);
}

export async function stopNotifier(ops: Ops, pidFile: string, failedFile: string): Promise<void> {
  const pid = notifierPid(pidFile);
  if (pid !== undefined) {
    ops.log.info(`ending the sm-notify waiter (pid ${pid})`);
    await terminate([pid], ops.deadline, { graceMs: 2000 });
  }
  rmSync(pidFile, { force: true });
  rmSync(failedFile, { force: true });
}

/** Why the last reboot notification failed, if it did (first line, as the notifier wrote it). */
export function notifyFailure(failedFile: string): string | undefined {
  let text: string;
  try {
    // Root's per-boot directory; the file is the notifier's, a regular file renamed into place.
    if (!lstatSync(failedFile).isFile()) return undefined;
    text = readFileSync(failedFile, 'utf8');
  } catch {
    return undefined;
  }
  return text.split('\n')[0]!.trim().slice(0, 200) || 'reboot notification failed';
}
