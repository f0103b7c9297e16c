import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMounts } from '../../src/sys/mountinfo.js';

/**
 * A FUSE mount that can be made to hang, like an NFS mount whose server died
 * (this kernel has no NFS client, no device-mapper and no NBD). It serves
 * one file, `file`, backed by a sparse image; a loop device on it is a block
 * device whose I/O hangs with the server. See hangfs-server.mjs.
 *
 * hang(): the server stops answering; every access to the mount (and I/O of
 * a loop device on `file`) waits in the kernel, not killable by SIGTERM.
 * abort(): kills the server, which aborts the connection: every waiting
 * request fails (ENOTCONN/EIO) and nothing stays hung.
 * destroy(): abort(), unmount, remove the directory.
 */
export interface HangFs {
  dir: string;
  mountPoint: string;
  file: string;
  hang(): void;
  abort(): Promise<void>;
  destroy(): Promise<void>;
}

const SERVER = join(import.meta.dirname, 'hangfs-server.mjs');

export async function startHangFs(sizeMiB = 64): Promise<HangFs> {
  const dir = mkdtempSync(join(tmpdir(), 'ocfkit-hangfs-'));
  const mountPoint = join(dir, 'mnt');
  const backing = join(dir, 'backing.img');
  mkdirSync(mountPoint);
  const fd = openSync(backing, 'w');
  ftruncateSync(fd, sizeMiB * 1024 * 1024);
  closeSync(fd);

  const server: ChildProcess = spawn(process.execPath, [SERVER, mountPoint, backing], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  let stderr = '';
  server.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hangfs did not start: ${stderr}`)), 15_000);
    server.stdout!.on('data', (b: Buffer) => {
      if (b.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    server.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`hangfs exited ${code}: ${stderr}`));
    });
  }).catch(async (e) => {
    server.kill('SIGKILL');
    await exited;
    unmount(mountPoint);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  });

  const abort = async () => {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    await exited;
  };
  return {
    dir,
    mountPoint,
    file: join(mountPoint, 'disk.img'),
    hang: () => server.kill('SIGUSR1'),
    abort,
    destroy: async () => {
      await abort();
      unmount(mountPoint);
      // Only once nothing is mounted there: removing through a mount would walk into it.
      if (!readMounts().some((m) => m.mountPoint === mountPoint)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function unmount(mountPoint: string): void {
  if (!readMounts().some((m) => m.mountPoint === mountPoint)) return;
  if (spawnSync('umount', ['-c', mountPoint], { timeout: 30_000 }).status !== 0) spawnSync('umount', ['-l', '-c', mountPoint], { timeout: 30_000 });
}
