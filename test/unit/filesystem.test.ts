import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockDevices, majorMinor, parseDeviceSpec, preferredDevice, udevEncode } from '../../src/sys/block.js';
import { fsckNeededByDefault, isBlockType, isClusterSafe, kernelFstype, kernelSupports, sameFstype } from '../../src/sys/fstypes.js';
import { optionsProblem, splitOptions, hasOption } from '../../src/sys/mount-options.js';
import { parseMountinfo } from '../../src/sys/mountinfo.js';
import { findMountUsers, isPropagatedCopy, mountOfPath, parseMapsLine, parseStat, describeUses } from '../../src/sys/proc-users.js';
import { parseSignal, parseSignalList } from '../../src/sys/signal-names.js';
import { unmountOrder } from '../../src/sys/unmount.js';

describe('device specs', () => {
  it('reads the forms mount(8) and ocf:heartbeat:Filesystem accept', () => {
    expect(parseDeviceSpec('/dev/drbd0')).toEqual({ kind: 'path', path: '/dev/drbd0' });
    expect(parseDeviceSpec('-L my data')).toEqual({ kind: 'tag', tag: 'LABEL', value: 'my data' });
    expect(parseDeviceSpec('-Lshort')).toEqual({ kind: 'tag', tag: 'LABEL', value: 'short' });
    expect(parseDeviceSpec('--label=x')).toEqual({ kind: 'tag', tag: 'LABEL', value: 'x' });
    expect(parseDeviceSpec('-U 1b2c-33')).toEqual({ kind: 'tag', tag: 'UUID', value: '1b2c-33' });
    expect(parseDeviceSpec('--uuid 1b2c')).toEqual({ kind: 'tag', tag: 'UUID', value: '1b2c' });
    expect(parseDeviceSpec('UUID=abc')).toEqual({ kind: 'tag', tag: 'UUID', value: 'abc' });
    expect(parseDeviceSpec('nfs1:/export/a')).toEqual({ kind: 'network', source: 'nfs1:/export/a' });
    expect(parseDeviceSpec('[fd00::1]:/export')).toEqual({ kind: 'network', source: '[fd00::1]:/export' });
    expect(parseDeviceSpec('//server/share')).toEqual({ kind: 'network', source: '//server/share' });
    expect(parseDeviceSpec('tmpfs')).toEqual({ kind: 'virtual', source: 'tmpfs' });
  });

  it('decodes dev_t the way glibc major()/minor() do', () => {
    expect(majorMinor(0x0703n)).toBe('7:3');
    expect(majorMinor(0xfd01n)).toBe('253:1');
    // minor 300 spills into the high bits: (minor & 0xff) | ((minor & ~0xff) << 12)
    expect(majorMinor((259n << 8n) | (300n & 0xffn) | ((300n & ~0xffn) << 12n))).toBe('259:300');
  });

  it('lists block devices with a medium and prefers the device on top of a stack', () => {
    const sys = mkdtempSync(join(tmpdir(), 'fakesys-'));
    try {
      for (const [name, size, holder] of [['sdb', '2048', 'drbd0'], ['drbd0', '2000', ''], ['loop3', '0', ''], ['vda', '99', '']] as const) {
        mkdirSync(join(sys, name, 'holders'), { recursive: true });
        writeFileSync(join(sys, name, 'size'), `${size}\n`);
        if (holder) writeFileSync(join(sys, name, 'holders', holder), '');
      }
      expect(blockDevices(sys)).toEqual(['drbd0', 'sdb', 'vda']);
      // A DRBD device shows its backing disk's label too: take the DRBD device, never the disk it holds.
      expect(preferredDevice(['sdb', 'drbd0'], sys)).toBe('drbd0');
      expect(preferredDevice(['vda'], sys)).toBe('vda');
      expect(preferredDevice([], sys)).toBeUndefined();
    } finally {
      rmSync(sys, { recursive: true, force: true });
    }
  });

  it('encodes labels like udev names them in /dev/disk/by-label', () => {
    expect(udevEncode('my data')).toBe('my\\x20data');
    expect(udevEncode('a/b')).toBe('a\\x2fb');
    expect(udevEncode('DATA_1.x')).toBe('DATA_1.x');
  });
});

