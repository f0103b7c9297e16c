import { spawnSync } from 'node:child_process';

/** Runs a host command (argument array, never a shell), bounded in time; throws with stderr on failure. */
export function host(cmd: string, args: string[], o: { allowFail?: boolean; timeoutMs?: number } = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: o.timeoutMs ?? 60_000, maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  const res = { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  if (res.code !== 0 && !o.allowFail) throw new Error(`${cmd} ${args.join(' ')} → exit ${res.code}: ${res.stderr.trim()}`);
  return res;
}

/** True when a process with this PID exists (signal 0 probes without sending). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
