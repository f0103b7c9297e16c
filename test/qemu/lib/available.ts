import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tiersRequired } from '../../helpers/tiers.js';

/** Host tools the QEMU tier needs (Debian packages: qemu-system-x86 qemu-utils debootstrap busybox-static cpio openipmi (ipmi_sim, the bed's BMCs)). */
export const HOST_TOOLS = ['qemu-system-x86_64', 'qemu-img', 'debootstrap', 'busybox', 'cpio', 'mke2fs', 'ip', 'setpriv', 'unshare', 'flock', 'apt-get', 'dpkg-deb', 'depmod', 'modprobe', 'ipmi_sim', 'ss'];
export const HOST_PACKAGES = ['qemu-system-x86', 'qemu-utils', 'debootstrap', 'busybox-static', 'cpio', 'openipmi'];

const onPath = (tool: string) => spawnSync('which', [tool], { encoding: 'utf8' }).status === 0;

/**
 * Whether this machine can run the QEMU tier, and if not, why — in words the test prints.
 * Checked: root, the host tools, /dev/net/tun, and that a network namespace can be made.
 * With OCFKIT_TIERS_REQUIRED=1 it throws instead of answering "not ok".
 */
export function qemuAvailability(): { ok: true } | { ok: false; reason: string } {
  const a = probe();
  // CI sets OCFKIT_TIERS_REQUIRED=1: there a missing prerequisite is a failure, not a skip.
  if (!a.ok && tiersRequired()) throw new Error(`QEMU tier required (OCFKIT_TIERS_REQUIRED=1) but unavailable: ${a.reason}`);
  return a;
}

function probe(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: 'the QEMU tier runs on Linux only' };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'the QEMU tier needs root (namespaces, tap devices)' };
  if (!onPath('which')) return { ok: false, reason: '`which` is missing' };
  const missing = HOST_TOOLS.filter((t) => !onPath(t));
  if (missing.length) return { ok: false, reason: `missing host tools: ${missing.join(', ')} (apt-get install -y --no-install-recommends ${HOST_PACKAGES.join(' ')})` };
  if (!existsSync('/dev/net/tun')) return { ok: false, reason: '/dev/net/tun is missing (no tap devices)' };
  const probe = `ocfq-probe-${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.status !== 0) return { ok: false, reason: `cannot create a network namespace: ${add.stderr.trim()}` };
  spawnSync('ip', ['netns', 'del', probe]);
  return { ok: true };
}
