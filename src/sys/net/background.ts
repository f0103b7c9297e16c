import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fail } from '../../ocf/exit-codes.js';
import { writeStateFile } from '../../ocf/state-file.js';
import type { Logger } from '../../ocf/log.js';
import { agentPath } from '../../ocf/run.js';
import { cmdline, processStartTime, readStat } from '../processes.js';
import { which } from '../which.js';

/**
 * Programs that keep running after the agent returned (arp_bg): each in its
 * own session and process group under coreutils `timeout`, so it dies at the
 * op deadline even though nobody waits for it; recorded in a pid file under
 * HA_RSCTMP with the process's start time, so that a later stop kills it
 * only if that PID still is the process we started (PIDs get reused).
 */

export interface BackgroundProcess {
  pid: number;
  /** /proc/<pid>/stat field 22: start time in clock ticks since boot. */
  start: string;
}

interface PidFileContent {
  /** An argument every recorded process was started with (the address): checked against its cmdline. */
  key: string;
  processes: BackgroundProcess[];
}

const processGroupOf = (pid: number) => readStat(pid)?.pgrp;

/** Is `p` still the process we recorded: same start time, leader of its group, `key` among its arguments? */
export function isOurs(p: BackgroundProcess, key: string): boolean {
  return processStartTime(p.pid) === p.start && processGroupOf(p.pid) === p.pid && cmdline(p.pid).includes(key);
}

/**
 * Starts `cmd args` detached, killed by `timeout` after `boundMs` (SIGTERM,
 * SIGKILL half a second later). Resolves once the program runs (libuv
 * returns from spawn after exec), so the pid's cmdline is already its own.
 */
export async function spawnBounded(cmd: string, args: string[], boundMs: number, env: NodeJS.ProcessEnv): Promise<BackgroundProcess> {
  const timeout = which('timeout', env.PATH);
  if (!timeout) throw fail.installed('timeout (coreutils) is not installed: cannot bound background announcements');
  const seconds = (Math.max(100, boundMs) / 1000).toFixed(3);
  const child = spawn(timeout, ['-k', '0.5', seconds, cmd, ...args], { detached: true, stdio: 'ignore', env: { ...env, PATH: agentPath(env.PATH) } });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (e) => reject(fail.generic(`${cmd}: ${e.message}`)));
  });
  child.unref();
  const pid = child.pid!;
  return { pid, start: processStartTime(pid) ?? '' };
}

export function readPidFile(path: string): PidFileContent | undefined {
  try {
    const c = JSON.parse(readFileSync(path, 'utf8')) as PidFileContent;
    if (typeof c.key !== 'string' || !Array.isArray(c.processes)) return undefined;
    return { key: c.key, processes: c.processes.filter((p) => Number.isInteger(p.pid) && p.pid > 1 && typeof p.start === 'string') };
  } catch {
    return undefined;
  }
}

export function writePidFile(path: string, key: string, processes: BackgroundProcess[]): void {
  writeStateFile(path, `${JSON.stringify({ key, processes } satisfies PidFileContent)}\n`);
}

/**
 * Kills the recorded processes that are still ours (their whole process
 * group, so `timeout` and the program it runs), waits up to `waitMs` for
 * them to go, and removes the pid file. Returns how many were killed.
 */
export async function stopRecorded(path: string, log: Logger, waitMs = 2000, signal: NodeJS.Signals = 'SIGTERM'): Promise<number> {
  const content = readPidFile(path);
  if (!content) {
    rmSync(path, { force: true });
    return 0;
  }
  const ours = content.processes.filter((p) => isOurs(p, content.key));
  for (const p of content.processes) {
    if (!ours.includes(p) && processStartTime(p.pid) !== undefined) log.warn(`pid ${p.pid} from ${path} is no longer our announcer: not killing it`);
  }
  for (const p of ours) {
    try {
      process.kill(-p.pid, signal);
    } catch {
      // already gone
    }
  }
  const until = Date.now() + waitMs;
  // Signals land within a millisecond or two: poll fast first, then back off to 20 ms.
  for (let pause = 1; ours.some((p) => processStartTime(p.pid) === p.start) && Date.now() < until; pause = Math.min(pause * 2, 20)) {
    await new Promise((r) => setTimeout(r, pause));
  }
  for (const p of ours) {
    if (processStartTime(p.pid) === p.start) {
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {
        // gone in the meantime
      }
    }
  }
  rmSync(path, { force: true });
  return ours.length;
}
