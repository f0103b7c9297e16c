// The real systems the agents act on: a pair of network namespaces joined by
// a veth pair (IPaddr2), an ext4 filesystem on a loop device (Filesystem).
// Every setup returns its own undo; the bench runs them in `finally`.
import { closeSync, mkdirSync, openSync, readFileSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { sh, uniqueName } from './sys.mjs';

/**
 * Two namespaces of our own: the agent's ("node") and a peer that receives the
 * gratuitous ARP. The node's NIC has a fixed address; the floating IP is
 * added next to it, as on a real cluster node. TEST-NET-1 addresses, inside
 * our namespaces only: nothing reaches the host's interfaces.
 */
export function createNetns() {
  const id = uniqueName('');
  const ns = `ocfbench-n${id}`;
  const peerNs = `ocfbench-p${id}`;
  const nic = `bn${id}`.slice(0, 15);
  const peerNic = `bp${id}`.slice(0, 15);
  const undo = [];
  const cleanup = () => {
    for (const f of undo.splice(0).reverse()) {
      try {
        f();
      } catch (e) {
        process.stderr.write(`bench: cleanup: ${e.message}\n`);
      }
    }
  };
  try {
    sh('ip', ['netns', 'add', ns]);
    undo.push(() => sh('ip', ['netns', 'delete', ns]));
    sh('ip', ['netns', 'add', peerNs]);
    undo.push(() => sh('ip', ['netns', 'delete', peerNs]));
    sh('ip', ['-n', ns, 'link', 'add', nic, 'type', 'veth', 'peer', 'name', peerNic, 'netns', peerNs]);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    sh('ip', ['-n', ns, 'addr', 'add', '192.0.2.10/24', 'dev', nic]);
    sh('ip', ['-n', ns, 'link', 'set', nic, 'up']);
    sh('ip', ['-n', peerNs, 'link', 'set', 'lo', 'up']);
    sh('ip', ['-n', peerNs, 'addr', 'add', '192.0.2.20/24', 'dev', peerNic]);
    sh('ip', ['-n', peerNs, 'link', 'set', peerNic, 'up']);
  } catch (e) {
    cleanup();
    throw e;
  }
  const vip = '192.0.2.100';
  return {
    ns,
    peerNs,
    nic,
    vip,
    /** Is the floating IP on the NIC? (read outside the timed runs) */
    isUp: () => sh('ip', ['-n', ns, '-o', '-4', 'addr', 'show', 'dev', nic]).stdout.includes(` ${vip}/`),
    /** Removes the floating IP if a failed run left it behind. */
    forceDown: () => sh('ip', ['-n', ns, 'addr', 'del', `${vip}/24`, 'dev', nic], { allowFail: true }),
    describe: `network namespace ${ns} (veth ${nic} 192.0.2.10/24) ↔ ${peerNs} (${peerNic} 192.0.2.20/24); floating IP ${vip}/24`,
    cleanup,
  };
}

const mountPoints = () =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter(Boolean)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(Number.parseInt(o, 8))));

/** A 64 MiB ext4 image on a loop device, and an empty mount point, under `dir`. */
export function createLoopFs(dir, sizeMiB = 64) {
  const img = join(dir, 'fs.img');
  const mnt = join(dir, 'mnt');
  const undo = [];
  const cleanup = () => {
    for (const f of undo.splice(0).reverse()) {
      try {
        f();
      } catch (e) {
        process.stderr.write(`bench: cleanup: ${e.message}\n`);
      }
    }
  };
  let dev;
  try {
    const fd = openSync(img, 'w');
    ftruncateSync(fd, sizeMiB * 1024 * 1024);
    closeSync(fd);
    sh('mkfs.ext4', ['-q', '-F', img]);
    dev = sh('losetup', ['--find', '--show', img]).stdout.trim();
    undo.push(() => sh('losetup', ['-d', dev]));
    mkdirSync(mnt);
    // Unmount first if a run left it mounted (only our own mount point).
    undo.push(() => {
      while (mountPoints().includes(mnt)) sh('umount', [mnt]);
    });
  } catch (e) {
    cleanup();
    throw e;
  }
  return {
    device: dev,
    directory: mnt,
    fstype: 'ext4',
    isUp: () => mountPoints().includes(mnt),
    forceDown: () => {
      while (mountPoints().includes(mnt)) sh('umount', [mnt]);
    },
    describe: `ext4 (${sizeMiB} MiB image) on ${dev}, mount point ${mnt}`,
    cleanup,
  };
}
