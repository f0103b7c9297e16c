import { dirname } from 'node:path';
import { closeSync, constants, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { readStat } from '../sys/processes.js';

/**
 * Every command an agent runs leads its own process group (a detached
 * spawn), so what it forks (mount helpers, FUSE daemons before they
 * daemonize) can be ended with it. A group that outlives SIGKILL (a member in
 * uninterruptible sleep: a mount syscall waiting for a dead server) is
 * recorded in a per-instance file, and the next stop waits for it: a stop
 * must not report success while something we started may still mount.
 */

/** Live (not zombie) members of process group `pgid`. */
export function groupMembers(pgid: number, proc = '/proc'): number[] {
  const out: number[] = [];
  let names: string[];
  try {
    names = readdirSync(proc);
  } catch {
    return out;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(name, proc);
    if (st && st.pgrp === pgid && st.state !== 'Z' && st.state !== 'X') out.push(st.pid);
  }
  return out;
}

/** Sends `signal` to the whole group; a group that is gone is fine. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  if (!(pgid > 1)) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: nobody left
  }
}

export interface PendingGroup {
  pgid: number;
  command: string;
}

/**
 * Appends one record. The file lives in HA_RSCTMP (root's tmpfs); it is
 * opened with O_NOFOLLOW so a planted link is never written through.
 */
export function recordPending(file: string, g: PendingGroup): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
  const fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, `${g.pgid} ${g.command.replace(/\s*\n\s*/g, ' ').slice(0, 500)}\n`);
  } finally {
    closeSync(fd);
  }
}

export function readPending(file: string): PendingGroup[] {
  let text: string;
  try {
    const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return [];
  }
  const out: PendingGroup[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+) (.*)$/.exec(line);
    if (m && Number(m[1]) > 1) out.push({ pgid: Number(m[1]), command: m[2]! });
  }
  return out;
}

export const clearPending = (file: string) => rmSync(file, { force: true });
