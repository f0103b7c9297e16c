import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AGENTS_EXE } from '../helpers/agent.js';
import { drbdBed, type DrbdBed, endBed } from '../standins/drbd/bed.js';

/**
 * DRBD's own fencing (issue #13.2): the constraint DRBD's crm-fence-peer
 * handlers place, and the BUILT drbd agent working with it. DRBD is the
 * stand-in (this kernel has no DRBD); the CIB, the constraint and every
 * decision about promotion are Pacemaker's real tools on an offline CIB
 * (CIB_file): cibadmin, crm_attribute (through the agent) and crm_simulate.
 * The constraint is byte for byte what /usr/lib/drbd/crm-fence-peer.9.sh
 * (drbd-utils 9.22, setup_new_constraint) writes for resource r0 of clone
 * ms_r0 when node `allowed` keeps the good data.
 */

let bed: DrbdBed;

beforeAll(() => {
  if (!existsSync(AGENTS_EXE)) throw new Error(`${AGENTS_EXE} is not built: npm run build`);
});

afterEach(() => endBed(bed));

const CONSTRAINT_ID = 'drbd-fence-by-handler-r0-ms_r0';

function cib(args: string[]) {
  const r = spawnSync('cibadmin', args, { env: { ...process.env, CIB_file: bed.cib }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The promotable clone the agent's instance drbd_r0:0 belongs to, as ocf-gen / pcs create it. */
function addClone(): void {
  const xml = `<clone id="ms_r0">
  <meta_attributes id="ms_r0-meta">
    <nvpair id="ms_r0-promotable" name="promotable" value="true"/>
    <nvpair id="ms_r0-notify" name="notify" value="true"/>
    <nvpair id="ms_r0-promoted-max" name="promoted-max" value="1"/>
    <nvpair id="ms_r0-clone-node-max" name="clone-node-max" value="1"/>
  </meta_attributes>
  <primitive id="drbd_r0" class="ocf" provider="ocfkit" type="drbd">
    <instance_attributes id="drbd_r0-ia"><nvpair id="drbd_r0-res" name="drbd_resource" value="r0"/></instance_attributes>
  </primitive>
</clone>`;
  const r = cib(['--create', '-o', 'resources', '--xml-text', xml]);
  expect(r.code, r.stderr).toBe(0);
  // The offline bed has no fence device and no membership: let the scheduler act (quorum, no fencing).
  expect(cib(['--modify', '--xml-text', '<cib have-quorum="1"/>']).code).toBe(0);
  const p = spawnSync('crm_attribute', ['-t', 'crm_config', '-n', 'stonith-enabled', '-v', 'false'], { env: { ...process.env, CIB_file: bed.cib }, encoding: 'utf8' });
  expect(p.status, p.stderr).toBe(0);
}

/** What crm-fence-peer.9.sh places: never Promoted except on `allowed`. */
function placeHandlerConstraint(allowed: string): void {
  const xml = `<rsc_location rsc="ms_r0" id="${CONSTRAINT_ID}">
 <rule role="Master" score="-INFINITY" id="drbd-fence-by-handler-r0-rule-ms_r0">
  <expression attribute="#uname" operation="ne" value="${allowed}" id="drbd-fence-by-handler-r0-expr-1-ms_r0"/>
 </rule>
</rsc_location>`;
  const r = cib(['--create', '-o', 'constraints', '--xml-text', xml]);
  expect(r.code, r.stderr).toBe(0);
}

const constraintPresent = () => cib(['--query', '--xpath', `//rsc_location[@id='${CONSTRAINT_ID}']`]).code === 0;

/** Pacemaker's decision on the bed's CIB: the transition crm_simulate computes (it runs no agent). */
function simulate(): string {
  const r = spawnSync('crm_simulate', ['-x', bed.cib, '-S'], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}
const promotesOn = (transition: string, node: string) => new RegExp(`Promote\\s+drbd_r0:\\d.*Promoted ${node}\\b`).test(transition);

function startedWithClone(): void {
  bed = drbdBed('drbd84');
  addClone();
  const r = bed.run('start');
  expect(r.code, r.stderr).toBe(0);
}

describe('drbd fencing constraint (crm-fence-peer): Pacemaker decides, the agent does not fight it', () => {
  it('without the constraint the scored node is promoted; with one that allows only the peer it is not', () => {
    startedWithClone();
    expect(bed.score()).toBe(10000); // the agent scored node1 (UpToDate)
    // Control: the same CIB without the constraint promotes node1 (the test could fail).
    expect(promotesOn(simulate(), 'node1')).toBe(true);

    placeHandlerConstraint('node2');
    const t = simulate();
    expect(promotesOn(t, 'node1')).toBe(false);
    expect(t).not.toMatch(/Promote\s+drbd_r0/); // node2 has no score: nobody
  });

  it('keeps the constraint (unfence_if_all_uptodate=true) while the peer\'s disk is unknown, and promotion stays forbidden', () => {
    startedWithClone();
    placeHandlerConstraint('node2');
    // A Primary that lost its peer (the moment the handler fences): peer DUnknown.
    expect(bed.run('promote').code).toBe(0);
    bed.enter('primary-peer-unknown');
    const r = bed.run('monitor', { params: { unfence_if_all_uptodate: true }, meta: { role: 'Promoted' }, interval: 29_000 });
    expect(r.code, r.stderr).toBe(8);
    expect(constraintPresent()).toBe(true);
    expect(promotesOn(simulate(), 'node1')).toBe(false);
  });

  it('keeps it on a Secondary with every disk UpToDate (only a Primary lifts it, as ocf:linbit:drbd)', () => {
    startedWithClone();
    placeHandlerConstraint('node1');
    const r = bed.run('monitor', { params: { unfence_if_all_uptodate: true } });
    expect(r.code, r.stderr).toBe(0);
    expect(constraintPresent()).toBe(true);
  });

  it('keeps one that forbids this node even when all is UpToDate (the handler\'s --unfence-only-if-owner-match)', () => {
    startedWithClone();
    expect(bed.run('promote').code).toBe(0); // promoted by hand, against the constraint
    placeHandlerConstraint('node2');
    const r = bed.run('monitor', { params: { unfence_if_all_uptodate: true }, meta: { role: 'Promoted' }, interval: 29_000 });
    expect(r.code, r.stderr).toBe(8);
    expect(constraintPresent()).toBe(true);
    expect(r.stderr).toMatch(/keeping drbd-fence-by-handler-r0-ms_r0/);
  });
});

describe('drbd fencing constraint: unfence_if_all_uptodate lifts a stale one', () => {
  it('true: a Primary with every local and peer disk UpToDate removes it', () => {
    startedWithClone();
    placeHandlerConstraint('node1');
    expect(bed.run('promote').code).toBe(0);
    expect(constraintPresent()).toBe(true); // forbids node2: a failover to node2 would be impossible
    const r = bed.run('monitor', { params: { unfence_if_all_uptodate: true }, meta: { role: 'Promoted' }, interval: 29_000 });
    expect(r.code, r.stderr).toBe(8);
    expect(constraintPresent()).toBe(false);
    expect(r.stderr).toMatch(/removed stale fencing constraint drbd-fence-by-handler-r0-ms_r0/);
  });

  it('false (the default, as ocf:linbit:drbd): the stale constraint stays', () => {
    startedWithClone();
    placeHandlerConstraint('node1');
    expect(bed.run('promote').code).toBe(0);
    for (const params of [{}, { unfence_if_all_uptodate: false }] as Array<Record<string, boolean>>) {
      const r = bed.run('monitor', { params, meta: { role: 'Promoted' }, interval: 29_000 });
      expect(r.code, r.stderr).toBe(8);
      expect(constraintPresent()).toBe(true);
    }
  });

  it('8.4 handler (crm-fence-peer.sh) id without the resource name is lifted too', () => {
    startedWithClone();
    const xml = `<rsc_location rsc="ms_r0" id="drbd-fence-by-handler-ms_r0"><rule role="Master" score="-INFINITY" id="drbd-fence-by-handler-rule-ms_r0"><expression attribute="#uname" operation="ne" value="node1" id="drbd-fence-by-handler-expr-ms_r0"/></rule></rsc_location>`;
    expect(cib(['--create', '-o', 'constraints', '--xml-text', xml]).code).toBe(0);
    expect(bed.run('promote').code).toBe(0);
    const r = bed.run('monitor', { params: { unfence_if_all_uptodate: true }, meta: { role: 'Promoted' }, interval: 29_000 });
    expect(r.code, r.stderr).toBe(8);
    expect(cib(['--query', '--xpath', "//rsc_location[@id='drbd-fence-by-handler-ms_r0']"]).code).toBe(105);
  });
});
