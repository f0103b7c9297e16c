// The ocfkit package on disk: where it is installed (paths.ts), how its files go into place
// atomically (atomic.ts), and installing the agents as OCF resource agents (install.ts).
// Used by ocf-gen's commands; nothing here generates a CIB.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: where package.json, build/ and cib-templates/ live (from src/ or from dist/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the ocfkit package root');
    dir = up;
  }
  return dir;
}

export const builtAgentsExecutable = () => join(packageRoot(), 'build', 'ocfkit-agents');
