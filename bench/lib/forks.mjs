// Counting the processes an agent spawns: one extra, untimed run under
//   strace -f -e trace=clone,clone3,fork,vfork,execve
// strace slows every traced syscall, so this pass never feeds the timings.
// A clone with CLONE_THREAD is a thread (Node's libuv/V8 workers), not a
// process; execve lines name the programs that ran.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

export const STRACE_ARGS = (outFile) => ['-f', '-qq', '-o', outFile, '-e', 'trace=clone,clone3,fork,vfork,execve', '--'];

/**
 * Parses `strace -f -o` output.
 * @returns {{ processes: number, threads: number, programs: Record<string, number> }}
 *   processes: fork/vfork/clone without CLONE_THREAD that succeeded;
 *   programs: successful execve per program, not counting the agent's own.
 */
export function parseStrace(text) {
  const unfinished = new Map(); // pid → first half of a call strace split in two
  const calls = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, pid, rest] = m;
    if (rest.endsWith('<unfinished ...>')) {
      unfinished.set(pid, rest.slice(0, -'<unfinished ...>'.length));
      continue;
    }
    const resumed = /^<\.\.\. (\w+) resumed>(.*)$/.exec(rest);
    if (resumed) {
      const first = unfinished.get(pid) ?? `${resumed[1]}(`;
      unfinished.delete(pid);
      calls.push(first + resumed[2]);
      continue;
    }
    calls.push(rest);
  }
  let processes = 0;
  let threads = 0;
  const programs = {};
  let firstExec = true;
  for (const c of calls) {
    const call = /^(clone3?|fork|vfork|execve)\((.*)\)\s+=\s+(-?\d+)/s.exec(c);
    if (!call) continue;
    const [, name, args, ret] = call;
    const ok = Number(ret) >= 0;
    if (name === 'execve') {
      if (!ok) continue; // a shell trying PATH entries
      if (firstExec) {
        firstExec = false; // the agent itself, started by strace
        continue;
      }
      const prog = basename(/^"([^"]*)"/.exec(args)?.[1] ?? '?');
      programs[prog] = (programs[prog] ?? 0) + 1;
      continue;
    }
    if (!ok) continue;
    if (name.startsWith('clone') && args.includes('CLONE_THREAD')) threads++;
    else processes++;
  }
  return { processes, threads, programs };
}

export const parseStraceFile = (file) => parseStrace(readFileSync(file, 'utf8'));
