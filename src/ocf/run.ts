import { spawn } from 'node:child_process';
import { KILL_ABANDON_MS as ABANDON_MS, KILL_GRACE_MS as GRACE_MS, KILL_RESERVE_MS, type Deadline } from './deadline.js';
import { OcfError, OCF } from './exit-codes.js';
import type { Logger } from './log.js';
import { groupMembers, recordPending, signalGroup } from './process-groups.js';

export interface RunOptions {
  /** This command's own limit (ms); never more than what is left of the op deadline. */
  timeoutMs?: number;
  /** Written to the command's stdin. */
  input?: string;
  /** false: a non-zero exit is returned, not thrown. */
  check?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Added to the environment (the agent's, or `env`). */
  addEnv?: Record<string, string>;
  cwd?: string;
  /** What kind of failure a non-zero exit is (default: generic error 1). */
  failCode?: number;
  /**
   * The command changes what a stop must undo (mount): if its process group
   * survives the kill at the deadline (uninterruptible sleep), it is recorded
   * and the next stop waits for it instead of reporting success.
   */
  mayOutliveStop?: boolean;
}

export interface RunResult {
  command: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** The sbin directories hold most of the tools agents need; Pacemaker's PATH may lack them. */
export function agentPath(path: string | undefined): string {
  const want = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  const have = (path ?? '').split(':').filter(Boolean);
  return [...have, ...want.filter((d) => !have.includes(d))].join(':');
}

const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);

export function describeCommand(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map(quote).join(' ');
}

/** setTimeout's largest delay (2^31-1 ms); longer ones fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const logged = (e: OcfError) => {
  e.logged = true;
  return e;
};

export interface Runner {
  (cmd: string, args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** Process groups of commands this runner gave up on while members were still alive. */
  readonly abandoned?: ReadonlyArray<{ pgid: number; command: string }>;
}

export interface RunnerOptions {
  /** Where abandoned process groups are recorded for the next operation (see process-groups.ts). */
  pendingFile?: string;
}

/** How often a process group is looked at while waiting for it to empty. */
const GROUP_POLL_MS = 50;

/**
 * The one way agents run programs: an argument array (never a shell), output
 * captured, bounded by the op deadline. Each command leads its own process
 * group; a command still running at its bound gets SIGTERM, then SIGKILL a
 * second later, both sent to the whole group (what it forked goes too), and
 * the op fails with a reason that names it.
 */
