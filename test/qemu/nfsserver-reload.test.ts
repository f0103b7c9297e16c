// nfsserver's reload-agent with the real kernel NFS server (Debian's 6.1 nfsd) in a QEMU guest and a
// second guest as NFS client: exports are added, changed (ro → rw) and removed in place while the
// client keeps writing to an unchanged export; nfsd, rpc.mountd and rpc.statd are never restarted
// (same PIDs, same threads), and the kernel applies each change (a new mount works, a write to a
// read-only export fails and works once it is rw, a removed export is refused).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseExportfsVerbose } from '../../src/sys/nfs/etab.js';
import { ROOT } from './lib/image.js';
import { qemuAvailability, startGuests, until, type Bed, type Guest } from './lib/index.js';

const avail = qemuAvailability();
if (!avail.ok) console.warn(`QEMU tier skipped: ${avail.reason}`);

const AGENT = '/usr/lib/ocf/resource.d/ocfkit/nfsserver';
const FLOAT = '10.99.0.200';
const SHARED = '/srv/nfs';
const INFODIR = `${SHARED}/nfsinfo`;
const A = `${SHARED}/a`;
const B = `${SHARED}/b`;
const NET = '10.99.0.0/24';
const entryA = `${A} ${NET}(rw,sync,no_root_squash,no_subtree_check,fsid=21)`;
const entryB = (opts: string) => `${B} ${NET}(${opts},sync,no_root_squash,no_subtree_check,fsid=22)`;
const params = (exports: string): Record<string, string> => ({ nfs_shared_infodir: INFODIR, nfs_ip: FLOAT, exports, nfs_no_notify: 'true' });
/** Generous op timeouts: TCG guests on a busy 2-core host are slow. */
const META = { timeout: 240_000 };
const MOUNT_OPTS = 'vers=3,proto=tcp,hard,timeo=50,nolock';