describe('mount options', () => {
  it('splits at commas outside quotes', () => {
    expect(splitOptions('rw,noatime,context="a:b:c0,c1"')).toEqual(['rw', 'noatime', 'context="a:b:c0,c1"']);
    expect(splitOptions('')).toEqual([]);
    expect(hasOption(splitOptions('bind,ro'), 'bind')).toBe(true);
    expect(hasOption(splitOptions('robind'), 'ro')).toBe(false);
  });
  it('rejects what mount -o would misread', () => {
    expect(optionsProblem('rw,noatime')).toBeUndefined();
    expect(optionsProblem('context="system_u:object_r:x:s0 c1"')).toBeUndefined();
    expect(optionsProblem('ro, noatime')).toMatch(/blank/);
    expect(optionsProblem('ro,,noatime')).toMatch(/empty/);
    expect(optionsProblem('-o ro')).toMatch(/blank|flag/);
    expect(optionsProblem('-r')).toMatch(/flag/);
    expect(optionsProblem('context="x')).toMatch(/quote/);
  });
});

describe('filesystem types', () => {
  it('groups types as ocf:heartbeat:Filesystem does', () => {
    expect(isBlockType('ext4')).toBe(true);
    expect(isBlockType(undefined)).toBe(true);
    expect(isBlockType('nfs4')).toBe(false);
    expect(isBlockType('none')).toBe(false);
    expect(fsckNeededByDefault('ext4')).toBe(false);
    expect(fsckNeededByDefault('xfs')).toBe(false);
    expect(fsckNeededByDefault('ext2')).toBe(true);
    expect(isClusterSafe('gfs2')).toBe(true);
    expect(isClusterSafe('xfs')).toBe(false);
    expect(sameFstype('nfs', 'nfs4')).toBe(true);
    expect(sameFstype('ext4', 'ext3')).toBe(false);
    expect(kernelFstype('fuse.sshfs')).toBe('fuse');
  });
  it('reads /proc/filesystems lines with and without nodev', () => {
    const text = 'nodev\tsysfs\nnodev\ttmpfs\n\text4\n\txfs\n';
    expect(kernelSupports('xfs', text)).toBe(true);
    expect(kernelSupports('tmpfs', text)).toBe(true);
    expect(kernelSupports('ext', text)).toBe(false);
  });
});

describe('signals', () => {
  it('reads names and numbers', () => {
    expect(parseSignal('TERM')).toBe('SIGTERM');
    expect(parseSignal('sigkill')).toBe('SIGKILL');
    expect(parseSignal('9')).toBe(9);
    expect(parseSignal('NOPE')).toBeUndefined();
    expect(parseSignalList(' HUP  TERM ')).toEqual(['SIGHUP', 'SIGTERM']);
    expect(() => parseSignalList('TERM BOGUS')).toThrow(/BOGUS/);
  });
});

const TABLE = parseMountinfo(
  [
    '1 0 8:1 / / rw - ext4 /dev/sda1 rw',
    '40 1 7:3 / /srv/data rw shared:5 - ext4 /dev/loop3 rw',
    '41 1 7:4 / /srv/other rw - ext4 /dev/loop4 rw',
    '42 40 0:50 / /srv/data/nested rw - tmpfs tmpfs rw',
    '43 1 7:3 /exports /export/data rw shared:5 - ext4 /dev/loop3 rw',
    '44 43 0:51 / /export/data/pipefs rw - rpc_pipefs sunrpc rw',
  ].join('\n'),
);
const target = TABLE.find((m) => m.id === 40)!;

