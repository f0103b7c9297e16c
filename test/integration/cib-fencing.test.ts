// Fencing as ocf-gen's default path, proven with Pacemaker's own scheduler
// (crm_verify, crm_simulate on CIB files) and drbd-utils' parser:
// - fence_ipmilan devices, each kept off the node it fences;
// - node failure → the node is fenced → DRBD is promoted on the survivor and
//   the NFS group starts there, in that order;
// - priority-fencing-delay with the group's priority: the fence of the node
//   running the service is delayed, the other one is not, so a split ends
//   with one survivor (the one serving), not with both nodes shooting;
// - fence_sbd (shared disk) and watchdog-only SBD;
// - --check warns loudly on stonith-enabled=false (exit code unchanged);
// - `ocf-gen drbd-conf`: DRBD's fencing policy and handlers, in the section
//   each DRBD version reads, accepted by drbdadm (9) and drbdadm-84.

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertChain, buildOcfGen, crmVerifyFile, findAction, mustRun, ocfGen, placement, read, readGraph, requireTools, run, setPromotionScore, simulate, tempDir, whereIs, write } from './cib-helpers.js';

const tmp = tempDir('cib-fencing');
afterAll(() => tmp.cleanup());

beforeAll(() => {
  requireTools('crm_verify', 'crm_simulate', 'crm_attribute', 'crm_mon', 'drbdadm');
  buildOcfGen();
});

const IPMI = ['--set', 'fence_agent=fence_ipmilan', '--set', 'fence_node1=ip=10.0.0.11 username=admin password=secret lanplus=1', '--set', 'fence_node2=ip=10.0.0.12 username=admin password=secret lanplus=1'];

let n = 0;
function gen(args: string[]): string {
  const r = ocfGen(['cib', ...args]);
  expect(r.code, r.stderr).toBe(0);
  const f = tmp.file(`cib-${++n}.xml`);
  write(f, r.stdout);
  return f;
}

/** Both nodes up, DRBD promoted on node1 (higher score): the running state. */
function running(cib: string): string {
  const up = tmp.file(`up-${++n}.xml`);
  simulate(cib, up, tmp.file(`up-g-${n}.xml`), ['-q', 'true', '-u', 'node1', '-u', 'node2']);
  setPromotionScore(up, 'drbd', 'node1', 10000);
  setPromotionScore(up, 'drbd', 'node2', 5000);
  const state = tmp.file(`run-${n}.xml`);
  simulate(up, state, tmp.file(`run-g-${n}.xml`));
  return state;
}

/** The fencing actions of a transition graph: target → priority-fencing delay (seconds) the scheduler attached. */
function fences(graphFile: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of readFileSync(graphFile, 'utf8').matchAll(/<crm_event [^>]*operation="stonith"[^>]*on_node="([^"]+)"[^>]*>\s*<attributes ([^>]*)\/>/g)) {
    out.set(m[1]!, Number(/CRM_meta_priority_fencing_delay="(\d+)"/.exec(m[2]!)?.[1] ?? 0));
  }
  return out;
}

