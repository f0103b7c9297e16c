import { describe, expect, it } from 'vitest';
import { ExportSyntaxError, exportOptions, exportTarget, normalizeClient, parseExportTable, resolveExports } from '../../src/sys/nfs/exports.js';
import { deriveFsid, fsidKey, normalizeExportPath, parseFsid } from '../../src/sys/nfs/fsid.js';

describe('fsid rules', () => {
  it('accepts numbers, root and UUIDs as exportfs does', () => {
    expect(parseFsid('1')).toEqual({ kind: 'number', value: 1 });
    expect(parseFsid('root')).toEqual({ kind: 'number', value: 0 });
    expect(parseFsid('0')).toEqual({ kind: 'number', value: 0 });
    expect(parseFsid('2147483647')).toEqual({ kind: 'number', value: 2147483647 });
    const u = parseFsid('7C9F1B5E-0b2a-4a51-9a8b-0123456789ab');
    expect(u).toMatchObject({ kind: 'uuid', hex: '7c9f1b5e0b2a4a519a8b0123456789ab' });
    // the three spellings exportfs accepts are one fsid
    const forms = ['7c9f1b5e-0b2a-4a51-9a8b-0123456789ab', '7c9f1b5e0b2a4a519a8b0123456789ab', '7c9f1b5e:0b2a4a51:9a8b0123:456789ab'].map((t) => parseFsid(t));
    expect(new Set(forms.map((f) => (typeof f === 'string' ? f : fsidKey(f)))).size).toBe(1);
  });

  it('rejects what exportfs would store differently or not at all', () => {
    // exportfs stores fsid=3000000000 as -1294967296 and fsid=010 as 8 (seen with nfs-utils 2.6.2)
    expect(parseFsid('3000000000')).toMatch(/larger than 2147483647/);
    expect(parseFsid('010')).toMatch(/octal/);
    expect(parseFsid('abc')).toMatch(/not a number/);
    expect(parseFsid('7c9f1b5e-0b2a-4a51-9a8b-0123456789')).toMatch(/not a number/);
    expect(parseFsid('-5')).toMatch(/not a number/);
  });

  it('derives a stable, documented fsid from the path', () => {
    // FNV-1a 32 of "/srv/nfs/data" is 0xb7ef5162 (computed independently, in Python); low 31 bits 0x37ef5162.
    expect(deriveFsid('/srv/nfs/data')).toBe(938430818);
    expect(deriveFsid('/srv//nfs/data/')).toBe(deriveFsid('/srv/nfs/data'));
    expect(deriveFsid('/srv/nfs/home')).not.toBe(deriveFsid('/srv/nfs/data'));
    for (const p of ['/', '/a', '/export', '/srv/nfs/äöü']) {
      const f = deriveFsid(p);
      expect(f).toBeGreaterThan(0);
      expect(f).toBeLessThanOrEqual(0x7fffffff);
    }
  });

  it('normalizes paths the way exportfs records them', () => {
    expect(normalizeExportPath('/srv//a/')).toBe('/srv/a');
    expect(normalizeExportPath('/')).toBe('/');
  });
});