export function createRunner(deadline: Deadline, log: Logger, baseEnv: NodeJS.ProcessEnv, runnerOpts: RunnerOptions = {}): Runner {
  const abandoned: Array<{ pgid: number; command: string }> = [];
  const runner = async (cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> => {
    const command = describeCommand(cmd, args);
    // Killing takes up to KILL_RESERVE_MS more: keep that inside the deadline too.
    const remaining = deadline.remaining();
    const byDeadline = remaining > 2 * KILL_RESERVE_MS ? remaining - KILL_RESERVE_MS : remaining / 2;
    const ownLimit = opts.timeoutMs !== undefined && opts.timeoutMs <= byDeadline;
    const limit = ownLimit ? opts.timeoutMs! : Math.floor(byDeadline);
    if (limit <= 0) throw deadline.timeout(`not starting ${command}`);
    const env = { ...(opts.env ?? baseEnv), ...opts.addEnv };
    env.PATH = agentPath(env.PATH);
    log.debug(`running: ${command}`);

    let pgid: number | undefined;
    const result = await new Promise<RunResult>((resolve, reject) => {
      // detached: the child leads a new process group (setsid-free: it keeps our session).
      const child = spawn(cmd, [...args], { env, cwd: opts.cwd, detached: true, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
      pgid = child.pid;
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      let settled = false;
      let killer: NodeJS.Timeout | undefined;
      let abandon: NodeJS.Timeout | undefined;
      const settle = () => {
        settled = true;
        clearTimeout(timer);
        clearTimeout(killer);
        clearTimeout(abandon);
      };
      const timer = setTimeout(() => {
        timedOut = true;
        if (pgid) signalGroup(pgid, 'SIGTERM');
        else child.kill('SIGTERM');
        killer = setTimeout(() => {
          if (pgid) signalGroup(pgid, 'SIGKILL');
          else child.kill('SIGKILL');
          // A child in uninterruptible sleep (I/O on a hung device or server) outlives SIGKILL
          // until its I/O ends: stop waiting for it, so the agent reports instead of hanging too.
          abandon = setTimeout(() => {
            if (settled) return;
            settle();
            for (const s of [child.stdin, child.stdout, child.stderr]) s?.destroy();
            child.unref();
            log.warn(`${command}: still running after SIGKILL (uninterruptible I/O?), no longer waiting for it`);
            resolve({ command, code: null, signal: null, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), timedOut });
          }, ABANDON_MS);
        }, GRACE_MS);
      }, Math.min(limit, MAX_TIMER_MS));
      child.stdout?.on('data', (b: Buffer) => out.push(b));
      child.stderr?.on('data', (b: Buffer) => err.push(b));
      child.on('error', (e: NodeJS.ErrnoException) => {
        if (settled) return;
        settle();
        if (e.code === 'ENOENT') reject(new OcfError(OCF.ERR_INSTALLED, `${cmd}: command not found`));
        else if (e.code === 'EACCES') reject(new OcfError(OCF.ERR_INSTALLED, `${cmd}: not executable`));
        else reject(new OcfError(OCF.ERR_GENERIC, `${cmd}: ${e.message}`));
      });
      child.on('close', (code, signal) => {
        if (settled) return;
        settle();
        resolve({ command, code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), timedOut });
      });
      if (opts.input !== undefined) {
        child.stdin?.on('error', () => {});
        child.stdin?.end(opts.input);
      }
    });

    if (result.timedOut && pgid) await endGroup(pgid, command, result.code === null && result.signal === null ? 0 : ABANDON_MS, opts.mayOutliveStop === true);
    if (result.timedOut) {
      const reason = `${command}: killed after ${Math.round(limit / 100) / 10}s (${ownLimit ? 'its time limit' : 'operation deadline'})`;
      log.error(reason);
      const e = new OcfError(OCF.ERR_GENERIC, reason);
      e.cutByDeadline = !ownLimit;
      throw logged(e);
    }
    if (result.code !== 0) {
      const status = result.signal ? `killed by ${result.signal}` : `exit ${result.code}`;
      const detail = result.stderr.trim().split('\n').slice(-3).join(' / ');
      const text = `${command}: ${status}${detail ? `: ${detail}` : ''}`;
      if (opts.check === false) log.debug(text);
      else {
        log.error(text);
        throw logged(new OcfError(opts.failCode ?? OCF.ERR_GENERIC, text));
      }
    }
    return result;
  };

  /**
   * After a timeout: SIGKILL whatever is left of the group (members that
   * ignored SIGTERM, or that the leader's death left behind) and wait briefly
   * for it to empty. Members that stay (uninterruptible sleep) are recorded:
   * they may still finish what they were doing, e.g. a mount.
   */
  async function endGroup(pgid: number, command: string, waitMs: number, record: boolean): Promise<void> {
    const until = Date.now() + waitMs;
    for (;;) {
      const left = groupMembers(pgid);
      if (!left.length) return;
      signalGroup(pgid, 'SIGKILL');
      if (Date.now() >= until) {
        log.warn(`${command}: processes ${left.join(', ')} of its group survive SIGKILL (uninterruptible sleep)`);
        if (!record) return;
        abandoned.push({ pgid, command });
        if (runnerOpts.pendingFile) {
          try {
            recordPending(runnerOpts.pendingFile, { pgid, command });
          } catch (e) {
            log.warn(`cannot record process group ${pgid} in ${runnerOpts.pendingFile}: ${(e as Error).message}`);
          }
        }
        return;
      }
      await new Promise((r) => setTimeout(r, GROUP_POLL_MS));
    }
  }

  return Object.assign(runner, { abandoned });
}
