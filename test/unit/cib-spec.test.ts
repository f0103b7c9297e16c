// Where specs come from: templates with settings, --set (settings and spec
// paths), YAML/JSON files; and the zod schema's messages, which must name
// the exact place.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CibError } from '../../src/cib/errors.js';
import { generate, loadSpec } from '../../src/cib/generate.js';
import {
  applyPathSets,
  listTemplates,
  loadTemplate,
  parseSetArgs,
  parseTemplate,
  readStructured,
  renderTemplate,
  validateSpec,
} from '../../src/cib/spec-load.js';

const dir = mkdtempSync(join(tmpdir(), 'ocfkit-cib-spec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(name: string, text: string): string {
  const f = join(dir, `${++n}-${name}`);
  writeFileSync(f, text);
  return f;
}

function issues(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof CibError) return e.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
    throw e;
  }
  throw new Error('expected a CibError');
}

const TPL = parseTemplate(
  {
    template: 't',
    settings: {
      host: { default: 'n1', description: 'node' },
      dir: { default: '/srv', description: 'dir' },
      sub: { default: '${dir}/data', description: 'derived' },
      ip: { default: '10.0.0.1', description: 'ip' },
    },
    spec: {
      nodes: ['${host}'],
      resources: { ip: { agent: 'ocf:heartbeat:IPaddr2', params: { ip: '${ip}' } }, d: { agent: 'ocf:heartbeat:Dummy', params: { state: '${sub}/state' } } },
    },
  },
  't.yaml',
);

