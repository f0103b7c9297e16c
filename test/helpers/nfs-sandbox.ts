import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMounts } from '../../src/sys/mountinfo.js';
import { passwdLookup } from '../../src/sys/nfs/statd.js';
import { AGENTS_EXE, ROOT, type AgentRun } from './agent.js';

/**
 * A "node" for the NFS tests on this kernel: private mount, network and PID namespaces and a tmpfs
 * on /run. Killing its PID 1 ends every process started in it; its mounts go with the namespace.
 */

// PID 1 of a sandbox: bash reaps every orphan (daemons that exit become its children) while it waits.
const SANDBOX_INIT = "mount -t tmpfs -o mode=755 tmpfs /run && mkdir -p /run/lock && ip link set lo up && trap '' TERM INT HUP && while :; do sleep 1; done";

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export const sleepMs = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Polls `check` (synchronously) until it holds or `ms` pass. */
export function waitFor(what: string, check: () => boolean, ms = 15_000, detail?: () => string): void {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${detail ? `: ${detail()}` : ''}`);
    sleepMs(100);
  }
}

export class Sandbox {
  /** Host PID of the sandbox's PID 1. */
  readonly pid: number;
  private readonly holder: ChildProcess;

  constructor() {
    this.holder = spawn('unshare', ['--mount', '--net', '--pid', '--fork', '--mount-proc', '--propagation', 'private', '--', 'bash', '-c', SANDBOX_INIT], { stdio: 'ignore' });
    let pid = 0;
    waitFor('the sandbox to start', () => {
      const kids = (() => {
        try {
          return readFileSync(`/proc/${this.holder.pid}/task/${this.holder.pid}/children`, 'utf8').trim();
        } catch {
          return '';
        }
      })();
      pid = Number(kids.split(' ')[0] || 0);
      return pid > 0 && existsSync(`/proc/${pid}/task/${pid}/children`) && readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim() !== '';
    });
    this.pid = pid;
  }

  exec(argv: string[], o: { input?: string; timeoutMs?: number } = {}): Run {
    const r = spawnSync('nsenter', ['-t', String(this.pid), '-m', '-n', '-p', '--', ...argv], { encoding: 'utf8', input: o.input, timeout: o.timeoutMs ?? 60_000 });
    if (r.error) throw r.error;
    return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  run(argv: string[]): string {
    const r = this.exec(argv);
    if (r.code !== 0) throw new Error(`${argv.join(' ')} → exit ${r.code}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** Starts a long-running command detached inside the sandbox (output to `log`, or discarded). */
  detach(argv: string[], log = '/dev/null'): void {
    this.run(['setsid', '-f', 'sh', '-c', 'exec </dev/null >>"$1" 2>&1; shift; exec "$@"', 'detach', log, ...argv]);
  }

  pids(comm: string): number[] {
    const r = this.exec(['pidof', comm]);
    return r.code === 0 ? r.stdout.trim().split(/\s+/).map(Number) : [];
  }

  /** Runs the built agent (nfsserver unless `o.agent`) as Pacemaker would, inside the sandbox. */
  agent(action: string, params: Record<string, string>, meta: Record<string, string | number> = {}, o: { env?: Record<string, string>; wrap?: string[]; agent?: string; instance?: string } = {}): AgentRun {
    const env = ['OCF_ROOT=/usr/lib/ocf', `OCF_RESOURCE_INSTANCE=${o.instance ?? 'nfs'}`, 'PATH=/usr/sbin:/usr/bin:/sbin:/bin'];
    for (const [k, v] of Object.entries(params)) env.push(`OCF_RESKEY_${k}=${v}`);
    for (const [k, v] of Object.entries(meta)) env.push(`OCF_RESKEY_CRM_meta_${k}=${v}`);
    for (const [k, v] of Object.entries(o.env ?? {})) env.push(`${k}=${v}`);
    const r = this.exec([...(o.wrap ?? []), 'env', '-i', ...env, AGENTS_EXE, o.agent ?? 'nfsserver', action], { timeoutMs: 120_000 });
    return { ...r, reason: /^ocf-exit-reason:(.*)$/m.exec(r.stderr)?.[1] };
  }

  /** What is mounted at `path` inside the sandbox (read from the host, no fork). */
  mountedAt(path: string): boolean {
    return readMounts(this.pid).some((m) => m.mountPoint === path);
  }

  kill(): void {
    // SIGKILL to a namespace's PID 1 ends every process in it; its mounts go with the namespace.
    try {
      process.kill(this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    this.holder.kill('SIGKILL');
  }
}

export const statd = () => {
  const o = passwdLookup('statd') ?? passwdLookup('rpcuser');
  if (!o) throw new Error('no statd user (install nfs-common)');
  return o;
};

/** A statd monitor record, as rpc.statd writes it to sm/<mon_name>: "addr prog vers proc priv mon_name my_name". */
export const smRecord = (monName: string, myName: string) => `0100007f 000186b5 00000004 00000010 ${'0'.repeat(32)} ${monName} ${myName}\n`;

/**
 * Everything of an NFS server resource except nfsd (this kernel has none) in sandbox `n`: a shared
 * state directory under `root` bound over /var/lib/nfs (statd's client list holding 10.77.0.2),
 * rpcbind, rpc.statd with the identity `float`, rpc.mountd, one export with fsid 7.
 */
export function runAllButNfsd(n: Sandbox, root: string, float: string): { infodir: string; exportDir: string; params: Record<string, string> } {
  const infodir = join(root, 'shared', 'nfsinfo');
  const exportDir = join(root, 'shared', 'export');
  mkdirSync(exportDir, { recursive: true });
  const o = statd();
  for (const d of ['sm', 'sm.bak', 'sm.ha', 'v4recovery']) mkdirSync(join(infodir, d), { recursive: true });
  for (const d of ['sm', 'sm.bak', 'sm.ha']) chownSync(join(infodir, d), o.uid, o.gid);
  writeFileSync(join(infodir, 'etab'), '');
  writeFileSync(join(infodir, 'rmtab'), '');
  writeFileSync(join(infodir, 'sm', '10.77.0.2'), smRecord('10.77.0.2', 'n1'));
  chownSync(join(infodir, 'sm', '10.77.0.2'), o.uid, o.gid);
  const params = { nfs_shared_infodir: infodir, nfs_ip: float, exports: `${exportDir} 10.77.0.0/24(rw,sync,no_root_squash,fsid=7)`, nfs_notify_wait: '5' };

  n.run(['mount', '--bind', infodir, '/var/lib/nfs']);
  n.run(['rpcbind', '-w']);
  n.run(['rpc.statd', '--no-notify', '-P', '/var/lib/nfs', '-n', float]);
  n.run(['rpc.mountd']);
  n.run(['exportfs', '-i', '-o', 'rw,sync,no_root_squash,fsid=7', `10.77.0.0/24:${exportDir}`]);
  return { infodir, exportDir, params };
}

/**
 * This kernel has no nfsd: a stand-in gives the node what a running nfsd
 * shows, /proc/fs/nfsd/threads (a tmpfs over /proc/fs in the sandbox) and
 * the NFS RPC program (100003 v3 on UDP and TCP port 2049, registered with
 * rpcbind; test/fixtures/nfs-standin). rpcbind, rpc.mountd and rpc.statd
 * are the real daemons. The nfs program of the kernel is asked in
 * test/qemu/nfsserver.test.ts.
 */
export function serveNfsStandin(n: Sandbox, logDir: string): void {
  n.run(['mount', '-t', 'tmpfs', '-o', 'mode=755', 'nfsd-standin', '/proc/fs']);
  n.run(['mkdir', '/proc/fs/nfsd']);
  n.run(['sh', '-c', 'echo 8 > /proc/fs/nfsd/threads']);
  const log = join(logDir, `standin-${n.pid}.log`);
  n.detach([process.execPath, join(ROOT, 'test', 'fixtures', 'nfs-standin', 'nfs-rpc-standin.cjs')], log);
  waitFor('the NFS stand-in to register', () => existsSync(log) && readFileSync(log, 'utf8').includes('registered'), 15_000, () => readFileSync(log, 'utf8'));
}

/** The sandboxes a test file makes, all killed by `killAll` (after each test, and at the end). */
export function sandboxRegistry(): { sandbox: () => Sandbox; killAll: () => void } {
  const made: Sandbox[] = [];
  return {
    sandbox: () => {
      const s = new Sandbox();
      made.push(s);
      return s;
    },
    killAll: () => {
      for (const s of made.splice(0)) s.kill();
    },
  };
}
