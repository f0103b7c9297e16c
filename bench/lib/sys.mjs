// Small helpers for the bench's own setup commands (argument arrays, never a shell).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CLEAN_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

/** Runs a setup command with a clean environment; throws with its stderr unless allowFail. */
export function sh(cmd, args, o = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { PATH: CLEAN_PATH, ...(o.env ?? {}) }, input: o.input, timeout: o.timeoutMs ?? 60_000, cwd: o.cwd });
  if (r.error) throw r.error;
  const res = { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  if (res.code !== 0 && !o.allowFail) throw new Error(`${[cmd, ...args].join(' ')} → exit ${res.code}: ${res.stderr.trim()}`);
  return res;
}

export function which(tool) {
  for (const dir of CLEAN_PATH.split(':')) if (existsSync(`${dir}/${tool}`)) return `${dir}/${tool}`;
  return undefined;
}

/** A name unique to this bench run (namespaces, mount points, devices); short enough for interface names. */
export const uniqueName = (prefix) => `${prefix}${process.pid.toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;

export const log = (s) => process.stderr.write(`bench: ${s}\n`);
