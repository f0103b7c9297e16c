import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clientMatches, describeDiff, diffExports, exportedFsid, parseEtab, parseExportfsVerbose, planExportChanges } from '../../src/sys/nfs/etab.js';
import { parseExportTable, resolveExports } from '../../src/sys/nfs/exports.js';
import { parseVersions } from '../../src/sys/nfs/nfsd.js';

/** stdout of a command captured in a QEMU guest by test/qemu/nfs.test.ts (test/fixtures/nfs-kernel/). */
const guestOutput = (name: string) => {
  const text = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'nfs-kernel', name), 'utf8');
  return text.slice(text.indexOf('\n', text.indexOf('---- stdout follows')) + 1);
};

// Captured from the real tools (nfs-utils 2.6.2, Debian 12) in a private mount
// namespace: `exportfs -o … client:dir` for each entry, then `cat etab` and
// `exportfs -v`. The integration tests parse live output of the same tools.
const ETAB = [
  '/tmp/nfst/srv\t10.0.0.1(rw,sync,wdelay,hide,crossmnt,secure,root_squash,no_all_squash,no_subtree_check,secure_locks,acl,no_pnfs,fsid=0,anonuid=65534,anongid=65534,sec=sys,rw,root_squash,no_all_squash)',
  '/tmp/nfst/srv/a\tfd00::/64(rw,sync,wdelay,hide,nocrossmnt,secure,root_squash,no_all_squash,no_subtree_check,secure_locks,acl,no_pnfs,fsid=2,anonuid=65534,anongid=65534,sec=sys,rw,root_squash,no_all_squash)',
  '/tmp/nfst/srv/a\t192.168.0.0/24(rw,sync,wdelay,hide,nocrossmnt,secure,no_root_squash,no_all_squash,no_subtree_check,secure_locks,acl,no_pnfs,fsid=1,anonuid=65534,anongid=65534,sec=sys,rw,no_root_squash,no_all_squash)',
  '/tmp/nfst/srv/a-very-long-directory-name-for-wrapping-xxxxxxxxxxxxxxxxxxxxxx\t*(ro,sync,wdelay,hide,nocrossmnt,secure,root_squash,no_all_squash,no_subtree_check,secure_locks,acl,no_pnfs,fsid=-1294967296,anonuid=65534,anongid=65534,sec=sys,ro,root_squash,no_all_squash)',
  '/tmp/nfst/srv/b\\040c\t10.1.1.1(rw,sync,wdelay,hide,nocrossmnt,secure,root_squash,no_all_squash,no_subtree_check,secure_locks,acl,no_pnfs,fsid=7c9f1b5e-0b2a-4a51-9a8b-0123456789ab,anonuid=65534,anongid=65534,sec=sys,rw,root_squash,no_all_squash)',
  '/tmp/nfst/srv/a\t10.1.1.5(rw,sync,wdelay,hide,nocrossmnt,secure,root_squash,no_all_squash,no_subtree_check,secure_locks,acl,no_pnfs,fsid=5,mountpoint,anonuid=65534,anongid=65534,sec=sys,rw,root_squash,no_all_squash)',
  '',
].join('\n');

const EXPORTFS_V = [
  '/tmp/nfst/srv \t10.0.0.1(sync,wdelay,hide,crossmnt,no_subtree_check,fsid=0,sec=sys,rw,root_squash,no_all_squash)',
  '/tmp/nfst/srv/a',
  '\t\tfd00::/64(sync,wdelay,hide,no_subtree_check,fsid=2,sec=sys,rw,root_squash,no_all_squash)',
  '/tmp/nfst/srv/a',
  '\t\t192.168.0.0/24(sync,wdelay,hide,no_subtree_check,fsid=1,sec=sys,rw,no_root_squash,no_all_squash)',
  '/tmp/nfst/srv/a-very-long-directory-name-for-wrapping-xxxxxxxxxxxxxxxxxxxxxx',
  '\t\t<world>(sync,wdelay,hide,no_subtree_check,fsid=-1294967296,sec=sys,ro,root_squash,no_all_squash)',
  '/tmp/nfst/srv/b c',
  '\t\t10.1.1.1(sync,wdelay,hide,no_subtree_check,fsid=7c9f1b5e-0b2a-4a51-9a8b-0123456789ab,sec=sys,rw,root_squash,no_all_squash)',
  '/tmp/nfst/x y \t10.1.1.9(sync,wdelay,hide,no_subtree_check,fsid=3,sec=sys,rw,root_squash,no_all_squash)',
  '',
].join('\n');

