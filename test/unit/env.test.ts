import { describe, expect, it } from 'vitest';
import { Deadline } from '../../src/ocf/deadline.js';
import { readOcfEnv } from '../../src/ocf/env.js';

describe('OCF environment', () => {
  it('types CRM meta attributes, old and new names', () => {
    const e = readOcfEnv('drbd', {
      OCF_RESOURCE_INSTANCE: 'drbd_r0:1',
      OCF_CHECK_LEVEL: '10',
      OCF_RESKEY_CRM_meta_timeout: '20000',
      OCF_RESKEY_CRM_meta_interval: '31000',
      OCF_RESKEY_CRM_meta_notify: 'true',
      OCF_RESKEY_CRM_meta_clone_max: '2',
      OCF_RESKEY_CRM_meta_master_max: '1',
      OCF_RESKEY_CRM_meta_notify_type: 'pre',
      OCF_RESKEY_CRM_meta_notify_operation: 'promote',
      OCF_RESKEY_CRM_meta_notify_promote_uname: 'node2 ',
      OCF_RESKEY_CRM_meta_notify_master_uname: ' ',
      OCF_RESKEY_CRM_meta_notify_slave_uname: 'node1 node2',
      OCF_RESKEY_CRM_meta_op_target_rc: '8',
    });
    expect(e.instance).toBe('drbd_r0:1');
    expect(e.checkLevel).toBe(10);
    expect(e.rsctmp).toBe('/run/resource-agents');
    expect(e.meta.timeoutMs).toBe(20000);
    expect(e.meta.intervalMs).toBe(31000);
    expect(e.meta.notify).toBe(true);
    expect(e.meta.cloneMax).toBe(2);
    expect(e.meta.promotedMax).toBe(1);
    expect(e.meta.notifyInfo.type).toBe('pre');
    expect(e.meta.notifyInfo.operation).toBe('promote');
    expect(e.meta.notifyInfo.promote.uname).toEqual(['node2']);
    expect(e.meta.notifyInfo.promoted.uname).toEqual([]);
    expect(e.meta.notifyInfo.unpromoted.uname).toEqual(['node1', 'node2']);
    expect(e.meta.raw('op_target_rc')).toBe('8');
  });
  it('defaults: probe interval 0, instance named after the agent', () => {
    const e = readOcfEnv('IPaddr2', { HA_RSCTMP: '/tmp/x' });
    expect(e.meta.intervalMs).toBe(0);
    expect(e.meta.timeoutMs).toBeUndefined();
    expect(e.instance).toBe('IPaddr2');
    expect(e.rsctmp).toBe('/tmp/x');
  });
  it('keeps a safety margin before the op timeout', () => {
    expect(Deadline.margin(20_000)).toBe(2000);
    expect(Deadline.margin(2_000)).toBe(500);
    expect(Deadline.margin(600_000)).toBe(5000);
    const d = new Deadline(10_000, Date.now());
    expect(d.remaining()).toBeGreaterThan(8000);
    expect(d.remaining()).toBeLessThanOrEqual(9000);
    expect(d.bound(100)).toBe(100);
  });
});