describe('export table syntax (exports(5))', () => {
  it('reads the compact one-line form with ";"', () => {
    const t = parseExportTable('/srv/nfs/data 192.168.0.0/24(rw,sync,no_root_squash,fsid=1);/srv/nfs/home 10.0.0.0/8(rw) 10.1.0.0/16(ro,fsid=2)');
    expect(t).toHaveLength(3);
    expect(t[0]).toMatchObject({ dir: '/srv/nfs/data', client: '192.168.0.0/24', options: ['rw', 'sync', 'no_root_squash'], fsidText: '1', where: 'exports entry 1' });
    expect(t[1]).toMatchObject({ dir: '/srv/nfs/home', client: '10.0.0.0/8', options: ['rw'], fsidText: undefined, where: 'exports entry 2' });
    expect(t[2]).toMatchObject({ dir: '/srv/nfs/home', client: '10.1.0.0/16', options: ['ro'], fsidText: '2' });
  });

  it('reads a file with comments, continuations, quotes, escapes and default options', () => {
    const file = [
      '# exports of the cluster',
      '/srv/a   -rw,sync   host1(no_root_squash) \\',
      '         @admins',
      '"/srv/with space"  *(ro)   # trailing comment',
      '/srv/oct\\040al  [fd00::]/64(rw)',
      '',
      '/srv/world (ro,fsid=9)',
    ].join('\n');
    const t = parseExportTable(file, { file: '/shared/exports' });
    expect(t.map((l) => [l.dir, l.client, l.options.join(','), l.where])).toEqual([
      ['/srv/a', 'host1', 'rw,sync,no_root_squash', '/shared/exports:2'],
      ['/srv/a', '@admins', 'rw,sync', '/shared/exports:2'],
      ['/srv/with space', '*', 'ro', '/shared/exports:4'],
      ['/srv/oct al', 'fd00::/64', 'rw', '/shared/exports:5'],
      ['/srv/world', '*', 'ro', '/shared/exports:7'],
    ]);
    expect(t[4]!.fsidText).toBe('9');
  });

  it('keeps ";" inside quotes and parentheses', () => {
    const t = parseExportTable('"/srv/a;b" h(rw)');
    expect(t[0]!.dir).toBe('/srv/a;b');
  });

  it('says where a syntax error is', () => {
    const bad: Array<[string, RegExp]> = [
      ['srv/a h(rw)', /exports entry 1: "srv\/a" is not an absolute path/],
      ['/srv/a h(rw', /exports entry 1: missing '\)'/],
      ['/srv/a h(rw));', /unbalanced/],
      ['/srv/a', /has no client/],
      ['/ok h(rw); "/srv/a h(rw)', /unterminated quote/],
      ['/srv/a h(r w)', /bad option|cannot read client/],
      ['/srv/a h(rw)(ro)', /cannot read client/],
    ];
    for (const [text, re] of bad) expect(() => parseExportTable(text), text).toThrow(re);
    expect(() => parseExportTable('/a h(rw)\n\n/b', { file: '/f' })).toThrow(/\/f:3/);
    expect(() => parseExportTable('/srv/a', {})).toThrow(ExportSyntaxError);
  });

  it('normalizes clients like exportfs records them', () => {
    expect(normalizeClient('[fd00::]/64')).toBe('fd00::/64');
    expect(normalizeClient('[FD00::2]')).toBe('fd00::2');
    expect(normalizeClient('<world>')).toBe('*');
    expect(normalizeClient('Host1.Example.COM')).toBe('host1.example.com');
  });

  it('writes exportfs arguments (IPv6 clients in brackets, fsid last)', () => {
    expect(exportTarget('fd00::/64', '/srv/a')).toBe('[fd00::]/64:/srv/a');
    expect(exportTarget('fd00::2', '/srv/a')).toBe('[fd00::2]:/srv/a');
    expect(exportTarget('192.168.0.0/24', '/srv/a')).toBe('192.168.0.0/24:/srv/a');
    expect(exportTarget('*', '/srv/a b')).toBe('*:/srv/a b');
    const [e] = resolveExports(parseExportTable('/srv/a h(rw,fsid=7,sync)'), { derive: true }).exports;
    expect(exportOptions(e!)).toBe('rw,sync,fsid=7');
  });
});

describe('fsid resolution and table validation', () => {
  const resolve = (text: string, derive = true) => resolveExports(parseExportTable(text), { derive });

  it('shares a directory\'s fsid among its clients and derives missing ones', () => {
    const r = resolve('/srv/a h1(rw,fsid=5) h2(ro); /srv/b h1(rw)');
    expect(r.problems).toEqual([]);
    expect(r.exports.map((e) => [e.dir, e.client, e.fsid, e.derived])).toEqual([
      ['/srv/a', 'h1', { kind: 'number', value: 5 }, false],
      ['/srv/a', 'h2', { kind: 'number', value: 5 }, false],
      ['/srv/b', 'h1', { kind: 'number', value: deriveFsid('/srv/b') }, true],
    ]);
  });

  it('rejects duplicate fsids, explicit or derived', () => {
    expect(resolve('/srv/a h(fsid=1); /srv/b h(fsid=1)').problems).toEqual(['exports entry 2: fsid 1 of /srv/b is already used by /srv/a']);
    expect(resolve('/srv/a h(fsid=root); /srv/b h(fsid=0)').problems[0]).toMatch(/fsid 0 of \/srv\/b is already used by \/srv\/a/);
    expect(resolve('/srv/a h(fsid=7c9f1b5e-0b2a-4a51-9a8b-0123456789ab); /srv/b h(fsid=7c9f1b5e0b2a4a519a8b0123456789ab)').problems).toHaveLength(1);
    const derived = deriveFsid('/srv/b');
    expect(resolve(`/srv/a h(fsid=${derived}); /srv/b h(rw)`).problems[0]).toMatch(/derived from the path/);
  });

  it('rejects two fsids for one directory, and exports without fsid when derivation is off', () => {
    expect(resolve('/srv/a h1(fsid=1) h2(fsid=2)').problems[0]).toMatch(/\/srv\/a has two fsids \(1 at exports entry 1, 2 here\)/);
    expect(resolve('/srv/a h1(rw) h2(rw); /srv/b h(fsid=3)', false).problems).toEqual(['exports entry 1: /srv/a has no fsid= and fsid derivation is off']);
    expect(resolve('/srv/a h1(rw,fsid=4) h2(rw)', false).problems).toEqual([]);
  });

  it('rejects bad fsid values and a client listed twice', () => {
    expect(resolve('/srv/a h(fsid=010)').problems[0]).toMatch(/octal/);
    expect(resolve('/srv/a h(rw); /srv/a/ h(ro)').problems[0]).toMatch(/exported to h twice/);
  });
});
