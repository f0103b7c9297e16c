#!/bin/bash
# Builds the QEMU guest image for ocfkit's tier-2 tests, from Debian's archive only:
#   <cache>/<key>/vmlinuz      Debian's 6.1 kernel (linux-image-amd64's dependency)
#   <cache>/<key>/initrd.img   busybox initramfs: loads virtio + ext4, switch_root to /dev/vda
#   <cache>/<key>/root.img     ext4 root: debootstrap minbase bookworm + the cluster packages + the
#                              kernel's modules (drbd 8.4, nfsd, nfs, virtio, ext4, xfs)
#   <cache>/<key>/manifest.txt what went in (kernel, package versions); written last
#
# usage: build-image.sh <cache-dir> <key>
# <key> is the sha256 of this recipe (this file + initramfs-init), computed by test/qemu/lib/image.ts.
# The guest's own scripts (scripts/qemu/guest/) are NOT in the image: they travel on the per-bed
# share disk with the current build of the agents, so changing them needs no rebuild.
# The build runs in a private mount namespace (mounts vanish with it), under a lock, in
# <cache>/.tmp-<key>-<pid>, renamed to <cache>/<key> only when complete: a killed build
# never leaves a half cache. Leftover .tmp-* dirs of killed builds are removed under the lock.
set -euo pipefail

if [ "$#" -ne 2 ]; then
  echo "usage: $0 <cache-dir> <key>" >&2
  exit 2
fi
cache=$1
key=$2
case $key in
  *[!0-9a-f]* | "") echo "build-image: bad key '$key'" >&2; exit 2 ;;
esac

# Re-run ourselves in a private mount namespace: proc/dev mounts of the chroot die with it.
if [ "${OCFKIT_IMAGE_UNSHARED:-}" != 1 ]; then
  export OCFKIT_IMAGE_UNSHARED=1
  exec unshare --mount --propagation private -- "$0" "$@"
fi

here=$(cd "$(dirname "$0")" && pwd)
mirror=http://deb.debian.org/debian
security=http://deb.debian.org/debian-security
suite=bookworm
# What the guests need: the HA-NFS stack and the tools tests and agents call; fence-agents +
# ipmitool for fence_ipmilan (the bed's BMCs are ipmi_sim on the host side, test/qemu/lib/bmc.ts).
packages=(
  drbd-utils nfs-kernel-server nfs-common rpcbind
  pacemaker corosync pacemaker-cli-utils resource-agents
  iproute2 tcpdump iputils-arping iputils-ping netbase kmod procps util-linux
  e2fsprogs xfsprogs psmisc libxml2-utils
  fence-agents ipmitool
)
# Module directories no guest uses (real hardware): left out to keep the image small.
prune_modules=(kernel/sound kernel/drivers/gpu kernel/drivers/media kernel/drivers/net/wireless
  kernel/drivers/infiniband kernel/drivers/staging kernel/drivers/net/ethernet kernel/drivers/iio kernel/drivers/usb)

t0=$SECONDS
step() { echo "build-image: [$((SECONDS - t0))s] $*" >&2; }

mkdir -p "$cache"
exec 9>"$cache/.lock"
step "waiting for the build lock"
flock -w 1200 9 || { echo "build-image: another build holds $cache/.lock for 20 min" >&2; exit 1; }
# We hold the lock: any .tmp-* dir is left over from a killed build.
for d in "$cache"/.tmp-*; do
  [ -e "$d" ] || continue
  step "removing leftover $d"
  rm -rf --one-file-system "$d"
done
if [ -f "$cache/$key/manifest.txt" ]; then
  step "already built: $cache/$key"
  exit 0
fi

work=$cache/.tmp-$key-$$
root=$work/root
mkdir -p "$work/dl" "$work/initramfs"
cleanup() { rm -rf --one-file-system "$work"; }
trap cleanup EXIT

# --- kernel: the package linux-image-amd64 points to, unpacked (not installed) ---
kpkg=$(apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1)
[ -n "$kpkg" ] || { echo "build-image: cannot find linux-image-amd64's kernel (run apt-get update)" >&2; exit 1; }
step "downloading $kpkg and busybox-static"
(cd "$work/dl" && apt-get download -q "$kpkg" busybox-static 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true)
ls "$work"/dl/linux-image-*.deb "$work"/dl/busybox-static_*.deb >/dev/null
dpkg-deb -x "$work"/dl/linux-image-*.deb "$work/kernel"
dpkg-deb -x "$work"/dl/busybox-static_*.deb "$work/busybox"
kver=$(ls "$work/kernel/lib/modules")
cp "$work/kernel/boot/vmlinuz-$kver" "$work/vmlinuz"

