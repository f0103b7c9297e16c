import { spawnSync } from 'node:child_process';
import { AGENT_LOADERS } from '../../agents/loaders.js';
import { multiCallMain } from '../ocf/main.js';
import { flushStdio, writeStderr } from '../ocf/stdio.js';

/**
 * A Bun executable applies BUN_OPTIONS from its environment as runtime
 * options (--inspect, --smol, --preload…), as plain Node does NODE_OPTIONS,
 * and unlike a Node SEA it has no switch to refuse them. The cluster's
 * environment must not reach into the agent: run the same action once more
 * without it (the same argv0, so the same agent). A --preload has run by
 * then; only root sets the environment Pacemaker gives agents.
 * Returns the exit code to end with, or undefined to go on here.
 */
function rerunWithoutBunOptions(): number | undefined {
  if (process.versions.bun === undefined || process.env.BUN_OPTIONS === undefined) return undefined;
  const env = { ...process.env };
  delete env.BUN_OPTIONS;
  const r = spawnSync(process.execPath, process.argv.slice(2), { argv0: process.argv0, env, stdio: 'inherit' });
  if (r.signal) process.kill(process.pid, r.signal);
  return r.status ?? 1;
}

/** How long to wait for a reader to take our output before exiting anyway (a reader that never reads must not hang the agent). */
const FLUSH_LIMIT_MS = 10_000;

/**
 * Exits once stdout and stderr have been handed to the kernel. Pacemaker reads
 * both through pipes; process.exit() with writes still queued would cut the
 * ocf-exit-reason line (or lose it). Output is written directly (src/ocf/stdio.ts);
 * only what a full pipe made it queue is waited for.
 */
async function exitAfterFlush(code: number): Promise<never> {
  process.exitCode = code;
  await flushStdio(FLUSH_LIMIT_MS);
  process.exit(code);
}

// Read argv/env inside the call, never at module load (SEA snapshots freeze them).
const rerun = rerunWithoutBunOptions();
if (rerun !== undefined) process.exit(rerun);
void multiCallMain(AGENT_LOADERS, process.argv).then(
  (code) => exitAfterFlush(code),
  (e: unknown) => {
    writeStderr(`ocf-exit-reason:internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    return exitAfterFlush(1);
  },
);