describe('mount of a path', () => {
  it('takes the longest mount point that prefixes the path', () => {
    expect(mountOfPath('/srv/data', TABLE)?.id).toBe(40);
    expect(mountOfPath('/srv/data/a/b', TABLE)?.id).toBe(40);
    expect(mountOfPath('/srv/data/nested/x', TABLE)?.id).toBe(42);
    expect(mountOfPath('/srv/database', TABLE)?.id).toBe(1);
    expect(mountOfPath('/srv', TABLE)?.id).toBe(1);
    expect(mountOfPath('/srv/data/gone.txt (deleted)', TABLE)?.id).toBe(40);
  });
  it('takes the topmost of stacked mounts', () => {
    const stacked = parseMountinfo('1 0 8:1 / / rw - ext4 /dev/sda1 rw\n50 1 7:3 / /m rw - ext4 /dev/loop3 rw\n51 50 0:60 / /m rw - tmpfs tmpfs rw');
    expect(mountOfPath('/m/x', stacked)?.id).toBe(51);
  });
});

describe('/proc parsing', () => {
  it('reads maps lines, device in hex', () => {
    expect(parseMapsLine('7f0000-7f1000 r--p 00000000 07:03 1234                       /srv/data/lib x.so')).toEqual({ majorMinor: '7:3', inode: '1234', path: '/srv/data/lib x.so' });
    expect(parseMapsLine('7f0000-7f1000 r--p 00000000 fd:0a 99 /x')?.majorMinor).toBe('253:10');
    expect(parseMapsLine('7ffd-7ffe rw-p 00000000 00:00 0                          [stack]')?.inode).toBe('0');
  });
  it('reads stat even when comm holds blanks and parens', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[0] = 'S';
    fields[6] = String(0x00200000); // flags: PF_KTHREAD
    fields[19] = '777';
    expect(parseStat(`12 (a (b) c) ${fields.join(' ')}`)).toEqual({ comm: 'a (b) c', state: 'S', startTime: '777', kernelThread: true });
  });
  it('recognises propagation copies of a shared mount', () => {
    const theirs = parseMountinfo('70 60 7:3 / /srv/data rw master:5 - ext4 /dev/loop3 rw\n71 60 7:3 /x /srv/data2 rw master:5 - ext4 /dev/loop3 rw\n72 60 7:3 / /srv/d rw shared:9 - ext4 /dev/loop3 rw');
    expect(isPropagatedCopy(theirs[0]!, target)).toBe(true);
    expect(isPropagatedCopy(theirs[1]!, target)).toBe(false); // another subtree
    expect(isPropagatedCopy(theirs[2]!, target)).toBe(false); // another peer group
  });
});

describe('unmount order', () => {
  it('nested mounts first, deepest first; bind copies with their own nested mounts; the mount last', () => {
    expect(unmountOrder(target, TABLE, true).map((m) => m.id)).toEqual([42, 44, 43, 40]);
    expect(unmountOrder(target, TABLE, false).map((m) => m.id)).toEqual([42, 40]);
  });
});

/**
 * A fake /proc: the walker reads only links and text files, so a tree of
 * symlinks and files exercises it fully. Mount ids of cwd/root/exe links come
 * from `mountIdOf`, standing in for the O_PATH open of the real /proc links.
 */
