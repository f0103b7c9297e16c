import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AGENTS_EXE } from '../helpers/agent.js';
import { drbdBed, STANDIN, type DrbdBed, endBed } from '../standins/drbd/bed.js';

/**
 * Promotion scores on Pacemaker 2.0.x (issue #16.5): its crm_attribute has
 * no --promotion (Pacemaker 2.1, feature set 3.9), and answers the unknown
 * option with its usage and exit 0, so an agent that only knows
 * --promotion sets nothing and DRBD is never promoted. This host has
 * Pacemaker 2.1.5: `test/standins/drbd/pacemaker-2.0/crm_attribute` is a
 * STAND-IN that refuses exactly what 2.0 lacks the way 2.0.5 does and passes
 * everything else to the real tool. The CIB is in the 2.0 dialect
 * (validate-with pacemaker-3.0, <master>), and the decision to promote is
 * the real crm_simulate's. DRBD is the usual stand-in.
 */
const PCMK20 = join(STANDIN, 'pacemaker-2.0');

let bed: DrbdBed;

beforeAll(() => {
  if (!existsSync(AGENTS_EXE)) throw new Error(`${AGENTS_EXE} is not built: npm run build`);
});

afterEach(() => endBed(bed));

/** The bed's CIB turned into a Pacemaker 2.0 one: schema pacemaker-3.0, feature set 3.0.14, a <master> resource. */
function pacemaker20Cib(b: DrbdBed): void {
  const xml = readFileSync(b.cib, 'utf8').replace(/validate-with="[^"]*"/, 'validate-with="pacemaker-3.0"').replace(/crm_feature_set="[^"]*"/, 'crm_feature_set="3.0.14"');
  writeFileSync(b.cib, xml);
  const cib = (args: string[]) => spawnSync('cibadmin', args, { env: { ...process.env, CIB_file: b.cib }, encoding: 'utf8' });
  const master = `<master id="ms_r0">
  <meta_attributes id="ms_r0-meta">
    <nvpair id="ms_r0-notify" name="notify" value="true"/>
    <nvpair id="ms_r0-master-max" name="master-max" value="1"/>
  </meta_attributes>
  <primitive id="drbd_r0" class="ocf" provider="ocfkit" type="drbd">
    <instance_attributes id="drbd_r0-ia"><nvpair id="drbd_r0-res" name="drbd_resource" value="r0"/></instance_attributes>
  </primitive>
</master>`;
  for (const args of [['--create', '-o', 'resources', '--xml-text', master], ['--modify', '--xml-text', '<cib have-quorum="1"/>']]) {
    const r = cib(args);
    expect(r.status, r.stderr).toBe(0);
  }
  const p = spawnSync('crm_attribute', ['-t', 'crm_config', '-n', 'stonith-enabled', '-v', 'false'], { env: { ...process.env, CIB_file: b.cib }, encoding: 'utf8' });
  expect(p.status, p.stderr).toBe(0);
  expect(readFileSync(b.cib, 'utf8')).toMatch(/^<cib [^>]*validate-with="pacemaker-3.0"/);
}

/** The score as Pacemaker 2.0 stores and reads it: the transient node attribute master-drbd_r0. */
function masterAttribute(b: DrbdBed): string | undefined {
  const r = spawnSync('crm_attribute', ['--node', 'node1', '--lifetime', 'reboot', '--name', 'master-drbd_r0', '--query', '--quiet'], { env: { ...process.env, CIB_file: b.cib }, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function simulate(b: DrbdBed): string {
  const r = spawnSync('crm_simulate', ['-x', b.cib, '-S'], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

const pcmk20 = (b: DrbdBed) => ({ env: { PATH: `${PCMK20}:${b.env.PATH}` } });

describe('drbd promotion scores on Pacemaker 2.0 (crm_attribute without --promotion)', () => {
  it('the stand-in is faithful to 2.0: --promotion "succeeds" (exit 0) and sets nothing', () => {
    bed = drbdBed('drbd84');
    pacemaker20Cib(bed);
    const r = spawnSync(join(PCMK20, 'crm_attribute'), ['--promotion=drbd_r0', '--node=node1', '--lifetime=reboot', '--update=10000'], { env: { ...process.env, CIB_file: bed.cib }, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/unrecognized option '--promotion=drbd_r0'/);
    expect(masterAttribute(bed)).toBeUndefined();
  });

  it('start scores through master-<id>, and Pacemaker promotes the node; stop removes it', () => {
    bed = drbdBed('drbd84');
    pacemaker20Cib(bed);
    expect(simulate(bed)).not.toMatch(/Promote\s+drbd_r0/); // no score yet: nobody
    const r = bed.run('start', pcmk20(bed));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/crm_attribute has no --promotion/);
    expect(masterAttribute(bed)).toBe('10000');
    expect(simulate(bed)).toMatch(/Promote\s+drbd_r0:\d.*Promoted node1/);

    expect(bed.run('stop', pcmk20(bed)).code).toBe(0);
    expect(masterAttribute(bed)).toBeUndefined();
  });

  it('Pacemaker 2.1 (the real crm_attribute): --promotion, the same attribute', () => {
    bed = drbdBed('drbd84');
    const r = bed.run('start');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/no --promotion/);
    expect(masterAttribute(bed)).toBe('10000');
    expect(bed.score()).toBe(10000);
  });
});
