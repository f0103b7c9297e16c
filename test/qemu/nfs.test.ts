// The kernel NFS server (Debian's nfs-kernel-server, without systemd) in one QEMU guest exports a
// directory on an ext4 data disk; another guest mounts it over NFSv4.2 and NFSv3 and writes to it.
// With OCFKIT_QEMU_SAVE_FIXTURES=1 the server's command outputs go to test/fixtures/nfs-kernel/.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { Captures } from './lib/capture.js';
import { ROOT } from './lib/image.js';
import { qemuAvailability, startGuests, until, type Bed, type Guest } from './lib/index.js';

const avail = qemuAvailability();
if (!avail.ok) console.warn(`QEMU tier skipped: ${avail.reason}`);

const EXPORT = '/srv/nfs/export';
const EXPORTS = `${EXPORT} 10.99.0.0/24(rw,sync,no_subtree_check,no_root_squash,fsid=1)\n`;

describe.skipIf(!avail.ok)('kernel NFS server in a QEMU guest, mounted by another', () => {
  let bed: Bed;
  let server: Guest;
  let client: Guest;
  const cap = new Captures('Debian nfs-kernel-server (kernel nfsd) in a QEMU guest (test/qemu/nfs.test.ts)');
  const timings: Record<string, number> = {};
  let failed = false;

  beforeAll(async () => {
    const t0 = Date.now();
    bed = await startGuests({ guests: [{ name: 'n1', dataDiskMiB: 128 }, { name: 'client', dataDiskMiB: 0, memoryMiB: 512 }], agents: false, log: (l) => console.log(l) });
    timings.boot = Date.now() - t0;
    server = bed.guest('n1');
    client = bed.guest('client');
  }, 20 * 60_000);

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') failed = true;
  });

  afterAll(async () => {
    console.log(`nfs timings (ms): ${JSON.stringify(timings)}`);
    if (process.env.OCFKIT_QEMU_SAVE_FIXTURES === '1' && !failed && cap.all.length > 0) {
      cap.save(join(ROOT, 'test', 'fixtures', 'nfs-kernel'), [
        `kernel ${(await server.exec(['uname', '-r'])).stdout.trim()}; ${(await server.exec(['dpkg-query', '-W', 'nfs-kernel-server', 'nfs-common', 'rpcbind'])).stdout.trim().replace(/\n/g, ', ').replace(/\t/g, ' ')}`,
        `no systemd: services started with the Debian init scripts; server n1 = 10.99.0.11, client = 10.99.0.12; /etc/exports: ${EXPORTS.trim()}`,
      ]);
    }
    await bed?.teardown();
  }, 120_000);

  test('the server starts: rpcbind, nfs-common, nfs-kernel-server; nfsd threads run and the export is listed', async () => {
    const t0 = Date.now();
    await server.run(['mkfs.ext4', '-q', '/dev/vdb'], { timeoutMs: 120_000 });
    await server.run(['mkdir', '-p', '/srv/nfs']);
    await server.run(['mount', '/dev/vdb', '/srv/nfs']);
    await server.run(['mkdir', '-p', EXPORT]);
    await server.writeFile('/etc/exports', EXPORTS);
    const [stopped] = await cap.runAll(server, 'stopped', 'before any NFS service started', [['/etc/init.d/nfs-kernel-server', 'status']]);
    expect(stopped!.code).toBe(3);
    // Without systemd nothing starts rpcbind; statd (nfs-common) needs it.
    await server.run(['rpcbind', '-w']);
    await cap.run(server, 'start', 'rpcbind -w running; starting the NFS services', ['/etc/init.d/nfs-common', 'start'], 120_000);
    const start = await cap.run(server, 'start', 'rpcbind -w running; starting the NFS services', ['/etc/init.d/nfs-kernel-server', 'start'], 180_000);
    expect(start.code).toBe(0);
    timings.serverStart = Date.now() - t0;
    const [status, threads, versions, exportfs, rpcinfo] = await cap.runAll(server, 'running', 'nfs-kernel-server started, nothing mounted yet', [
      ['/etc/init.d/nfs-kernel-server', 'status'],
      ['cat', '/proc/fs/nfsd/threads'],
      ['cat', '/proc/fs/nfsd/versions'],
      ['exportfs', '-v'],
      ['rpcinfo', '-p'],
      ['ls', '-l', '/var/lib/nfs'],
    ]);
    expect(status!.code).toBe(0);
    expect(Number(threads!.stdout)).toBeGreaterThan(0);
    expect(versions!.stdout).toMatch(/\+4\.2/);
    expect(exportfs!.stdout).toContain(EXPORT);
    expect(rpcinfo!.stdout).toMatch(/100003\s+4\s+tcp\s+2049\s+nfs/);
    expect(rpcinfo!.stdout).toMatch(/mountd/);
  }, 400_000);

  test('the client mounts the export over NFSv4.2, writes, and the server sees the bytes', async () => {
    const t0 = Date.now();
    await client.run(['mkdir', '-p', '/mnt/nfs']);
    await client.run(['mount', '-t', 'nfs', '-o', 'vers=4.2', `n1:${EXPORT}`, '/mnt/nfs'], { timeoutMs: 120_000 });
    timings.mountV4 = Date.now() - t0;
    const mounts = await cap.run(client, 'client-mounted-v4', 'client with the export mounted over NFSv4.2', ['grep', ' nfs4 ', '/proc/mounts']);
    expect(mounts.stdout).toContain(`n1:${EXPORT} /mnt/nfs nfs4 rw`);
    const data = randomBytes(100_000);
    await client.writeFile('/mnt/nfs/from-client.bin', data);
    await client.run(['sync']);
    expect((await server.readFile(`${EXPORT}/from-client.bin`)).equals(data)).toBe(true);
    await server.writeFile(`${EXPORT}/from-server.txt`, 'written on the server\n');
    // NFS attribute caching can hide a fresh file for a moment: bounded wait.
    await until(async () => (await client.exec(['cat', '/mnt/nfs/from-server.txt'])).stdout === 'written on the server\n', {
      timeoutMs: 30_000,
      what: 'client reads the file the server wrote',
    });
    await cap.runAll(server, 'client-mounted-v4', 'client with the export mounted over NFSv4.2', [['sh', '-c', 'cat /proc/fs/nfsd/clients/*/info']]);
    await client.run(['umount', '/mnt/nfs'], { timeoutMs: 120_000 });
  }, 400_000);

  test('the client mounts over NFSv3 (mountd) and writes', async () => {
    await client.run(['mount', '-t', 'nfs', '-o', 'vers=3,nolock', `n1:${EXPORT}`, '/mnt/nfs'], { timeoutMs: 120_000 });
    const mounts = await cap.run(client, 'client-mounted-v3', 'client with the export mounted over NFSv3 (nolock)', ['grep', ' nfs ', '/proc/mounts']);
    expect(mounts.stdout).toMatch(/vers=3/);
    await client.writeFile('/mnt/nfs/v3.txt', 'over v3\n');
    await client.run(['sync']);
    expect((await server.readFile(`${EXPORT}/v3.txt`)).toString()).toBe('over v3\n');
    await cap.runAll(server, 'client-mounted-v3', 'client with the export mounted over NFSv3 (nolock)', [['showmount', '--no-headers', '-a']]);
    await client.run(['umount', '/mnt/nfs'], { timeoutMs: 120_000 });
  }, 400_000);

  test('the server stops: no nfsd threads, nothing exported', async () => {
    const stop = await cap.run(server, 'stop', 'after /etc/init.d/nfs-kernel-server stop (immediately)', ['/etc/init.d/nfs-kernel-server', 'stop'], 120_000);
    expect(stop.code).toBe(0);
    await cap.runAll(server, 'stop', 'after /etc/init.d/nfs-kernel-server stop (immediately)', [
      ['/etc/init.d/nfs-kernel-server', 'status'],
      ['cat', '/proc/fs/nfsd/threads'],
      ['exportfs', '-v'],
    ]);
    // The init script signals the nfsd kernel threads and returns; they may take a moment to go.
    const t0 = Date.now();
    const gone = await until(async () => (await server.run(['cat', '/proc/fs/nfsd/threads'])).trim() === '0', { timeoutMs: 10_000, what: 'nfsd threads gone after stop' }).then(
      () => true,
      () => false,
    );
    console.log(`nfs: nfsd threads ${gone ? `gone ${Date.now() - t0} ms after the init script's stop` : 'still running 10 s after the init script stop'}`);
    if (!gone) await server.run(['rpc.nfsd', '0']);
    await until(async () => (await server.run(['cat', '/proc/fs/nfsd/threads'])).trim() === '0', { timeoutMs: 30_000, what: 'no nfsd threads' });
    const [status] = await cap.runAll(server, 'stopped-settled', `nfsd threads at 0 (${gone ? 'by the init script alone' : 'after rpc.nfsd 0'})`, [
      ['/etc/init.d/nfs-kernel-server', 'status'],
      ['cat', '/proc/fs/nfsd/threads'],
      ['exportfs', '-v'],
    ]);
    expect(status!.code).toBe(3);
    expect((await server.run(['exportfs', '-v'])).trim()).toBe('');
  }, 300_000);
});
