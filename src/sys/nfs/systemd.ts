import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Ops } from './ops.js';

/**
 * Where PID 1 is systemd the NFS daemons are its units (nfs-server,
 * nfs-mountd, rpc-statd, rpcbind…): the agent starts and stops them through
 * systemctl and passes its settings as runtime drop-ins (/run, gone at
 * reboot) that replace the units' ExecStart lines, as the heartbeat agent
 * does for the server scope.
 */

export const isSystemdPid1 = (): boolean => {
  try {
    return readFileSync('/proc/1/comm', 'utf8').trim() === 'systemd';
  } catch {
    return false;
  }
};

export const DROPIN_NAME = '50-ocfkit-nfsserver.conf';
const RUNTIME_UNITS = '/run/systemd/system';

/** One ExecStart argument in systemd's syntax: quoted, with $ and % doubled so nothing is expanded. */
export function systemdQuote(arg: string): string {
  const escaped = arg.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\$/g, '$$$$').replace(/%/g, '%%');
  return /^[\w@+=:,./-]+$/.test(arg) ? escaped : `"${escaped}"`;
}

/** A drop-in that replaces a unit's ExecStart with `argv` (absolute program path first). */
export function execStartDropin(argv: readonly string[], extra: string[] = []): string {
  return ['# Written by ocfkit nfsserver while the resource runs here; removed at stop.', '[Service]', ...extra, 'ExecStart=', `ExecStart=${argv.map(systemdQuote).join(' ')}`, ''].join('\n');
}

export function dropinPath(unit: string): string {
  return join(RUNTIME_UNITS, `${unit}.d`, DROPIN_NAME);
}

/** Writes drop-ins; true when anything changed (then systemd must reload). */
export function writeDropins(dropins: Record<string, string>): boolean {
  let changed = false;
  for (const [unit, text] of Object.entries(dropins)) {
    const path = dropinPath(unit);
    let old: string | undefined;
    try {
      old = readFileSync(path, 'utf8');
    } catch {
      old = undefined;
    }
    if (old === text) continue;
    mkdirSync(join(RUNTIME_UNITS, `${unit}.d`), { recursive: true });
    writeFileSync(path, text);
    changed = true;
  }
  return changed;
}

export function removeDropins(units: readonly string[]): boolean {
  let changed = false;
  for (const unit of units) {
    const path = dropinPath(unit);
    if (!existsSync(path)) continue;
    rmSync(path, { force: true });
    changed = true;
  }
  return changed;
}

export async function systemctl(ops: Ops, args: string[], check = true): Promise<number> {
  // --no-block never: we want the job's result; -q: no noise in the log.
  const r = await ops.run('systemctl', ['-q', ...args], { check });
  return r.code ?? 1;
}
