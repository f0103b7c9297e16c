import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENTS_EXE, ROOT } from '../helpers/agent.js';

/**
 * The agents' meta-data as the admins' tools read it (issue #16.3): Debian
 * 12's pcs 0.11.5 and crmsh 4.4.1, on the agents installed the way a user
 * installs them (`ocf-gen install --prefix`). Both tools ask Pacemaker
 * (crm_resource --show-metadata), which looks only in /usr/lib/ocf: each
 * command runs in a private mount namespace where the installed tree is
 * overlaid (read-only) on /usr/lib/ocf, so the host's /usr/lib/ocf is never
 * written. ocf:heartbeat:IPaddr2 is the reference for what pcs should do.
 */
const why = (() => {
  if (process.getuid?.() !== 0) return 'needs root (a mount namespace with an overlay on /usr/lib/ocf)';
  for (const tool of ['pcs', 'crm', 'unshare', 'cibadmin']) if (spawnSync('sh', ['-c', 'command -v "$1"', 'sh', tool]).status !== 0) return `${tool} missing (apt-get install pcs crmsh pacemaker-cli-utils)`;
  return undefined;
})();
if (why) console.warn(`[metadata-tools] SKIPPED: ${why}`);

const OVERLAY = 'set -e; ocf=$1; shift; mount --make-rprivate /; mount -t overlay overlay -o "lowerdir=$ocf:/usr/lib/ocf" /usr/lib/ocf; exec "$@"';

let dir: string;
let ocf: string;

/** A command with ocf:ocfkit:* installed, as on a node. */
function withAgents(cmd: string, args: string[]) {
  const r = spawnSync('unshare', ['-m', 'sh', '-c', OVERLAY, 'sh', ocf, cmd, ...args], { encoding: 'utf8', timeout: 120_000, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: dir, LANG: 'C.UTF-8' } });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

describe.skipIf(why)('meta-data in pcs and crmsh', () => {
  beforeAll(() => {
    for (const f of [AGENTS_EXE, join(ROOT, 'dist', 'ocf-gen.js')]) if (!existsSync(f)) throw new Error(`${f} is not built: npm run build`);
    dir = mkdtempSync(join(tmpdir(), 'ocfkit-mdtools-'));
    ocf = join(dir, 'ocf');
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'ocf-gen'), 'install', '--prefix', ocf], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('pcs resource describe: unique parameters carry their unique group (pcs ignores unique="1" in OCF 1.1)', () => {
    const ip = withAgents('pcs', ['resource', 'describe', 'ocf:ocfkit:IPaddr2']);
    expect(ip.code, ip.stderr).toBe(0);
    expect(ip.stdout).toMatch(/^ {2}ip \(required\) \(unique group: ip\):/m);
    const drbd = withAgents('pcs', ['resource', 'describe', 'ocf:ocfkit:drbd']);
    expect(drbd.code, drbd.stderr).toBe(0);
    expect(drbd.stdout).toMatch(/^ {2}drbd_resource \(required\) \(unique group: drbd_resource\):/m);
  });

  it('pcs resource describe --full: deprecated parameters with their replacement; choices listed', () => {
    const ip = withAgents('pcs', ['resource', 'describe', '--full', 'ocf:ocfkit:IPaddr2']);
    expect(ip.stdout).toMatch(/^ {2}netmask \(deprecated by cidr_netmask\):/m);
    expect(ip.stdout).toMatch(/^ {2}arp_sender: .*Allowed values: send_arp, iputils_arping\./m);
    const fs = withAgents('pcs', ['resource', 'describe', '--full', 'ocf:ocfkit:Filesystem']);
    expect(fs.stdout).toMatch(/^ {2}force_unmount: .*Allowed values: true, safe, false\./m);
    // Without --full, pcs hides deprecated parameters from new users.
    expect(withAgents('pcs', ['resource', 'describe', 'ocf:ocfkit:IPaddr2']).stdout).not.toMatch(/^ {2}netmask/m);
  });

  it.each(['heartbeat', 'ocfkit'])('pcs -f refuses a second ocf:%s:IPaddr2 with the same ip (without --force)', (provider) => {
    const cib = join(dir, `cib-${provider}.xml`);
    const empty = spawnSync('sh', ['-c', 'cibadmin --empty > "$1"', 'sh', cib]);
    expect(empty.status).toBe(0);
    const first = withAgents('pcs', ['-f', cib, 'resource', 'create', 'vip1', `ocf:${provider}:IPaddr2`, 'ip=192.0.2.10', 'cidr_netmask=24']);
    expect(first.code, first.stderr).toBe(0);
    const second = withAgents('pcs', ['-f', cib, 'resource', 'create', 'vip2', `ocf:${provider}:IPaddr2`, 'ip=192.0.2.10', 'cidr_netmask=24']);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain(`Value '192.0.2.10' of option 'ip' is not unique across 'ocf:${provider}:IPaddr2' resources`);
    const other = withAgents('pcs', ['-f', cib, 'resource', 'create', 'vip3', `ocf:${provider}:IPaddr2`, 'ip=192.0.2.11', 'cidr_netmask=24']);
    expect(other.code, other.stderr).toBe(0);
  });

  it('crmsh reads it: crm ra info lists the parameters, required marked', () => {
    const r = withAgents('crm', ['ra', 'info', 'ocf:ocfkit:drbd']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('(ocf:ocfkit:drbd)');
    expect(r.stdout).toMatch(/^drbd_resource\* \(string\): drbd resource name/m);
    expect(r.stdout).toMatch(/^wfc_timeout \(string, \[5\]\):/m);
  });
});
