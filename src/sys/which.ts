import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { agentPath } from '../ocf/run.js';

/** The path of `cmd` in PATH (plus the sbin directories agents always search), without forking `which`. */
export function which(cmd: string, path: string | undefined): string | undefined {
  for (const dir of agentPath(path).split(':')) {
    const p = join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}
