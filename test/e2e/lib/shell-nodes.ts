import { until, type Guest } from '../../qemu/lib/index.js';

/**
 * The servers as the shell agents need them (OCFKIT_E2E_AGENTS=shell; the CIB: shell-stack.ts), in
 * guests that have Debian 12's packages but no systemd. Each item is what a Debian 12 node has, or
 * what its admin sets up, for resource-agents' agents, where ocfkit's agents need nothing:
 *
 * - rpcbind runs (on Debian a boot service; heartbeat's nfsserver starts it only under systemd, and
 *   rpc.statd and rpc.nfsd need it). ocfkit's nfsserver starts it itself.
 * - The NFS server's own start and stop, as heartbeat's nfsserver calls them: through Debian's init
 *   script, which on a systemd node hands over to nfs-server.service and nfs-mountd.service. Here that
 *   script itself would run, and it differs from the units twice: it starts nothing while /etc/exports
 *   is empty (the cluster's exports come from exportfs), and its stop only signals the nfsd threads,
 *   which 6.1 ignores (test/qemu/README.md), so lockd would never restart and clients could not
 *   reclaim locks after the service came back. NFS_SERVER_UNITS does what the units do; the CIB names
 *   it as nfsserver's nfs_init_script.
 * - rpc.statd's state in /var/lib/nfs/statd, the layout resource-agents' nfsnotify assumes (Red Hat's;
 *   Debian keeps sm/ directly in /var/lib/nfs, where nfsnotify would find no client to notify): an
 *   nfs.conf drop-in, and the directory on the node's own /var/lib/nfs, which heartbeat's nfsserver
 *   looks for before it binds the shared one over it.
 */

export const NFS_SERVER_UNITS_PATH = '/usr/local/sbin/nfs-server-units';

export const NFS_SERVER_UNITS = `#!/bin/sh
# What ocf:heartbeat:nfsserver's init-script call reaches on a Debian 12 node with systemd
# (nfs-server.service, nfs-mountd.service), for the end-to-end bed's guests, which have no
# systemd. Written by test/e2e/lib/shell-nodes.ts.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
case "$1" in
start)
	# nfs-server.service: ExecStartPre=-exportfs -r, ExecStart=rpc.nfsd (nfs.conf's threads);
	# nfs-mountd.service: rpc.mountd. Nothing depends on /etc/exports.
	grep -qw nfsd /proc/filesystems || modprobe nfsd || exit 1
	mountpoint -q /proc/fs/nfsd || mount -t nfsd nfsd /proc/fs/nfsd || exit 1
	exportfs -r
	rpc.nfsd || exit 1
	pidof rpc.mountd >/dev/null || rpc.mountd || exit 1
	;;
stop)
	# nfs-server.service: ExecStop=rpc.nfsd 0, ExecStopPost=exportfs -au, exportfs -f; then mountd.
	rpc.nfsd 0 || exit 1
	exportfs -au
	exportfs -f
	start-stop-daemon --stop --oknodo --quiet --retry 5 --name rpc.mountd --user 0 || exit 1
	;;
status)
	# As Debian's init script answers it (status_of_proc nfsd): 0 while nfsd threads run, else 3.
	[ "$(cat /proc/fs/nfsd/threads 2>/dev/null || echo 0)" -gt 0 ] && exit 0
	exit 3
	;;
*)
	echo "usage: $0 start|stop|status" >&2
	exit 2
	;;
esac
`;

const STATD_DIR = '/var/lib/nfs/statd';
const STATD_CONF = '/etc/nfs.conf.d/statd-dir.conf';

/** The shell agents the CIB names, as Debian installs them. */
const SHELL_AGENT_FILES = ['heartbeat/Filesystem', 'heartbeat/nfsserver', 'heartbeat/exportfs', 'heartbeat/IPaddr2', 'heartbeat/nfsnotify', 'linbit/drbd'].map((a) => `/usr/lib/ocf/resource.d/${a}`);

/**
 * In place of the ocfkit package's install check: resource-agents and drbd-utils installed (dpkg's
 * record), every agent the CIB names executable, and no ocfkit agents on the node. Returns the versions.
 */
export async function checkShellAgents(g: Guest): Promise<string> {
  const status = await g.run(['dpkg-query', '-W', '-f', '${Package} ${Status} ${Version}\n', 'resource-agents', 'drbd-utils']);
  const lines = status.trim().split('\n');
  if (lines.length !== 2 || !lines.every((l) => /^\S+ install ok installed \S+$/.test(l))) throw new Error(`${g.name}: dpkg-query resource-agents drbd-utils: ${status}`);
  for (const f of SHELL_AGENT_FILES) {
    if ((await g.exec(['test', '-x', f])).code !== 0) throw new Error(`${g.name}: ${f} is not installed (or not executable)`);
  }
  if ((await g.exec(['test', '-e', '/usr/lib/ocf/resource.d/ocfkit'])).code === 0) throw new Error(`${g.name}: /usr/lib/ocf/resource.d/ocfkit exists: the shell pass must not have ocfkit's agents installed`);
  return lines.map((l) => l.replace(/ install ok installed /, ' ')).join(', ');
}

/**
 * What a server needs before Pacemaker runs the shell agents there (see the top of this file); at
 * the first boot and again after every reboot (a fenced or powered-off node coming back). Idempotent.
 */
export async function prepareShellNode(g: Guest): Promise<void> {
  await g.writeFile(NFS_SERVER_UNITS_PATH, NFS_SERVER_UNITS, { mode: '755' });
  // no-notify: statd itself would notify at its start, as the node's name (which no client monitors) and
  // emptying the list nfsnotify sends from; nfsnotify notifies, from the floating IP's name.
  await g.writeFile(STATD_CONF, `[statd]\nstate-directory-path=${STATD_DIR}\nno-notify=1\n`);
  await g.run(['mkdir', '-p', STATD_DIR]);
  const dir = (await g.run(['nfsconf', '--get', 'statd', 'state-directory-path'])).trim();
  if (dir !== STATD_DIR) throw new Error(`${g.name}: nfsconf --get statd state-directory-path gives ${JSON.stringify(dir)}, not ${STATD_DIR}`);
  // In the foreground under the bed's spawner (own session, output to a log), as the bed runs corosync.
  if ((await g.exec(['pidof', 'rpcbind'])).code !== 0) await g.spawn(['rpcbind', '-f', '-w'], { log: '/var/log/rpcbind.out' });
  await until(async () => (await g.exec(['rpcinfo', '-p'])).code === 0, { timeoutMs: 60_000, intervalMs: 1000, what: `${g.name}: rpcbind answers (rpcinfo -p)` });
}
