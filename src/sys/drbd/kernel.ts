import { closeSync, constants, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseProcDrbd, type ProcDrbd } from './proc-drbd.js';
import { parseVersion, type DrbdVersion } from './version.js';

/**
 * The kernel's DRBD files, read directly (no fork on the monitor path).
 *
 * OCFKIT_DRBD_KERNEL_ROOT puts them under a directory instead of "/": the
 * fast tests' stand-in kernel (this machine has no DRBD module; see
 * test/standins/drbd). Pacemaker never sets it.
 */
export interface KernelFiles {
  procDrbd: string;
  moduleVersion: string;
  kmsg: string;
}

export function kernelFiles(env: NodeJS.ProcessEnv): KernelFiles {
  const root = env.OCFKIT_DRBD_KERNEL_ROOT || '/';
  return {
    procDrbd: join(root, 'proc/drbd'),
    moduleVersion: join(root, 'sys/module/drbd/version'),
    kmsg: join(root, 'dev/kmsg'),
  };
}

const readIfExists = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
};

/** /proc/drbd, or undefined when the module is not loaded. */
export function readProcDrbd(files: KernelFiles): ProcDrbd | undefined {
  const text = readIfExists(files.procDrbd);
  return text === undefined ? undefined : parseProcDrbd(text);
}

/** The loaded module's version: /sys/module/drbd/version, else /proc/drbd's first line. */
export function loadedModuleVersion(files: KernelFiles, proc?: ProcDrbd): DrbdVersion | undefined {
  const sys = readIfExists(files.moduleVersion);
  return (sys === undefined ? undefined : parseVersion(sys)) ?? proc?.version;
}

/**
 * The kernel log's records, oldest first. /dev/kmsg gives one record per
 * read ("prio,seq,usec,flags;text", continuation lines after it) and EAGAIN
 * at the end when opened non-blocking; a plain file (the stand-in kernel)
 * is read as lines. At most `max` records, the newest.
 */
export function readKernelLog(path: string, max = 20000): string[] {
  let isDevice: boolean;
  try {
    isDevice = statSync(path).isCharacterDevice();
  } catch {
    return [];
  }
  if (!isDevice) {
    return (readIfExists(path) ?? '').split('\n').filter(Boolean).map(kmsgText).slice(-max);
  }
  const out: string[] = [];
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return [];
  }
  try {
    const buf = Buffer.alloc(8192);
    // Bounded: the ring buffer holds a finite number of records; stop after a generous count anyway.
    for (let i = 0; i < 200000; i++) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') continue; // a record was overwritten while we read: go on with the next
        break; // EAGAIN: no more records
      }
      if (n <= 0) break;
      out.push(kmsgText(buf.toString('utf8', 0, n).split('\n')[0]!));
    }
  } finally {
    closeSync(fd);
  }
  return out.slice(-max);
}

/** "6,1234,5678,-;block drbd0: ..." → "block drbd0: ...". */
function kmsgText(record: string): string {
  const i = record.indexOf(';');
  return i >= 0 && /^\d+,\d+,/.test(record) ? record.slice(i + 1) : record;
}