describe('fence_ipmilan from the ha-nfs template', () => {
  it('writes stonith-enabled=true, priority-fencing-delay, the group priority, and devices kept off the node they fence', () => {
    const f = gen(IPMI);
    const xml = read(f);
    expect(xml).toMatch(/name="stonith-enabled" value="true"/);
    expect(xml).toMatch(/name="priority-fencing-delay" value="15s"/);
    expect(xml).toMatch(/<group id="nfs-group">\s*<meta_attributes id="nfs-group-meta_attributes">\s*<nvpair [^>]*name="priority" value="10"\/>/);
    expect(xml).toMatch(/<rsc_location id="[^"]+" rsc="fence-node1" node="node1" score="-INFINITY"\/>/);
    expect(xml).toMatch(/<rsc_location id="[^"]+" rsc="fence-node2" node="node2" score="-INFINITY"\/>/);
    const state = running(f);
    expect(crmVerifyFile(state).code).toBe(0);
    const p = placement(state);
    expect(whereIs(p, 'fence-node1')).toEqual(['node2']);
    expect(whereIs(p, 'fence-node2')).toEqual(['node1']);
    expect(whereIs(p, 'drbd', 'Promoted')).toEqual(['node1']);
    expect(whereIs(p, 'ip')).toEqual(['node1']);
  });

  it('fence devices: start and monitor time out after 20s, or after fence_timeout for a slow BMC', () => {
    const devOps = (xml: string, dev: string) =>
      [...(new RegExp(`<primitive id="${dev}"[^]*?</primitive>`).exec(xml)?.[0].matchAll(/<op [^>]*name="(\w+)"[^>]*timeout="([^"]+)"/g) ?? [])].map((m) => `${m[1]} ${m[2]}`);
    expect(devOps(read(gen(IPMI)), 'fence-node1')).toEqual(['start 20s', 'stop 20s', 'monitor 20s']);
    const slow = gen([...IPMI, '--set', 'fence_timeout=60s']);
    for (const dev of ['fence-node1', 'fence-node2']) expect(devOps(read(slow), dev)).toEqual(['start 60s', 'stop 20s', 'monitor 60s']);
    expect(crmVerifyFile(running(slow)).code).toBe(0);
    expect(ocfGen(['cib', ...IPMI, '--set', 'fence_timeout=soon']).code).toBe(2);
  });

  it('node failure: node1 is fenced, then DRBD is promoted on node2 and the group starts there', () => {
    const state = running(gen(IPMI));
    const after = tmp.file('failed.xml');
    const graphFile = tmp.file('failed-graph.xml');
    const r = simulate(state, after, graphFile, ['--node-fail', 'node1']);
    expect(r.stdout).toMatch(/Fence \(reboot\) node1/);
    expect(r.stdout).toMatch(/Promote\s+drbd:\d\s+\(\s*Unpromoted -> Promoted node2\s*\)/);
    const g = readGraph(graphFile);
    const fence = [...g.values()].find((a) => a.operation === 'stonith' && a.node === 'node1');
    expect(fence, 'a fencing action for node1').toBeDefined();
    const promote = findAction(g, 'drbd', 'promote', 'node2');
    assertChain(g, [fence!, promote, findAction(g, 'fs', 'start', 'node2'), findAction(g, 'nfs', 'start', 'node2'), findAction(g, 'ip', 'start', 'node2')]);
    const p = placement(after);
    expect(whereIs(p, 'drbd', 'Promoted')).toEqual(['node2']);
    expect(whereIs(p, 'ip')).toEqual(['node2']);
  });

  it('a split: the fence of the node serving NFS waits priority-fencing-delay, the other does not (one survivor)', () => {
    const state = running(gen(IPMI));
    // Each side of a split sees the other fail: node2's view fences node1, node1's view fences node2.
    const g1 = tmp.file('split-1.xml');
    simulate(state, tmp.file('split-1-out.xml'), g1, ['--node-fail', 'node1']);
    const g2 = tmp.file('split-2.xml');
    simulate(state, tmp.file('split-2-out.xml'), g2, ['--node-fail', 'node2']);
    expect(fences(g1)).toEqual(new Map([['node1', 15]]));
    expect(fences(g2)).toEqual(new Map([['node2', 0]]));
    // Without the group's priority there is nothing to weigh: both fences would fire at once.
    const flat = running(gen([...IPMI, '--set', 'service_priority=0']));
    const g3 = tmp.file('split-3.xml');
    simulate(flat, tmp.file('split-3-out.xml'), g3, ['--node-fail', 'node1']);
    expect(fences(g3)).toEqual(new Map([['node1', 0]]));
  });

  it('pcmk_delay_base on one device passes through (the static alternative)', () => {
    const xml = read(gen([...IPMI.slice(0, 2), '--set', 'fence_node1=ip=10.0.0.11 pcmk_delay_base=10s', '--set', 'fence_node2=ip=10.0.0.12', '--set', 'fence_priority_delay=']));
    expect(xml).toMatch(/<nvpair id="fence-node1-instance_attributes-pcmk_delay_base" name="pcmk_delay_base" value="10s"\/>/);
    expect(xml).not.toMatch(/priority-fencing-delay/);
  });
});

describe('SBD', () => {
  it('fence_sbd on a shared disk: fence_params reach both devices; crm_verify passes', () => {
    const f = gen(['--set', 'fence_agent=fence_sbd', '--set', 'fence_params=devices=/dev/disk/by-id/virtio-sbd']);
    const xml = read(f);
    expect(xml.match(/<primitive id="fence-node\d" class="stonith" type="fence_sbd">/g)).toHaveLength(2);
    expect(xml.match(/name="devices" value="\/dev\/disk\/by-id\/virtio-sbd"/g)).toHaveLength(2);
    expect(crmVerifyFile(running(f)).code).toBe(0);
  });

  it('watchdog-only SBD: no device, stonith-watchdog-timeout, and node failure still fences', () => {
    const r = ocfGen(['cib', '--set', 'fence_agent=watchdog', '--check']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/sbd must run on every node/);
    expect(r.stdout).toMatch(/name="stonith-watchdog-timeout" value="10s"/);
    expect(r.stdout).not.toMatch(/class="stonith"/);
    const f = tmp.file('watchdog.xml');
    write(f, r.stdout);
    const state = running(f);
    expect(crmVerifyFile(state).code).toBe(0);
    const out = simulate(state, tmp.file('wd-failed.xml'), tmp.file('wd-graph.xml'), ['--node-fail', 'node1']);
    expect(out.stdout).toMatch(/Fence \(reboot\) node1/);
    expect(whereIs(placement(tmp.file('wd-failed.xml')), 'drbd', 'Promoted')).toEqual(['node2']);
  });

  it('watchdog with device parameters is bad input', () => {
    const r = ocfGen(['cib', '--set', 'fence_agent=watchdog', '--set', 'fence_node1=ip=1.2.3.4']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/fencing\.devices: watchdog fencing has no devices/);
  });
});

describe('--check and the CIB without fencing', () => {
  const banner = /^ocf-gen: WARNING: stonith-enabled=false: this CIB has NO FENCING\.$/m;

  it('cib --check: a loud warning once on stderr, exit code unchanged, the CIB still written', () => {
    const r = ocfGen(['cib', '--check']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(banner);
    expect(r.stderr).toMatch(/^ocf-gen: \*{72}$/m);
    expect(r.stderr.match(/NO FENCING/g)).toHaveLength(1);
    expect(r.stdout).toMatch(/name="stonith-enabled" value="false"/);
  });

  it('validate and convert --check warn the same way; with fencing there is no warning', () => {
    const off = gen([]);
    const v = ocfGen(['validate', off]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stderr).toMatch(banner);
    const c = ocfGen(['convert', off, '--check']);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toMatch(banner);
    const on = ocfGen(['cib', '--check', ...IPMI]);
    expect(on.code, on.stderr).toBe(0);
    expect(on.stderr).not.toMatch(/NO FENCING/);
  });
});

describe('ocf-gen drbd-conf', () => {
  const host = mustRun('uname', ['-n']).stdout.trim();

  it('DRBD 9: fencing in net {}, fence-peer and unfence-peer handlers; drbdadm parses it', () => {
    const r = ocfGen(['drbd-conf', '--set', `node1=${host}`, '--set', 'node2=peer', '--set', 'drbd_resource=nfs0', '--set', 'disk=/dev/vdc', '--set', 'device=/dev/drbd3', '--set', 'address1=10.9.0.1', '--set', 'address2=10.9.0.2']);
    expect(r.code, r.stderr).toBe(0);
    const f = tmp.file('nfs0.res');
    write(f, r.stdout);
    const d = run('drbdadm', ['-c', f, 'dump', 'nfs0']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/net \{\s*protocol\s+C;\s*fencing\s+resource-and-stonith;\s*\}/);
    expect(d.stdout).toMatch(/fence-peer\s+\/usr\/lib\/drbd\/crm-fence-peer\.9\.sh;/);
    expect(d.stdout).toMatch(/unfence-peer\s+\/usr\/lib\/drbd\/crm-unfence-peer\.9\.sh;/);
    expect(d.stdout).toMatch(/device\s+\/dev\/drbd3 minor 3;/);
    expect(d.stdout).toMatch(/address\s+ipv4 10\.9\.0\.2:7789;/);
  });

  it('DRBD 8.4: fencing in disk {}, after-resync-target unfences; drbdadm-84 parses it and refuses the 9 layout', () => {
    const r = ocfGen(['drbd-conf', '--drbd-version', '8.4', '--set', `node1=${host}`]);
    expect(r.code, r.stderr).toBe(0);
    const f = tmp.file('r0-84.res');
    write(f, r.stdout);
    const d = run('/usr/lib/drbd/drbdadm-84', ['-c', f, 'dump', 'r0']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/disk \{\s*fencing\s+resource-and-stonith;\s*\}/);
    // The 8.4 pair (crm-fence-peer.sh): the .9.sh scripts ask drbdsetup events2, which 8.4 has not.
    expect(d.stdout).toMatch(/fence-peer\s+\/usr\/lib\/drbd\/crm-fence-peer\.sh;/);
    expect(d.stdout).toMatch(/after-resync-target\s+\/usr\/lib\/drbd\/crm-unfence-peer\.sh;/);
    const nine = tmp.file('r0-9.res');
    write(nine, ocfGen(['drbd-conf', '--set', `node1=${host}`]).stdout);
    expect(run('/usr/lib/drbd/drbdadm-84', ['-c', nine, 'dump', 'r0']).stderr).toMatch(/Parse error: [^]*but got 'fencing'/);
  });

  it('bad settings: exit 2 naming each', () => {
    const r = ocfGen(['drbd-conf', '--set', 'address1=10.0.0.300', '--set', 'disk=dev/sdb', '--set', 'colour=red', '--set', 'device=/dev/sdb']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^ocf-gen: error: --set address1: not an IPv4\/IPv6 address: "10\.0\.0\.300"$/m);
    expect(r.stderr).toMatch(/^ocf-gen: error: --set disk: not an absolute path/m);
    expect(r.stderr).toMatch(/^ocf-gen: error: --set colour: unknown setting/m);
    expect(r.stderr).toMatch(/^ocf-gen: error: --set device: not a DRBD device/m);
  });
});
