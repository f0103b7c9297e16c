import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MountEntry } from '../../src/sys/mountinfo.js';
import { isOurStatd, mountdArgs, nfsdCommand, WITH_HOSTNAME } from '../../src/sys/nfs/daemons.js';
import { ExportSyntaxError, exportfsParamLines } from '../../src/sys/nfs/exports.js';
import { mountsInside } from '../../src/sys/nfs/mounts.js';
import { parseVersions } from '../../src/sys/nfs/nfsd.js';
import { NOTIFIER_NAME, notifierArgs, smNotifyArgs } from '../../src/sys/nfs/notify.js';
import { argValue, parseStat } from '../../src/sys/nfs/processes.js';
import { systemdDropins, systemdUnitsToStop, type ServerConfig } from '../../src/sys/nfs/server.js';
import { passwdLookup, restoreNotifyList, snapshotNotifyList, statdArgs, statdArgvMatches } from '../../src/sys/nfs/statd.js';
import { execStartDropin, systemdQuote } from '../../src/sys/nfs/systemd.js';

describe('/proc facts', () => {
  it('reads /proc/<pid>/stat, kernel threads and zombies included', () => {
    // /proc/<pid>/stat lines of an nfsd kernel thread (flags 0x208040: PF_KTHREAD) and of rpc.mountd;
    // comm may contain ") ". test/qemu/nfsserver.test.ts parses a live nfsd thread's line.
    const kthread = parseStat('812 (nfsd) S 2 0 0 0 -1 2129984 0 0 0 0 0 3 0 0 20 0 1 0 6531 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0');
    expect(kthread).toEqual({ pid: 812, comm: 'nfsd', ppid: 2, kernelThread: true, state: 'S' });
    const daemon = parseStat('640 (rpc.mountd) S 1 640 640 0 -1 4194368 115 0 0 0 0 0 0 0 20 0 1 0 6022 5550080 403 18446744073709551615 1 1 0 0 0 0 0 4096 81923 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0');
    expect(daemon).toMatchObject({ comm: 'rpc.mountd', kernelThread: false, ppid: 1 });
    expect(parseStat('77 (a) b) Z 1 77 77 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0')).toMatchObject({ comm: 'a) b', state: 'Z' });
  });
  it('reads /proc/fs/nfsd/versions', () => {
    expect(parseVersions('-2 +3 +4 +4.1 +4.2\n')).toEqual({ '2': false, '3': true, '4': true, '4.1': true, '4.2': true });
    expect(parseVersions('-2 -3 +4 -4.0 +4.1 +4.2')['3']).toBe(false);
  });
  it('finds option values in argv', () => {
    expect(argValue(['rpc.statd', '--no-notify', '-P', '/x', '-n', 'vip'], '-n', '--name')).toBe('vip');
    expect(argValue(['rpc.statd', '--name=vip2'], '-n', '--name')).toBe('vip2');
    expect(argValue(['rpc.statd'], '-n', '--name')).toBeUndefined();
  });
});

