// The shell agents' CIB of the end-to-end bed (OCFKIT_E2E_AGENTS=shell, lib/shell-stack.ts), tested
// fast and without guests on what ocf-gen really writes for the bed: the rewrite keeps ids and the
// group's order, carries over only parameters the shell agents have, gives them their meta-data's
// operations (checked against the host's own agents where installed), and crm_verify accepts it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { externalAgentInfo } from '../../src/cib/agent-meta.js';
import { ROOT } from '../qemu/lib/image.js';
import { OCF_GEN, scaleOpTimeouts } from './lib/host-prep.js';
import { NFS_SERVER_UNITS, NFS_SERVER_UNITS_PATH } from './lib/shell-nodes.js';
import { agentsUnderTest, exportfsParams, SHELL_AGENTS, SHELL_GROUP, shellStackCib } from './lib/shell-stack.js';
import { cibSettings } from './lib/stack.js';

const built = existsSync(join(ROOT, 'dist', 'ocf-gen.js'));
if (!built) console.warn('shell-stack CIB tests skipped: ocf-gen is not built (npm run build)');

const run = (cmd: string, args: string[], o: { env?: NodeJS.ProcessEnv } = {}) => spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, env: o.env ?? process.env });
const have = (cmd: string) => run('sh', ['-c', 'command -v "$1"', 'sh', cmd]).status === 0;

/** The bed's CIB as ocf-gen writes it (stack.ts's settings), with `extra` settings. */
function bedCib(extra: Record<string, string> = {}): string {
  const settings = { ...cibSettings({ username: 'fencer', password: 'secret12' }), ...extra };
  const r = run(OCF_GEN, ['cib', ...Object.entries(settings).flatMap(([k, v]) => ['--set', `${k}=${v}`])]);
  if (r.status !== 0) throw new Error(`ocf-gen cib: ${r.stderr}`);
  return r.stdout;
}

