import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './agent.js';

export const OCF_GEN = join(ROOT, 'bin', 'ocf-gen');

/** Runs the built ocf-gen CLI (dist/) in a fresh process. */
export function ocfGen(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; user?: string } = {}) {
  const argv = opts.user ? ['runuser', '-u', opts.user, '--', process.execPath, OCF_GEN, ...args] : [process.execPath, OCF_GEN, ...args];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', input: opts.input, env: { ...process.env, NO_COLOR: '1', ...opts.env }, timeout: 120_000 });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
