import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseEtab, parseExportfsVerbose, exportedFsid } from '../../src/sys/nfs/etab.js';
import { NOTIFIER_SCRIPT, notifierArgs } from '../../src/sys/nfs/notify.js';
import { AGENTS_EXE, type AgentRun } from '../helpers/agent.js';
import { runAllButNfsd, Sandbox, sandboxRegistry, serveNfsStandin, sleepMs, smRecord, statd, waitFor } from '../helpers/nfs-sandbox.js';
import { have, isRoot, uniqueName } from '../helpers/system.js';

/**
 * The built nfsserver agent against the real NFS user-space daemons
 * (rpcbind, rpc.statd, rpc.mountd, sm-notify) and the real exportfs, each
 * "node" a sandbox of its own: private mount, network and PID namespaces, a
 * tmpfs on /run. This kernel has no nfsd, so what needs it (start, nfsd
 * threads, clients mounting) runs in the QEMU tier; here the sandboxes hold
 * everything else of a running server: /var/lib/nfs bound to the shared
 * directory, statd with the shared identity, mountd, exports with their
 * fsids. Nothing touches the host's /var/lib/nfs, daemons or interfaces, and
 * killing a sandbox's PID 1 ends every process started in it.
 */

let base: string;
const { sandbox, killAll } = sandboxRegistry();

