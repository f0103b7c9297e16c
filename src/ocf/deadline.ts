import { OcfError, OCF } from './exit-codes.js';

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

  /**
   * Poll until `probe` returns a value other than undefined/false, or the deadline
   * (or `limitMs`) passes: then throw a timeout naming `what`.
   */
  async until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, opts: { intervalMs?: number; limitMs?: number } = {}): Promise<T> {
    const stopAt = Date.now() + this.bound(opts.limitMs);
    const interval = opts.intervalMs ?? 200;
    for (;;) {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
      const left = stopAt - Date.now();
      if (left <= 0) throw this.timeout(what);
      await new Promise((r) => setTimeout(r, Math.min(interval, left)));
    }
  }
}