describe('templates', () => {
  it('ships ha-nfs, and every shipped template parses and builds with its defaults', () => {
    expect(listTemplates()).toContain('ha-nfs');
    for (const t of listTemplates()) expect(() => generate({ template: t }), t).not.toThrow();
  });

  it('defaults may use other settings; --set wins and is taken literally', () => {
    const r = renderTemplate(TPL, parseSetArgs(['dir=/data', 'host=${ip}']), 't.yaml');
    expect(r.raw).toEqual({
      nodes: ['${ip}'],
      resources: { ip: { agent: 'ocf:heartbeat:IPaddr2', params: { ip: '10.0.0.1' } }, d: { agent: 'ocf:heartbeat:Dummy', params: { state: '/data/data/state' } } },
    });
    expect(r.settings).toEqual({ host: '${ip}', dir: '/data', sub: '/data/data', ip: '10.0.0.1' });
    expect(r.provenance.get('resources.d.params.state')).toBe('template setting sub');
    expect(r.provenance.get('nodes[0]')).toBe('--set host');
  });

  it('unknown settings and placeholders, and self-reference, are errors', () => {
    expect(issues(() => renderTemplate(TPL, parseSetArgs(['colour=red']), 't.yaml'))).toEqual([
      '--set colour: unknown setting of template t (settings: host, dir, sub, ip; or a spec path such as resources.ip.params.ip)',
    ]);
    const bad = parseTemplate({ template: 'b', settings: { a: { default: '${a}', description: '' } }, spec: { nodes: ['${nope}'] } }, 'b.yaml');
    expect(issues(() => renderTemplate(bad, [], 'b.yaml'))).toEqual(['b.yaml: settings.a: default refers to itself', 'b.yaml: spec.nodes[0]: unknown setting ${nope}']);
    expect(issues(() => parseSetArgs(['novalue']))).toEqual(['--set novalue: expected key=value']);
    expect(issues(() => loadTemplate('../etc/passwd'))[0]).toMatch(/^--template: unknown template '\.\.\/etc\/passwd' \(templates: .*ha-nfs/);
  });

  it('the ha-nfs settings reach the places they name', () => {
    const xml = generate({ sets: ['export_directory=/srv/nfs/data', 'export_clientspec=10.1.0.0/16', 'export_options=rw,async', 'export_fsid=9', 'statd_hostname=nfs-ha.example.com', 'ip=10.1.0.5', 'nfs_shared_infodir=/srv/nfs/state'] }).xml;
    expect(xml).toContain('name="exports" value="/srv/nfs/data 10.1.0.0/16(rw,async,fsid=9)"');
    expect(xml).toContain('name="nfs_ip" value="10.1.0.5"');
    expect(xml).toContain('name="statd_hostname" value="nfs-ha.example.com"');
    expect(xml).toContain('name="nfs_shared_infodir" value="/srv/nfs/state"');
    expect(xml, 'tickle_clients unset: the agent\'s default, no nvpair').not.toContain('tickle_clients');
    expect(generate({ sets: ['tickle_clients=true'] }).xml).toContain('name="tickle_clients" value="true"');
  });
});

describe('--set with a spec path', () => {
  it('sets, creates maps on the way, and indexes lists', () => {
    const loaded = { raw: { a: { b: 1 }, l: [{ x: 1 }] } as Record<string, unknown>, provenance: new Map<string, string>() };
    applyPathSets(loaded, parseSetArgs(['a.c.d=x', 'l[0].x=2', 'a.b=3']), false);
    expect(loaded.raw).toEqual({ a: { b: '3', c: { d: 'x' } }, l: [{ x: '2' }] });
    expect(loaded.provenance.get('l[0].x')).toBe('--set l[0].x');
  });

  it('refuses places that do not exist, odd paths, and plain names without a template', () => {
    const loaded = { raw: { l: [] as unknown[], s: 'text' }, provenance: new Map<string, string>() };
    expect(issues(() => applyPathSets(loaded, parseSetArgs(['l[3].x=1', 's.x=1', 'a..b=1']), false))).toEqual([
      '--set l[3].x: that place does not exist in the spec',
      '--set s.x: that place does not exist in the spec',
      '--set a..b: not a spec path (e.g. resources.ip.params.ip, constraints.order[0].kind)',
    ]);
    expect(issues(() => applyPathSets(loaded, parseSetArgs(['ip=1']), false))).toEqual(['--set ip: no template in use: give a spec path such as resources.ip.params.ip']);
  });

  it('errors name the --set that caused them', () => {
    expect(issues(() => generate({ sets: ['ip=10.0.0.999'] })).join('\n')).toMatch(/^resources\.ip\.params\.ip: .*\(from --set ip\)$/m);
  });
});

describe('spec files', () => {
  it('reads YAML and JSON; a spec file may itself be a template', () => {
    const y = file('s.yaml', 'nodes: [a]\nresources:\n  d: { agent: "ocf:heartbeat:Dummy" }\n');
    const j = file('s.json', JSON.stringify({ nodes: ['a'], resources: { d: { agent: 'ocf:heartbeat:Dummy' } } }));
    expect(generate({ spec: y }).xml.replace(/<!--[^]*?-->/, '')).toBe(generate({ spec: j }).xml.replace(/<!--[^]*?-->/, ''));
    const t = file('t.yaml', 'template: mine\nsettings:\n  who: { default: a, description: x }\nspec:\n  nodes: ["${who}"]\n  resources: {}\n');
    expect(generate({ spec: t, sets: ['who=zed'] }).cib.nodes[0]!.uname).toBe('zed');
  });

  it('syntax errors carry file:line:column; duplicate keys are errors', () => {
    const f = file('bad.yaml', 'nodes: [a]\nresources:\n  d: { agent: x }\n  d: { agent: y }\n');
    expect(issues(() => readStructured(f))).toEqual([`${f}:4:3: not valid YAML: Map keys must be unique`]);
    const j = file('bad.json', '{"nodes": [}');
    expect(issues(() => readStructured(j))).toEqual([`${j}:1:12: not valid JSON: expected a value, found "}"`]); // was: no line, "position 11"
    expect(issues(() => readStructured(join(dir, 'missing.yaml')))).toEqual([`${join(dir, 'missing.yaml')}: cannot read: ENOENT`]);
  });

  it('only one source at a time', () => {
    expect(issues(() => loadSpec({ template: 'ha-nfs', spec: 'x.yaml' }))).toEqual(['give only one of --template, --spec, --from-haresources']);
    expect(issues(() => loadSpec({ haCf: 'ha.cf' }))).toEqual(['--ha-cf: only used with --from-haresources']);
  });
});

describe('schema messages', () => {
  const check = (raw: unknown) => issues(() => validateSpec({ raw, provenance: new Map() }));

  it('unknown keys list the known ones; missing and mistyped values say so', () => {
    expect(check({ nodes: ['a'], resources: { x: { agent: 'lsb:x', parms: {} } }, colour: 1 })).toEqual([
      'resources.x.parms: unknown key (known: agent, description, params, meta, ops)',
      'colour: unknown key (known: nodes, properties, resource-defaults, operation-defaults, fencing, resources, groups, clones, constraints)',
    ]);
    expect(check({ nodes: ['a'] })).toEqual(['resources: required']);
    expect(check({ nodes: [], resources: { x: { agent: 5 } } })).toEqual(['nodes: at least one node', 'resources.x.agent: expected string, got number 5']);
  });

  it('values: roles, scores, durations, kinds, actions', () => {
    expect(
      check({
        nodes: ['a'],
        resources: { x: { agent: 'lsb:x', ops: [{ name: 'monitor', interval: '10 parsecs', role: 'Boss' }] } },
        constraints: { colocation: [{ rsc: 'x', 'with-rsc': 'x', score: 'lots' }], order: [{ first: 'x', then: 'x', kind: 'Eventually', 'first-action': 'migrate' }] },
      }),
    ).toEqual([
      'resources.x.ops[0].interval: not a duration (e.g. 20s, 500ms, 2min; a plain number is seconds): "10 parsecs"',
      'resources.x.ops[0].role: not a role (Started, Stopped, Promoted, Unpromoted): "Boss"',
      'constraints.colocation[0].score: not a score (an integer, INFINITY or -INFINITY): "lots"',
      'constraints.order[0].first-action: must be one of: start, stop, promote, demote (got string "migrate")',
      'constraints.order[0].kind: must be one of: Mandatory, Optional, Serialize (got string "Eventually")',
    ]);
  });
});