describe('findMountUsers on a fake /proc', () => {
  let proc: string;
  const OWN_NS = 'mnt:[4026531840]';
  const linkIds = new Map<string, number | 'unknown'>();

  const statLine = (pid: number, comm: string) => {
    const f = Array.from({ length: 50 }, () => '0');
    f[0] = 'S';
    f[19] = `${pid}00`;
    return `${pid} (${comm}) ${f.join(' ')}`;
  };
  const proc_ = (pid: number, o: { comm?: string; ns?: string; cwd?: string; cwdId?: number | 'unknown'; fds?: Array<[string, number?]>; maps?: string[]; mountinfo?: string }) => {
    const d = join(proc, String(pid));
    mkdirSync(join(d, 'fd'), { recursive: true });
    mkdirSync(join(d, 'fdinfo'));
    mkdirSync(join(d, 'ns'));
    writeFileSync(join(d, 'stat'), statLine(pid, o.comm ?? `p${pid}`));
    writeFileSync(join(d, 'cmdline'), `${o.comm ?? `p${pid}`}\0arg\0`);
    symlinkSync(o.ns ?? OWN_NS, join(d, 'ns', 'mnt'));
    symlinkSync(o.cwd ?? '/', join(d, 'cwd'));
    symlinkSync('/', join(d, 'root'));
    symlinkSync('/usr/bin/true', join(d, 'exe'));
    if (o.cwdId !== undefined) linkIds.set(join(d, 'cwd'), o.cwdId);
    (o.fds ?? []).forEach(([path, mntId], i) => {
      symlinkSync(path, join(d, 'fd', String(i + 3)));
      writeFileSync(join(d, 'fdinfo', String(i + 3)), `pos:\t0\nflags:\t02\nmnt_id:\t${mntId ?? 0}\nino:\t5\n`);
    });
    writeFileSync(join(d, 'maps'), (o.maps ?? []).join('\n'));
    if (o.mountinfo) writeFileSync(join(d, 'mountinfo'), o.mountinfo);
  };

  beforeAll(() => {
    proc = mkdtempSync(join(tmpdir(), 'fakeproc-'));
    proc_(100, { comm: 'in-cwd', cwd: '/srv/data/sub', cwdId: 40 });
    proc_(101, { comm: 'on-parent', cwd: '/srv' });
    proc_(102, { comm: 'open-file', fds: [['/srv/data/file', 40], ['socket:[99]']] });
    proc_(103, { comm: 'same-text-other-mount', fds: [['/srv/data/file2', 99]] });
    proc_(104, { comm: 'covered-dir', cwd: '/srv/data', cwdId: 1 });
    proc_(105, { comm: 'mapped', maps: ['7f00-7f10 r-xp 00000000 07:03 12 /srv/data/lib.so', '7f10-7f20 r-xp 00000000 07:03 12 /srv/data/lib.so'] });
    proc_(106, { comm: 'mapped-other-dev', maps: ['7f00-7f10 r-xp 00000000 07:04 12 /srv/data/x.so'] });
    proc_(107, { comm: 'nested', cwd: '/srv/data/nested/x', cwdId: 42 });
    const foreignTable = '60 0 8:1 / / rw - ext4 /dev/sda1 rw\n77 60 7:3 / /srv/data rw master:5 - ext4 /dev/loop3 rw\n';
    proc_(108, { comm: 'container-cwd', ns: 'mnt:[4026532999]', cwd: '/srv/data/y', cwdId: 'unknown', mountinfo: foreignTable });
    proc_(109, { comm: 'container-fd', ns: 'mnt:[4026532999]', fds: [['/srv/data/z', 77]], mountinfo: foreignTable });
    proc_(110, { comm: 'other-mount', cwd: '/srv/other', cwdId: 41 });
    mkdirSync(join(proc, '111')); // exited while we looked: no files
    mkdirSync(join(proc, 'self'));
  });
  afterAll(() => rmSync(proc, { recursive: true, force: true }));

  const scan = (mode: 'all' | 'safe') =>
    findMountUsers(target, {
      mode,
      proc,
      exclude: [],
      ownNamespace: OWN_NS,
      ownMounts: TABLE,
      mountIdOf: async (link) => linkIds.get(link) ?? 'unknown',
    });

  it('finds exactly the processes using the mount, with the proof for each use', async () => {
    const { users, unproven } = await scan('all');
    expect(users.map((u) => u.comm)).toEqual(['in-cwd', 'open-file', 'mapped', 'container-cwd', 'container-fd']);
    expect(users[0]!.uses).toEqual([{ kind: 'cwd', path: '/srv/data/sub', proof: 'mnt_id' }]);
    expect(users[1]!.uses).toEqual([{ kind: 'fd', fd: 3, path: '/srv/data/file', proof: 'mnt_id' }]);
    expect(users[2]!.uses).toEqual([{ kind: 'map', path: '/srv/data/lib.so', proof: 'path' }]);
    expect(users[3]!.foreignNamespace).toBe(true);
    expect(unproven).toEqual([]);
    expect(describeUses(users[1]!.uses)).toBe('fd 3 /srv/data/file');
  });

  it("safe mode leaves processes in other namespaces whose use is only inferred", async () => {
    const { users, unproven } = await scan('safe');
    expect(users.map((u) => u.comm)).toEqual(['in-cwd', 'open-file', 'mapped', 'container-fd']);
    expect(unproven.map((u) => u.comm)).toEqual(['container-cwd']);
  });
});
