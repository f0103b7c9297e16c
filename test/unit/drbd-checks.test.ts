import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCrmMeta } from '../../src/ocf/env.js';
import { cloneProblem } from '../../src/sys/drbd/clone-checks.js';
import { readKernelLog } from '../../src/sys/drbd/kernel.js';
import { splitBrainInLog } from '../../src/sys/drbd/split-brain.js';
import { isVersionSpec, parseVersion, versionCode, versionOutOfRange } from '../../src/sys/drbd/version.js';
import { parseLocate, primitiveId } from '../../src/sys/pacemaker.js';

const KMSG = join(import.meta.dirname, '../../test/standins/drbd/documented-84/kmsg');

describe('split brain from the kernel log', () => {
  const sb = readKernelLog(join(KMSG, 'split-brain.txt'));
  const byHand = readKernelLog(join(KMSG, 'disconnected-by-hand.txt'));

  it('strips the kmsg record header', () => {
    expect(sb.some((l) => l === 'block drbd0: Split-Brain detected but unresolved, dropping connection!')).toBe(true);
  });
  it('finds an unresolved split brain of our minor', () => {
    expect(splitBrainInLog(sb, 'r0', [0])).toBe(true);
  });
  it('ignores other minors and resources', () => {
    expect(splitBrainInLog(sb, 'r1', [1])).toBe(false);
  });
  it('does not call a disconnect by hand a split brain', () => {
    expect(splitBrainInLog(byHand, 'r0', [0])).toBe(false);
  });
  it('forgets a split brain once the connection left StandAlone again', () => {
    expect(splitBrainInLog([...sb, 'drbd r0: conn( StandAlone -> Unconnected )'], 'r0', [0])).toBe(false);
    expect(splitBrainInLog([...sb, 'drbd r0 nodeb: conn( StandAlone -> Unconnected ) [connect]'], 'r0', [0])).toBe(false);
  });
  it('reads DRBD 9 messages too', () => {
    expect(splitBrainInLog(['drbd r0/0 drbd0 nodeb: Split-Brain detected but unresolved, dropping connection!'], 'r0', [0])).toBe(true);
    expect(splitBrainInLog(['drbd r00/0 drbd7 nodeb: Split-Brain detected but unresolved, dropping connection!'], 'r0', [0])).toBe(false);
  });
  it('reads nothing from a missing log', () => {
    expect(readKernelLog('/nonexistent/kmsg')).toEqual([]);
  });
  it('keeps the newest records when there are too many', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsg-'));
    writeFileSync(join(dir, 'kmsg'), Array.from({ length: 10 }, (_, i) => `6,${i},0,-;line ${i}`).join('\n'));
    expect(readKernelLog(join(dir, 'kmsg'), 3)).toEqual(['line 7', 'line 8', 'line 9']);
    expect(readFileSync(join(dir, 'kmsg'), 'utf8')).toContain('line 0');
  });
});

describe('module versions', () => {
  it('compares as drbdadm does', () => {
    const v = parseVersion('8.4.11')!;
    expect(versionCode(v)).toBe(0x08040b);
    expect(versionOutOfRange(v, '8.0.0', '10.0.0')).toBeUndefined();
    expect(versionOutOfRange(v, '9.0.16', '10.0.0')).toMatch(/older than require_drbd_module_version_ge=9.0.16/);
    expect(versionOutOfRange(parseVersion('9.2.4')!, '8.0.0', '9.0.0')).toMatch(/not older than require_drbd_module_version_lt=9.0.0/);
    expect(versionOutOfRange(parseVersion('8.4.11-1')!, '8.4.11', '8.4.12')).toBeUndefined();
  });
  it('accepts only x.y.z requirements', () => {
    expect(isVersionSpec('9.0.16')).toBe(true);
    expect(isVersionSpec('9.0')).toBe(false);
    expect(isVersionSpec('9.0.16-rc1')).toBe(false);
  });
});

describe('clone checks', () => {
  const meta = (m: Record<string, string>) => readCrmMeta(Object.fromEntries(Object.entries(m).map(([k, v]) => [`OCF_RESKEY_CRM_meta_${k}`, v])));
  const ok = { notify: 'true', clone_max: '2', clone_node_max: '1', promoted_max: '1', promoted_node_max: '1' };
  const o = { ignoreMissingNotifications: false, drbd9: false };

  it('accepts the classic two-node promotable clone', () => {
    expect(cloneProblem(meta(ok), 'start', o)).toBeUndefined();
    expect(cloneProblem(meta({ ...ok, promoted_max: undefined as never, master_max: '1' }), 'promote', o)).toBeUndefined();
  });
  it('refuses more than one instance per node', () => {
    expect(cloneProblem(meta({ ...ok, clone_node_max: '2' }), 'start', o)).toMatch(/clone-node-max must be 1/);
    expect(cloneProblem(meta({ ...ok, promoted_node_max: '2' }), 'start', o)).toMatch(/promoted-node-max must be 1/);
  });
  it('refuses more than two instances with DRBD 8.4, or with two Primaries', () => {
    expect(cloneProblem(meta({ ...ok, clone_max: '3' }), 'start', o)).toMatch(/clone-max must be at most 2 with DRBD 8.4/);
    expect(cloneProblem(meta({ ...ok, clone_max: '3' }), 'start', { ...o, drbd9: true })).toBeUndefined();
    expect(cloneProblem(meta({ ...ok, clone_max: '3', promoted_max: '2' }), 'start', { ...o, drbd9: true })).toMatch(/two Primaries/);
    expect(cloneProblem(meta({ ...ok, promoted_max: '3' }), 'start', o)).toMatch(/promoted-max must be at most 2/);
  });
  it('needs notify=true unless told to ignore it', () => {
    expect(cloneProblem(meta({ ...ok, notify: 'false' }), 'start', o)).toMatch(/notify=true/);
    expect(cloneProblem(meta({ ...ok, notify: 'false' }), 'start', { ...o, ignoreMissingNotifications: true })).toBeUndefined();
    expect(cloneProblem(meta({ ...ok, notify: 'false', notify_start_uname: ' ' }), 'start', o)).toBeUndefined();
    expect(cloneProblem(meta({ ...ok, notify: 'false' }), 'monitor', o)).toBeUndefined();
  });
  it('never blocks a stop', () => {
    expect(cloneProblem(meta({ clone_node_max: '5' }), 'stop', o)).toBeUndefined();
  });
});

describe('Pacemaker helpers', () => {
  it('reads crm_resource --locate', () => {
    expect(parseLocate('resource drbd_r0 is running on: node2\nresource drbd_r0 is running on: node1 Promoted\n')).toEqual([
      { node: 'node2', promoted: false },
      { node: 'node1', promoted: true },
    ]);
    expect(parseLocate('resource drbd_r0 is running on: node1 Master\n')[0]!.promoted).toBe(true);
    expect(parseLocate('resource drbd_r0 is NOT running\n')).toEqual([]);
  });
  it('scores the primitive, not the clone instance', () => {
    expect(primitiveId('drbd_r0:1')).toBe('drbd_r0');
    expect(primitiveId('drbd_r0')).toBe('drbd_r0');
  });
});
