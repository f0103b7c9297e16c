import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENTS_EXE, runAgent } from '../helpers/agent.js';
import { have, sh } from '../helpers/system.js';

/**
 * The built nfsserver agent on this machine, whose kernel has no NFS server:
 * meta-data against the OCF schemas and ocf:heartbeat:nfsserver's parameters,
 * validate-all's exit codes (6: configuration wrong everywhere, 5: this node
 * lacks something), probes. Nothing here changes the host: actions that
 * would run only in a sandbox (nfsserver-sandbox.test.ts) or a QEMU guest.
 */

const HEARTBEAT = '/usr/lib/ocf/resource.d/heartbeat/nfsserver';

let dir: string;
let exportDir: string;

beforeAll(() => {
  if (!existsSync(AGENTS_EXE)) throw new Error(`${AGENTS_EXE} is not built: node scripts/build.mjs agents`);
  for (const t of ['xmllint', 'exportfs', 'rpc.nfsd', 'rpc.mountd', 'rpc.statd', 'rpcbind', 'sm-notify']) {
    if (!have(t)) throw new Error(`${t} is missing: install libxml2-utils nfs-kernel-server rpcbind`);
  }
  if (!existsSync(HEARTBEAT)) throw new Error(`${HEARTBEAT} is missing: install resource-agents`);
  dir = mkdtempSync(join(tmpdir(), 'ocfkit-nfs-'));
  exportDir = join(dir, 'export');
  mkdirSync(exportDir);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const nfs = (action: string, params: Record<string, string> = {}, meta: Record<string, string | number> = {}) => runAgent('nfsserver', action, { params, meta, instance: 'nfs-test' });

/** Whether this kernel could serve NFS (it cannot here; the tests say what they expect either way). */
const kernelHasNfsd = () => /\snfsd$/m.test(readFileSync('/proc/filesystems', 'utf8')) || spawnSync('modprobe', ['-n', 'nfsd']).status === 0;

describe('meta-data', () => {
  const xml = () => nfs('meta-data').stdout;

  it('validates against its own OCF 1.1 DTD (ocf-tester) and pcs\'s ocf-1.1.rng (docs/readme/metadata.md)', () => {
    const text = xml();
    for (const args of [
      ['--noout', '--valid', '-'],
      ['--noout', '--relaxng', '/usr/share/pcs/data/ocf-1.1.rng', '-'],
    ]) {
      const r = sh('xmllint', args, { input: text, allowFail: true });
      expect(r.code, r.stderr).toBe(0);
    }
  });

  it("has every parameter of ocf:heartbeat:nfsserver, with its type and default", () => {
    const ours = xml();
    const theirs = sh('env', ['-i', 'OCF_ROOT=/usr/lib/ocf', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', HEARTBEAT, 'meta-data']).stdout;
    const params = (text: string) => {
      const out = new Map<string, { type: string; dflt?: string }>();
      for (const m of text.matchAll(/<parameter name="([^"]+)"[^]*?<content type="(\w+)"(?: default="([^"]*)")?/g)) out.set(m[1]!, { type: m[2]!, dflt: m[3] });
      return out;
    };
    const a = params(ours);
    const b = params(theirs);
    expect(b.size).toBeGreaterThan(5);
    for (const [name, p] of b) {
      expect(a.has(name), `parameter ${name}`).toBe(true);
      // heartbeat's "auto detected" / empty defaults are descriptions, not values
      if (p.dflt && p.dflt !== 'auto detected' && p.dflt !== '') expect(a.get(name)!.dflt, `default of ${name}`).toBe(p.dflt);
      expect(a.get(name)!.type, `type of ${name}`).toBe(p.type);
    }
    // the single-export parameters of ocf:heartbeat:exportfs
    for (const name of ['directory', 'clientspec', 'options', 'fsid']) expect(a.has(name), name).toBe(true);
    expect(ours).toMatch(/<action name="start" timeout="40s"\/>/);
    expect(ours).toMatch(/<action name="stop" timeout="20s"\/>/);
    expect(ours).toMatch(/<action name="monitor" timeout="20s" interval="10s" depth="0"\/>/);
    // the RPC-level monitor: a check level of its own, on an interval of its own
    expect(ours).toMatch(/<action name="monitor" timeout="20s" interval="30s" depth="10"\/>/);
  });
});

describe('validate-all', () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['duplicate fsids', { exports: '/srv/a h(rw,fsid=1); /srv/b h(rw,fsid=1)' }, /fsid 1 of \/srv\/b is already used by \/srv\/a/],
    ['export without fsid, derivation off', { exports: '/srv/a 10.0.0.0/8(rw)', derive_fsid: 'false' }, /\/srv\/a has no fsid= and fsid derivation is off/],
    ['fsid exportfs would store differently', { exports: '/srv/a h(fsid=4294967296)' }, /larger than 2147483647/],
    ['two fsids for one directory', { directory: '/srv/a', clientspec: '10.0.0.0/8', fsid: '3', exports: '/srv/a 10.1.0.0/16(fsid=4)' }, /two fsids/],
    ['broken table syntax', { exports: '/srv/a h(rw' }, /exports entry 1: missing '\)'/],
    ['directory without clientspec', { directory: '/srv/a' }, /directory needs clientspec/],
    ['several directories, UUID fsid', { directory: '/srv/a /srv/b', clientspec: '*', fsid: '7c9f1b5e-0b2a-4a51-9a8b-0123456789ab' }, /numeric fsid/],
    ['floating address that is not one', { nfs_ip: '10.0.0.1,nfs-vip' }, /parameter 'nfs_ip': not an IP address: nfs-vip/],
    ['relative shared directory', { nfs_shared_infodir: 'nfs/info' }, /not an absolute path/],
    ['shared directory in /var/lib/nfs', { nfs_shared_infodir: '/var/lib/nfs/shared' }, /must not be \/var\/lib\/nfs or below it/],
    ['bad port', { mountd_port: '70000' }, /must be at most 65535/],
    // path parameters: absolute, no "." or ".." components, compared in their normalised form
    ['rpc_pipefs mount point leaving /var/lib/nfs', { rpcpipefs_dir: '/var/lib/nfs/../../etc' }, /parameter 'rpcpipefs_dir': has "\." or "\.\." components/],
    ['rpc_pipefs over the state directory itself', { rpcpipefs_dir: '/var/lib/nfs/' }, /parameter 'rpcpipefs_dir': must not be \/var\/lib\/nfs itself/],
    ['rpc_pipefs inside statd\'s directory', { rpcpipefs_dir: '/var/lib/nfs/sm/pipes' }, /must not be inside statd's directory \/var\/lib\/nfs\/sm:/],
    ['shared directory with ..', { nfs_shared_infodir: '/srv/nfs/../../etc' }, /parameter 'nfs_shared_infodir': has "\." or "\.\." components/],
    ['shared directory that is /var/lib/nfs written otherwise', { nfs_shared_infodir: '/var/lib//nfs' }, /must not be \/var\/lib\/nfs or below it/],
    ['exports file with ..', { exports_file: '/srv/nfs/./exports' }, /parameter 'exports_file': has "\." or "\.\." components/],
    ['init script with ..', { nfs_init_script: '/etc/init.d/../../tmp/x' }, /parameter 'nfs_init_script': has "\." or "\.\." components/],
    ['a client that exportfs would read as an option', { exports: '/srv/a 10.0.0.0/8(rw) -v(rw)' }, /bad client "-v"/],
    ['a clientspec that exportfs would read as an option', { directory: '/srv/a', clientspec: '-oro' }, /bad clientspec "-oro"/],
    ['export directory with ..', { exports: '/srv/nfs/../../etc 10.0.0.0/8(rw)' }, /"\/srv\/nfs\/\.\.\/\.\.\/etc" has "\." or "\.\." components/],
    // NFSv4 grace and lease: the kernel's range, and a grace period no shorter than a lease
    ['a grace time below the kernel\'s minimum', { nfsv4_grace_time: '5' }, /parameter 'nfsv4_grace_time': must be at least 10/],
    ['a grace period shorter than the kernel\'s lease', { nfsv4_grace_time: '30' }, /nfsv4_grace_time \(30s\) is shorter than the lease time \(the kernel's 90s\)/],
    ['a grace period shorter than the lease', { nfsv4_grace_time: '20', nfsv4_lease_time: '30' }, /nfsv4_grace_time \(20s\) is shorter than the lease time \(nfsv4_lease_time, 30s\)/],
    ['a lease longer than the kernel\'s grace period', { nfsv4_lease_time: '120' }, /nfsv4_lease_time \(120s\) is longer than the kernel's grace period \(90s\): set nfsv4_grace_time too/],
    ['grace set twice', { nfsv4_grace_time: '20', nfsv4_lease_time: '15', nfsd_args: '-G 30' }, /nfsd_args sets -G as well as nfsv4_grace_time/],
  ];
  for (const [what, params, reason] of cases) {
    it(`6 for ${what}`, () => {
      const r = nfs('validate-all', params);
      expect(r.code, r.stderr).toBe(6);
      expect(r.reason).toMatch(reason);
    });
  }

  it('6 for a shared directory in a clone', () => {
    const r = runAgent('nfsserver', 'validate-all', { params: { nfs_shared_infodir: join(dir, 'info') }, meta: { clone: 0 } });
    expect(r.code).toBe(6);
    expect(r.reason).toMatch(/clone/);
  });

  it('5 for what this node lacks: export directories, the shared filesystem, the exports file, an init script', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ exports: `${dir}/nope 10.0.0.0/8(rw)` }, new RegExp(`export directories missing on this node: ${dir}/nope`)],
      [{ nfs_shared_infodir: `${dir}/unmounted/nfsinfo` }, /unmounted does not exist \(is the shared filesystem mounted\?\)/],
      [{ exports_file: `${dir}/exports.missing` }, /cannot read exports_file .*exports\.missing: ENOENT/],
      [{ nfs_init_script: `${dir}/no-such-script` }, /no-such-script is not an executable file/],
    ];
    for (const [params, reason] of cases) {
      const r = nfs('validate-all', params);
      expect(r.code, JSON.stringify(params)).toBe(5);
      expect(r.reason).toMatch(reason);
    }
  });

  it('reads the table from exports_file too; its errors name file and line', () => {
    const file = join(dir, 'exports');
    writeFileSync(file, `# cluster exports\n${exportDir} 10.0.0.0/8(rw,fsid=11)\n${exportDir}/sub 10.0.0.0/8(rw,fsid=11)\n`);
    const r = nfs('validate-all', { exports_file: file });
    expect(r.code).toBe(6);
    expect(r.reason).toBe(`${file}:3: fsid 11 of ${exportDir}/sub is already used by ${exportDir}`);
  });

  it('a valid configuration passes everything but this kernel (no nfsd here: 5)', () => {
    const r = nfs('validate-all', { exports: `${exportDir} 10.0.0.0/8(rw,sync)`, nfs_ip: '10.0.0.5', nfs_shared_infodir: join(dir, 'info'), nfsv4_grace_time: '15', nfsv4_lease_time: '10' });
    if (kernelHasNfsd()) expect(r.code, r.stderr).toBe(0);
    else {
      expect(r.code).toBe(5);
      expect(r.reason).toBe('this kernel has no NFS server (no nfsd module)');
    }
  });
});

describe('probe and monitor on a node without a running NFS server', () => {
  const params = () => ({ exports: `${exportDir} 10.0.0.0/8(rw,sync,fsid=5)`, nfs_shared_infodir: join(dir, 'info'), nfs_ip: '10.0.0.5' });

  it('probe: 7, even with a configuration that cannot work here', () => {
    expect(nfs('monitor', params(), { interval: 0 }).code).toBe(7);
    // configuration errors and missing things are "not running" for a probe (the runtime's rule)
    expect(nfs('monitor', { exports: '/srv/a h(rw', nfs_ip: 'x' }, { interval: 0 }).code).toBe(7);
    expect(nfs('monitor', { ...params(), exports_file: `${dir}/exports.missing` }, { interval: 0 }).code).toBe(7);
  });

  it('recurring monitor: 7', () => {
    const r = nfs('monitor', params(), { interval: 10_000 });
    expect(r.code, r.stderr).toBe(7);
  });

  it('start fails with 5 here and changes nothing', () => {
    if (kernelHasNfsd()) return; // covered by the QEMU tier on kernels with nfsd
    const before = existsSync('/var/lib/nfs/etab') ? readFileSync('/var/lib/nfs/etab', 'utf8') : undefined;
    const r = nfs('start', params());
    expect(r.code).toBe(5);
    expect(existsSync(join(dir, 'info'))).toBe(false);
    expect(existsSync('/var/lib/nfs/etab') ? readFileSync('/var/lib/nfs/etab', 'utf8') : undefined).toBe(before);
  });

  it('a path with ".." is refused before anything is done: start 6 and nothing created where it points; probe 7; stop 0', () => {
    const escape = join(dir, 'info', '..', 'escaped');
    const bad = { ...params(), rpcpipefs_dir: '/var/lib/nfs/../../ocfkit-escape-test', nfs_shared_infodir: escape };
    const r = nfs('start', bad);
    expect(r.code).toBe(6);
    expect(r.reason).toMatch(/parameter '(nfs_shared_infodir|rpcpipefs_dir)': has "\." or "\.\." components/);
    expect(existsSync(join(dir, 'escaped'))).toBe(false);
    expect(existsSync('/var/ocfkit-escape-test')).toBe(false);
    expect(nfs('monitor', bad, { interval: 0 }).code).toBe(7);
    expect(nfs('stop', bad).code).toBe(0);
  });

  it('unknown action: 3; usage: 0', () => {
    expect(nfs('promote', params()).code).toBe(3);
    expect(nfs('usage').code).toBe(0);
  });
});
