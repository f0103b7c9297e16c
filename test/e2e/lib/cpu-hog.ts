import { spawn, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';

/**
 * A bounded CPU hog on the host: one busy loop per core, at a higher priority than the guests
 * (`nice -n -5`), each under `timeout` so it ends by itself even if the test process dies. Stopped
 * by PID (the `timeout` process, which ends its loop with it).
 */
export interface CpuHog {
  pids: number[];
  stop(): void;
}

export function startCpuHog(o: { nice: number; maxSeconds: number; loops?: number }): CpuHog {
  const n = o.loops ?? cpus().length;
  const children: ChildProcess[] = [];
  for (let i = 0; i < n; i++) {
    const c = spawn('timeout', ['-s', 'KILL', String(o.maxSeconds), 'nice', '-n', String(o.nice), 'sh', '-c', 'while :; do :; done'], { stdio: 'ignore' });
    children.push(c);
  }
  return {
    pids: children.map((c) => c.pid!).filter(Boolean),
    stop() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    },
  };
}