describe.skipIf(!avail.ok)('nfsserver reload-agent with the kernel NFS server (QEMU guests)', () => {
  let bed: Bed;
  let n1: Guest;
  let client: Guest;

  const agent = async (action: string, exports: string, meta: Record<string, string | number> = {}) => {
    const env = ['OCF_ROOT=/usr/lib/ocf', 'OCF_RESOURCE_INSTANCE=nfs', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin'];
    for (const [k, v] of Object.entries(params(exports))) env.push(`OCF_RESKEY_${k}=${v}`);
    for (const [k, v] of Object.entries({ ...META, ...meta })) env.push(`OCF_RESKEY_CRM_meta_${k}=${v}`);
    const r = await n1.exec(['env', '-i', ...env, AGENT, action], { timeoutMs: 300_000 });
    return { ...r, reason: /^ocf-exit-reason:(.*)$/m.exec(r.stderr)?.[1] };
  };
  const out = async (g: Guest, argv: string[]) => (await g.run(argv, { timeoutMs: 120_000 })).trim();
  const pids = async (g: Guest, name: string) => {
    const r = await g.exec(['pgrep', '-x', name]);
    return r.code === 0 ? r.stdout.trim().split('\n').map(Number) : [];
  };
  /** What must not change across a reload: the daemons' PIDs, nfsd's threads. */
  const server = async () => ({ mountd: await pids(n1, 'rpc.mountd'), statd: await pids(n1, 'rpc.statd'), nfsd: await pids(n1, 'nfsd'), threads: await out(n1, ['cat', '/proc/fs/nfsd/threads']) });
  const exportedDirs = async () => parseExportfsVerbose(await out(n1, ['exportfs', '-v'])).map((e) => e.dir).sort();
  /** Lines the client's writer has appended to A so far (it appends one every 0.2 s). */
  const written = async () => Number((await out(n1, ['wc', '-l', `${A}/stream`])).split(' ')[0]);
  /** The writer keeps going: more lines than before, and it reported no failed write. */
  const writerAlive = async (since: number) => {
    await until(async () => (await written()) > since + 3, { timeoutMs: 120_000, what: 'the client keeps writing to the unchanged export' });
    expect(await out(client, ['cat', '/var/log/writer.err'])).toBe('');
  };

  beforeAll(async () => {
    const b = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), 'agents'], { encoding: 'utf8', timeout: 300_000 });
    if (b.status !== 0) throw new Error(`node scripts/build.mjs agents failed: ${b.stderr}`);
    bed = await startGuests({ guests: [{ name: 'n1', dataDiskMiB: 128 }, { name: 'client', dataDiskMiB: 0, memoryMiB: 512 }], log: (l) => console.log(l) });
    n1 = bed.guest('n1');
    client = bed.guest('client');
    await n1.run(['mkdir', '-p', '/usr/lib/ocf/resource.d/ocfkit']);
    await n1.run(['ln', '-sf', '/opt/ocfkit/ocfkit-agents', AGENT]);
    await n1.run(['mkfs.ext4', '-q', '/dev/vdb'], { timeoutMs: 120_000 });
    await n1.run(['mkdir', '-p', SHARED]);
    await n1.run(['mount', '/dev/vdb', SHARED]);
    await n1.run(['mkdir', '-p', A, B]);
    await n1.writeFile(`${B}/hello.txt`, 'export b\n');
    await client.run(['rpcbind', '-w']);
    await client.run(['mkdir', '-p', '/mnt/a', '/mnt/b']);
    await client.run(['touch', '/var/log/writer.err']);
  }, 20 * 60_000);

  afterAll(async () => {
    if (client) {
      await client.exec(['umount', '-f', '-l', '/mnt/a']).catch(() => undefined);
      await client.exec(['umount', '-f', '-l', '/mnt/b']).catch(() => undefined);
    }
    await bed?.teardown();
  }, 120_000);

  test('start with export a; the client mounts it and keeps writing', async () => {
    const r = await agent('start', entryA);
    expect(r.code, r.stderr).toBe(0);
    await n1.run(['ip', 'addr', 'add', `${FLOAT}/24`, 'dev', 'eth0']);
    await client.run(['mount', '-t', 'nfs', '-o', MOUNT_OPTS, `${FLOAT}:${A}`, '/mnt/a'], { timeoutMs: 180_000 });
    await client.spawn(['sh', '-c', 'while :; do date +%s.%N >> /mnt/a/stream || echo "write failed at $(date +%s.%N)" >> /var/log/writer.err; sleep 0.2; done'], { log: '/var/log/writer.log' });
    await writerAlive(0);
  }, 900_000);

  test('reload adds b (read-only): the client mounts it, cannot write; a and the daemons untouched', async () => {
    const before = await server();
    expect(before.mountd.length).toBe(1);
    expect(before.statd.length).toBe(1);
    const since = await written();
    const r = await agent('reload-agent', `${entryA}; ${entryB('ro')}`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('1 added, 0 changed, 0 removed, 1 unchanged');
    expect(await exportedDirs()).toEqual([A, B]);
    await client.run(['mount', '-t', 'nfs', '-o', MOUNT_OPTS, `${FLOAT}:${B}`, '/mnt/b'], { timeoutMs: 180_000 });
    expect(await out(client, ['cat', '/mnt/b/hello.txt'])).toBe('export b');
    const w = await client.exec(['sh', '-c', 'echo x > /mnt/b/from-client']);
    expect(w.code).not.toBe(0);
    expect(w.stderr).toMatch(/Read-only file system/);
    await writerAlive(since);
    expect(await server()).toEqual(before);
    expect((await agent('monitor', `${entryA}; ${entryB('ro')}`, { interval: 10_000 })).code).toBe(0);
  }, 900_000);

  test("reload changes b to rw: the client's existing mount can write; a and the daemons untouched", async () => {
    const before = await server();
    const since = await written();
    const r = await agent('reload-agent', `${entryA}; ${entryB('rw')}`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('0 added, 1 changed, 0 removed, 1 unchanged');
    // exportfs flushes the kernel's export cache: the mounted client's next write is allowed.
    await until(async () => (await client.exec(['sh', '-c', 'echo x > /mnt/b/from-client'])).code === 0, { timeoutMs: 60_000, what: 'the client writes to b once it is rw' });
    expect(await out(n1, ['cat', `${B}/from-client`])).toBe('x');
    await writerAlive(since);
    expect(await server()).toEqual(before);
  }, 900_000);

  test('an invalid table: 6, nothing changes', async () => {
    const exportsBefore = await out(n1, ['exportfs', '-v']);
    const r = await agent('reload-agent', `${entryA}; ${B} ${NET}(rw,fsid=21)`);
    expect(r.code, r.stderr).toBe(6);
    expect(await out(n1, ['exportfs', '-v'])).toBe(exportsBefore);
  }, 900_000);

  test('reload removes b: the kernel refuses it (a new mount fails), a and the daemons untouched', async () => {
    const before = await server();
    const since = await written();
    await client.run(['umount', '/mnt/b'], { timeoutMs: 120_000 });
    const r = await agent('reload-agent', entryA);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('0 added, 0 changed, 1 removed, 1 unchanged');
    expect(await exportedDirs()).toEqual([A]);
    const m = await client.exec(['mount', '-t', 'nfs', '-o', `${MOUNT_OPTS},retry=0`, `${FLOAT}:${B}`, '/mnt/b'], { timeoutMs: 180_000 });
    expect(m.code).not.toBe(0);
    expect(m.stderr).toMatch(/access denied|No such file|not exported/i);
    await writerAlive(since);
    expect(await server()).toEqual(before);
    expect((await agent('monitor', entryA, { interval: 10_000 })).code).toBe(0);
  }, 900_000);
});
