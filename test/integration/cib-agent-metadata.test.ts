// `ocf-gen cib --check` checks every agent's parameters against the agent's
// own meta-data, for any provider, as pcs does: unknown names, missing
// required ones, and values of unique parameters (OCF 1.0 unique="1", OCF 1.1
// unique-group) shared by two resources. Meta-data comes from
// `crm_resource --show-metadata` (the installed resource-agents and fence
// agents) or from --metadata-dir.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOcfGen, ocfGen, requireTools, tempDir, write } from './cib-helpers.js';

const tmp = tempDir('cib-meta');
afterAll(() => tmp.cleanup());

beforeAll(() => {
  // fence_ipmilan: Debian's fence-agents (the README's test command installs it).
  requireTools('crm_resource', 'crm_verify', 'fence_ipmilan');
  buildOcfGen();
});

function spec(name: string, body: string): string {
  const f = tmp.file(name);
  write(f, `nodes: [a, b]\nresources:\n${body}`);
  return f;
}

describe('--check with crm_resource --show-metadata (resource-agents, fence-agents)', () => {
  const bad = () =>
    spec(
      'heartbeat.yaml',
      [
        '  ip1: { agent: "ocf:heartbeat:IPaddr2", params: { ip: 10.0.0.5, nosuch: 1 } }',
        '  ip2: { agent: "ocf:heartbeat:IPaddr2", params: { ip: 10.0.0.5 } }',
        '  fs: { agent: "ocf:heartbeat:Filesystem", params: { device: /dev/sdb1, directory: /srv } }',
        '  fence: { agent: "stonith:fence_ipmilan", params: { ip: 10.0.0.9, pcmk_host_list: a, colour: red } }',
        '',
      ].join('\n'),
    );

  it('unknown, missing required and shared unique parameters of ocf:heartbeat agents, and unknown fence parameters, are errors', () => {
    const r = ocfGen(['cib', '--spec', bad(), '--check']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^ocf-gen: error: resources\.ip1\.params\.nosuch: unknown parameter of ocf:heartbeat:IPaddr2 \(known: ip, nic, cidr_netmask, .*; from crm_resource --show-metadata ocf:heartbeat:IPaddr2\)$/m);
    expect(r.stderr).toMatch(/^ocf-gen: error: resources\.fs\.params\.fstype: required by ocf:heartbeat:Filesystem \(from crm_resource --show-metadata ocf:heartbeat:Filesystem\)$/m);
    expect(r.stderr).toMatch(/^ocf-gen: error: resources\.ip2\.params\.ip: ip="10\.0\.0\.5" is already used by resources\.ip1: the parameter is unique for ocf:heartbeat:IPaddr2/m);
    expect(r.stderr).toMatch(/^ocf-gen: error: resources\.fence\.params\.colour: unknown parameter of stonith:fence_ipmilan/m);
    expect(r.stderr).not.toMatch(/pcmk_host_list/); // Pacemaker's own fence parameters are known
  });

  it('without --check (no meta-data read) the same spec is written: the checks come from the meta-data', () => {
    expect(ocfGen(['cib', '--spec', bad()]).code).toBe(0);
  });

  it('an agent without meta-data is reported, not guessed', () => {
    const r = ocfGen(['cib', '--spec', spec('nosuch.yaml', '  x: { agent: "ocf:nosuch:Thing", params: { a: 1 } }\n'), '--check']);
    expect(r.stderr).toMatch(/^ocf-gen: note: parameters of ocf:nosuch:Thing not checked: crm_resource --show-metadata ocf:nosuch:Thing failed/m);
  });
});

describe('--metadata-dir (any provider, no cluster tools needed)', () => {
  const dir = join(tmp.dir, 'meta');
  beforeAll(() => {
    mkdirSync(dir);
    write(
      join(dir, 'ocf:acme:Web.xml'),
      `<?xml version="1.0"?>\n<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">\n<resource-agent name="Web" version="1.0">\n<version>1.1</version>\n<parameters>\n` +
        `<parameter name="docroot" required="1"><content type="string"/></parameter>\n` +
        `<parameter name="addr" unique-group="listen"><content type="string"/></parameter>\n` +
        `<parameter name="port" unique-group="listen"><content type="integer" default="80"/></parameter>\n` +
        `<parameter name="workers"><content type="integer" default="4"/></parameter>\n</parameters>\n<actions/>\n</resource-agent>\n`,
    );
  });

  it('OCF 1.1 unique-group: the combined values must differ; required and unknown as with crm_resource', () => {
    const f = spec(
      'acme.yaml',
      [
        '  w1: { agent: "ocf:acme:Web", params: { docroot: /srv/a, addr: 10.0.0.1, port: 80 } }',
        '  w2: { agent: "ocf:acme:Web", params: { docroot: /srv/b, addr: 10.0.0.1, port: 8080 } }',
        '  w3: { agent: "ocf:acme:Web", params: { docroot: /srv/c, addr: 10.0.0.1, port: 80 } }',
        '  w4: { agent: "ocf:acme:Web", params: { addr: 10.0.0.2, threads: 9 } }',
        '',
      ].join('\n'),
    );
    const r = ocfGen(['cib', '--spec', f, '--metadata-dir', dir]);
    expect(r.code).toBe(2);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('ocf-gen: error:'));
    expect(errors).toEqual([
      `ocf-gen: error: resources.w4.params.threads: unknown parameter of ocf:acme:Web (known: docroot, addr, port, workers; from ${join(dir, 'ocf:acme:Web.xml')})`,
      `ocf-gen: error: resources.w4.params.docroot: required by ocf:acme:Web (from ${join(dir, 'ocf:acme:Web.xml')})`,
      'ocf-gen: error: resources.w3.params.addr: addr="10.0.0.1", port="80" (unique group listen) is already used by resources.w1: these parameters are unique for ocf:acme:Web (pcs and crmsh refuse two such resources)',
    ]);
  });

  it('not a directory: exit 2 naming it', () => {
    const r = ocfGen(['cib', '--spec', spec('x.yaml', '  d: { agent: "ocf:heartbeat:Dummy" }\n'), '--metadata-dir', join(tmp.dir, 'nope')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ocf-gen: error: --metadata-dir .*\/nope: not a directory$/m);
  });
});
