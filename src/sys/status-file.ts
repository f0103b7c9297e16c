import { dirname } from 'node:path';
import { OCF, OcfError } from '../ocf/exit-codes.js';
import type { Runner } from '../ocf/run.js';

/**
 * OCF_CHECK_LEVEL 20: write a block to a status file inside the mount and read
 * it back, each step in its own child process with a time limit, so a hung
 * filesystem fails the check instead of hanging the agent. A unique token
 * proves the read returns what was just written. O_DIRECT (when `direct`)
 * bypasses the page cache, so the device is really written and read.
 */
export async function writeAndReadBack(run: Runner, file: string, token: string, direct: boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  const left = () => Math.max(1, end - Date.now());
  const fail = (what: string, r: { stderr: string; code: number | null }) =>
    new OcfError(OCF.ERR_GENERIC, `${what} status file ${file}: ${r.stderr.trim().replace(/\s*\n\s*/g, ' / ') || `exit ${r.code}`}`);

  const mk = await run('mkdir', ['-p', dirname(file)], { check: false, timeoutMs: left() });
  if (mk.code !== 0) throw fail('cannot create the directory of', mk);
  const oflag = direct ? 'oflag=direct,sync' : 'oflag=sync';
  const w = await run('dd', [`of=${file}`, oflag, 'bs=4096', 'conv=fsync,sync', 'status=none'], { check: false, input: token, timeoutMs: left() });
  if (w.code !== 0) throw fail('cannot write', w);
  const rd = await run('dd', [`if=${file}`, ...(direct ? ['iflag=direct'] : []), 'bs=4096', 'count=1', 'status=none'], { check: false, timeoutMs: left() });
  if (rd.code !== 0) throw fail('cannot read', rd);
  if (!rd.stdout.startsWith(token)) throw new OcfError(OCF.ERR_GENERIC, `status file ${file} does not read back what was written`);
}