describe('daemon command lines', () => {
  it('statd: no notification at start, shared state directory, identity, ports', () => {
    const c = { identity: '10.0.0.50', dir: '/var/lib/nfs', port: 4000, outgoingPort: 4001 };
    expect(statdArgs(c)).toEqual(['--no-notify', '-P', '/var/lib/nfs', '-n', '10.0.0.50', '-p', '4000', '-o', '4001']);
    expect(statdArgvMatches(['rpc.statd', ...statdArgs(c)], c)).toBeUndefined();
    expect(statdArgvMatches(['/sbin/rpc.statd'], c)).toBe('rpc.statd runs as this host, not as 10.0.0.50');
    expect(statdArgvMatches(['rpc.statd', '-n', '10.0.0.50', '-P', '/var/lib/nfs/statd'], c)).toBe('rpc.statd keeps its state in /var/lib/nfs/statd, not in /var/lib/nfs');
    expect(statdArgvMatches(['rpc.statd', '--name=10.0.0.50'], c)).toBeUndefined(); // default state dir /var/lib/nfs
    // ours: our fixed arguments; a boot-time statd (no arguments) is the node's even where its name and directory fit
    expect(isOurStatd(['rpc.statd', ...statdArgs(c)], c)).toBe(true);
    expect(isOurStatd(['/sbin/rpc.statd'], { dir: '/var/lib/nfs' })).toBe(false);
    expect(isOurStatd(['rpc.statd', '--no-notify', '-P', '/var/lib/nfs'], { dir: '/var/lib/nfs' })).toBe(true);
  });
  it('nfsd: threads, NFSv4 only, server scope through a UTS namespace with a fixed script', () => {
    expect(nfsdCommand({ v4only: false, threads: 16, args: ['-V', '4.2'] })).toEqual(['rpc.nfsd', ['-V', '4.2', '16']]);
    expect(nfsdCommand({ v4only: true, args: [] })).toEqual(['rpc.nfsd', ['-N', '2', '-N', '3']]);
    const [cmd, args] = nfsdCommand({ v4only: false, threads: 8, args: [], scope: 'nfs-vip' });
    expect(cmd).toBe('unshare');
    expect(args).toEqual(['--uts', '--', 'sh', '-c', WITH_HOSTNAME, 'nfsd-scope', 'nfs-vip', 'rpc.nfsd', '8']);
    expect(WITH_HOSTNAME).not.toMatch(/nfs-vip/); // the value is an argument, never part of the script
    expect(mountdArgs({ v4only: true, port: 892 })).toEqual(['-p', '892', '-N', '2', '-N', '3']);
  });
  it('sm-notify and the notifier: values as arguments', () => {
    expect(smNotifyArgs('/var/lib/nfs', 5, '10.0.0.50')).toEqual(['-f', '-P', '/var/lib/nfs', '-m', '5', '-v', '10.0.0.50']);
    expect(smNotifyArgs('/var/lib/nfs')).toEqual(['-f', '-P', '/var/lib/nfs']);
    expect(notifierArgs({ waitFor: ['10.0.0.50', 'fd00::50'], names: ['nfs-vip'], statdDir: '/var/lib/nfs', waitSeconds: 300, pidFile: '/run/x.pid', failedFile: '/run/x.failed', tag: 'nfsserver(nfs)', statdOwner: { uid: 105, gid: 65534 } })).toEqual([
      NOTIFIER_NAME, '/run/x.pid', '300', '/var/lib/nfs', '', 'nfsserver(nfs)', 'nfs-vip', '105', '65534', '/run/x.failed', '', '', '10.0.0.50', 'fd00::50',
    ]);
    const tickle = { file: '/run/x.tickle', program: '/usr/libexec/heartbeat/tickle_tcp' };
    expect(notifierArgs({ waitFor: ['10.0.0.50'], names: [], statdDir: '/var/lib/nfs', waitSeconds: 300, pidFile: '/run/x.pid', failedFile: '/run/x.failed', tag: 'nfsserver(nfs)', statdOwner: { uid: 105, gid: 65534 }, tickle })).toEqual([
      NOTIFIER_NAME, '/run/x.pid', '300', '/var/lib/nfs', '', 'nfsserver(nfs)', '', '105', '65534', '/run/x.failed', '/run/x.tickle', '/usr/libexec/heartbeat/tickle_tcp', '10.0.0.50',
    ]);
  });
});

describe('systemd units stop touches', () => {
  it("only what the resource runs: never a node's own statd or idle nfs-server of a never-started resource", () => {
    const never = { v4only: false, ourDropins: false, serverRunsHere: false, ourStatd: false };
    expect(systemdUnitsToStop(never)).toEqual([]);
    expect(systemdUnitsToStop({ ...never, serverRunsHere: true })).toEqual(['nfs-server.service', 'nfsdcld.service']);
    expect(systemdUnitsToStop({ ...never, ourStatd: true })).toEqual(['rpc-statd.service']);
    expect(systemdUnitsToStop({ ...never, ourDropins: true })).toEqual(['nfs-server.service', 'nfsdcld.service', 'rpc-statd.service']);
    expect(systemdUnitsToStop({ ...never, ourDropins: true, v4only: true })).toEqual(['nfs-server.service', 'nfsdcld.service']);
  });
});

describe('systemd drop-ins', () => {
  it('quotes ExecStart arguments so systemd expands nothing', () => {
    expect(systemdQuote('/usr/sbin/rpc.nfsd')).toBe('/usr/sbin/rpc.nfsd');
    expect(systemdQuote('a b')).toBe('"a b"');
    expect(systemdQuote('printf "%s" "$1"')).toBe('"printf \\"%%s\\" \\"$$1\\""');
    expect(execStartDropin(['/sbin/rpc.statd', '-n', 'vip'])).toBe('# Written by ocfkit nfsserver while the resource runs here; removed at stop.\n[Service]\nExecStart=\nExecStart=/sbin/rpc.statd -n vip\n');
  });
  it('carry threads, scope, statd identity and mountd port into the units', () => {
    const c: ServerConfig = {
      backend: 'systemd', v4only: false, threads: 16, nfsdArgs: [], scope: 'vip', mountdPort: 892,
      statd: { identity: '10.0.0.50', dir: '/var/lib/nfs' }, pipefsDir: '/run/rpc_pipefs', records: { mountd: '/run/m', idmapd: '/run/i', nfsdcld: '/run/c' }, bound: true, find: (p) => `/usr/sbin/${p}`,
    };
    const d = systemdDropins(c);
    expect(Object.keys(d).sort()).toEqual(['nfs-mountd.service', 'nfs-server.service', 'nfsdcld.service', 'rpc-statd.service']);
    // NFSv4 client records in the (bound, shared) state directory, rpc_pipefs where the agent mounted it
    expect(d['nfsdcld.service']).toContain('ExecStart=/usr/sbin/nfsdcld -p /run/rpc_pipefs -s /var/lib/nfs/nfsdcld\n');
    expect(Object.keys(systemdDropins({ ...c, find: () => undefined }))).not.toContain('nfsdcld.service');
    expect(d['rpc-statd.service']).toContain('ExecStart=/usr/sbin/rpc.statd --no-notify -P /var/lib/nfs -n 10.0.0.50\n');
    expect(d['nfs-mountd.service']).toContain('ExecStart=/usr/sbin/rpc.mountd -p 892\n');
    expect(d['nfs-server.service']).toMatch(/ExecStart=\/usr\/sbin\/unshare --uts -- \/usr\/sbin\/sh -c ".*\$\$1.*" nfsd-scope vip \/usr\/sbin\/rpc.nfsd 16\n/);
    expect(Object.keys(systemdDropins({ ...c, v4only: true }))).not.toContain('rpc-statd.service');
  });
});

