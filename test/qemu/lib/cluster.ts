import type { Guest } from './guest.js';
import { until } from './wait.js';

/**
 * Pacemaker + Corosync in QEMU guests, started by hand (the guests have no systemd):
 * corosync.conf (knet, no crypto), a seeded CIB with a short dc-deadtime (the cluster forms in
 * seconds instead of the 20 s default), `corosync -f` and `pacemakerd` as detached daemons.
 */

export interface ClusterOptions {
  /** corosync totem token in ms (default 3000). */
  tokenMs?: number;
  /** Pacemaker dc-deadtime (default '2s'). */
  dcDeadtime?: string;
  /** Bound for every node to be online in crm_mon (default 240 s). */
  timeoutMs?: number;
  clusterName?: string;
  /**
   * The bed has fence devices (BMCs): the seeded CIB leaves stonith-enabled at Pacemaker's
   * default (true) and the test loads a CIB with the devices. Default false: the seed has
   * stonith-enabled=false, for beds without any fence device.
   */
  fencing?: boolean;
}

/** Corosync's ring address of a guest: its replication link when it has one. */
export const ringAddr = (g: Guest) => g.replIp ?? g.ip;

export function corosyncConf(nodes: Guest[], o: ClusterOptions = {}): string {
  const node = (g: Guest, i: number) => `  node {\n    ring0_addr: ${ringAddr(g)}\n    name: ${g.name}\n    nodeid: ${i + 1}\n  }\n`;
  return (
    `totem {\n  version: 2\n  cluster_name: ${o.clusterName ?? 'ocfkit'}\n  transport: knet\n  crypto_cipher: none\n  crypto_hash: none\n  token: ${o.tokenMs ?? 3000}\n}\n` +
    `nodelist {\n${nodes.map(node).join('')}}\n` +
    `quorum {\n  provider: corosync_votequorum\n${nodes.length === 2 ? '  two_node: 1\n' : ''}}\n` +
    `logging {\n  to_logfile: yes\n  logfile: /var/log/corosync/corosync.log\n  to_syslog: no\n  timestamp: on\n}\n`
  );
}

/** Online node names as crm_mon reports them (XML output). */
export async function onlineNodes(g: Guest): Promise<string[]> {
  const r = await g.exec(['crm_mon', '-1', '--output-as=xml'], { timeoutMs: 60_000 });
  if (r.code !== 0) return [];
  return [...r.stdout.matchAll(/<node name="([^"]+)"[^>]*\bonline="true"/g)].map((m) => m[1]!);
}

/** Where crm_mon says a resource is active (node names), e.g. for a primitive `d1`. */
export async function resourceNodes(g: Guest, id: string): Promise<string[]> {
  const r = await g.exec(['crm_mon', '-1', '--output-as=xml', '--include=resources'], { timeoutMs: 60_000 });
  if (r.code !== 0) return [];
  const block = new RegExp(`<resource id="${id}"[^>]*\\bactive="true"[^>]*>([\\s\\S]*?)</resource>`).exec(r.stdout);
  return block ? [...block[1]!.matchAll(/<node name="([^"]+)"/g)].map((m) => m[1]!) : [];
}

/** Writes the configuration on every node, starts corosync then pacemakerd, waits for all nodes online. */
export async function startCluster(nodes: Guest[], o: ClusterOptions = {}): Promise<void> {
  const conf = corosyncConf(nodes, o);
  await Promise.all(
    nodes.map(async (g) => {
      await g.writeFile('/etc/corosync/corosync.conf', conf);
      // A fresh CIB with a short dc-deadtime; without fence devices in the bed, no fencing.
      const cib = '/var/lib/pacemaker/cib/cib.xml';
      await g.run(['rm', '-f', cib, `${cib}.sig`]);
      await g.writeFile(cib, await g.run(['cibadmin', '--empty']), { mode: '600' });
      await g.run(['env', `CIB_file=${cib}`, 'crm_attribute', '-t', 'crm_config', '-n', 'dc-deadtime', '-v', o.dcDeadtime ?? '2s']);
      if (!o.fencing) await g.run(['env', `CIB_file=${cib}`, 'crm_attribute', '-t', 'crm_config', '-n', 'stonith-enabled', '-v', 'false']);
      await g.run(['chown', '-R', 'hacluster:haclient', '/var/lib/pacemaker']);
    }),
  );
  await Promise.all(nodes.map((g) => startCorosync(g)));
  await Promise.all(nodes.map((g) => g.spawn(['pacemakerd'], { log: '/var/log/pacemaker/pacemakerd.out' })));
  await waitOnline(nodes, nodes, o.timeoutMs ?? 240_000);
}

async function startCorosync(g: Guest) {
  // /run is a fresh tmpfs at every boot.
  await g.run(['install', '-d', '-o', 'hacluster', '-g', 'haclient', '-m', '750', '/run/crm']);
  await g.spawn(['corosync', '-f'], { log: '/var/log/corosync/corosync.out' });
  await until(async () => (await g.exec(['corosync-cfgtool', '-s'])).code === 0, { timeoutMs: 60_000, what: `corosync running on ${g.name}` });
}

/** Waits until every guest in `observers` sees exactly `nodes` online. */
export async function waitOnline(observers: Guest[], nodes: Guest[], timeoutMs: number): Promise<void> {
  const want = JSON.stringify(nodes.map((g) => g.name).sort());
  for (const g of observers) {
    await until(async () => JSON.stringify((await onlineNodes(g)).sort()) === want, {
      timeoutMs,
      intervalMs: 2000,
      what: `${g.name}: crm_mon shows ${nodes.map((n) => n.name).join(', ')} online`,
    });
  }
}

/**
 * Brings a node back into the cluster after `guest.start()`/`restart()` (nothing starts by itself
 * in a guest): corosync and pacemakerd with the configuration and CIB it kept on its disk, then
 * waits until every node in `all` sees all of them online.
 */
export async function rejoinCluster(g: Guest, all: Guest[], o: { timeoutMs?: number } = {}): Promise<void> {
  await startCorosync(g);
  await g.spawn(['pacemakerd'], { log: '/var/log/pacemaker/pacemakerd.out' });
  await waitOnline(all, all, o.timeoutMs ?? 240_000);
}
