// `ocf-gen cib`, `convert` and `validate` as users run them, checked with the
// real tools: crm_verify for every template in every Pacemaker dialect,
// xmllint against ocfkit's schema of Heartbeat 2's CIB (schemas/, and the
// original crm.dtd where ../shared/schemas has it), cibadmin on CIB
// files (what loading into a cluster does), round trips between dialects and
// Heartbeat v1 haresources files as the DRBD+NFS HOWTOs wrote them.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildOcfGen,
  crmVerifyFile,
  HAVE_ORIGINAL_DTD,
  HB2_ORIGINAL_DTD,
  HB2_SCHEMA,
  hb2Verdicts,
  mustRun,
  ocfGen,
  placement,
  read,
  requireTools,
  ROOT,
  run,
  setPromotionScore,
  simulate,
  tempDir,
  whereIs,
  write,
} from './cib-helpers.js';

const tmp = tempDir('cib-tools');
afterAll(() => tmp.cleanup());

beforeAll(() => {
  requireTools('crm_verify', 'crm_simulate', 'crm_attribute', 'cibadmin', 'crm_mon', 'xmllint');
  buildOcfGen();
});

const TEMPLATES = readdirSync(join(ROOT, 'cib-templates'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.slice(0, -5));
/** Pacemaker 2.1.5 (Debian 12) knows pacemaker-3.0 … 3.9; 3.10 and 4.0 are for newer releases. */
const PACEMAKER_DIALECTS = ['pacemaker-3', ...Array.from({ length: 10 }, (_, i) => `pacemaker-3.${i}`), 'pacemaker-1.0'];

let n = 0;
const generated = new Map<string, string>();
/** The output of a successful ocf-gen run, in a temp file (one run per distinct argument list; tests never modify these files). */
function gen(args: string[]): string {
  const key = JSON.stringify(args);
  const done = generated.get(key);
  if (done) return done;
  const r = ocfGen(args);
  expect(r.code, r.stderr).toBe(0);
  const f = tmp.file(`cib-${++n}.xml`);
  write(f, r.stdout);
  generated.set(key, f);
  return f;
}

function expectVerifies(file: string): void {
  const r = crmVerifyFile(file);
  expect(r.code, `${file}\n${r.stderr}${r.stdout}`).toBe(0);
}

/** Valid against our Heartbeat 2 schema, and against the original crm.dtd where it exists (CI). */
function expectDtdValid(file: string): void {
  const v = hb2Verdicts(file);
  expect(v.ours.code, `${file}\n${v.ours.stderr}`).toBe(0);
  if (v.original) expect(v.original.code, `${file} (original crm.dtd)\n${v.original.stderr}`).toBe(0);
}

describe('every template in every dialect passes the real schema', () => {
  it('finds the templates (ha-nfs at least)', () => {
    expect(TEMPLATES).toContain('ha-nfs');
  });
  for (const t of TEMPLATES) {
    for (const d of PACEMAKER_DIALECTS) {
      it(`${t} as ${d}: crm_verify --xml-file`, () => {
        const f = gen(['cib', '--template', t, '--schema', d]);
        const xml = read(f);
        if (d === 'pacemaker-3') expect(xml).toContain('validate-with="pacemaker-3.7"');
        else if (d !== 'pacemaker-1.0') expect(xml).toContain(`validate-with="${d}"`);
        expectVerifies(f);
      });
    }
    it(`${t} as heartbeat-2: xmllint --dtdvalid heartbeat-2-crm.dtd`, () => {
      const f = gen(['cib', '--template', t, '--schema', 'heartbeat-2']);
      expect(read(f)).not.toContain('validate-with');
      expectDtdValid(f);
    });
  }

  it('pacemaker-3.10 and pacemaker-4.0 pins differ from 3.9 only in validate-with (crm_verify 2.1.5 does not know them)', () => {
    const base = read(gen(['cib', '--schema', 'pacemaker-3.9']));
    for (const v of ['pacemaker-3.10', 'pacemaker-4.0']) {
      expect(read(gen(['cib', '--schema', v]))).toBe(base.replace('validate-with="pacemaker-3.9"', `validate-with="${v}"`));
    }
  });

  it('the dialects use their own vocabulary', () => {
    const p3 = read(gen(['cib']));
    expect(p3).toMatch(/<clone id="drbd-clone">/);
    expect(p3).toMatch(/name="promotable" value="true"/);
    expect(p3).toMatch(/role="Promoted"/);
    expect(p3).toMatch(/name="promoted-max"/);
    expect(p3).toMatch(/<rsc_order [^>]*kind="Mandatory"/);
    expect(p3).not.toMatch(/Master|Slave|<master/);
    const p36 = read(gen(['cib', '--schema', 'pacemaker-3.6']));
    expect(p36).toMatch(/role="Master"/);
    expect(p36).toMatch(/name="master-max"/);
    expect(p36).toMatch(/name="promotable" value="true"/);
    const p10 = read(gen(['cib', '--schema', 'pacemaker-1.0']));
    expect(p10).toMatch(/<master id="drbd-clone">/);
    expect(p10).toMatch(/with-rsc-role="Master"/);
    expect(p10).toMatch(/<node id="1" uname="node1" type="normal"\/>/);
    expect(p10).not.toMatch(/promotable|Promoted/);
    const hb = read(gen(['cib', '--schema', 'heartbeat-2']));
    expect(hb).toMatch(/<master_slave id="drbd-clone">/);
    expect(hb).toMatch(/<rsc_colocation id="nfs-group-with-drbd-promoted" from="nfs-group" to="drbd-clone" to_role="Master" score="INFINITY"\/>/);
    expect(hb).toMatch(/<rsc_order id="drbd-promote-then-nfs-group" from="nfs-group" action="start" type="after" to="drbd-clone" to_action="promote" score="INFINITY"\/>/);
    expect(hb).toMatch(/<attributes>/);
  });

  it('with fencing configured: stonith-enabled=true, one device per node kept off its own node, and crm_verify passes once the nodes are up', () => {
    const f = gen([
      'cib',
      '--set',
      'fence_agent=fence_ipmilan',
      '--set',
      'fence_node1=ip=10.0.0.11 username=admin password="a b"',
      '--set',
      'fence_node2=ip=10.0.0.12 username=admin password=c',
    ]);
    const xml = read(f);
    expect(xml).toMatch(/name="stonith-enabled" value="true"/);
    expect(xml).toMatch(/<primitive id="fence-node1" class="stonith" type="fence_ipmilan">/);
    expect(xml).toMatch(/name="password" value="a b"/);
    expect(xml).not.toMatch(/NO FENCING/);
    // A CIB without status has never seen its nodes; with fencing on, crm_verify warns they are "unclean". Bring them up first.
    const up = tmp.file('fenced-up.xml');
    simulate(f, up, tmp.file('fenced-graph.xml'), ['-q', 'true', '-u', 'node1', '-u', 'node2']);
    expectVerifies(up);
    const p = placement(up);
    expect(whereIs(p, 'fence-node1')).toEqual(['node2']);
    expect(whereIs(p, 'fence-node2')).toEqual(['node1']);
    const c = ocfGen(['cib', '--check', '--set', 'fence_agent=fence_ipmilan', '--set', 'fence_node1=ip=10.0.0.11', '--set', 'fence_node2=ip=10.0.0.12']);
    expect(c.code, c.stderr).toBe(0);
  });

  it('the default says clearly that it has no fencing (comment and stderr)', () => {
    const r = ocfGen(['cib']);
    expect(r.stdout).toMatch(/<!-- [^]*WARNING: stonith-enabled=false: this cluster has NO FENCING[^]*-->\n<cib /);
    expect(r.stderr).toMatch(/warning: stonith-enabled=false/);
  });
});

describe('the command line', () => {
  it('is deterministic: the same input gives byte-identical XML', () => {
    const a = ocfGen(['cib', '--set', 'ip=10.1.2.3']);
    const b = ocfGen(['cib', '--set', 'ip=10.1.2.3']);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    const spec = tmp.file('det.yaml');
    write(spec, 'nodes: [a, b]\nresources:\n  d1: { agent: "ocf:heartbeat:Dummy" }\n  d2: { agent: "lsb:cron" }\ngroups:\n  g: [d1, d2]\n');
    expect(ocfGen(['cib', '--spec', spec]).stdout).toBe(ocfGen(['cib', '--spec', spec]).stdout);
  });

  it('--output writes the file atomically (no temporary file left) with the same bytes', () => {
    const out = tmp.file('out.xml');
    const r = ocfGen(['cib', '--output', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(read(out)).toBe(ocfGen(['cib']).stdout);
    expect(readdirSync(tmp.dir).filter((f) => f.startsWith('.') || f.includes('.tmp'))).toEqual([]);
    expect(statSync(out).mode & 0o777).toBe(0o644);
    const bad = ocfGen(['cib', '--output', join(tmp.dir, 'no-such-dir', 'x.xml')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/cannot write .*no-such-dir\/x\.xml: ENOENT/);
  });

  it('--list-settings names every --set key of the template with its default', () => {
    const r = ocfGen(['cib', '--list-settings']);
    expect(r.code).toBe(0);
    for (const k of ['node1', 'node2', 'drbd_resource', 'device', 'mountpoint', 'fstype', 'export_directory', 'export_fsid', 'statd_hostname', 'ip', 'cidr_netmask', 'nic', 'fence_agent']) {
      expect(r.stdout).toMatch(new RegExp(`^${k}\\s`, 'm'));
    }
  });

  it('--set changes the values it names', () => {
    const xml = read(
      gen(['cib', '--set', 'node1=alice', '--set', 'node2=bob', '--set', 'drbd_resource=nfs0', '--set', 'device=/dev/drbd1', '--set', 'mountpoint=/export', '--set', 'fstype=xfs', '--set', 'export_fsid=77', '--set', 'ip=10.9.8.7', '--set', 'cidr_netmask=16', '--set', 'nic=eth1', '--set', 'resources.fs.params.options=noatime']),
    );
    for (const s of ['uname="alice"', 'uname="bob"', 'value="nfs0"', 'value="/dev/drbd1"', 'name="directory" value="/export"', 'value="xfs"', 'fsid=77', 'name="ip" value="10.9.8.7"', 'value="16"', 'name="nic" value="eth1"', 'name="options" value="noatime"', 'value="/export/nfsinfo"']) {
      expect(xml).toContain(s);
    }
  });

  const BAD: Array<[string, string, string[], RegExp]> = [
    ['unknown agent', 'nodes: [a]\nresources:\n  x: { agent: "ocf:ocfkit:Nope" }\n', [], /^ocf-gen: error: resources\.x\.agent: unknown agent ocf:ocfkit:Nope \(ocfkit ships: /m],
    ['unknown key', 'nodes: [a]\nresources:\n  x: { agent: "ocf:heartbeat:Dummy", colour: red }\n', [], /^ocf-gen: error: resources\.x\.colour: unknown key \(known: agent, /m],
    ['duplicate id', 'nodes: [a]\nresources:\n  x: { agent: "ocf:heartbeat:Dummy" }\ngroups:\n  x: [x]\n', [], /^ocf-gen: error: groups\.x: duplicate id 'x' \(already used by resources\.x\)/m],
    [
      'duplicate constraint id',
      'nodes: [a, b]\nresources:\n  x: { agent: "ocf:heartbeat:Dummy" }\n  y: { agent: "ocf:heartbeat:Dummy" }\nconstraints:\n  order: [{ id: c1, first: x, then: y }]\n  colocation: [{ id: c1, rsc: x, with-rsc: y }]\n',
      [],
      /^ocf-gen: error: constraints\.order\[0\]\.id: duplicate id 'c1' \(already used by constraints\.colocation\[0\]\.id\)/m,
    ],
    ['dangling reference', 'nodes: [a]\nresources:\n  x: { agent: "ocf:heartbeat:Dummy" }\nconstraints:\n  order: [{ first: x, then: ghost }]\n', [], /^ocf-gen: error: constraints\.order\[0\]\.then: unknown resource 'ghost'/m],
    ['invalid address', '', ['--set', 'resources.ip.params.ip=10.0.0.300'], /^ocf-gen: error: resources\.ip\.params\.ip: .*10\.0\.0\.300.*\(from --set resources\.ip\.params\.ip\)/m],
    ['invalid path', '', ['--set', 'mountpoint=srv/nfs'], /^ocf-gen: error: resources\.fs\.params\.directory: .*absolute path.*\(from --set mountpoint\)/m],
    ['unknown setting', '', ['--set', 'colour=red'], /^ocf-gen: error: --set colour: unknown setting of template ha-nfs/m],
    ['role on a resource without roles', 'nodes: [a]\nresources:\n  x: { agent: "ocf:heartbeat:Dummy" }\n  y: { agent: "ocf:heartbeat:Dummy" }\nconstraints:\n  colocation: [{ rsc: x, with-rsc: y, with-rsc-role: Promoted }]\n', [], /with-rsc-role: with-rsc-role Promoted needs a promotable clone, and 'y' is not one/],
    ['YAML syntax', 'nodes: [a\n', [], /^ocf-gen: error: .*\.yaml:2:1: not valid YAML: /m],
    ['unknown schema', '', ['--schema', 'pacemaker-2.0'], /^ocf-gen: error: --schema: unknown schema 'pacemaker-2\.0'/m],
  ];
  for (const [what, spec, extra, message] of BAD) {
    it(`bad input (${what}) → the exact place on stderr, nothing on stdout, exit 2`, () => {
      const args = ['cib', ...extra];
      if (spec) {
        const f = tmp.file(`bad-${what.replace(/\W+/g, '-')}.yaml`);
        write(f, spec);
        args.push('--spec', f);
      }
      const r = ocfGen(args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/^\s+at /m); // no stack trace
    });
  }

  it('a Filesystem on DRBD without the colocation/order with the Promoted role is refused', () => {
    const r = ocfGen(['cib', '--set', 'constraints.colocation[0].with-rsc-role=Unpromoted']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/resources\.fs\.params\.device: \/dev\/drbd0 is a DRBD device, but nothing keeps 'nfs-group' on the node where DRBD is Promoted/);
  });

  it('validate: passes generated CIBs, fails broken ones with crm_verify/xmllint findings', () => {
    const ok = run(join(ROOT, 'bin', 'ocf-gen'), ['validate', gen(['cib'])]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/: valid$/m);
    const hb = run(join(ROOT, 'bin', 'ocf-gen'), ['validate', gen(['cib', '--schema', 'heartbeat-2'])]);
    expect(hb.code, hb.stderr).toBe(0);
    expect(hb.stderr).toMatch(/xmllint: no problems found/);
    const broken = tmp.file('broken.xml');
    write(broken, read(gen(['cib'])).replace('kind="Mandatory"', 'score="INFINITY"'));
    const b = run(join(ROOT, 'bin', 'ocf-gen'), ['validate', broken]);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/crm_verify found problems/);
    const dup = tmp.file('dup.xml');
    write(dup, read(gen(['cib', '--schema', 'heartbeat-2'])).replace('id="fs-monitor-interval-20s"', 'id="fs"'));
    const d = run(join(ROOT, 'bin', 'ocf-gen'), ['validate', dup]);
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(/<op id="fs">: duplicate id \(also used by <primitive>\)/);
  });
});

describe('loading the CIB with cibadmin (offline, on a CIB file: what a running cluster does)', () => {
  /** An existing cluster's CIB whose epoch is ahead of a freshly generated one. */
  function liveCib(epoch: number): string {
    const f = tmp.file(`live-${++n}.xml`);
    write(f, mustRun('cibadmin', ['--empty']).stdout.replace(/epoch="\d+"/, `epoch="${epoch}"`));
    return f;
  }

  it('cibadmin --replace refuses an older epoch; --epoch above the live one loads, and crm_verify -L passes', () => {
    const live = liveCib(7);
    const old = gen(['cib']);
    const refused = run('cibadmin', ['--replace', '--xml-file', old], { env: { CIB_file: live } });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/older than existing configuration/);
    const current = read(live).match(/ epoch="(\d+)"/)![1]!;
    const newer = gen(['cib', '--epoch', String(Number(current) + 1)]);
    mustRun('cibadmin', ['--replace', '--xml-file', newer], { env: { CIB_file: live } });
    expect(read(live)).toContain('<primitive id="drbd" class="ocf" provider="ocfkit" type="drbd">');
    mustRun('crm_verify', ['-L'], { env: { CIB_file: live } });
  });

  it('cibadmin --replace --scope configuration loads into a CIB with any epoch (the cluster bumps its own)', () => {
    const live = liveCib(41);
    mustRun('cibadmin', ['--replace', '--scope', 'configuration', '--xml-file', gen(['cib'])], { env: { CIB_file: live } });
    const after = read(live);
    expect(after).toMatch(/ epoch="42"/);
    expect(after).toContain('<group id="nfs-group">');
    mustRun('crm_verify', ['-L'], { env: { CIB_file: live } });
  });
});

/** Brings both nodes up, gives DRBD equal promotion scores on `nodes`, and returns where everything ends up. */
function settle(cibFile: string, nodes: string[], drbd: string, scores: number[]): Map<string, Array<{ node: string; role: string }>> {
  const up = tmp.file(`settle-${++n}.xml`);
  simulate(cibFile, up, tmp.file(`settle-g-${n}.xml`), ['-q', 'true', ...nodes.flatMap((x) => ['-u', x])]);
  nodes.forEach((node, i) => setPromotionScore(up, drbd, node, scores[i]!));
  const out = tmp.file(`settled-${n}.xml`);
  simulate(up, out, tmp.file(`settled-g-${n}.xml`));
  return placement(out);
}

describe('convert', () => {
  it('heartbeat-2 → pacemaker-3 passes crm_verify and places everything as the original does', () => {
    const original = gen(['cib']);
    const hb = gen(['cib', '--schema', 'heartbeat-2']);
    const r = ocfGen(['convert', hb, '--to', 'pacemaker-3']);
    expect(r.code, r.stderr).toBe(0);
    const back = tmp.file('hb-back.xml');
    write(back, r.stdout);
    expectVerifies(back);
    // Same ids as the original (node ids are renumbered for corosync, as the note says).
    for (const id of read(original).matchAll(/ id="([^"]+)"/g)) expect(read(back)).toContain(` id="${id[1]}"`);
    expect(r.stderr).toMatch(/note: node ids node1, node2 are not corosync node ids/);
    for (const scores of [[10000, 5000], [5000, 10000]]) {
      const a = settle(original, ['node1', 'node2'], 'drbd', scores);
      const b = settle(back, ['node1', 'node2'], 'drbd', scores);
      expect(b).toEqual(a);
    }
  });

  it('pacemaker-1.0 and pacemaker-3 round trips give back the original byte for byte (but the header comment)', () => {
    const body = (s: string) => s.slice(s.indexOf('<cib '));
    const original = read(gen(['cib']));
    for (const via of ['pacemaker-1.0', 'pacemaker-3']) {
      const mid = gen(['cib', '--schema', via]);
      const r = ocfGen(['convert', mid, '--to', 'pacemaker-3']);
      expect(r.code, r.stderr).toBe(0);
      expect(body(r.stdout)).toBe(body(original));
    }
  });

  it('converts back to heartbeat-2 and to pacemaker-1.0 (DTD-valid / crm_verify clean)', () => {
    const p3 = gen(['cib']);
    const toHb = tmp.file('p3-hb.xml');
    write(toHb, mustRun(join(ROOT, 'bin', 'ocf-gen'), ['convert', p3, '--to', 'heartbeat-2']).stdout);
    expectDtdValid(toHb);
    const to10 = tmp.file('p3-10.xml');
    write(to10, mustRun(join(ROOT, 'bin', 'ocf-gen'), ['convert', p3, '--to', 'pacemaker-1.0']).stdout);
    expectVerifies(to10);
  });

  it('a hand-written Heartbeat 2.1 CIB (DRBD user guide style) converts to a CIB Pacemaker 2 runs correctly', () => {
    const hb = tmp.file('hb21.xml');
    write(hb, HEARTBEAT_21_CIB);
    expectDtdValid(hb);
    // Pacemaker ≥ 2 cannot load it as it is.
    expect(crmVerifyFile(hb).code).not.toBe(0);
    const r = ocfGen(['convert', hb]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/default_resource_stickiness becomes the resource default resource-stickiness/);
    expect(r.stderr).toMatch(/target_role is a resource option/);
    const out = tmp.file('hb21-pcmk.xml');
    write(out, r.stdout);
    expectVerifies(out);
    const xml = read(out);
    expect(xml).toContain('<nvpair id="ms-drbd0-ma-3" name="promoted-max" value="1"/>');
    expect(xml).toContain('<rsc_order id="fs0-after-drbd0" first="ms-drbd0" first-action="promote" then="fs0" then-action="start" kind="Mandatory"/>');
    const p = settle(out, ['xen-a', 'xen-b'], 'drbd0', [10000, 10000]);
    expect(whereIs(p, 'drbd0', 'Promoted')).toEqual(['xen-a']); // the location rule prefers xen-a
    expect(whereIs(p, 'fs0')).toEqual(['xen-a']);
  });

  it('refuses what it cannot carry, naming the element, with nothing on stdout', () => {
    const f = tmp.file('sets.xml');
    write(f, read(gen(['cib'])).replace('</constraints>', '<rsc_order id="set1"><resource_set id="s1"><resource_ref id="fs"/></resource_set></rsc_order></constraints>'));
    const r = ocfGen(['convert', f]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/<rsc_order id="set1">: resource sets are not supported by ocf-gen/);
    const g = tmp.file('garbage.xml');
    write(g, '<cib><configuration>');
    const r2 = ocfGen(['convert', g]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/garbage\.xml:1:\d+: not well-formed XML/);
  });
});

describe('Heartbeat v1 haresources', () => {
  const HOWTOS: Array<[string, string, string, string]> = [
    // [name, haresources, ha.cf, preferred node]
    ['DRBD+NFS HOWTO', 'server1 IPaddr::10.0.0.100/24/eth0 drbddisk::r0 Filesystem::/dev/drbd0::/data::ext3 nfs-kernel-server\n', 'node server1 server2\nauto_failback off\n', 'server1'],
    [
      'continued line, netmask, nfs-common, MailTo',
      '# NFS\nnfs-b \\\n  drbddisk::export Filesystem::/dev/drbd0::/srv/export::ext3::noatime \\\n  nfs-common nfs-kernel-server 192.168.1.50/255.255.255.0/eth1 MailTo::root@example.com::nfs\n',
      'keepalive 2\ndeadtime 30\nbcast eth1\nnode nfs-a\nnode nfs-b\nauto_failback on\n',
      'nfs-b',
    ],
  ];
  for (const [name, haresources, hacf, preferred] of HOWTOS) {
    it(`${name}: converts to a CIB that passes crm_verify and runs on the preferred node`, () => {
      const dir = tempDir('haresources');
      try {
        write(join(dir.dir, 'haresources'), haresources);
        write(join(dir.dir, 'ha.cf'), hacf);
        const r = ocfGen(['cib', '--from-haresources', join(dir.dir, 'haresources')]);
        expect(r.code, r.stderr).toBe(0);
        const f = tmp.file(`ha-${++n}.xml`);
        write(f, r.stdout);
        expectVerifies(f);
        const xml = read(f);
        expect(xml).toMatch(/type="drbd"/);
        expect(xml).toMatch(/name="promotable" value="true"/);
        expect(xml).toMatch(/type="Filesystem"/);
        expect(xml).toMatch(/type="nfsserver"/);
        expect(xml).toMatch(/type="IPaddr2"/);
        const drbd = xml.match(/<primitive id="([^"]+)" class="ocf" provider="ocfkit" type="drbd">/)![1]!;
        const nodes = [...xml.matchAll(/<node id="\d+" uname="([^"]+)"\/>/g)].map((m) => m[1]!);
        expect(nodes).toContain(preferred);
        // Equal promotion scores: the line's node decides.
        const p = settle(f, nodes, drbd, nodes.map(() => 10000));
        expect(whereIs(p, drbd, 'Promoted')).toEqual([preferred]);
        const fs = xml.match(/<primitive id="([^"]+)" class="ocf" provider="ocfkit" type="Filesystem">/)![1]!;
        expect(whereIs(p, fs)).toEqual([preferred]);
      } finally {
        dir.cleanup();
      }
    });
  }

  it('reports what it cannot map with file:line and writes nothing; --skip-unmapped leaves it out with a warning', () => {
    const dir = tempDir('haresources-bad');
    try {
      const hr = join(dir.dir, 'haresources');
      write(hr, 'a drbddisk::r0 Filesystem::/dev/drbd0::/data::ext3 Frobnicate::x IPaddr::10.0.0.1\n');
      write(join(dir.dir, 'ha.cf'), 'node a b\n');
      const r = ocfGen(['cib', '--from-haresources', hr]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/haresources:1: 'Frobnicate::x': the Heartbeat v1 resource script Frobnicate has no OCF equivalent/);
      const s = ocfGen(['cib', '--from-haresources', hr, '--skip-unmapped']);
      expect(s.code, s.stderr).toBe(0);
      expect(s.stderr).toMatch(/warning: .*haresources:1: 'Frobnicate::x'.*left out/);
      const f = tmp.file('skipped.xml');
      write(f, s.stdout);
      expectVerifies(f);
    } finally {
      dir.cleanup();
    }
  });
});

/** A Heartbeat 2.1 CIB as the DRBD 8 user guide and linux-ha.org examples wrote them. */
const HEARTBEAT_21_CIB = `<?xml version="1.0" ?>
<cib admin_epoch="0" epoch="12" num_updates="3" have_quorum="true">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <attributes>
          <nvpair id="opt-stonith" name="stonith_enabled" value="false"/>
          <nvpair id="opt-stickiness" name="default_resource_stickiness" value="100"/>
          <nvpair id="opt-transition" name="transition_idle_timeout" value="60"/>
        </attributes>
      </cluster_property_set>
    </crm_config>
    <nodes>
      <node id="6125a0df-456a-4395-829a-418e9a380d36" uname="xen-a" type="normal"/>
      <node id="2a0b5d3a-bd40-4f6d-9b2c-bd2be0b1a6a8" uname="xen-b" type="normal"/>
    </nodes>
    <resources>
      <master_slave id="ms-drbd0">
        <meta_attributes id="ms-drbd0-ma">
          <attributes>
            <nvpair id="ms-drbd0-ma-1" name="clone_max" value="2"/>
            <nvpair id="ms-drbd0-ma-2" name="clone_node_max" value="1"/>
            <nvpair id="ms-drbd0-ma-3" name="master_max" value="1"/>
            <nvpair id="ms-drbd0-ma-4" name="master_node_max" value="1"/>
            <nvpair id="ms-drbd0-ma-5" name="notify" value="yes"/>
            <nvpair id="ms-drbd0-ma-6" name="globally_unique" value="false"/>
          </attributes>
        </meta_attributes>
        <primitive id="drbd0" class="ocf" provider="heartbeat" type="drbd">
          <instance_attributes id="drbd0-ia">
            <attributes>
              <nvpair id="drbd0-ia-1" name="drbd_resource" value="drbd0"/>
              <nvpair id="drbd0-ia-2" name="target_role" value="started"/>
            </attributes>
          </instance_attributes>
          <operations>
            <op id="drbd0-mon-m" name="monitor" interval="10s" timeout="20s" role="Master"/>
            <op id="drbd0-mon-s" name="monitor" interval="12s" timeout="20s" role="Slave"/>
          </operations>
        </primitive>
      </master_slave>
      <primitive class="ocf" provider="heartbeat" type="Filesystem" id="fs0">
        <instance_attributes id="fs0-ia">
          <attributes>
            <nvpair id="fs0-ia-1" name="fstype" value="ext3"/>
            <nvpair id="fs0-ia-2" name="directory" value="/mnt/share"/>
            <nvpair id="fs0-ia-3" name="device" value="/dev/drbd0"/>
          </attributes>
        </instance_attributes>
        <operations>
          <op id="fs0-mon" name="monitor" interval="20" timeout="40"/>
        </operations>
      </primitive>
    </resources>
    <constraints>
      <rsc_location id="ms-drbd0-placement" rsc="ms-drbd0">
        <rule id="ms-drbd0-placement-rule" score="100" role="Master">
          <expression id="ms-drbd0-placement-expr" attribute="#uname" operation="eq" value="xen-a"/>
        </rule>
      </rsc_location>
      <rsc_order id="fs0-after-drbd0" from="fs0" action="start" to="ms-drbd0" to_action="promote"/>
      <rsc_colocation id="fs0-on-drbd0" to="ms-drbd0" to_role="Master" from="fs0" score="INFINITY"/>
    </constraints>
  </configuration>
  <status/>
</cib>
`;
