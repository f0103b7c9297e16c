// The admins' own tools on what ocf-gen writes: real pcs (`pcs -f file`) and
// crmsh (`CIB_file=file crm …`) edit ocf-gen's CIBs — every Pacemaker
// dialect and `convert` output — and the result still passes crm_verify and
// runs under crm_simulate. Without crm_feature_set on <cib> pcs fails
// ("Application of update diff failed") and crmsh silently commits nothing.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOcfGen, crmVerifyFile, ocfGen, placement, read, requireTools, run, simulate, tempDir, whereIs, write } from './cib-helpers.js';

const tmp = tempDir('cib-pcs');
afterAll(() => tmp.cleanup());

beforeAll(() => {
  requireTools('pcs', 'crm', 'crm_verify', 'crm_simulate', 'crm_mon');
  buildOcfGen();
});

let n = 0;
function fileFrom(args: string[]): string {
  const r = ocfGen(args);
  expect(r.code, r.stderr).toBe(0);
  const f = tmp.file(`cib-${++n}.xml`);
  write(f, r.stdout);
  return f;
}

function pcs(file: string, ...args: string[]): string {
  const r = run('pcs', ['-f', file, ...args]);
  expect(r.code, `pcs -f ${file} ${args.join(' ')}\n${r.stderr}${r.stdout}`).toBe(0);
  return r.stdout + r.stderr;
}

/** crm_verify passes once both nodes are up, and the scheduler places the new resource. */
function expectRuns(file: string, rsc?: string): void {
  const up = tmp.file(`up-${++n}.xml`);
  simulate(file, up, tmp.file(`up-g-${n}.xml`), ['-q', 'true', '-u', 'node1', '-u', 'node2']);
  const v = crmVerifyFile(up);
  expect(v.code, v.stderr).toBe(0);
  if (rsc) expect(whereIs(placement(up), rsc)).toHaveLength(1);
}

describe('pcs -f on ocf-gen output', () => {
  const variants: Array<[string, () => string]> = [
    ['cib (pacemaker-3)', () => fileFrom(['cib'])],
    ['convert heartbeat-2 → pacemaker-3', () => fileFrom(['convert', fileFrom(['cib', '--schema', 'heartbeat-2']), '--to', 'pacemaker-3'])],
  ];
  for (const [what, make] of variants) {
    it(`${what}: create, update, constraints, property, disable/enable, move-with-constraint, ban, clear, delete`, () => {
      const f = make();
      expect(read(f)).toMatch(/<cib crm_feature_set="3\.0\.14" validate-with="pacemaker-3\.7" epoch="\d+" num_updates="0" admin_epoch="\d+">/);
      pcs(f, 'resource', 'create', 'extra', 'ocf:heartbeat:Dummy', 'fake=a');
      pcs(f, 'resource', 'update', 'extra', 'fake=b');
      pcs(f, 'constraint', 'location', 'extra', 'prefers', 'node1=50');
      pcs(f, 'constraint', 'order', 'start', 'nfs-group', 'then', 'start', 'extra');
      pcs(f, 'constraint', 'colocation', 'add', 'extra', 'with', 'nfs-group');
      pcs(f, 'property', 'set', 'cluster-recheck-interval=5min');
      pcs(f, 'resource', 'disable', 'extra');
      expect(read(f)).toMatch(/<nvpair [^>]*name="target-role" value="Stopped"\/>/);
      pcs(f, 'resource', 'enable', 'extra');
      pcs(f, 'resource', 'move-with-constraint', 'extra', 'node2');
      expect(read(f)).toMatch(/<rsc_location id="cli-prefer-extra" rsc="extra"[^>]*node="node2"/);
      pcs(f, 'resource', 'ban', 'extra', 'node1');
      expect(read(f)).toMatch(/id="cli-ban-extra-on-node1"/);
      pcs(f, 'resource', 'clear', 'extra');
      expect(read(f)).not.toMatch(/cli-(prefer|ban)-extra/);
      const xml = read(f);
      expect(xml).toMatch(/<primitive id="extra" class="ocf" (type="Dummy" provider="heartbeat"|provider="heartbeat" type="Dummy")>/);
      expect(xml).toMatch(/name="fake" value="b"/);
      expect(xml).toMatch(/name="cluster-recheck-interval" value="5min"/);
      expectRuns(f); // extra follows nfs-group, which waits for DRBD's promotion: placed by nothing yet
      pcs(f, 'resource', 'delete', 'extra');
      expect(read(f)).not.toMatch(/"extra"/);
      expectRuns(f);
    });
  }

  for (const dialect of ['pacemaker-3.0', 'pacemaker-3.6', 'pacemaker-1.0']) {
    it(`cib --schema ${dialect}: pcs creates a resource and sets a property`, () => {
      const f = fileFrom(['cib', '--schema', dialect]);
      pcs(f, 'resource', 'create', 'extra', 'ocf:heartbeat:Dummy');
      pcs(f, 'property', 'set', 'cluster-recheck-interval=5min');
      expect(read(f)).toMatch(/<primitive id="extra"/);
      expectRuns(f, 'extra');
    });
  }
});

describe('crmsh with CIB_file on ocf-gen output', () => {
  // (crmsh 4.4 rewrites pacemaker-1.0 node entries into something that schema refuses: not a CIB matter.)
  for (const [what, make] of [
    ['cib (pacemaker-3)', () => fileFrom(['cib'])],
    ['cib --schema pacemaker-3.0', () => fileFrom(['cib', '--schema', 'pacemaker-3.0'])],
    ['convert heartbeat-2 → pacemaker-3', () => fileFrom(['convert', fileFrom(['cib', '--schema', 'heartbeat-2']), '--to', 'pacemaker-3'])],
  ] as const) {
    it(`${what}: configure show, configure primitive, resource param`, () => {
      const f = make();
      const env = { CIB_file: f };
      const show = run('crm', ['configure', 'show'], { env });
      expect(show.code, show.stderr).toBe(0);
      expect(show.stdout).toMatch(/^group nfs-group fs nfs ip/m);
      expect(show.stdout).toMatch(/^primitive ip ocf:ocfkit:IPaddr2/m);
      // crmsh checks the existing primitives' agents too: ocfkit's are not installed on this host, which it reports, and commits anyway.
      const prim = run('crm', ['configure', 'primitive', 'extra', 'ocf:heartbeat:Dummy', 'params', 'fake=a'], { env });
      expect(prim.code, prim.stderr).toBe(0);
      expect(read(f)).toMatch(/<primitive id="extra" class="ocf" provider="heartbeat" type="Dummy">/);
      const param = run('crm', ['resource', 'param', 'extra', 'set', 'fake', 'b'], { env });
      expect(param.code, param.stderr).toBe(0);
      expect(read(f)).toMatch(/name="fake" value="b"/);
      expectRuns(f, 'extra');
    });
  }
});
