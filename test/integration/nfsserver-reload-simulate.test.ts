// Pacemaker's own scheduler (crm_simulate, Pacemaker 2.1) on a running NFS group: a change of only the
// export table reloads nfsserver in place (reload-agent), without restarting it or the IP after it; any
// other parameter still restarts both.
//
// crm_simulate runs no agents and does not record what the controller records after a real start: the
// parameters that force a restart (op-force-restart, derived from the meta-data's reloadable flags) and
// the digest of their values (op-restart-digest). The test adds both to the simulated start exactly as
// the controller computes them (controld_execd.c build_parameter_list: every parameter of the meta-data
// not marked reloadable="1", in order, between spaces; the digest: MD5 of ' <parameters …/>\n' with the
// set ones among them, sorted), from the built agent's real meta-data. That the digest is right is
// checked, not assumed: the unchanged CIB schedules nothing, a wrong digest schedules a restart.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mustRun, requireTools, tempDir } from './cib-helpers.js';
import { runAgent } from '../helpers/agent.js';

const tmp = tempDir('nfs-reload-sim');
afterAll(() => tmp.cleanup());
beforeAll(() => requireTools('crm_simulate', 'crm_resource'));

const EXPORTS = '/srv/nfs/a 10.0.0.0/24(rw,sync,fsid=1)';
const NFS_IP = '10.0.0.100';

const CIB = `<cib crm_feature_set="3.0.14" validate-with="pacemaker-3.7" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config><cluster_property_set id="opts"><nvpair id="opts-stonith-enabled" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources>
      <group id="g_nfs">
        <primitive id="nfs" class="ocf" provider="ocfkit" type="nfsserver">
          <instance_attributes id="nfs-ia">
            <nvpair id="nfs-exports" name="exports" value="${EXPORTS}"/>
            <nvpair id="nfs-nfs_ip" name="nfs_ip" value="${NFS_IP}"/>
          </instance_attributes>
        </primitive>
        <primitive id="ip" class="ocf" provider="ocfkit" type="IPaddr2">
          <instance_attributes id="ip-ia"><nvpair id="ip-ip" name="ip" value="${NFS_IP}"/></instance_attributes>
        </primitive>
      </group>
    </resources>
    <constraints/>
  </configuration>
  <status/>
</cib>
`;

/** The controller's op-force-restart for this meta-data: the non-reloadable parameters, in order, between spaces. */
function forceRestartList(metadata: string): string {
  const names = [...metadata.matchAll(/<parameter name="([^"]+)"([^>]*)>/g)].filter((m) => !/reloadable="1"/.test(m[2]!)).map((m) => m[1]!);
  return ` ${names.join(' ')} `;
}

/** Pacemaker's operation digest (crm_feature_set > 3.0.5): MD5 of the sorted parameters element, as dumped. */
function restartDigest(params: Record<string, string>, list: string): string {
  const attrs = Object.keys(params)
    .filter((k) => list.includes(` ${k} `))
    .sort()
    .map((k) => ` ${k}="${params[k]!.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')}"`)
    .join('');
  return createHash('md5').update(` <parameters${attrs}/>\n`).digest('hex');
}

describe('nfsserver under crm_simulate: an export table change reloads, nothing restarts', () => {
  let running: string;
  let list: string;

  beforeAll(() => {
    const md = runAgent('nfsserver', 'meta-data');
    expect(md.code, md.stderr).toBe(0);
    // Without reload-agent the controller records no restart list and Pacemaker always restarts.
    expect(md.stdout).toMatch(/<action name="reload-agent"/);
    list = forceRestartList(md.stdout);

    const cib = tmp.file('cib.xml');
    writeFileSync(cib, CIB);
    const started = tmp.file('started.xml');
    mustRun('crm_simulate', ['-x', cib, '-S', '-O', started, '-q', 'true', '-u', 'node1', '-u', 'node2']);
    const digest = restartDigest({ exports: EXPORTS, nfs_ip: NFS_IP }, list);
    let patched = 0;
    running = readFileSync(started, 'utf8').replace(/(<lrm_rsc_op id="nfs_last_0" operation_key="nfs_start_0"[^>]*?)\/>/, (_m, op: string) => {
      patched++;
      return `${op} op-force-restart="${list}" op-restart-digest="${digest}"/>`;
    });
    expect(patched).toBe(1);
  });

  const simulate = (name: string, change?: [string, string], cib = running) => {
    const file = tmp.file(`${name}.xml`);
    writeFileSync(file, cib);
    if (change) mustRun('crm_resource', ['--resource', 'nfs', '--set-parameter', change[0], '--parameter-value', change[1]], { env: { CIB_file: file } });
    const out = mustRun('crm_simulate', ['-x', file, '-S']).stdout;
    return { out, summary: out.slice(out.indexOf('Transition Summary:'), out.indexOf('Executing Cluster Transition:')) };
  };

  it('the running group, unchanged: nothing scheduled (the recorded restart digest is what Pacemaker computes)', () => {
    const { summary } = simulate('unchanged');
    expect(summary).not.toMatch(/\* (Restart|Reload|Stop|Start|Move)\s/);
    // Control: a restart digest that does not match makes Pacemaker restart.
    const wrong = simulate('wrong-digest', undefined, running.replace(/op-restart-digest="[0-9a-f]+"/, 'op-restart-digest="00000000000000000000000000000000"'));
    expect(wrong.summary).toMatch(/Restart\s+nfs\s/);
  });

  it.each([
    ['exports', `${EXPORTS}; /srv/nfs/b 10.0.0.0/24(ro,sync,fsid=2)`],
    ['exports', '/srv/nfs/a 10.0.0.0/24(ro,sync,fsid=1)'],
    ['directory', '/srv/nfs/c'],
    ['derive_fsid', 'false'],
  ])('%s changed to %s: Reload of nfs (reload-agent), no stop or start of nfs or ip', (param, value) => {
    const { out, summary } = simulate(`reload-${param}`, [param, value]);
    expect(summary).toMatch(/\* Reload\s+nfs\s+\( node1 \)/);
    expect(summary).not.toMatch(/\* (Restart|Stop|Start|Move|Recover)\s/);
    expect(out).toMatch(/Resource action: nfs\s+reload-agent on node1/);
    expect(out).not.toMatch(/Resource action: (nfs|ip)\s+(stop|start)/);
  });

  it.each([
    ['nfs_ip', '10.0.0.101'],
    ['nfsd_threads', '16'],
    ['nfs_server_scope', 'nfs.example'],
  ])('%s changed (not reloadable): Restart of nfs and of ip after it', (param, value) => {
    const { summary } = simulate(`restart-${param}`, [param, value]);
    expect(summary).toMatch(/Restart\s+nfs\s+\( node1 \)\s+due to resource definition change/);
    expect(summary).toMatch(/Restart\s+ip\s/);
  });
});
