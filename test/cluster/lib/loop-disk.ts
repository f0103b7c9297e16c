import { closeSync, openSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './exec.js';

/**
 * A disk every node sees: a loop device over a sparse file, with a filesystem on it. Nodes share
 * /dev (their mount namespaces are copies of the host's), so /dev/loopN is the same device on each,
 * like a SAN LUN. Nothing stops two nodes from mounting it at once: Pacemaker must.
 */
export class LoopDisk {
  private constructor(
    readonly image: string,
    readonly device: string,
    readonly fstype: string,
  ) {}

  static async create(
    dir: string,
    o: { name?: string; sizeMiB?: number; fstype?: 'ext4' | 'xfs'; onAttached?: (device: string, image: string) => void } = {},
  ): Promise<LoopDisk> {
    const image = join(dir, `${o.name ?? 'disk'}.img`);
    const fd = openSync(image, 'w');
    try {
      ftruncateSync(fd, (o.sizeMiB ?? 64) * 1024 * 1024);
    } finally {
      closeSync(fd);
    }
    const device = (await run('losetup', ['--find', '--show', image])).stdout.trim();
    o.onAttached?.(device, image);
    const disk = new LoopDisk(image, device, o.fstype ?? 'ext4');
    try {
      if (disk.fstype === 'xfs') await run('mkfs.xfs', ['-q', '-f', device], { timeoutMs: 60_000 });
      else await run('mkfs.ext4', ['-q', '-F', device], { timeoutMs: 60_000 });
    } catch (e) {
      await disk.detach();
      throw e;
    }
    return disk;
  }

  /** Whether /dev/loopN is still backed by our image (it may have been auto-cleared and reused). */
  async isOurs(): Promise<boolean> {
    const r = await run('losetup', ['--list', '--noheadings', '--output', 'BACK-FILE', this.device], { allowFail: true });
    return r.code === 0 && r.stdout.trim().replace(/ \(deleted\)$/, '') === this.image;
  }

  /** Detaches the device (if still ours). Run after every node is off: a mount would keep it busy (then the kernel detaches it when the last mount goes). */
  async detach(): Promise<void> {
    if (await this.isOurs()) await run('losetup', ['--detach', this.device]);
  }
}
