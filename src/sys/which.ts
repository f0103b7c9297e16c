import { accessSync, constants, statSync } from 'node:fs';
import { agentPath } from '../ocf/run.js';

/** Finding programs without forking `which`/`command -v`: a lookup is a few stat calls. */

/** access(2) for our real uid: `mode` is constants.R_OK, X_OK… */
export function canAccess(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}

function executable(path: string): boolean {
  try {
    return canAccess(path, constants.X_OK) && statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The path of `cmd` in PATH (plus the sbin directories agents always search), as `command -v` finds it. */
export function which(cmd: string, path: string | undefined): string | undefined {
  for (const dir of agentPath(path).split(':')) {
    if (dir && executable(`${dir}/${cmd}`)) return `${dir}/${cmd}`;
  }
  return undefined;
}

/** resource-agents' HA_BIN (send_arp, send_ua): Debian and current upstream, then older layouts. */
export const HA_BIN_DIRS = ['/usr/libexec/heartbeat', '/usr/lib/heartbeat', '/usr/lib64/heartbeat'];

/** One of resource-agents' helper programs: HA_BIN first when the environment names it. */
export function findHaBin(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const dirs = env.HA_BIN ? [env.HA_BIN, ...HA_BIN_DIRS] : HA_BIN_DIRS;
  return dirs.map((d) => `${d}/${name}`).find(executable);
}
