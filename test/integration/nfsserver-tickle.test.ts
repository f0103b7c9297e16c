import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NOTIFIER_SCRIPT, notifierArgs } from '../../src/sys/nfs/notify.js';
import { CLIENT_LIST, loadClientConnections, tickleTcp } from '../../src/sys/nfs/tickle.js';
import { AGENTS_EXE } from '../helpers/agent.js';
import { runAllButNfsd, Sandbox, sandboxRegistry, serveNfsStandin, sleepMs, statd, waitFor } from '../helpers/nfs-sandbox.js';
import { have, isRoot, uniqueName } from '../helpers/system.js';

/**
 * Connection reset on takeover (nfsserver's tickle_clients) on this machine's kernel: three sandboxes
 * (network, mount and PID namespaces of their own) on one bridge — the node that served, the node
 * that takes over, and a client holding a TCP connection to the floating address's port 2049, as an
 * NFS client does. The serving node runs the real daemons and the NFS stand-in (this kernel has no
 * nfsd; see test/helpers/nfs-sandbox.ts); its monitor is the built agent's. The serving node then
 * vanishes without a word (its port on the bridge cut first, then every process killed), as a node
 * that loses power does. On the new node the real IPaddr2 agent brings the address up (gratuitous
 * ARP) and the agent's notifier script runs resource-agents' real tickle_tcp. The agent's start
 * there needs the kernel's nfsd (QEMU tier), so the step it takes before starting the notifier,
 * loading the list from the shared storage, is called here directly.
 */

let base: string;
const { sandbox, killAll } = sandboxRegistry();

beforeAll(() => {
  if (!isRoot()) throw new Error('these tests need root (namespaces, bind mounts, daemons)');
  const missing = ['unshare', 'nsenter', 'setsid', 'ip', 'rpcbind', 'rpc.statd', 'rpc.mountd', 'exportfs'].filter((t) => !have(t));
  if (missing.length) throw new Error(`missing tools: ${missing.join(', ')} (install util-linux iproute2 nfs-kernel-server)`);
  if (!tickleTcp(process.env)) throw new Error('tickle_tcp is missing (install resource-agents)');
  if (!existsSync(AGENTS_EXE)) throw new Error(`${AGENTS_EXE} is not built: node scripts/build.mjs agents`);
  base = mkdtempSync(join(tmpdir(), 'ocfkit-tickle-'));
  chmodSync(base, 0o755); // statd drops root: it must reach its directory
});
afterEach(killAll);
afterAll(() => {
  killAll();
  if (base) rmSync(base, { recursive: true, force: true });
});

/** An idle TCP client, like an NFS client between calls: it says when it is connected and when the connection ends. */
const CLIENT = `const s = require('net').connect({ host: process.argv[1], port: 2049 }, () => console.log('connected ' + s.localPort));
s.on('error', (e) => console.log('error ' + e.code));
s.on('close', () => { console.log('closed'); process.exit(0); });`;

