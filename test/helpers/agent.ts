import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
/** The built single-file executable (npm run build); tests never run the TypeScript source as "the agent". */
export const AGENTS_EXE = join(ROOT, 'build', 'ocfkit-agents');
/** The fixture agents compiled like the shipped executable (same runtime, same flags). */
export const FIXTURE_BUNDLE = join(ROOT, 'build-test', 'test-agents');

export interface AgentRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The ocf-exit-reason line's text, if the agent printed one. */
  reason?: string;
}

export interface RunAgentOptions {
  /** OCF_RESKEY_<name> values. */
  params?: Record<string, string | number | boolean>;
  /** OCF_RESKEY_CRM_meta_<name> values (timeout and interval in ms). */
  meta?: Record<string, string | number | boolean>;
  /** Other environment variables (OCF_CHECK_LEVEL, HA_LOGFILE…). */
  env?: Record<string, string>;
  instance?: string;
  /** Run inside this network namespace (ip netns exec). */
  netns?: string;
  /** Path to the executable; default: the built multi-call binary invoked by the agent's name. */
  exe?: string;
  timeoutMs?: number;
}

/** The environment execd gives an agent: nothing but OCF variables (and what the test adds). */
function ocfEnvironment(o: RunAgentOptions, instance: string): string[] {
  const env = [`OCF_ROOT=/usr/lib/ocf`, `OCF_RESOURCE_INSTANCE=${o.instance ?? instance}`];
  for (const [k, v] of Object.entries(o.params ?? {})) env.push(`OCF_RESKEY_${k}=${v}`);
  for (const [k, v] of Object.entries(o.meta ?? {})) env.push(`OCF_RESKEY_CRM_meta_${k}=${v}`);
  for (const [k, v] of Object.entries(o.env ?? {})) env.push(`${k}=${v}`);
  return env;
}

function spawnAgent(argv: string[], env: string[], o: RunAgentOptions): AgentRun {
  const cmd = o.netns ? ['ip', 'netns', 'exec', o.netns, 'env', '-i', ...env, ...argv] : ['env', '-i', ...env, ...argv];
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', timeout: o.timeoutMs ?? 120_000 });
  if (r.error) throw r.error;
  const reason = /^ocf-exit-reason:(.*)$/m.exec(r.stderr ?? '')?.[1];
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '', reason };
}

/**
 * Runs an agent the way Pacemaker's execd does: a fresh process of the built
 * executable, a clean environment (env -i) with only OCF variables, the
 * action as the only argument. Returns the exit code and output.
 */
export function runAgent(agent: string, action: string, o: RunAgentOptions = {}): AgentRun {
  const exe = o.exe ?? AGENTS_EXE;
  if (!existsSync(exe)) throw new Error(`${exe} is not built: run npm run build`);
  // `<exe> <Agent> <action>` is the multi-call form the executable accepts besides its link names;
  // a PATH is given here (execd passes its own), tests may override it through o.env.
  const argv = exe.endsWith('.cjs') ? ['/usr/bin/node', exe, agent, action] : [exe, agent, action];
  return spawnAgent(argv, ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', ...ocfEnvironment(o, `test-${agent}`)], o);
}

/** Runs an agent through an installed link name (resource.d/<provider>/<Agent>), as Pacemaker does. */
export function runInstalled(path: string, action: string, o: Omit<RunAgentOptions, 'exe'> = {}): AgentRun {
  return spawnAgent([path, action], ocfEnvironment(o, 'test'), o);
}
