import { AGENT_LOADERS } from '../../agents/loaders.js';
import { multiCallMain } from '../ocf/main.js';

/** How long to wait for a reader to take our output before exiting anyway (a reader that never reads must not hang the agent). */
const FLUSH_LIMIT_MS = 10_000;

/**
 * Exits once stdout and stderr have been handed to the kernel. Pacemaker reads
 * both through pipes; process.exit() with writes still queued would cut the
 * ocf-exit-reason line (or lose it). A write callback fires when everything
 * queued before it is written.
 */
async function exitAfterFlush(code: number): Promise<never> {
  process.exitCode = code;
  const flushed = (s: NodeJS.WriteStream) => new Promise<void>((resolve) => {
    if (s.destroyed || !s.writable) return resolve();
    s.write('', () => resolve());
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all([flushed(process.stdout), flushed(process.stderr)]),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, FLUSH_LIMIT_MS))),
  ]);
  clearTimeout(timer);
  process.exit(code);
}

// Read argv/env inside the call, never at module load (SEA snapshots freeze them).
void multiCallMain(AGENT_LOADERS, process.argv).then(
  (code) => exitAfterFlush(code),
  (e: unknown) => {
    process.stderr.write(`ocf-exit-reason:internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    return exitAfterFlush(1);
  },
);