describe('etab', () => {
  const e = parseEtab(ETAB);
  it('reads paths (octal escapes), clients and options', () => {
    expect(e).toHaveLength(6);
    expect(e[0]).toMatchObject({ dir: '/tmp/nfst/srv', client: '10.0.0.1' });
    expect(e[1]!.client).toBe('fd00::/64');
    expect(e[3]!.client).toBe('*');
    expect(e[4]!.dir).toBe('/tmp/nfst/srv/b c');
    expect(e[2]!.options).toContain('no_root_squash');
  });
  it('reads fsids: numbers, root, UUIDs; ignores what exportfs mangled', () => {
    expect(exportedFsid(e[0]!)).toEqual({ kind: 'number', value: 0 });
    expect(exportedFsid(e[2]!)).toEqual({ kind: 'number', value: 1 });
    expect(exportedFsid(e[3]!)).toBeUndefined(); // fsid=-1294967296
    expect(exportedFsid(e[4]!)).toMatchObject({ kind: 'uuid', hex: '7c9f1b5e0b2a4a519a8b0123456789ab' });
  });
});

describe('exportfs -v', () => {
  const v = parseExportfsVerbose(EXPORTFS_V);
  it('joins wrapped lines and reads <world> as *', () => {
    expect(v.map((x) => `${x.dir}|${x.client}`)).toEqual([
      '/tmp/nfst/srv|10.0.0.1',
      '/tmp/nfst/srv/a|fd00::/64',
      '/tmp/nfst/srv/a|192.168.0.0/24',
      '/tmp/nfst/srv/a-very-long-directory-name-for-wrapping-xxxxxxxxxxxxxxxxxxxxxx|*',
      '/tmp/nfst/srv/b c|10.1.1.1',
      '/tmp/nfst/x y|10.1.1.9',
    ]);
    expect(exportedFsid(v[2]!)).toEqual({ kind: 'number', value: 1 });
    expect(exportedFsid(v[5]!)).toEqual({ kind: 'number', value: 3 });
  });
  it('reads plain `exportfs` (no options) too', () => {
    const plain = parseExportfsVerbose('/tmp/nfst/srv \t10.0.0.1\n/tmp/nfst/srv/a\n\t\tfd00::/64\n');
    expect(plain).toEqual([
      { dir: '/tmp/nfst/srv', client: '10.0.0.1', options: [] },
      { dir: '/tmp/nfst/srv/a', client: 'fd00::/64', options: [] },
    ]);
  });
  it('agrees with etab on the same exports', () => {
    const fromEtab = parseEtab(ETAB).map((x) => `${x.dir}|${x.client}|${exportedFsid(x)?.kind}`);
    for (const x of v.slice(0, 5)) expect(fromEtab).toContain(`${x.dir}|${x.client}|${exportedFsid(x)?.kind}`);
  });
});

describe('outputs of the kernel NFS server in a Debian 6.1 guest', () => {
  it('exportfs -v of a running server: the export and its fsid', () => {
    const v = parseExportfsVerbose(guestOutput('running--n1--exportfs-v.txt'));
    expect(v.map((e) => [e.dir, e.client, exportedFsid(e)])).toEqual([['/srv/nfs/export', '10.99.0.0/24', { kind: 'number', value: 1 }]]);
    expect(parseExportfsVerbose(guestOutput('stopped-settled--n1--exportfs-v.txt'))).toEqual([]);
  });
  it('/proc/fs/nfsd/versions and threads', () => {
    expect(parseVersions(guestOutput('running--n1--proc-fs-nfsd-versions.txt'))).toEqual({ '3': true, '4': true, '4.1': true, '4.2': true });
    expect(Number(guestOutput('running--n1--proc-fs-nfsd-threads.txt').trim())).toBe(8);
  });
});