/** Every primitive of the CIB: its agent and parameters. */
function primitives(xml: string): Map<string, { agent: string; params: Record<string, string>; ops: string[] }> {
  const out = new Map<string, { agent: string; params: Record<string, string>; ops: string[] }>();
  for (const m of xml.matchAll(/<primitive id="([^"]+)" class="([^"]+)"(?: provider="([^"]+)")? type="([^"]+)">([\s\S]*?)<\/primitive>/g)) {
    const params = Object.fromEntries([...m[5]!.matchAll(/<nvpair id="[^"]*" name="([^"]*)" value="([^"]*)"\/>/g)].map((p) => [p[1]!, p[2]!]));
    const ops = [...m[5]!.matchAll(/<op id="([^"]+)" name="([^"]+)" interval="([^"]+)" timeout="([^"]+)"(?: role="([^"]+)")?\/>/g)].map((o) => `${o[2]} ${o[3]}/${o[4]}${o[5] ? ` ${o[5]}` : ''}`);
    out.set(m[1]!, { agent: [m[2], m[3], m[4]].filter(Boolean).join(':'), params, ops });
  }
  return out;
}

describe.skipIf(!built)('the shell agents\' CIB, from the bed\'s real ocf-gen CIB', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocfkit-shell-cib-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const original = built ? bedCib() : '';
  const shell = built ? shellStackCib(original, { nfsInitScript: NFS_SERVER_UNITS_PATH }) : { xml: '', dropped: [] };
  const prims = primitives(shell.xml);

  test('ocfkit\'s primitives become the shell agents\', ids kept, export and notify added to the group', () => {
    expect(shell.xml).not.toContain('provider="ocfkit"');
    expect(Object.fromEntries([...prims].map(([id, p]) => [id, p.agent]))).toEqual({
      'fence-n1': 'stonith:fence_ipmilan',
      'fence-n2': 'stonith:fence_ipmilan',
      drbd: 'ocf:linbit:drbd',
      fs: 'ocf:heartbeat:Filesystem',
      nfs: 'ocf:heartbeat:nfsserver',
      export: 'ocf:heartbeat:exportfs',
      ip: 'ocf:heartbeat:IPaddr2',
      notify: 'ocf:heartbeat:nfsnotify',
    });
    const group = /<group id="nfs-group">[\s\S]*?<\/group>/.exec(shell.xml)![0];
    expect([...group.matchAll(/<primitive id="([^"]+)"/g)].map((m) => m[1])).toEqual([...SHELL_GROUP]);
    expect(shell.xml).toMatch(/<clone id="drbd-clone">[\s\S]*<primitive id="drbd" class="ocf" provider="linbit" type="drbd">[\s\S]*<\/clone>/);
    // Everything outside the resources is the CIB ocf-gen wrote.
    const outside = (x: string) => x.replace(/<resources>[\s\S]*<\/resources>/, '').replace(/<!-- OCFKIT_E2E_AGENTS=shell[^>]*-->\n/, '');
    expect(outside(shell.xml)).toBe(outside(original));
    expect(prims.get('fence-n1')).toEqual(primitives(original).get('fence-n1'));
  });

  test('parameters: the same where the shell agents have them; the export, the notification and the init script as they need them', () => {
    const before = primitives(original);
    expect(prims.get('drbd')!.params).toEqual(before.get('drbd')!.params);
    expect(prims.get('fs')!.params).toEqual(before.get('fs')!.params);
    expect(prims.get('ip')!.params).toEqual(before.get('ip')!.params);
    expect(prims.get('nfs')!.params).toEqual({
      nfs_shared_infodir: '/srv/nfs/nfsinfo',
      nfs_ip: '10.99.0.100',
      nfs_server_scope: '10.99.0.100',
      nfs_no_notify: 'true',
      nfs_init_script: NFS_SERVER_UNITS_PATH,
    });
    expect(before.get('nfs')!.params.exports).toBe('/srv/nfs/export 10.99.0.0/24(rw,sync,no_subtree_check,fsid=1)');
    expect(prims.get('export')!.params).toEqual({ directory: '/srv/nfs/export', clientspec: '10.99.0.0/24', options: 'rw,sync,no_subtree_check', fsid: '1', unlock_on_stop: 'true' });
    expect(prims.get('notify')!.params).toEqual({ source_host: '10.99.0.100' });
    expect(shell.dropped).toEqual([]);
  });

  test('operations: the shell agents\' meta-data defaults (linbit drbd: monitors every 10 s promoted, 20 s unpromoted)', () => {
    expect(prims.get('drbd')!.ops).toEqual(['start 0s/240s', 'stop 0s/100s', 'promote 0s/90s', 'demote 0s/90s', 'notify 0s/90s', 'monitor 10s/20s Promoted', 'monitor 20s/20s Unpromoted']);
    expect(prims.get('fs')!.ops).toEqual(['start 0s/60s', 'stop 0s/60s', 'monitor 20s/40s']);
    expect(prims.get('nfs')!.ops).toEqual(['start 0s/40s', 'stop 0s/20s', 'monitor 10s/20s']);
    expect(prims.get('export')!.ops).toEqual(['start 0s/40s', 'stop 0s/120s', 'monitor 10s/20s']);
    expect(prims.get('ip')!.ops).toEqual(['start 0s/20s', 'stop 0s/20s', 'monitor 10s/20s']);
    expect(prims.get('notify')!.ops).toEqual(['start 0s/90s', 'stop 0s/90s', 'monitor 30s/90s']);
    // The CPU-hog pass scales them like ocfkit's.
    expect(primitives(scaleOpTimeouts(shell.xml, 10, 200)).get('nfs')!.ops).toEqual(['start 0s/400s', 'stop 0s/200s', 'monitor 10s/200s']);
  });

  test('statd_hostname is left out with its reason; a parameter without counterpart stops the rewrite', () => {
    const withName = shellStackCib(bedCib({ statd_hostname: 'nfs-vip' }));
    expect(withName.dropped).toEqual([expect.stringMatching(/^nfs: statd_hostname \(heartbeat's nfsserver has none/)]);
    expect(primitives(withName.xml).get('nfs')!.params).not.toHaveProperty('statd_hostname');
    expect(primitives(withName.xml).get('nfs')!.params).not.toHaveProperty('nfs_init_script');
    const tickle = original.replace('<nvpair id="nfs-instance_attributes-nfs_ip"', '<nvpair id="nfs-instance_attributes-tickle_clients" name="tickle_clients" value="true"/>\n            <nvpair id="nfs-instance_attributes-nfs_ip"');
    expect(() => shellStackCib(tickle)).toThrow(/nfs: ocf:heartbeat:nfsserver has no parameter tickle_clients/);
    expect(() => shellStackCib(original.replace('type="IPaddr2"', 'type="IPaddr3"'))).toThrow(/no shell agent for ocf:ocfkit:IPaddr3/);
  });

  test('ocf-gen validate passes it; crm_verify accepts it', () => {
    const file = join(dir, 'shell-cib.xml');
    writeFileSync(file, shell.xml);
    const r = run(OCF_GEN, ['validate', '--json', file]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const check = (JSON.parse(r.stdout) as { check: { tool: string; ran: boolean; ok: boolean; output: string[] } }).check;
    if (!check.ran) {
      console.warn(`crm_verify not run on the shell agents' CIB: ${check.output.join(' ')}`);
      return;
    }
    expect(check, check.output.join('\n')).toMatchObject({ tool: 'crm_verify', ok: true });
  });

  // Where this host has resource-agents and drbd-utils (npm test installs them), their own meta-data.
  const metaOf = (agent: string) => {
    const r = run('crm_resource', ['--show-metadata', agent]);
    return r.status === 0 ? r.stdout : undefined;
  };
  const hostHasAgents = have('crm_resource') && metaOf('ocf:heartbeat:exportfs') !== undefined && metaOf('ocf:linbit:drbd') !== undefined;
  if (!hostHasAgents) console.warn('shell agents\' meta-data checks skipped: no crm_resource, resource-agents or drbd-utils on this host');

  test.skipIf(!hostHasAgents)('every parameter is one the agent\'s meta-data on this host has, every required one is set', () => {
    for (const [id, p] of prims) {
      if (!p.agent.startsWith('ocf:')) continue;
      const [, provider, type] = p.agent.split(':') as [string, string, string];
      const info = externalAgentInfo({ class: 'ocf', provider, type }, { crmResource: true });
      if (typeof info === 'string') throw new Error(info);
      for (const name of Object.keys(p.params)) expect([...info.params.keys()], `${id}: ${name}`).toContain(name);
      for (const [name, pi] of info.params) if (pi.required) expect(p.params, `${id}: required ${name}`).toHaveProperty(name);
    }
  });

  test.skipIf(!hostHasAgents)('SHELL_AGENTS is what the agents\' meta-data on this host says (parameters, operation defaults)', () => {
    const seconds = (v: string | undefined) => (v === undefined ? undefined : Number(v.replace(/s$/, '')));
    for (const a of Object.values(SHELL_AGENTS)) {
      const xml = metaOf(`ocf:${a.provider}:${a.type}`)!;
      expect([...xml.matchAll(/<parameter name="([^"]+)"/g)].map((m) => m[1]), a.type).toEqual([...a.params]);
      const actions = [...xml.matchAll(/<action\s+([^>]*?)\/>/g)].map((m) => Object.fromEntries([...m[1]!.matchAll(/([\w-]+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!])));
      for (const o of a.ops) {
        // drbd-utils still names the roles Master and Slave.
        const role: Array<string | undefined> = o.role === 'Promoted' ? ['Promoted', 'Master'] : o.role === 'Unpromoted' ? ['Unpromoted', 'Slave'] : [undefined];
        const act = actions.find((x) => x.name === o.name && role.includes(x.role));
        expect(act, `${a.type} ${o.name} ${o.role ?? ''}`).toBeDefined();
        expect(seconds(act!.timeout), `${a.type} ${o.name} timeout`).toBe(o.timeout);
        expect(seconds(act!.interval) ?? 0, `${a.type} ${o.name} interval`).toBe(o.interval ?? 0);
      }
    }
  });
});

describe('the export as exportfs parameters', () => {
  test('directory, client, options without the fsid, the fsid', () => {
    expect(exportfsParams(' /srv/x 192.0.2.0/24(ro,fsid=7,sync) ')).toEqual([
      ['directory', '/srv/x'],
      ['clientspec', '192.0.2.0/24'],
      ['options', 'ro,sync'],
      ['fsid', '7'],
      ['unlock_on_stop', 'true'],
    ]);
  });
  test('more than one export, no fsid or another syntax is refused', () => {
    expect(() => exportfsParams('/a h(rw,fsid=1); /b h(rw,fsid=2)')).toThrow(/one export expected .* found 2/);
    expect(() => exportfsParams('/a h(rw)')).toThrow(/no fsid=/);
    expect(() => exportfsParams('/a -rw h')).toThrow(/not a "<directory> <client>\(<options>\)" export/);
  });
});

test('OCFKIT_E2E_AGENTS: ocfkit by default, shell, nothing else', () => {
  expect(agentsUnderTest({})).toBe('ocfkit');
  expect(agentsUnderTest({ OCFKIT_E2E_AGENTS: 'shell' })).toBe('shell');
  expect(() => agentsUnderTest({ OCFKIT_E2E_AGENTS: 'heartbeat' })).toThrow(/use ocfkit or shell/);
});

test('the stand-in for the NFS server units is valid sh', () => {
  const file = join(tmpdir(), `nfs-server-units-${process.pid}.sh`);
  writeFileSync(file, NFS_SERVER_UNITS);
  try {
    const r = run('sh', ['-n', file]);
    expect(r.status, r.stderr).toBe(0);
  } finally {
    rmSync(file, { force: true });
  }
});
