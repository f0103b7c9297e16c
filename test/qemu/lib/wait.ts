/** Time-bounded waiting: every wait in the QEMU tier goes through these (TCG is slow and uneven). */

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface UntilOptions {
  timeoutMs: number;
  /** Pause between tries (default 1000 ms: one `crm_mon` under TCG can take seconds). */
  intervalMs?: number;
  /** What is awaited, for the error message ("n1 sees DRBD Connected"). */
  what: string;
}

/**
 * Calls `probe` until it returns a value other than undefined/false/null, at most `timeoutMs`.
 * Errors thrown by `probe` count as "not yet" (the last one is reported on timeout).
 */
export async function until<T>(probe: () => Promise<T | undefined | false | null> | T | undefined | false | null, o: UntilOptions): Promise<T> {
  const end = Date.now() + o.timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false && v !== null) return v as T;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= end) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${o.timeoutMs} ms waiting for: ${o.what} (last: ${detail})`);
    }
    await sleep(Math.min(o.intervalMs ?? 1000, Math.max(0, end - Date.now())));
  }
}

/** Rejects with `what` when `p` does not settle within `ms`. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
