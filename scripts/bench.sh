#!/usr/bin/env bash
# npm run bench [-- options]: ocfkit's agents against the resource-agents shell
# agents (see docs/readme/bench.md). Installs the Debian tools it needs when
# they are missing, builds what is out of date, then runs bench/run.mjs.
# Needs root: it creates network namespaces, a loop device and a mount.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"

if [ "$(id -u)" != 0 ]; then
	echo "bench: must run as root (network namespaces, loop devices, mounts)" >&2
	exit 1
fi

# tool-or-file -> Debian package
need=()
want() { # want <command|/absolute/file> <package>
	case "$1" in
	/*) [ -e "$1" ] || need+=("$2") ;;
	*) command -v "$1" >/dev/null 2>&1 || need+=("$2") ;;
	esac
}
want ip iproute2
want losetup mount
want mkfs.ext4 e2fsprogs
want strace strace
want cc gcc                              # compiles bench/lib/measure-one.c
want /usr/include/stdio.h libc6-dev     # its headers, and libc.a for the guests' static build
want /usr/bin/python3 python3            # the rusage runner (bench/lib/measure-runner.py)
want /usr/lib/ocf/resource.d/heartbeat/IPaddr2 resource-agents
want modprobe kmod                       # the shell Filesystem agent refuses to run without it
want fuser psmisc                        # the shell Filesystem agent's stop
want arping iputils-arping
want /usr/lib/ocf/resource.d/linbit/drbd drbd-utils
want /etc/init.d/nfs-kernel-server nfs-kernel-server   # what the shell nfsserver agent's monitor asks
# The QEMU rows (drbd, nfsserver in guests): the QEMU tier's host packages (test/qemu/lib/available.ts,
# HOST_PACKAGES), unless --no-qemu. The guest image is built on first use (test/qemu/README.md).
case " $* " in
*" --no-qemu "*) ;;
*)
	want qemu-system-x86_64 qemu-system-x86
	want qemu-img qemu-utils
	want debootstrap debootstrap
	want busybox busybox-static
	want cpio cpio
	want ipmi_sim openipmi
	;;
esac
if [ "${#need[@]}" -gt 0 ]; then
	mapfile -t pkgs < <(printf '%s\n' "${need[@]}" | sort -u)
	echo "bench: installing ${pkgs[*]}" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2
fi

[ -d node_modules ] || npm ci --no-audit --no-fund >&2
# Builds the agents' executable (skipped when unchanged), ocf-gen, the same
# bundle as a Node SEA for the comparison column (--no-sea: not measured), and
# the QEMU tier's harness as one module the .mjs harness can load (bench-qemu).
node scripts/build.mjs agents ocf-gen sea bench-qemu >&2

# A clean environment for the harness too (NODE_EXTRA_CA_CERTS, NODE_OPTIONS…);
# every measured process gets only PATH and the OCF variables anyway.
exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="${HOME:-/root}" node bench/run.mjs "$@"
