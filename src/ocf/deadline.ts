import { OcfError, OCF } from './exit-codes.js';

/** The runner ends a command at its limit with SIGTERM, then SIGKILL after this grace. */
export const KILL_GRACE_MS = 1000;
/** After SIGKILL, how long the runner waits for the group before it abandons it (uninterruptible sleep). */
export const KILL_ABANDON_MS = 500;
/** What ending a command at its limit can take past that limit. */
export const KILL_RESERVE_MS = KILL_GRACE_MS + KILL_ABANDON_MS;
/** Room kept after a command that may hang (mount, umount, fsck, dd): the kill reserve and time to report. */
export const HANG_RESERVE_MS = KILL_RESERVE_MS + 500;

/** `p`, or `fallback` when `p` has not settled within `ms` (a rejection of `p` within `ms` rejects). */
export function race<T, F>(p: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export interface RetryOptions {
  /** Wait between tries. */
  intervalMs: number;
  /** No further try when less than this is left of the op (room for the try itself and the report). */
  marginMs: number;
  /** Called before each wait with why the try failed. */
  onRetry?: (why: string) => void;
  /** The error thrown when no time is left for another try. */
  giveUp: (why: string, tries: number) => Error;
}

/**
 * The operation's deadline: Pacemaker kills an agent at OCF_RESKEY_CRM_meta_timeout.
 * We stop a little before, so the agent can return a clean error and reason
 * instead of being killed mid-way.
 */
export class Deadline {
  readonly end: number;

  constructor(
    readonly timeoutMs: number,
    readonly startedAt = Date.now(),
  ) {
    this.end = startedAt + timeoutMs - Deadline.margin(timeoutMs);
  }

  /** 10% of the timeout, at least 0.5 s and at most 5 s. */
  static margin(timeoutMs: number): number {
    return Math.min(5000, Math.max(500, Math.floor(timeoutMs / 10)));
  }

  remaining(): number {
    return Math.max(0, this.end - Date.now());
  }

  expired(): boolean {
    return this.remaining() === 0;
  }

  /** A bound for one step: its own limit, never past the op deadline. */
  bound(ms?: number): number {
    return ms === undefined ? this.remaining() : Math.min(ms, this.remaining());
  }

  /** Throws when nothing is left of the op timeout. */
  check(what: string): void {
    if (this.expired()) throw this.timeout(what);
  }

  timeout(what: string): OcfError {
    return new OcfError(OCF.ERR_GENERIC, `${what}: timed out (operation timeout ${this.timeoutMs / 1000}s)`);
  }

  /** Sleep, but never past the deadline. */
  sleep(ms: number): Promise<void> {
    const t = this.bound(ms);
    return new Promise((resolve) => setTimeout(resolve, t));
  }

  /** A limit for a command that may hang: what is left of `ms` (default: the op), less HANG_RESERVE_MS, at least 0.5 s. */
  hangLimit(ms = this.remaining()): number {
    return Math.max(500, ms - HANG_RESERVE_MS);
  }

  /** `p`, or `fallback` when it has not settled within `ms` or by the deadline. */
  race<T, F>(p: Promise<T>, ms: number, fallback: F): Promise<T | F> {
    return race(p, this.bound(ms), fallback);
  }

  /**
   * Poll until `probe` returns a value other than undefined/false; undefined when
   * the deadline (less `marginMs`) or `limitMs` passes first. The probe runs at
   * least once.
   */
  async poll<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, opts: { intervalMs?: number; limitMs?: number; marginMs?: number } = {}): Promise<T | undefined> {
    const stopAt = Date.now() + Math.min(this.bound(opts.limitMs), Math.max(0, this.remaining() - (opts.marginMs ?? 0)));
    const interval = opts.intervalMs ?? 200;
    for (;;) {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
      const left = stopAt - Date.now();
      if (left <= 0) return undefined;
      await new Promise((r) => setTimeout(r, Math.min(interval, left)));
    }
  }

  /** poll, but a probe that never succeeds in time is a timeout naming `what`. */
  async until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, opts: { intervalMs?: number; limitMs?: number } = {}): Promise<T> {
    const v = await this.poll(probe, opts);
    if (v === undefined) throw this.timeout(what);
    return v;
  }

  /**
   * Tries `attempt` until it returns undefined (done); otherwise it returns why
   * it failed, and with at least `marginMs` of the op left the next try comes
   * after `intervalMs`, else `giveUp` is thrown. Returns the number of tries.
   */
  async retry(attempt: (tries: number) => Promise<string | undefined>, o: RetryOptions): Promise<number> {
    let lastWhy: string | undefined;
    for (let tries = 1; ; tries++) {
      let why: string | undefined;
      try {
        why = await attempt(tries);
      } catch (e) {
        // An attempt the deadline cut short says nothing new: the reason is why the ones before failed.
        if (e instanceof OcfError && e.cutByDeadline && lastWhy !== undefined) throw o.giveUp(`${lastWhy}; the next attempt was cut by the operation deadline`, tries - 1);
        throw e;
      }
      if (why === undefined) return tries;
      lastWhy = why;
      if (this.remaining() < o.marginMs) throw o.giveUp(why, tries);
      o.onRetry?.(why);
      await this.sleep(o.intervalMs);
    }
  }
}
