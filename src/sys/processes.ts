import { readFileSync } from 'node:fs';

/**
 * The process module: /proc/<pid>/stat read once here, and "is it still the
 * process we saw" as pid + start time (PIDs get reused). Mount users:
 * proc-users.ts; processes by name and pid files of nfsserver: nfs/processes.ts.
 */

/** What agents read from /proc/<pid>/stat (see proc(5)). */
export interface ProcStat {
  pid: number;
  /** The kernel's comm: the program name, at most 15 characters; may hold blanks and parentheses. */
  comm: string;
  /** R, S, D… and Z for a zombie (dead, not yet collected by its parent). */
  state: string;
  ppid: number;
  /** Process group id. */
  pgrp: number;
  /** A kernel thread (nfsd, lockd), not a program. */
  kernelThread: boolean;
  /** Start time in clock ticks since boot: with the pid, it names one process for good. */
  startTime: string;
}

/** PF_KTHREAD in the flags field. */
const PF_KTHREAD = 0x00200000;

/** "pid (comm) state ppid pgrp … flags … starttime …"; comm may itself contain ") ". */
export function parseStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  // rest[0] is field 3 (state): ppid 4, pgrp 5, flags 9, starttime 22.
  const rest = text.slice(close + 2).split(' ');
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '',
    ppid: Number(rest[1]),
    pgrp: Number(rest[2]),
    kernelThread: (Number(rest[6]) & PF_KTHREAD) !== 0,
    startTime: rest[19] ?? '',
  };
}

/** The stat of a process, or undefined when there is none. */
export function readStat(pid: number | string, proc = '/proc'): ProcStat | undefined {
  try {
    return parseStat(readFileSync(`${proc}/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Start time of a live process (zombies and dying ones are gone for us),
 * undefined when there is none. With the pid it names one process for good:
 * "is it still alive" is `processStartTime(pid) === recordedStartTime`.
 */
export function processStartTime(pid: number, proc = '/proc'): string | undefined {
  const s = readStat(pid, proc);
  return !s || s.state === 'Z' || s.state === 'X' ? undefined : s.startTime;
}

/**
 * Clock ticks per second of /proc/<pid>/stat's starttime: the kernel reports
 * it in USER_HZ, which is 100 on every Linux architecture (sysconf(_SC_CLK_TCK)).
 */
const USER_HZ = 100;

/**
 * Wall-clock time (ms) at which process `pid` was created, from its starttime
 * against /proc/uptime (both count from boot on the same clock): for an
 * agent, the moment execd forked it and started its own timer. Undefined when
 * /proc cannot tell (then callers take "now").
 */
export function startedAtMs(pid: number | 'self' = 'self', proc = '/proc', now = Date.now()): number | undefined {
  const s = readStat(pid, proc);
  let uptimeS: number;
  try {
    uptimeS = Number.parseFloat(readFileSync(`${proc}/uptime`, 'utf8'));
  } catch {
    return undefined;
  }
  const ticks = Number(s?.startTime);
  if (!s || !Number.isFinite(ticks) || !Number.isFinite(uptimeS)) return undefined;
  const ageMs = Math.round(uptimeS * 1000 - (ticks * 1000) / USER_HZ);
  // Both values have 10 ms steps: a fresh process can look a tick younger than zero.
  return ageMs < -20 ? undefined : now - Math.max(0, ageMs);
}

/** argv of a process (empty for kernel threads and vanished processes). */
export function cmdline(pid: number): string[] {
  let raw: string;
  try {
    raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return []; // gone meanwhile, or not ours to read
  }
  return raw.split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
}
