import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STANDIN, STANDIN_BIN } from '../../standins/drbd/bed.js';
import { TestCluster } from './cluster.js';
import { buildOcfkit, ROOT } from './ocfkit.js';

/**
 * ocf:ocfkit:drbd on the tier-1 cluster, with the DRBD stand-in (test/standins/drbd: this kernel has
 * no DRBD module) in place of DRBD. A test-only provider `ocfkit-standin` whose `drbd` is a wrapper
 * that puts the stand-in first in PATH, gives each node its own stand-in state under `standinDir/<node>`
 * and then runs the built agents executable: Pacemaker's controller reads the agent's real meta-data
 * and execd runs the real agent. Pass it as TestCluster.create({ prepareOcf }).
 */
export function installDrbdStandinProvider(ocfDir: string, standinDir: string, scenario = 'drbd84'): void {
  const dir = join(ocfDir, 'resource.d', 'ocfkit-standin');
  mkdirSync(dir, { recursive: true });
  const wrapper = `#!/bin/sh
# Test bed only: ocf:ocfkit:drbd with the DRBD stand-in (test/standins/drbd) in place of the kernel module.
node=$(uname -n)
mkdir -p "${standinDir}/$node"
export PATH="${STANDIN_BIN}:/usr/sbin:/usr/bin:/sbin:/bin"
export DRBD_STANDIN_DIR="${standinDir}/$node"
export DRBD_STANDIN_SCENARIO="${join(STANDIN, 'scenarios', `${scenario}.json`)}"
export OCFKIT_DRBD_KERNEL_ROOT="${standinDir}/$node/kernel"
exec "${join(ROOT, 'build', 'ocfkit-agents')}" drbd "$@"
`;
  writeFileSync(join(dir, 'drbd'), wrapper);
  chmodSync(join(dir, 'drbd'), 0o755);
  writeFileSync(join(standinDir, 'drbd.conf'), '# read by the drbd stand-in scenario, not parsed\n');
}

/** The promotable clone ms_r0 of drbd_r0 (ocf:ocfkit-standin:drbd), as a <clone> element. */
export function drbdCloneXml(standinDir: string, params: Record<string, string> = {}): string {
  const nv = Object.entries({ drbd_resource: 'r0', drbdconf: join(standinDir, 'drbd.conf'), ...params })
    .map(([k, v]) => `          <nvpair id="drbd_r0-${k}" name="${k}" value="${v}"/>`)
    .join('\n');
  return `    <clone id="ms_r0">
      <meta_attributes id="ms_r0-meta">
        <nvpair id="ms_r0-promotable" name="promotable" value="true"/>
        <nvpair id="ms_r0-notify" name="notify" value="true"/>
        <nvpair id="ms_r0-clone-max" name="clone-max" value="2"/>
        <nvpair id="ms_r0-clone-node-max" name="clone-node-max" value="1"/>
        <nvpair id="ms_r0-promoted-max" name="promoted-max" value="1"/>
        <nvpair id="ms_r0-promoted-node-max" name="promoted-node-max" value="1"/>
      </meta_attributes>
      <primitive id="drbd_r0" class="ocf" provider="ocfkit-standin" type="drbd">
        <instance_attributes id="drbd_r0-ia">
${nv}
        </instance_attributes>
        <operations>
          <op id="drbd_r0-mon-p" name="monitor" interval="5s" role="Promoted" timeout="20s"/>
          <op id="drbd_r0-mon-u" name="monitor" interval="6s" role="Unpromoted" timeout="20s"/>
        </operations>
      </primitive>
    </clone>`;
}

/** What the stand-in on `node` was asked, in order ("UNRECORDED …" lines for what it had no answer for). */
export function drbdStandinCalls(standinDir: string, node: string): string[] {
  const f = join(standinDir, node, 'calls.log');
  return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : [];
}

/** A two-node cluster whose nodes run the stand-in provider, with `cibXml(standinDir)` loaded. */
export interface DrbdStandinCluster {
  cluster: TestCluster;
  standinDir: string;
  /** Tears the cluster down and removes the stand-in state. Idempotent. */
  teardown(): Promise<void>;
}

export async function startDrbdStandinCluster(prefix: string, cibXml: (standinDir: string) => string): Promise<DrbdStandinCluster> {
  await buildOcfkit();
  const standinDir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(standinDir, 0o755);
  let cluster: TestCluster | undefined;
  const teardown = async () => {
    await cluster?.teardown();
    rmSync(standinDir, { recursive: true, force: true });
  };
  try {
    cluster = await TestCluster.create({ nodes: 2, prepareOcf: (ocf) => installDrbdStandinProvider(ocf, standinDir) });
    await cluster.loadCib(cibXml(standinDir));
    return { cluster, standinDir, teardown };
  } catch (e) {
    await teardown();
    throw e;
  }
}