describe('ocf:heartbeat:exportfs parameters', () => {
  it('one directory, or several with consecutive fsids; fsid overrides options', () => {
    expect(exportfsParamLines({ directory: '/srv/a', clientspec: '10.0.0.0/8', options: 'rw,fsid=3,sync', fsid: '9' })).toEqual([
      { dir: '/srv/a', client: '10.0.0.0/8', options: ['rw', 'sync'], fsidText: '9', where: 'directory/clientspec parameters' },
    ]);
    expect(exportfsParamLines({ directory: '/srv/a /srv/b/ /srv/c', clientspec: '*', fsid: '7' }).map((l) => [l.dir, l.fsidText])).toEqual([
      ['/srv/a', '7'],
      ['/srv/b', '8'],
      ['/srv/c', '9'],
    ]);
    expect(exportfsParamLines({ directory: '/srv/a', clientspec: 'h', options: 'fsid=root' })[0]!.fsidText).toBe('root');
    expect(exportfsParamLines({})).toEqual([]);
  });
  it('rejects what exportfs would reject', () => {
    expect(() => exportfsParamLines({ clientspec: 'h' })).toThrow(/need directory/);
    expect(() => exportfsParamLines({ directory: '/a' })).toThrow(/needs clientspec/);
    expect(() => exportfsParamLines({ directory: '/a', clientspec: 'h1 h2' })).toThrow(/one host or network/);
    expect(() => exportfsParamLines({ directory: 'a', clientspec: 'h' })).toThrow(ExportSyntaxError);
    expect(() => exportfsParamLines({ directory: '/a /b', clientspec: 'h', fsid: 'root' })).toThrow(/numeric fsid/);
  });
});

describe('mounts inside the bind of /var/lib/nfs', () => {
  const m = (id: number, parentId: number, mountPoint: string, fstype = 'ext4'): MountEntry => ({
    id, parentId, majorMinor: '0:0', root: '/', mountPoint, options: [], optionalFields: [], fstype, source: 'x', superOptions: [],
  });
  it('are the bind mount\'s descendants, deepest first; a hidden mount at the same path is not one', () => {
    const mounts = [m(1, 0, '/'), m(30, 1, '/var/lib/nfs/rpc_pipefs', 'rpc_pipefs'), m(40, 1, '/var/lib/nfs'), m(41, 40, '/var/lib/nfs/rpc_pipefs', 'rpc_pipefs'), m(42, 41, '/var/lib/nfs/rpc_pipefs/x')];
    expect(mountsInside(mounts[2]!, mounts).map((x) => x.id)).toEqual([42, 41]);
  });
});

describe("statd's saved client list (sm.ha)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocfkit-statd-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  for (const d of ['sm', 'sm.bak', 'sm.ha']) mkdirSync(join(dir, d));

  it('snapshot replaces sm.ha with sm ∪ sm.bak; restore puts back only clients neither lists', () => {
    writeFileSync(join(dir, 'sm', 'client1'), 'rec1\n');
    writeFileSync(join(dir, 'sm.bak', 'client2'), 'rec2\n');
    writeFileSync(join(dir, 'sm.ha', 'stale'), 'old\n');
    expect(snapshotNotifyList(dir)).toBe(2);
    expect(readdirSync(join(dir, 'sm.ha')).sort()).toEqual(['client1', 'client2']);

    // sm-notify notified client2 (gone from sm.bak) and statd dropped client1: both come back
    rmSync(join(dir, 'sm', 'client1'));
    rmSync(join(dir, 'sm.bak', 'client2'));
    writeFileSync(join(dir, 'sm.bak', 'client1'), 'rec1-newer\n');
    expect(restoreNotifyList(dir)).toEqual(['client2']);
    expect(readFileSync(join(dir, 'sm', 'client2'), 'utf8')).toBe('rec2\n');
    expect(readFileSync(join(dir, 'sm.bak', 'client1'), 'utf8')).toBe('rec1-newer\n'); // never overwritten
  });

  it('reads users from /etc/passwd', () => {
    expect(passwdLookup('statd', 'root:x:0:0::/root:/bin/bash\nstatd:x:105:65534::/var/lib/nfs:/usr/sbin/nologin\n')).toEqual({ uid: 105, gid: 65534 });
    expect(passwdLookup('rpcuser', 'root:x:0:0::/root:/bin/bash\n')).toBeUndefined();
  });
});