function lan() {
  const n = uniqueName('');
  const net = 10 + (Number.parseInt(n.slice(-3), 36) % 200);
  const ip = { float: `10.79.${net}.1`, client: `10.79.${net}.2`, old: `10.79.${net}.3`, new: `10.79.${net}.4` };
  const client = sandbox();
  client.run(['ip', 'link', 'add', 'br0', 'type', 'bridge']);
  client.run(['ip', 'addr', 'add', `${ip.client}/24`, 'dev', 'br0']);
  client.run(['ip', 'link', 'set', 'br0', 'up']);
  /** A server's port on the client's bridge: its device in the server, and the bridge's end. */
  const plug = (server: Sandbox, address: string) => {
    const [dev, port] = [uniqueName('tks'), uniqueName('tkb')];
    const r = spawnSync('ip', ['link', 'add', dev, 'netns', String(server.pid), 'type', 'veth', 'peer', 'name', port, 'netns', String(client.pid)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip link add: ${r.stderr}`);
    client.run(['ip', 'link', 'set', port, 'master', 'br0', 'up']);
    server.run(['ip', 'addr', 'add', `${address}/24`, 'dev', dev]);
    server.run(['ip', 'link', 'set', dev, 'up']);
    return { dev, port };
  };
  return { ip, client, plug };
}

/** A node serving the floating address on the client's bridge, and the client connected to it. */
function servingWithClient() {
  const { ip, client, plug } = lan();
  const node = sandbox();
  const { infodir, params } = runAllButNfsd(node, mkdtempSync(join(base, 'node-')), ip.float);
  serveNfsStandin(node, base);
  const port = plug(node, ip.old);
  node.run(['ip', 'addr', 'add', `${ip.float}/24`, 'dev', port.dev]);
  const clientLog = join(base, `client-${client.pid}.log`);
  client.detach([process.execPath, '-e', CLIENT, ip.float], clientLog);
  const log = () => (existsSync(clientLog) ? readFileSync(clientLog, 'utf8') : '');
  waitFor('the client to connect', () => /connected \d+/.test(log()), 10_000, log);
  const recorded = `${ip.float}:2049 ${ip.client}:${/connected (\d+)/.exec(log())![1]}\n`;
  return { ip, client, plug, node, port, infodir, params: { ...params, tickle_clients: 'true' }, list: join(infodir, CLIENT_LIST), log, recorded };
}

/**
 * The client connected to the old node, the old node's monitor recording it, the old node gone
 * silently, the new node plugged in with its notifier started as the agent's start does (with the
 * recorded list when `tickle`). Returns when IPaddr2 on the new node has returned from start.
 */
function takeover(o: { tickle: boolean }) {
  const { ip, client, plug, node: old, port: oldPort, infodir, params, list, log, recorded } = servingWithClient();
  // A probe records nothing (it may run on a node that does not serve); a recurring monitor does.
  let r = old.agent('monitor', params);
  expect(r.code, r.stderr).toBe(0);
  expect(existsSync(list)).toBe(false);
  r = old.agent('monitor', params, { interval: 10_000 });
  expect(r.code, r.stderr).toBe(0);
  expect(readFileSync(list, 'utf8')).toBe(recorded);
  expect(statSync(list).uid).toBe(0);
  expect(statSync(list).mode & 0o777).toBe(0o600);

  // The old node loses power: nothing it sends reaches the client any more, then everything of it ends.
  client.run(['ip', 'link', 'set', oldPort.port, 'down']);
  old.kill();
  sleepMs(1000);
  expect(log()).not.toMatch(/closed|error/);

  const fresh = sandbox();
  const freshPort = plug(fresh, ip.new);
  fresh.run(['mkdir', '-p', '/run/resource-agents']);
  fresh.run(['mount', '-t', 'sysfs', 'sysfs', '/sys']); // its own interfaces, for IPaddr2
  const state = (name: string) => `/run/resource-agents/nfsserver-nfs.${name}`;
  let tickle: { file: string; program: string } | undefined;
  if (o.tickle) {
    // What start does before it starts the notifier (the file goes to the new node's own /run).
    expect(loadClientConnections(infodir, [ip.float], `/proc/${fresh.pid}/root${state('tickle')}`)).toBe(1);
    tickle = { file: state('tickle'), program: tickleTcp(process.env)! };
  }
  const args = notifierArgs({ waitFor: [ip.float], names: [], statdDir: '/var/lib/nfs', waitSeconds: 60, pidFile: state('notify.pid'), failedFile: state('notify.failed'), tag: 'nfsserver(nfs)', statdOwner: statd(), tickle });
  fresh.run(['setsid', '-f', 'sh', '-c', NOTIFIER_SCRIPT, ...args]);
  waitFor('the notifier pid file', () => fresh.exec(['test', '-s', state('notify.pid')]).code === 0, 5000);

  r = fresh.agent('start', { ip: ip.float, cidr_netmask: '24', nic: freshPort.dev }, { timeout: 20_000 }, { agent: 'IPaddr2', instance: 'vip' });
  expect(r.code, r.stderr).toBe(0);
  return { log, notifierDone: () => fresh.exec(['test', '-e', state('notify.pid')]).code !== 0 };
}

describe('connection reset on takeover (tickle_clients)', () => {
  it("the old node's monitor records the client; once the address is up on the new node, the client's connection is reset at once", () => {
    const t = takeover({ tickle: true });
    waitFor("the client's connection to be reset", () => t.log().includes('closed'), 10_000, t.log);
    expect(t.log()).toContain('error ECONNRESET');
    waitFor('the notifier to finish', t.notifierDone, 15_000);
  });

  it('control: without the recorded list the same takeover leaves the client on its dead connection', () => {
    const t = takeover({ tickle: false });
    waitFor('the notifier to finish', t.notifierDone, 15_000);
    sleepMs(10_000);
    expect(t.log()).toMatch(/^connected \d+\n$/);
  });

  it("stop records the connections made since the last monitor before nfsd closes them; a stop with none keeps the list", () => {
    const { client, node, infodir, params, list, recorded } = servingWithClient();
    expect(existsSync(list)).toBe(false);

    let r = node.agent('stop', params, { timeout: 20_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(list, 'utf8')).toBe(recorded);

    // Bound again with nothing connected (a start that failed before serving): the list stays.
    node.run(['mount', '--bind', infodir, '/var/lib/nfs']);
    client.run(['ip', 'link', 'set', 'br0', 'down']);
    node.run(['kill', ...node.pids('node').map(String)]); // the stand-in: its connection closes (the FIN goes nowhere)
    waitFor('no connection on port 2049', () => !node.run(['cat', '/proc/net/tcp', '/proc/net/tcp6']).split('\n').some((l) => / 01 /.test(l) && /:0801 /.test(l)));
    r = node.agent('stop', params, { timeout: 20_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(list, 'utf8')).toBe(recorded);
  });
});
