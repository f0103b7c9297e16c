import { accessSync, constants, statSync } from 'node:fs';
import { agentPath } from '../../ocf/run.js';

/** Where the programs IPaddr2 needs live; a lookup is a few stat calls, not a fork. */

/** resource-agents' HA_BIN (send_arp, send_ua): Debian and current upstream, then older layouts. */
export const HA_BIN_DIRS = ['/usr/libexec/heartbeat', '/usr/lib/heartbeat', '/usr/lib64/heartbeat'];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** A program on the agent's PATH (plus the sbin directories), as `command -v` would find it. */
export function findOnPath(name: string, path: string | undefined): string | undefined {
  for (const dir of agentPath(path).split(':')) {
    if (dir && executable(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return undefined;
}

/** One of resource-agents' helpers: HA_BIN first when the environment names it. */
export function findHaBin(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const dirs = env.HA_BIN ? [env.HA_BIN, ...HA_BIN_DIRS] : HA_BIN_DIRS;
  return dirs.map((d) => `${d}/${name}`).find(executable);
}