# --- root file system ---
step "debootstrap --variant=minbase $suite"
debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  tail -n 30 "$root/debootstrap/debootstrap.log" >&2 || true
  exit 1
}
cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main
EOF
# Nothing starts while packages install; removed again below so the guest behaves like Debian.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t sysfs sysfs "$root/sys"
step "apt-get install ${packages[*]}"
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
  apt-get -q update >"$work/apt.log" 2>&1 || { tail -n 30 "$work/apt.log" >&2; exit 1; }
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
  apt-get -q -y --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  install "${packages[@]}" >>"$work/apt.log" 2>&1 || { tail -n 30 "$work/apt.log" >&2; exit 1; }
chroot "$root" dpkg-query -W -f '${Package} ${Version}\n' >"$work/packages.txt"
chroot "$root" apt-get clean
umount "$root/sys"
umount -R "$root/dev"
umount "$root/proc"
rm -f "$root/usr/sbin/policy-rc.d" "$root/etc/resolv.conf"
: >"$root/etc/resolv.conf"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/doc/* "$root"/usr/share/man/* \
  "$root"/usr/share/locale/* "$root"/usr/share/info/*
# Pacemaker/corosync keys and a stable machine-id are made per guest at boot (ocfkit-init).
rm -f "$root/etc/corosync/authkey" "$root/etc/machine-id"

# --- the kernel's modules, and our guest init + command server ---
step "modules of $kver"
mkdir -p "$root/usr/lib/modules"
cp -a "$work/kernel/lib/modules/$kver" "$root/usr/lib/modules/"
for d in "${prune_modules[@]}"; do rm -rf "$root/usr/lib/modules/$kver/$d"; done
depmod -b "$root" "$kver"
for m in drbd nfsd nfs nfsv3 nfsv4 virtio_net virtio_blk ext4 xfs 9p; do
  modprobe -d "$root" -S "$kver" --show-depends "$m" >/dev/null || { echo "build-image: module $m missing" >&2; exit 1; }
done
mkdir -p "$root/opt/ocfkit"  # the per-bed share disk is mounted here (agents + guest scripts)
echo ocfkit-guest >"$root/etc/hostname"

# --- initramfs: busybox + the modules that reach the root disk ---
step "initramfs"
ir=$work/initramfs
mkdir -p "$ir/bin" "$ir/modules" "$ir/proc" "$ir/sys" "$ir/dev" "$ir/newroot"
cp "$work/busybox/bin/busybox" "$ir/bin/busybox"
install -m 755 "$here/initramfs-init" "$ir/init"
: >"$ir/modules/order"
for m in virtio_pci virtio_blk ext4; do
  modprobe -d "$root" -S "$kver" --show-depends "$m" | while read -r verb path _; do
    [ "$verb" = insmod ] || continue
    base=$(basename "$path")
    grep -qx "$base" "$ir/modules/order" && continue
    cp "$path" "$ir/modules/$base"
    echo "$base" >>"$ir/modules/order"
  done
done
(cd "$ir" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) >"$work/initrd.img"

# --- root image, made without mounting ---
step "mke2fs -d (root.img)"
mke2fs -q -t ext4 -L ocfkit-root -E root_owner=0:0 -d "$root" "$work/root.img" 2G >/dev/null
chmod 444 "$work/root.img"

{
  echo "kernel $kpkg $kver"
  echo "suite $suite $mirror"
  echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) in $((SECONDS - t0))s"
  cat "$work/packages.txt"
} >"$work/manifest.txt.tmp"
rm -rf --one-file-system "$root" "$work/kernel" "$work/busybox" "$work/dl" "$work/initramfs"
mv "$work/manifest.txt.tmp" "$work/manifest.txt"
mv -T "$work" "$cache/$key"
trap - EXIT
step "done: $cache/$key"
# Keep the two newest images (another checkout may still use the previous recipe); guests
# running on a removed one keep their open file.
n=0
for d in $(ls -dt "$cache"/*/); do
  d=${d%/}
  [[ $(basename "$d") =~ ^[0-9a-f]{64}$ ]] || continue
  n=$((n + 1))
  if [ "$n" -gt 2 ]; then
    step "removing old image $d"
    rm -rf --one-file-system "$d"
  fi
done
