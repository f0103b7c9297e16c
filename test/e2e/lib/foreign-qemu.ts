import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { sleep } from '../../qemu/lib/index.js';

/**
 * QEMU processes on this machine that this test process did not start (other test runs). Found by
 * argv[0] in /proc: `pgrep -x qemu-system-x86_64` cannot match, the kernel's comm keeps only 15
 * characters ("qemu-system-x86").
 */
export function foreignQemu(own: Set<number> = new Set()): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const pid = Number(d);
    if (own.has(pid)) continue;
    try {
      const argv0 = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0')[0] ?? '';
      if (basename(argv0) === 'qemu-system-x86_64') out.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * Waits (bounded) until no other QEMU runs: two cores cannot emulate two beds at once with sane
 * timings. Returns how long it waited and whether others were still running when it gave up.
 */
export async function waitForQuietMachine(o: { timeoutMs: number; intervalMs: number; log: (l: string) => void }): Promise<{ waitedMs: number; busy: number[] }> {
  const t0 = Date.now();
  let busy = foreignQemu();
  if (busy.length) o.log(`e2e: ${busy.length} other qemu process(es) running (pids ${busy.join(' ')}); waiting up to ${o.timeoutMs / 1000} s for them to end`);
  while (busy.length && Date.now() - t0 < o.timeoutMs) {
    await sleep(o.intervalMs);
    busy = foreignQemu();
  }
  if (busy.length) o.log(`e2e: still ${busy.length} other qemu process(es) after ${Math.round((Date.now() - t0) / 1000)} s; going ahead (timings will be noisy)`);
  return { waitedMs: Date.now() - t0, busy };
}