describe('export diff', () => {
  const table = resolveExports(parseExportTable('/tmp/nfst/srv/a 192.168.0.0/24(rw,fsid=1) [fd00::]/64(rw) 10.9.9.9(rw); /tmp/nfst/srv 10.0.0.1(fsid=root)'), { derive: true }).exports;
  const d = diffExports(table, parseEtab(ETAB));
  it('finds present, missing, wrong-fsid and extra entries', () => {
    expect(d.present.map((p) => `${p.want.dir}|${p.want.client}`)).toEqual(['/tmp/nfst/srv/a|192.168.0.0/24', '/tmp/nfst/srv|10.0.0.1']);
    expect(d.missing.map((m) => m.client)).toEqual(['10.9.9.9']);
    // the table gives /tmp/nfst/srv/a fsid=1 for all its clients; etab has fd00::/64 with fsid=2
    expect(d.wrongFsid.map((w) => `${w.want.client}:${w.got.options.find((o) => o.startsWith('fsid='))}`)).toEqual(['fd00::/64:fsid=2']);
    expect(d.extra.map((x) => x.client).sort()).toEqual(['*', '10.1.1.1', '10.1.1.5']);
    expect(describeDiff(d)).toBe('not exported: /tmp/nfst/srv/a to 10.9.9.9; wrong fsid: /tmp/nfst/srv/a to fd00::/64 has fsid=2, want fsid=1');
  });
  it('matches host names exportfs recorded in canonical form', () => {
    expect(clientMatches('server1', 'server1.example.com')).toBe(true);
    expect(clientMatches('SERVER1', 'server1')).toBe(true);
    expect(clientMatches('server1', 'server10.example.com')).toBe(false);
    expect(clientMatches('10.0.0.1', '10.0.0.10')).toBe(false);
    expect(clientMatches('[fd00::]/64', 'fd00::/64')).toBe(true);
  });
});

describe('reload plan (planExportChanges)', () => {
  const table = (text: string) => resolveExports(parseExportTable(text), { derive: true }).exports;
  const optionsOf = (e: { options: string[]; fsid: unknown }) => [...e.options, JSON.stringify(e.fsid)].join(',');
  const etab = parseEtab(ETAB);
  const wanted = table('/tmp/nfst/srv/a 192.168.0.0/24(rw,fsid=1) 10.9.9.9(rw); /tmp/nfst/srv 10.0.0.1(fsid=root)');
  const key = (e: { dir: string; client: string }) => `${e.dir}|${e.client}`;
  const applied = (text: string) => table(text).map((e) => ({ dir: e.dir, client: e.client, options: optionsOf(e) }));

  it('with a record: adds what is missing, re-exports only what changed, removes only what was ours', () => {
    // Applied before: a to the network read-only (now rw), a to fd00::/64 (dropped), srv to 10.0.0.1 as now.
    const previous = applied('/tmp/nfst/srv/a 192.168.0.0/24(ro,fsid=1) [fd00::]/64(rw,fsid=2); /tmp/nfst/srv 10.0.0.1(fsid=root)');
    const p = planExportChanges(wanted, etab, previous, { ownsAll: false, optionsOf });
    expect(p.add.map(key)).toEqual(['/tmp/nfst/srv/a|10.9.9.9']);
    expect(p.change.map(key)).toEqual(['/tmp/nfst/srv/a|192.168.0.0/24']);
    expect(p.unchanged.map(key)).toEqual(['/tmp/nfst/srv|10.0.0.1']);
    // fd00::/64 was ours; '*', 10.1.1.1 and 10.1.1.5 in etab are someone else's (not in the record).
    expect(p.remove.map(key)).toEqual(['/tmp/nfst/srv/a|fd00::/64']);
  });

  it('with the shared etab every entry is ours: all extra entries go', () => {
    const previous = applied('/tmp/nfst/srv/a 192.168.0.0/24(rw,fsid=1); /tmp/nfst/srv 10.0.0.1(fsid=root)');
    const p = planExportChanges(wanted, etab, previous, { ownsAll: true, optionsOf });
    expect(p.remove.map((x) => x.client).sort()).toEqual(['*', '10.1.1.1', '10.1.1.5', 'fd00::/64']);
    expect(p.change).toEqual([]);
    expect(p.unchanged.map(key)).toEqual(['/tmp/nfst/srv/a|192.168.0.0/24', '/tmp/nfst/srv|10.0.0.1']);
  });

  it('without a record: exported entries are exported again (same options, same entry), nothing is removed unless ownsAll', () => {
    const p = planExportChanges(wanted, etab, undefined, { ownsAll: false, optionsOf });
    expect(p.change.map(key)).toEqual(['/tmp/nfst/srv/a|192.168.0.0/24', '/tmp/nfst/srv|10.0.0.1']);
    expect(p.remove).toEqual([]);
  });
});
