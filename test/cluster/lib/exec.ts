import { spawn } from 'node:child_process';

/** The environment every command of the harness gets: nothing from the test process leaks in (NODE_OPTIONS, CIB_file…). */
export const CLEAN_ENV: Readonly<Record<string, string>> = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', LC_ALL: 'C' };

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the command's stdin. */
  input?: string;
  /** Added to CLEAN_ENV. */
  env?: Record<string, string>;
  /** The command is killed (SIGKILL, by its PID) after this long; default 30 s. */
  timeoutMs?: number;
  /** Return a non-zero exit instead of throwing. */
  allowFail?: boolean;
}

export class CommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly result: RunResult,
    why: string,
  ) {
    super(`${argv.join(' ')} → ${why}${result.stderr.trim() ? `: ${result.stderr.trim()}` : ''}`);
  }
}

/** Runs one command (an argument array, never a shell), bounded in time. */
export function run(cmd: string, args: string[], o: RunOptions = {}): Promise<RunResult> {
  const argv = [cmd, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...CLEAN_ENV, ...o.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, o.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${argv.join(' ')}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const r = { code: code ?? -1, stdout, stderr };
      if (timedOut) reject(new CommandError(argv, r, `timed out after ${o.timeoutMs ?? 30_000} ms`));
      else if (r.code !== 0 && !o.allowFail) reject(new CommandError(argv, r, signal ? `killed by ${signal}` : `exit ${r.code}`));
      else resolve(r);
    });
    child.stdin.on('error', () => {}); // a command that exits without reading its input
    child.stdin.end(o.input ?? '');
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Thrown by a waitFor probe when waiting longer cannot help (a failed operation): ends the wait at once. */
export class Hopeless extends Error {}

/**
 * Polls `probe` until it returns something other than undefined/false, for at most `timeoutMs`
 * (wall time, not a number of tries: one crm_mon can be slow). The error names what was awaited
 * and the last thing the probe saw or threw. A probe that throws Hopeless ends the wait with that.
 */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false> | T | undefined | false, intervalMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      if (e instanceof Hopeless) throw new Error(`waiting for ${what}: ${e.message}`);
      last = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() >= end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last: ${last})` : ''}`);
    await sleep(Math.min(intervalMs, Math.max(0, end - Date.now())));
  }
}

/**
 * Runs a command whose output goes to a file (a log) instead of pipes, and waits for it to exit.
 * For `setsid -f <daemon>`: the daemon inherits the file, so nothing waits for it to close a pipe.
 */
export function runLogged(cmd: string, args: string[], logFd: number, o: Pick<RunOptions, 'env' | 'timeoutMs'> = {}): Promise<number> {
  const argv = [cmd, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...CLEAN_ENV, ...o.env }, stdio: ['ignore', logFd, logFd] });
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${argv.join(' ')}: ${e.message}`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal) reject(new Error(`${argv.join(' ')} → killed by ${signal}`));
      else resolve(code ?? -1);
    });
  });
}
