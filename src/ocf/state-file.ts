import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Ctx } from './agent.js';

/**
 * A per-boot state file of this resource instance under HA_RSCTMP:
 * `ocfkit-<agent>-<instance>.<kind>` (the instance with anything but
 * [A-Za-z0-9_.:-] replaced by "_", so it stays one file name).
 */
export function stateFile(ctx: Pick<Ctx<unknown>, 'rsctmp' | 'agent' | 'instance'>, kind: string): string {
  return join(ctx.rsctmp, `ocfkit-${ctx.agent}-${ctx.instance.replace(/[^\w.:-]/g, '_')}.${kind}`);
}

/**
 * Replaces `path` atomically (its directory created first): written under an
 * exclusive temporary name, so a link planted there is removed, never
 * written through, then renamed over `path` (which replaces a link too).
 */
export function writeStateFile(path: string, text: string, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}`;
  rmSync(tmp, { force: true });
  writeFileSync(tmp, text, { flag: 'wx', mode });
  renameSync(tmp, path);
}
