import { spawnSync } from 'node:child_process';

/** Runs a command (argument array), throwing with its stderr when it fails. */
export function sh(cmd: string, args: string[], opts: { input?: string; allowFail?: boolean; timeoutMs?: number } = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input: opts.input, timeout: opts.timeoutMs ?? 60_000 });
  if (r.error) throw r.error;
  const res = { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  if (res.code !== 0 && !opts.allowFail) throw new Error(`${[cmd, ...args].join(' ')} → exit ${res.code}: ${res.stderr.trim()}`);
  return res;
}

export const have = (tool: string) => spawnSync('sh', ['-c', `command -v "$1"`, 'sh', tool]).status === 0;
export const isRoot = () => process.getuid?.() === 0;

/** A name unique to this test process, for namespaces, mount points and devices. */
export const uniqueName = (prefix: string) => `${prefix}${process.pid.toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
