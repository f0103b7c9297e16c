// The QEMU tier-2 harness itself: guests boot from the cached Debian image, commands run with
// exact argv/stdout/stderr/exit status, files travel both ways, the CURRENT agents build is in
// every guest, power-off is hard, restart keeps the disks, and teardown leaves nothing behind.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AGENTS_EXE, qemuAvailability, startGuests, until, type Bed } from './lib/index.js';
import { ROOT } from './lib/image.js';
import { alive } from './lib/sys.js';

const avail = qemuAvailability();
if (!avail.ok) console.warn(`QEMU tier skipped: ${avail.reason}`);

describe.skipIf(!avail.ok)('QEMU harness (TCG guests, Debian kernel)', () => {
  let bed: Bed;
  const pids: number[] = [];

  beforeAll(async () => {
    // The guests must run the code under test: build (skipped when unchanged), then boot.
    const b = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), 'agents'], { encoding: 'utf8', timeout: 300_000 });
    if (b.status !== 0) throw new Error(`node scripts/build.mjs agents failed: ${b.stderr}`);
    const t0 = Date.now();
    bed = await startGuests({ names: ['n1', 'n2'], log: (l) => console.log(l) });
    console.log(`harness: 2 guests booted in ${Date.now() - t0} ms`);
    for (const g of bed.guests) pids.push(g.pid!);
  }, 20 * 60_000);

  afterAll(async () => {
    await bed?.teardown();
  }, 60_000);

  test('guests run Debian 6.1 with their names and addresses, on a bridge with no way out', async () => {
    const n1 = bed.guest('n1');
    expect((await n1.run(['uname', '-r'])).trim()).toMatch(/^6\.1\.0-\d+-amd64$/);
    expect((await n1.run(['hostname'])).trim()).toBe('n1');
    expect(await n1.run(['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'])).toContain(`inet ${n1.ip}/24`);
    expect((await n1.run(['ip', 'route', 'show', 'default'])).trim()).toBe('');
    // No route anywhere but the private subnet (checked locally; nothing is sent).
    const out = await n1.exec(['ip', 'route', 'get', '192.0.2.1']);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/unreachable/i);
    expect(await n1.run(['ping', '-c', '1', '-W', '5', 'n2'])).toMatch(/1 received/);
    // The switch (bridge) has no address and its namespace no route: the host is not reachable either.
    expect(spawnSync('ip', ['-n', bed.netns, '-o', 'addr', 'show', 'dev', 'br0', 'scope', 'global'], { encoding: 'utf8' }).stdout.trim()).toBe('');
    expect(spawnSync('ip', ['-n', bed.netns, 'route', 'show'], { encoding: 'utf8' }).stdout.trim()).toBe('');
  }, 120_000);

  test('exec passes argv exactly, keeps stdout and stderr apart, reports exit codes', async () => {
    const n1 = bed.guest('n1');
    const args = ['a b', '', "it's", 'say "hi"', '$HOME', '`id`', 'ünï€ode', 'line1\nline2', 'back\\slash', '-n', ',', ':', '\t'];
    const r = await n1.exec(['printf', '%s\\0', ...args]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(args.map((a) => `${a}\0`).join(''));
    const e = await n1.exec(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(e).toMatchObject({ code: 3, stdout: 'out\n', stderr: 'err\n', timedOut: false });
    const missing = await n1.exec(['no-such-command-here']);
    expect(missing.code).toBe(127);
    const cat = await n1.exec(['cat'], { stdin: 'from stdin\n' });
    expect(cat.stdout).toBe('from stdin\n');
    await expect(n1.run(['false'])).rejects.toThrow(/exit 1/);
  }, 120_000);

  test('binary files round-trip exactly through the console', async () => {
    const n1 = bed.guest('n1');
    const data = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(40_000)]);
    await n1.writeFile('/root/sub/dir/blob.bin', data, { mode: '600' });
    const sum = (await n1.run(['sha256sum', '/root/sub/dir/blob.bin'])).split(' ')[0];
    expect(sum).toBe(createHash('sha256').update(data).digest('hex'));
    expect((await n1.run(['stat', '-c', '%a', '/root/sub/dir/blob.bin'])).trim()).toBe('600');
    expect((await n1.readFile('/root/sub/dir/blob.bin')).equals(data)).toBe(true);
  }, 120_000);

  test('concurrent commands get their own answers; a command past its bound is stopped', async () => {
    const n1 = bed.guest('n1');
    const slow = n1.exec(['sleep', '60'], { timeoutMs: 3000 });
    // An upload in pieces, with commands queued behind it and answers arriving meanwhile.
    const blob = randomBytes(200_000);
    const upload = n1.writeFile('/root/concurrent.bin', blob);
    const rs = await Promise.all([5, 1, 3, 2, 4].map((i) => n1.exec(['sh', '-c', 'sleep "$1"; echo "$1"', 'sh', `0.${i}`])));
    expect(rs.map((r) => r.stdout.trim())).toEqual(['0.5', '0.1', '0.3', '0.2', '0.4']);
    await upload;
    expect((await n1.run(['sha256sum', '/root/concurrent.bin'])).split(' ')[0]).toBe(createHash('sha256').update(blob).digest('hex'));
    const t = await slow;
    expect(t.timedOut).toBe(true);
    expect(t.code).toBe(124);
    expect((await n1.run(['echo', 'still serving'])).trim()).toBe('still serving');
  }, 120_000);

  test('the current build of the agents is on every guest, and Pacemaker-style link names work', async () => {
    const hostSum = createHash('sha256').update(readFileSync(AGENTS_EXE)).digest('hex');
    expect(bed.agentsSha256).toBe(hostSum);
    const n2 = bed.guest('n2');
    const inGuest = (await n2.run(['sha256sum', '/opt/ocfkit/ocfkit-agents'], { timeoutMs: 120_000 })).split(' ')[0];
    expect(inGuest).toBe(hostSum);
    await n2.run(['mkdir', '-p', '/usr/lib/ocf/resource.d/ocfkit']);
    await n2.run(['ln', '-sf', '/opt/ocfkit/ocfkit-agents', '/usr/lib/ocf/resource.d/ocfkit/IPaddr2']);
    const r = await n2.exec(['env', '-i', 'OCF_ROOT=/usr/lib/ocf', '/usr/lib/ocf/resource.d/ocfkit/IPaddr2', 'meta-data'], { timeoutMs: 120_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(ROOT, 'build', 'metadata', 'IPaddr2.xml'), 'utf8'));
  }, 300_000);

  test('daemons start detached, and orphans are reaped (no zombies)', async () => {
    const n1 = bed.guest('n1');
    const pid = await n1.spawn(['sleep', '300'], { log: '/var/log/sleep.log' });
    expect(pid).toBeGreaterThan(1);
    expect((await n1.exec(['kill', '-0', String(pid)])).code).toBe(0);
    // A process whose parent exits becomes PID 1's child; PID 1 must collect it when it ends.
    await n1.run(['sh', '-c', '(sleep 0.2 &) ; exit 0']);
    await until(async () => !(await n1.run(['ps', '-eo', 'stat='])).split('\n').some((s) => s.startsWith('Z')), {
      timeoutMs: 20_000,
      what: 'no zombie processes on n1',
    });
  }, 120_000);

  test('power off is hard; restart boots again with the same root and data disks', async () => {
    const n2 = bed.guest('n2');
    await n2.writeFile('/root/kept.txt', 'survives a power cycle\n');
    await n2.run(['sync']);
    await n2.run(['dd', 'if=/dev/urandom', 'of=/dev/vdb', 'bs=4096', 'count=1', 'oflag=direct'], { timeoutMs: 30_000 });
    const dataSum = await n2.run(['sh', '-c', 'head -c 4096 /dev/vdb | sha256sum']);
    const bootBefore = (await n2.run(['cat', '/proc/sys/kernel/random/boot_id'])).trim();
    const pid = n2.pid!;
    await n2.powerOff();
    expect(alive(pid)).toBe(false);
    expect(n2.running).toBe(false);
    await expect(n2.exec(['true'])).rejects.toThrow(/not running/);
    const t0 = Date.now();
    await n2.start();
    console.log(`harness: n2 rebooted in ${Date.now() - t0} ms`);
    pids.push(n2.pid!);
    expect((await n2.run(['cat', '/proc/sys/kernel/random/boot_id'])).trim()).not.toBe(bootBefore);
    expect(await n2.run(['cat', '/root/kept.txt'])).toBe('survives a power cycle\n');
    expect(await n2.run(['sh', '-c', 'head -c 4096 /dev/vdb | sha256sum'])).toBe(dataSum);
    expect(await n2.run(['ping', '-c', '1', '-W', '5', 'n1'])).toMatch(/1 received/);
  }, 400_000);

  test('teardown leaves no qemu process, namespace, tap or temporary file', async () => {
    const { netns, dir } = bed;
    expect(existsSync(`/run/netns/${netns}`)).toBe(true);
    await bed.teardown();
    for (const pid of pids) expect(alive(pid), `qemu pid ${pid}`).toBe(false);
    expect(existsSync(`/run/netns/${netns}`)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    // The bridge and the taps were made inside that namespace (never in the host's) and went with it.
    expect(spawnSync('ip', ['-n', netns, 'link', 'show']).status).not.toBe(0);
  }, 60_000);
});
