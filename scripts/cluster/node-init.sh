#!/bin/sh
# PID 1 of one tier-1 test-bed cluster node (see test/cluster/README.md).
# Started by the harness as
#   ip netns exec <node-ns> unshare -m -u -p -f --mount-proc --kill-child node-init.sh <hostname> <state-dir> [<ocf-dir>]
# so it runs in the node's own network, mount, UTS and PID namespaces. It gives the node its own
# Corosync/Pacemaker state (bind mounts of <state-dir>/* over the system paths), overlays <ocf-dir>
# (an `ocf-gen install --prefix` tree) onto /usr/lib/ocf, touches <state-dir>/ready, then reaps orphans
# until it is killed. Corosync and Pacemaker are started by the harness (nsenter). Fixed script: its
# only inputs are its arguments, never evaluated as shell.
set -eu
name=$1
state=$2
ocf=${3:-}

hostname "$name"
mount --make-rprivate /

# This mount namespace began as a copy of the host's. Copies of other tests' loop-device mounts and
# network-namespace handles would stay pinned (device busy, namespace alive) as long as this node
# lives: detach them here; nothing on the node needs them.
findmnt -rn -o TARGET,SOURCE,FSTYPE | while read -r target source fstype; do
  case "$fstype:$source" in
    nsfs:* | *:/dev/loop*) umount -l "$target" 2>/dev/null || true ;;
  esac
done

mount --bind "$state/etc-corosync" /etc/corosync
mount --bind "$state/lib-corosync" /var/lib/corosync
mount --bind "$state/lib-pacemaker" /var/lib/pacemaker
mount --bind "$state/log" /var/log
mount -t tmpfs -o mode=0755,size=64m tmpfs /run
mount -t tmpfs -o mode=1777,size=256m tmpfs /dev/shm
mkdir -p /run/crm
chown hacluster:haclient /run/crm
chmod 0750 /run/crm
if [ -n "$ocf" ]; then
  # The agents under test appear as /usr/lib/ocf/resource.d/<provider>/* on this node only.
  mount -t overlay overlay -o "lowerdir=$ocf:/usr/lib/ocf" /usr/lib/ocf
fi
touch "$state/ready"

# PID 1 of the namespace: daemons started with `nsenter … setsid -f` are reparented here; the shell
# reaps every child it is waiting on. SIGTERM (from outside) ends the node like SIGKILL, but politely.
trap 'exit 0' TERM INT
while :; do
  sleep 2147483647 &
  wait $! || true
done
