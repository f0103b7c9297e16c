import { constants, accessSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { symlinkAtomic, writeFileAtomic } from './atomic.js';
import { dirname, join, relative } from 'node:path';

export const EXECUTABLE_NAME = 'ocfkit-agents';

export interface InstallPlan {
  prefix: string;
  provider: string;
  source: string;
  agents: string[];
  force: boolean;
}

export interface InstallStep {
  path: string;
  action: 'install' | 'replace' | 'unchanged' | 'link' | 'relink';
  target?: string;
}

export class InstallError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

function sameContent(a: string, b: string): boolean {
  const sa = statSync(a);
  const sb = statSync(b);
  return sa.size === sb.size && readFileSync(a).equals(readFileSync(b));
}

/** The nearest existing directory at or above `p` must be writable by us. */
function assertWritable(p: string): void {
  let dir = p;
  while (!existsSync(dir)) dir = dirname(dir);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    const who = process.getuid?.() === 0 ? '' : ' (installing agents needs root)';
    throw new InstallError(`cannot write to ${dir}${who}`, 4);
  }
}

/**
 * What `install` will do, checked before anything is written: the one
 * executable goes to <prefix>/lib/<provider>/, and each agent is a link to it
 * at <prefix>/resource.d/<provider>/<Agent>. A file there that we did not put
 * there (not a link to our executable) is refused unless forced.
 */
export function planInstall(plan: InstallPlan): InstallStep[] {
  if (!existsSync(plan.source)) throw new InstallError(`nothing is built: ${plan.source} is missing (run \`npm run build\` first)`, 1);
  if (!/^[A-Za-z0-9_.-]+$/.test(plan.provider)) throw new InstallError(`invalid provider name: ${JSON.stringify(plan.provider)}`, 2);
  if (!plan.prefix.startsWith('/')) throw new InstallError(`--prefix must be an absolute path: ${plan.prefix}`, 2);
  const libDir = join(plan.prefix, 'lib', plan.provider);
  const exe = join(libDir, EXECUTABLE_NAME);
  const raDir = join(plan.prefix, 'resource.d', plan.provider);
  const steps: InstallStep[] = [];
  if (!existsSync(exe)) steps.push({ path: exe, action: 'install' });
  else steps.push({ path: exe, action: sameContent(plan.source, exe) ? 'unchanged' : 'replace' });
  for (const agent of plan.agents) {
    const link = join(raDir, agent);
    const target = relative(raDir, exe);
    let st;
    try {
      st = lstatSync(link);
    } catch {
      steps.push({ path: link, action: 'link', target });
      continue;
    }
    const ours = st.isSymbolicLink() && readlinkSync(link) === target;
    if (ours) steps.push({ path: link, action: 'unchanged', target });
    else if (plan.force) steps.push({ path: link, action: 'relink', target });
    else throw new InstallError(`${link} exists and was not installed by ocfkit (use --force to replace it)`, 1);
  }
  return steps;
}

/** Carries out a plan; each file appears atomically (written aside, then renamed). */
export function applyInstall(plan: InstallPlan, steps: InstallStep[]): void {
  for (const s of steps) assertWritable(dirname(s.path));
  for (const s of steps) {
    if (s.action === 'unchanged') continue;
    mkdirSync(dirname(s.path), { recursive: true });
    // Exclusive random temporary names, then rename: never through a planted link.
    if (s.target === undefined) writeFileAtomic(s.path, readFileSync(plan.source), 0o755);
    else symlinkAtomic(s.target, s.path);
  }
}