beforeAll(() => {
  if (!isRoot()) throw new Error('these tests need root (namespaces, bind mounts, daemons)');
  const missing = ['unshare', 'nsenter', 'setsid', 'pidof', 'ip', 'exportfs', 'rpcbind', 'rpc.statd', 'rpc.mountd', 'sm-notify'].filter((t) => !have(t));
  if (missing.length) throw new Error(`missing tools: ${missing.join(', ')} (install util-linux procps iproute2 nfs-kernel-server nfs-common rpcbind)`);
  if (!existsSync(AGENTS_EXE)) throw new Error(`${AGENTS_EXE} is not built: node scripts/build.mjs agents`);
  base = mkdtempSync(join(tmpdir(), 'ocfkit-nfsbox-'));
  chmodSync(base, 0o755); // statd and sm-notify drop root: they must reach their directories
});
afterEach(killAll);
afterAll(() => {
  killAll();
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('monitor and stop with the real daemons', () => {
  const FLOAT = '10.77.0.1';
  let infodir: string;
  let exportDir: string;
  let params: Record<string, string>;

  /** A node where everything of the resource runs except nfsd (this kernel has none). */
  function halfUpNode(): Sandbox {
    const n = sandbox();
    ({ infodir, exportDir, params } = runAllButNfsd(n, mkdtempSync(join(base, 'node-')), FLOAT));
    return n;
  }

  function servingNode(): Sandbox {
    const n = halfUpNode();
    serveNfsStandin(n, base);
    return n;
  }

  describe('reload-agent: the export table changes in place', () => {
    const NET = '10.77.0.0/24';
    const entry = (dir: string, opts: string) => `${dir} ${NET}(${opts})`;
    /** etab as the real exportfs left it: directory → its options. */
    const exported = () => Object.fromEntries(parseEtab(readFileSync(join(infodir, 'etab'), 'utf8')).map((e) => [e.dir, e.options]));
    const daemons = (n: Sandbox) => ({ rpcbind: n.pids('rpcbind'), statd: n.pids('rpc.statd'), mountd: n.pids('rpc.mountd') });
    const reload = (n: Sandbox, exports: string) => {
      const r = n.agent('reload-agent', { ...params, exports });
      return { ...r, log: r.stderr };
    };

    it('adds, changes the options of, and removes exports with exportfs; untouched exports and the daemons stay; monitor 0 throughout', () => {
      const n = servingNode();
      const a = exportDir;
      const b = join(exportDir, '..', 'b');
      mkdirSync(b);
      const A = entry(a, 'rw,sync,no_root_squash,fsid=7');
      const before = daemons(n);
      expect(before.mountd.length).toBe(1);
      expect(before.statd.length).toBe(1);
      expect(n.agent('monitor', params, { interval: 10_000 }).code).toBe(0);

      // The same table. No record of what start applied (start needs the kernel's nfsd, QEMU tier): the
      // export is exported again with the same options, which leaves it as it is; from now on it is recorded.
      const etabBefore = exported();
      let r = reload(n, A);
      expect(r.code, r.stderr).toBe(0);
      expect(r.log).toContain('0 added, 1 changed, 0 removed, 0 unchanged');
      expect(exported()).toEqual(etabBefore);
      // Again: recorded, nothing to do.
      r = reload(n, A);
      expect(r.code, r.stderr).toBe(0);
      expect(r.log).not.toMatch(/unexporting|\bexporting /);
      expect(r.log).toContain('0 added, 0 changed, 0 removed, 1 unchanged');

      // Add b (read-only, fsid derived from the path): a is not touched.
      r = reload(n, `${A}; ${entry(b, 'ro,sync')}`);
      expect(r.code, r.stderr).toBe(0);
      expect(r.log).toMatch(new RegExp(`exporting ${b} to ${NET}`));
      expect(r.log).not.toMatch(new RegExp(`exporting ${a} `));
      expect(r.log).toContain('1 added, 0 changed, 0 removed, 1 unchanged');
      let etab = exported();
      expect(Object.keys(etab).sort()).toEqual([a, b].sort());
      expect(etab[b]).toContain('ro');
      expect(etab[a]).toEqual(expect.arrayContaining(['rw', 'no_root_squash', 'fsid=7']));
      const v = parseExportfsVerbose(n.run(['exportfs', '-v']));
      expect(v.map((e) => e.dir).sort()).toEqual([a, b].sort());
      expect(n.agent('monitor', { ...params, exports: `${A}; ${entry(b, 'ro,sync')}` }, { interval: 10_000 }).code).toBe(0);

      // Change a's options (read-only, root squashed: exportfs replaces the entry's options); b is not touched.
      r = reload(n, `${entry(a, 'ro,sync,fsid=7')}; ${entry(b, 'ro,sync')}`);
      expect(r.code, r.stderr).toBe(0);
      expect(r.log).toMatch(new RegExp(`re-exporting ${a} to ${NET} with ro,sync,fsid=7`));
      expect(r.log).not.toMatch(new RegExp(`exporting ${b} `));
      expect(r.log).toContain('0 added, 1 changed, 0 removed, 1 unchanged');
      etab = exported();
      expect(etab[a]).toEqual(expect.arrayContaining(['ro', 'root_squash', 'fsid=7']));
      expect(etab[a]).not.toContain('rw');
      expect(etab[a]).not.toContain('no_root_squash');

      // Remove a: b stays.
      r = reload(n, entry(b, 'ro,sync'));
      expect(r.code, r.stderr).toBe(0);
      expect(r.log).toMatch(new RegExp(`unexporting ${a} from ${NET}`));
      expect(r.log).toContain('0 added, 0 changed, 1 removed, 1 unchanged');
      expect(Object.keys(exported())).toEqual([b]);
      expect(n.agent('monitor', { ...params, exports: entry(b, 'ro,sync') }, { interval: 10_000 }).code).toBe(0);

      // Never restarted: the same rpcbind, statd and mountd, nfsd's threads untouched.
      expect(daemons(n)).toEqual(before);
      expect(n.run(['cat', '/proc/fs/nfsd/threads']).trim()).toBe('8');
      expect(n.mountedAt('/var/lib/nfs')).toBe(true);
    });

    it('an invalid export table: 6, and the running table is left as it was', () => {
      const n = servingNode();
      const b = join(exportDir, '..', 'b');
      mkdirSync(b);
      const etabBefore = readFileSync(join(infodir, 'etab'), 'utf8');
      const before = daemons(n);
      // Two exports with one fsid (a clash that would mix up file handles), and a syntax error.
      for (const bad of [`${entry(exportDir, 'rw,fsid=7')}; ${entry(b, 'rw,fsid=7')}`, `${exportDir} ${NET}(rw,fsid=7`]) {
        const r = reload(n, bad);
        expect(r.code, r.stderr).toBe(6);
        expect(r.reason).toBeTruthy();
        expect(readFileSync(join(infodir, 'etab'), 'utf8')).toBe(etabBefore);
      }
      // An option exportfs rejects: 6 as well, the export as it was.
      const r = reload(n, entry(exportDir, 'rw,nosuchoption,fsid=7'));
      expect(r.code, r.stderr).toBe(6);
      expect(exported()[exportDir]).toEqual(expect.arrayContaining(['rw', 'no_root_squash', 'fsid=7']));
      expect(daemons(n)).toEqual(before);
      expect(n.agent('monitor', params, { interval: 10_000 }).code).toBe(0);
    });

    it("without a shared state directory only the exports this resource applied are removed, never the node's own", () => {
      const n = servingNode();
      n.run(['mount', '--bind', mkdtempSync(join(base, 'local-')), '/var/lib/nfs']); // a local state directory, not the shared one
      n.run(['touch', '/var/lib/nfs/etab', '/var/lib/nfs/rmtab']);
      const own = join(exportDir, '..', 'node-own');
      const b = join(exportDir, '..', 'b');
      mkdirSync(own);
      mkdirSync(b);
      n.run(['exportfs', '-i', '-o', 'ro,fsid=99', `${NET}:${own}`]); // e.g. from the node's /etc/exports
      const local = { ...params, nfs_shared_infodir: '' };
      delete (local as Record<string, string>).nfs_shared_infodir;
      const etabDirs = () => parseEtab(n.run(['cat', '/var/lib/nfs/etab'])).map((e) => e.dir).sort();

      let r = n.agent('reload-agent', { ...local, exports: `${entry(exportDir, 'rw,fsid=7')}; ${entry(b, 'rw,fsid=8')}` });
      expect(r.code, r.stderr).toBe(0);
      expect(etabDirs()).toEqual([exportDir, b, own].sort());
      r = n.agent('reload-agent', { ...local, exports: entry(b, 'rw,fsid=8') });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`unexporting ${exportDir} from`));
      expect(etabDirs()).toEqual([b, own].sort());
    });
  });

  it('exportfs -v and etab show the export with its fsid (live output of the real tools)', () => {
    const n = halfUpNode();
    const v = parseExportfsVerbose(n.run(['exportfs', '-v']));
    expect(v.map((e) => [e.dir, e.client, exportedFsid(e)])).toEqual([[exportDir, '10.77.0.0/24', { kind: 'number', value: 7 }]]);
    const etab = parseEtab(readFileSync(join(infodir, 'etab'), 'utf8'));
    expect(etab.map((e) => [e.dir, e.client, exportedFsid(e)])).toEqual([[exportDir, '10.77.0.0/24', { kind: 'number', value: 7 }]]);
  });

  it('monitor names exactly what is missing: 1 while half up', () => {
    const n = halfUpNode();
    const mon = () => n.agent('monitor', params, { interval: 10_000 });

    let r = mon();
    expect(r.code, r.stderr).toBe(1);
    expect(r.reason).toBe('NFS server partly up: nfsd is not running (no threads)');
    expect(n.agent('monitor', params, { interval: 0 }).code).toBe(1); // a probe too: half up is not "stopped"

    n.run(['kill', String(n.pids('rpc.mountd')[0])]);
    waitFor('rpc.mountd to end', () => n.pids('rpc.mountd').length === 0);
    r = mon();
    expect(r.code).toBe(1);
    expect(r.reason).toBe('NFS server partly up: nfsd is not running (no threads); rpc.mountd is not running');

    n.run(['umount', '-l', '/var/lib/nfs']); // statd holds it: detach
    r = mon();
    expect(r.code).toBe(1);
    expect(r.reason).toContain(`${infodir} is not bound to /var/lib/nfs`);
    expect(r.reason).toContain(`not exported: ${exportDir} to 10.77.0.0/24`); // this node's own etab shows
    n.run(['mount', '--bind', infodir, '/var/lib/nfs']);

    n.run(['exportfs', '-i', '-o', 'rw,fsid=8', `10.77.0.0/24:${exportDir}`]);
    r = mon();
    expect(r.reason).toContain(`wrong fsid: ${exportDir} to 10.77.0.0/24 has fsid=8, want fsid=7`);

    n.run(['exportfs', '-u', `10.77.0.0/24:${exportDir}`]);
    r = mon();
    expect(r.reason).toContain(`not exported: ${exportDir} to 10.77.0.0/24`);

    // statd from the node's boot scripts: no shared identity
    n.run(['kill', String(n.pids('rpc.statd')[0])]);
    waitFor('rpc.statd to end', () => n.pids('rpc.statd').length === 0);
    n.run(['rpc.statd', '--no-notify']);
    r = mon();
    expect(r.reason).toContain(`rpc.statd is not running with identity ${FLOAT} and state in /var/lib/nfs`);

    // Only the bind is left of the resource; without it, a node with its own statd and rpcbind is "stopped".
    expect(r.reason).toBe(`NFS server partly up: nfsd is not running (no threads); rpc.mountd is not running; rpc.statd is not running with identity ${FLOAT} and state in /var/lib/nfs; not exported: ${exportDir} to 10.77.0.0/24`);
    n.run(['umount', '-l', '/var/lib/nfs']);
    r = mon();
    expect(r.code, r.stderr).toBe(7);
  });

  it('stop ends statd and mountd, unexports, saves the client list, unbinds; again: 0; then monitor: 7', () => {
    const n = halfUpNode();
    const rpcbind = n.pids('rpcbind');
    expect(n.mountedAt('/var/lib/nfs')).toBe(true);

    const r = n.agent('stop', params);
    expect(r.code, r.stderr).toBe(0);
    expect(n.pids('rpc.statd')).toEqual([]);
    expect(n.pids('rpc.mountd')).toEqual([]);
    expect(n.pids('rpcbind')).toEqual(rpcbind); // the node's portmapper stays
    expect(n.mountedAt('/var/lib/nfs')).toBe(false);
    expect(readFileSync(join(infodir, 'etab'), 'utf8')).toBe('');
    // statd's client list is saved on the shared storage for the next node's sm-notify
    expect(readFileSync(join(infodir, 'sm.ha', '10.77.0.2'), 'utf8')).toBe(smRecord('10.77.0.2', 'n1'));

    const again = n.agent('stop', params);
    expect(again.code, again.stderr).toBe(0);
    expect(n.agent('monitor', params, { interval: 10_000 }).code).toBe(7);
    expect(n.agent('monitor', params, { interval: 0 }).code).toBe(7);
  });

  it("stop writes nothing through a link statd's user planted in sm.ha: the link is replaced, its target kept", () => {
    const n = halfUpNode();
    const victim = join(mkdtempSync(join(base, 'victim-')), 'root-only');
    writeFileSync(victim, 'precious\n', { mode: 0o600 });
    // statd's user (who owns sm.ha in shared directories an older start prepared) plants the link
    const o = statd();
    n.run(['setpriv', `--reuid=${o.uid}`, `--regid=${o.gid}`, '--clear-groups', '--', 'ln', '-s', victim, '/var/lib/nfs/sm.ha/10.77.0.2']);

    const r = n.agent('stop', params);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(lstatSync(join(infodir, 'sm.ha', '10.77.0.2')).isFile()).toBe(true);
    expect(readFileSync(join(infodir, 'sm.ha', '10.77.0.2'), 'utf8')).toBe(smRecord('10.77.0.2', 'n1'));
  });

  it('a failed reboot notification: monitor 190 with the cause where the executor announces OCF 1.1, 0 elsewhere and for probes; stop clears it', () => {
    const n = servingNode();
    const OCF11 = { env: { OCF_RA_VERSION_MAJOR: '1', OCF_RA_VERSION_MINOR: '1' } };
    expect(n.agent('monitor', params, { interval: 10_000 }, OCF11).code).toBe(0);
    // The notifier exactly as start leaves it (the agent's own state paths), for an address that never comes up.
    const failedFile = '/run/resource-agents/nfsserver-nfs.notify.failed';
    n.run(['mkdir', '-p', '/run/resource-agents']);
    const args = notifierArgs({ waitFor: [FLOAT], names: [FLOAT], statdDir: '/var/lib/nfs', waitSeconds: 1, pidFile: '/run/resource-agents/nfsserver-nfs.notify.pid', failedFile, tag: 'nfsserver(nfs)', statdOwner: statd() });
    n.run(['setsid', '-f', 'sh', '-c', NOTIFIER_SCRIPT, ...args]);
    waitFor('the notifier to give up and say why', () => n.exec(['test', '-s', failedFile]).code === 0, 10_000);
    expect(n.run(['stat', '-c', '%U %a %F', failedFile]).trim()).toBe('root 644 regular file');

    const r = n.agent('monitor', params, { interval: 10_000 }, OCF11);
    expect(r.code, r.stderr).toBe(190);
    expect(r.reason).toBe(`reboot notification failed (no sm-notify: ${FLOAT} did not come up within 1 s): NFSv3 clients may not reclaim their locks until they retry`);
    expect(r.stderr).toMatch(/WARNING: degraded: reboot notification failed/);
    for (const other of [
      n.agent('monitor', params, { interval: 10_000 }, { env: { OCF_RA_VERSION_MAJOR: '1', OCF_RA_VERSION_MINOR: '0' } }),
      n.agent('monitor', params, { interval: 10_000 }),
      n.agent('monitor', params, { interval: 0 }, OCF11),
    ]) {
      expect(other.code, other.stderr).toBe(0);
      expect(other.reason).toBe(r.reason);
    }
    expect(n.agent('stop', params).code).toBe(0);
    expect(n.exec(['test', '-e', failedFile]).code).not.toBe(0);
  });

  describe('the RPC-level monitor (OCF_CHECK_LEVEL=10)', () => {
    const LEVEL10 = { env: { OCF_CHECK_LEVEL: '10' } };

    /** The monitor under strace -f: its result and the processes it started (thread clones do not count). */
    function traced(n: Sandbox, level: Record<string, string>): { run: AgentRun; processes: string[] } {
      const file = join(base, `trace-${n.pid}-${Date.now()}`);
      const run = n.agent('monitor', params, { interval: 30_000 }, { env: level, wrap: ['strace', '-f', '-qq', '-e', 'trace=execve,fork,vfork,clone,clone3', '-o', file] });
      const lines = readFileSync(file, 'utf8').split('\n');
      // strace runs env, env runs the agent: two execve; anything more, or a clone without CLONE_THREAD, is a process the monitor started.
      const execs = lines.filter((l) => /\bexecve\(/.test(l) && !/ENOENT/.test(l));
      const forks = lines.filter((l) => /\b(v?fork|clone3?)\(/.test(l) && !/CLONE_THREAD/.test(l) && !/resumed>/.test(l));
      // The trace saw the agent itself (its execve and its threads): an empty list is a real finding.
      expect(execs.some((l) => l.includes(AGENTS_EXE))).toBe(true);
      expect(lines.some((l) => /clone3?\(.*CLONE_THREAD/.test(l))).toBe(true);
      return { run, processes: [...execs.slice(2), ...forks] };
    }

    it('0 while every service answers; 1 naming the service when mountd is unregistered or statd stops answering, all processes still there; no process started', () => {
      if (!have('strace')) throw new Error('strace is missing (apt-get install strace)');
      const n = servingNode();
      const mon = (o = {}) => n.agent('monitor', params, { interval: 30_000 }, o);
      let r = mon();
      expect(r.code, r.stderr).toBe(0); // level 0: /proc and files
      const healthy = traced(n, LEVEL10.env);
      expect(healthy.run.code, healthy.run.stderr).toBe(0);
      expect(healthy.processes).toEqual([]);

      // mountd's registrations gone from rpcbind (as after an rpcbind restart without -w): clients get "portmap query failed"
      for (const v of ['1', '2', '3']) n.run(['rpcinfo', '-d', '100005', v]);
      expect(mon().code).toBe(0); // the process is still there
      r = mon(LEVEL10);
      expect(r.code, r.stderr).toBe(1);
      expect(r.reason).toBe('NFS server does not answer over RPC: rpc.mountd (program 100005) is not registered with rpcbind on 127.0.0.1');

      // mountd registered again (restarted); then statd stops answering (SIGSTOP: the process stays)
      n.run(['kill', String(n.pids('rpc.mountd')[0])]);
      waitFor('rpc.mountd to end', () => n.pids('rpc.mountd').length === 0);
      n.run(['rpc.mountd']);
      expect(mon(LEVEL10).code).toBe(0);
      // the floating address configured here: the services are asked there, where clients ask
      n.run(['ip', 'addr', 'add', `${FLOAT}/32`, 'dev', 'lo']);
      const statdPid = n.pids('rpc.statd')[0]!;
      n.run(['kill', '-STOP', String(statdPid)]);
      try {
        expect(mon().code).toBe(0);
        const stuck = traced(n, LEVEL10.env);
        expect(stuck.run.code, stuck.run.stderr).toBe(1);
        expect(stuck.run.reason).toMatch(new RegExp(`^NFS server does not answer over RPC: rpc\\.statd \\(program 100024 version 1, (udp|tcp) port \\d+\\) does not answer on ${FLOAT.replace(/\./g, '\\.')}: no answer within`));
        expect(stuck.run.reason).not.toMatch(/rpc\.mountd|nfsd/);
        expect(stuck.processes).toEqual([]);
        expect(n.pids('rpc.statd')).toEqual([statdPid]);
      } finally {
        n.run(['kill', '-CONT', String(statdPid)]);
      }
      expect(mon(LEVEL10).code).toBe(0);
      // rpcbind stops answering: clients cannot find any service; the check ends within the op timeout
      const rpcbindPid = n.pids('rpcbind')[0]!;
      n.run(['kill', '-STOP', String(rpcbindPid)]);
      try {
        expect(mon().code).toBe(0);
        const r2 = n.agent('monitor', params, { interval: 30_000, timeout: 4000 }, LEVEL10);
        expect(r2.code, r2.stderr).toBe(1);
        expect(r2.reason).toMatch(new RegExp(`^NFS server does not answer over RPC: rpcbind does not answer on ${FLOAT.replace(/\./g, '\\.')} port 111: no answer within [\\d.]+ s$`));
      } finally {
        n.run(['kill', '-CONT', String(rpcbindPid)]);
      }
      expect(mon(LEVEL10).code).toBe(0);
      // a probe stays a probe (0/7/1 from /proc), whatever the level
      expect(n.agent('monitor', params, { interval: 0 }, LEVEL10).code).toBe(0);
    });
  });

  it('stop names what still holds /var/lib/nfs when it cannot unbind, and succeeds once it is gone', () => {
    const n = halfUpNode();
    n.detach(['sh', '-c', 'cd /var/lib/nfs && exec sleep 300']);
    waitFor('the holder', () => n.exec(['pgrep', '-f', 'sleep 300']).code === 0);
    const holder = Number(n.run(['pgrep', '-f', 'sleep 300']).trim());

    const r = n.agent('stop', params, { timeout: 8000 });
    expect(r.code).toBe(1);
    expect(r.reason).toMatch(new RegExp(`cannot unmount the NFS state directory /var/lib/nfs: .*held by sleep\\[${holder}\\] \\(cwd /var/lib/nfs\\)`));
    expect(n.pids('rpc.statd')).toEqual([]); // everything before the unbind was done

    n.run(['kill', String(holder)]);
    const again = n.agent('stop', params);
    expect(again.code, again.stderr).toBe(0);
    expect(n.mountedAt('/var/lib/nfs')).toBe(false);
  });
});

describe("daemons that are not this resource's", () => {
  /**
   * A node whose NFS daemons are not the resource's: a state directory of its
   * own over /var/lib/nfs (as the node's installation has it), rpcbind.
   */
  function bareNode(): { n: Sandbox; params: Record<string, string> } {
    const root = mkdtempSync(join(base, 'bare-'));
    chmodSync(root, 0o755);
    const state = join(root, 'var-lib-nfs');
    const o = statd();
    for (const d of ['sm', 'sm.bak']) {
      mkdirSync(join(state, d), { recursive: true });
      chownSync(join(state, d), o.uid, o.gid);
    }
    writeFileSync(join(state, 'etab'), '');
    writeFileSync(join(state, 'rmtab'), '');
    mkdirSync(join(root, 'export'));
    const n = sandbox();
    n.run(['mount', '--bind', state, '/var/lib/nfs']);
    n.run(['rpcbind', '-w']);
    return { n, params: { exports: `${join(root, 'export')} 10.0.0.0/8(rw,sync,fsid=5)` } };
  }

  it("a node's boot-time rpc.statd and rpc.mountd (no arguments): probe and monitor 7; stop of the never-started resource leaves them", () => {
    const { n, params } = bareNode();
    n.run(['rpc.statd']);
    n.run(['rpc.mountd']);
    const [statdPid, mountdPid] = [n.pids('rpc.statd'), n.pids('rpc.mountd')];
    expect(statdPid).toHaveLength(1);
    expect(mountdPid).toHaveLength(1);

    const probe = n.agent('monitor', params, { interval: 0 });
    expect(probe.code, probe.stderr).toBe(7);
    expect(n.agent('monitor', params, { interval: 10_000 }).code).toBe(7);
    const stop = n.agent('stop', params);
    expect(stop.code, stop.stderr).toBe(0);
    expect(n.pids('rpc.statd')).toEqual(statdPid);
    expect(n.pids('rpc.mountd')).toEqual(mountdPid);
  });

  it("a container's rpc.mountd (another PID namespace): the node's probe says 7, its stop leaves the container's mountd alone", () => {
    const { n, params } = bareNode();
    n.detach(['unshare', '--pid', '--fork', '--mount-proc', '--', 'rpc.mountd', '-F']);
    waitFor("the container's rpc.mountd", () => n.pids('rpc.mountd').length === 1);
    const [mountd] = n.pids('rpc.mountd');
    // it really is in another PID namespace than the node's own processes
    expect(n.run(['readlink', `/proc/${mountd}/ns/pid`])).not.toBe(n.run(['readlink', '/proc/self/ns/pid']));

    const probe = n.agent('monitor', params, { interval: 0 });
    expect(probe.code, probe.stderr).toBe(7);
    const stop = n.agent('stop', params);
    expect(stop.code, stop.stderr).toBe(0);
    expect(n.pids('rpc.mountd')).toEqual([mountd]);
  });
});

describe('reboot notification (sm-notify) after the floating address comes up', () => {
  /**
   * Two sandboxes on a veth pair: a "server" whose floating address is not
   * there yet, and an NFS "client" running rpcbind and rpc.statd in debug
   * mode, which logs every SM_NOTIFY it receives. Both resolve the floating
   * address to the name nfs-vip (sm-notify sends names, never addresses).
   */
  function pair() {
    const n = uniqueName('');
    const net = 10 + (Number.parseInt(n.slice(-3), 36) % 200);
    const ip = { float: `10.78.${net}.1`, server: `10.78.${net}.3`, client: `10.78.${net}.2` };
    const dir = mkdtempSync(join(base, 'notify-'));
    chmodSync(dir, 0o755);
    const hosts = join(dir, 'hosts');
    writeFileSync(hosts, `127.0.0.1 localhost\n${ip.float} nfs-vip\n${ip.client} client1\n${ip.server} server1\n`);

    const server = sandbox();
    const client = sandbox();
    const [vs, vc] = [uniqueName('nvs'), uniqueName('nvc')];
    const link = spawnSync('ip', ['link', 'add', vs, 'netns', String(server.pid), 'type', 'veth', 'peer', 'name', vc, 'netns', String(client.pid)], { encoding: 'utf8' });
    if (link.status !== 0) throw new Error(`ip link add: ${link.stderr}`);
    for (const [s, dev, addr] of [
      [server, vs, ip.server],
      [client, vc, ip.client],
    ] as const) {
      s.run(['mount', '--bind', hosts, '/etc/hosts']);
      s.run(['ip', 'addr', 'add', `${addr}/24`, 'dev', dev]);
      s.run(['ip', 'link', 'set', dev, 'up']);
    }

    // The client's statd (its own state directory), logging what it receives.
    const o = statd();
    const clientState = join(dir, 'client-state');
    for (const d of ['sm', 'sm.bak']) {
      mkdirSync(join(clientState, d), { recursive: true });
      chownSync(join(clientState, d), o.uid, o.gid);
    }
    const clientLog = join(dir, 'client-statd.log');
    client.run(['rpcbind', '-w']);
    client.detach(['rpc.statd', '-F', '-d', '--no-notify', '-P', clientState], clientLog);
    waitFor('the client statd to register', () => client.exec(['rpcinfo', '-T', 'udp', ip.client, 'status']).code === 0);

    // The server's shared statd directory, with the client in its monitor list.
    const state = join(dir, 'server-state');
    for (const d of ['sm', 'sm.bak', 'sm.ha']) {
      mkdirSync(join(state, d), { recursive: true });
      chownSync(join(state, d), o.uid, o.gid);
    }
    writeFileSync(join(state, 'sm', ip.client), smRecord(ip.client, 'server1'));
    chownSync(join(state, 'sm', ip.client), o.uid, o.gid);
    const log = () => (existsSync(clientLog) ? readFileSync(clientLog, 'utf8') : '');
    return { server, client, ip, vs, state, log, pidFile: '/run/resource-agents/nfsserver-nfs.notify.pid' };
  }

  /** Starts the notifier in the server exactly as the agent's start does. */
  function notifier(p: ReturnType<typeof pair>, waitSeconds: number) {
    p.server.run(['mkdir', '-p', '/run/resource-agents']);
    const args = notifierArgs({ waitFor: [p.ip.float], names: [p.ip.float], statdDir: p.state, waitSeconds, pidFile: p.pidFile, failedFile: `${p.pidFile}.failed`, tag: 'nfsserver(nfs)', statdOwner: statd() });
    p.server.run(['setsid', '-f', 'sh', '-c', NOTIFIER_SCRIPT, ...args]);
    waitFor('the notifier pid file', () => p.server.exec(['test', '-s', p.pidFile]).code === 0, 5000);
  }

  it('waits for the address, then notifies the client from it, as its name', () => {
    const p = pair();
    notifier(p, 60);
    sleepMs(2500);
    expect(p.log()).not.toContain('SM_NOTIFY');
    expect(readdirSync(join(p.state, 'sm'))).toEqual([p.ip.client]); // nothing consumed yet

    p.server.run(['ip', 'addr', 'add', `${p.ip.float}/24`, 'dev', p.vs]);
    waitFor('the client to receive SM_NOTIFY', () => p.log().includes('Received SM_NOTIFY from nfs-vip'), 30_000);
    expect(p.log()).toContain(`access by ${p.ip.float} ALLOWED`); // sent from the floating address
    waitFor('the notifier to finish', () => p.server.exec(['test', '-e', p.pidFile]).code !== 0);
    const lists = () => `sm: ${readdirSync(join(p.state, 'sm')).join(' ')}; sm.bak: ${readdirSync(join(p.state, 'sm.bak')).join(' ')}; client log:\n${p.log()}\nserver ps:\n${p.server.exec(['ps', '-eo', 'pid,stat,args']).stdout}`;
    waitFor('sm-notify to forget the notified client', () => readdirSync(join(p.state, 'sm.bak')).length === 0 && readdirSync(join(p.state, 'sm')).length === 0, 15_000, lists);
  });

  it("puts the saved client list back as statd's user: the client is notified; a link statd's user put in place of sm/ leads nowhere", () => {
    const p = pair();
    const o = statd();
    // the client is only in the saved list (a node died after sm-notify had consumed sm/)
    rmSync(join(p.state, 'sm', p.ip.client));
    writeFileSync(join(p.state, 'sm.ha', p.ip.client), smRecord(p.ip.client, 'server1'));
    notifier(p, 60);
    p.server.run(['ip', 'addr', 'add', `${p.ip.float}/24`, 'dev', p.vs]);
    waitFor('the client to receive SM_NOTIFY', () => p.log().includes('Received SM_NOTIFY from nfs-vip'), 30_000);
    waitFor('the notifier to finish', () => p.server.exec(['test', '-e', p.pidFile]).code !== 0, 30_000);

    // Red Hat's layout: statd's user owns the state directory and swaps sm/ for a link to a root-only directory
    const q = pair();
    const rootOnly = mkdtempSync(join(base, 'root-only-'));
    chownSync(q.state, o.uid, o.gid);
    writeFileSync(join(q.state, 'sm.ha', 'victim-name'), smRecord('victim-name', 'server1'));
    rmSync(join(q.state, 'sm'), { recursive: true });
    q.server.run(['setpriv', `--reuid=${o.uid}`, `--regid=${o.gid}`, '--clear-groups', '--', 'ln', '-s', rootOnly, join(q.state, 'sm')]);
    const untouched = statSync(rootOnly).mtimeMs;
    notifier(q, 60);
    q.server.run(['ip', 'addr', 'add', `${q.ip.float}/24`, 'dev', q.vs]);
    waitFor('the notifier to finish', () => q.server.exec(['test', '-e', q.pidFile]).code !== 0, 30_000);
    // nothing was ever created there (sm-notify would have moved it on to sm.bak: the directory's mtime tells)
    expect(readdirSync(rootOnly)).toEqual([]);
    expect(statSync(rootOnly).mtimeMs).toBe(untouched);
    expect(readdirSync(join(q.state, 'sm.bak'))).toEqual([]);
  });

  it('gives up when the address never comes, without consuming the client list', () => {
    const p = pair();
    notifier(p, 1);
    waitFor('the notifier to give up', () => p.server.exec(['test', '-e', p.pidFile]).code !== 0, 10_000);
    sleepMs(1000);
    expect(p.log()).not.toContain('SM_NOTIFY');
    expect(readdirSync(join(p.state, 'sm'))).toEqual([p.ip.client]);
  });

  it("the agent's stop ends a waiting notifier", () => {
    const p = pair();
    notifier(p, 120);
    const pid = Number(p.server.run(['cat', p.pidFile]).trim());
    const r = p.server.agent('stop', { nfs_ip: p.ip.float });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`ending the sm-notify waiter \\(pid ${pid}\\)`));
    expect(p.server.exec(['kill', '-0', String(pid)]).code).not.toBe(0);
    p.server.run(['ip', 'addr', 'add', `${p.ip.float}/24`, 'dev', p.vs]);
    sleepMs(2000);
    expect(p.log()).not.toContain('SM_NOTIFY');
  });
});
