// Spec files as an attacker or a typo writes them: duplicate JSON keys (which
// JSON.parse silently resolves to the last), JSON syntax errors (which
// JSON.parse reports by character offset, or on Node 20 not at all), YAML
// alias bombs, nesting far beyond any spec: each is bad input naming
// file:line:column. And parameters declared unique (two IPaddr2 with one ip)
// are refused as pcs and crmsh refuse them.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CibError } from '../../src/cib/errors.js';
import { generate } from '../../src/cib/generate.js';
import { MAX_SPEC_DEPTH, readStructured } from '../../src/cib/spec-load.js';

const dir = mkdtempSync(join(tmpdir(), 'ocfkit-cib-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(name: string, text: string): string {
  const f = join(dir, `${++n}-${name}`);
  writeFileSync(f, text);
  return f;
}

function issues(f: () => unknown): string[] {
  try {
    f();
  } catch (e) {
    if (e instanceof CibError) return e.issues.map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  throw new Error('no error');
}

describe('JSON specs', () => {
  it('two equal keys in one object: an error at the second, naming the first', () => {
    const f = file('dup.json', '{\n  "nodes": ["a", "b"],\n  "resources": {\n    "vip": { "agent": "ocf:heartbeat:IPaddr2", "params": { "ip": "10.0.0.5" } },\n    "vip": { "agent": "ocf:heartbeat:Dummy" }\n  }\n}\n');
    expect(issues(() => readStructured(f))).toEqual([`${f}:5:5: duplicate key "vip" (first at line 4): JSON would keep only this one; remove or rename one`]);
  });

  it('equal keys in different objects are fine; escapes are compared decoded', () => {
    expect(readStructured(file('ok.json', '{"a": {"x": 1}, "b": {"x": 2}}'))).toEqual({ a: { x: 1 }, b: { x: 2 } });
    const f = file('esc.json', '{"x": 1, "\\u0078": 2}');
    expect(issues(() => readStructured(f))).toEqual([`${f}:1:10: duplicate key "\\u0078" (first at line 1): JSON would keep only this one; remove or rename one`]);
  });

  const SYNTAX: Array<[string, string, string]> = [
    ['trailing comma', '{\n  "nodes": ["a",\n  ]\n}', "3:3: not valid JSON: expected a value, found \"]\""],
    ['missing comma', '{\n  "nodes": ["a"]\n  "resources": {}\n}', "3:3: not valid JSON: expected ',' or '}', found \"\\\"resources\\\":\""],
    ['unquoted key', '{ nodes: [] }', '1:3: not valid JSON: expected a key in double quotes, found "nodes: [] }"'],
    ['truncated', '{"nodes": [', '1:12: not valid JSON: expected a value, found the end of the file'],
    ['garbage after', '{}\n}', '2:1: not valid JSON: unexpected "}" after the end of the document'],
    ['control character in a string', '{"a": "x\ty"}', '1:7: not valid JSON: expected a value, found "\\"x\\ty\\"}"'],
  ];
  for (const [what, text, message] of SYNTAX) {
    it(`syntax error (${what}) names line:column`, () => {
      const f = file('syn.json', text);
      expect(issues(() => readStructured(f))).toEqual([`${f}:${message}`]);
    });
  }

  it(`nesting beyond ${MAX_SPEC_DEPTH} levels (20,000 here) is refused at the place it happens`, () => {
    const f = file('deep.json', `{"nodes": ${'['.repeat(20_000)}${']'.repeat(20_000)}}`);
    expect(issues(() => readStructured(f))).toEqual([`${f}:1:${11 + MAX_SPEC_DEPTH - 1}: nested deeper than ${MAX_SPEC_DEPTH} levels (a spec needs about 5)`]);
  });
});

describe('YAML specs', () => {
  it('an alias bomb ("billion laughs") is refused, naming the first alias', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    const f = file('bomb.yaml', `${lines.join('\n')}\nnodes: [a]\n`);
    const got = issues(() => readStructured(f));
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(new RegExp(`^${f}:2:8: aliases expand too far`));
  });

  it('a few aliases, as people use them, are fine', () => {
    const f = file('alias.yaml', 'x: &ops { timeout: 20s }\ny: *ops\nz: *ops\n');
    expect(readStructured(f)).toEqual({ x: { timeout: '20s' }, y: { timeout: '20s' }, z: { timeout: '20s' } });
  });

  it('20,000 levels of flow nesting: bad input with a place, not a crash', () => {
    const f = file('deep.yaml', `nodes: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`);
    const got = issues(() => readStructured(f));
    expect(got[0]).toMatch(new RegExp(`^${f}:1:\\d+: (not valid YAML: nested too deeply|nested deeper than ${MAX_SPEC_DEPTH} levels)`));
  });

  it(`${MAX_SPEC_DEPTH + 10} levels of block nesting: refused with the line`, () => {
    const text = Array.from({ length: MAX_SPEC_DEPTH + 10 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n') + ' x\n';
    const f = file('deep-block.yaml', text);
    expect(issues(() => readStructured(f))[0]).toMatch(new RegExp(`^${f}:${MAX_SPEC_DEPTH}:\\d+: nested deeper than ${MAX_SPEC_DEPTH} levels`));
  });
});

describe('unique parameters (as pcs and crmsh check them)', () => {
  const spec = (res: string) => file('u.yaml', `nodes: [a, b]\nresources:\n${res}`);

  it('two ocf:ocfkit:IPaddr2 with one ip: refused at the second', () => {
    const f = spec('  vip1: { agent: "ocf:ocfkit:IPaddr2", params: { ip: 10.0.0.5 } }\n  vip2: { agent: "ocf:ocfkit:IPaddr2", params: { ip: 10.0.0.5, cidr_netmask: 24 } }\n');
    expect(issues(() => generate({ spec: f }))).toEqual([
      'resources.vip2.params.ip: ip="10.0.0.5" is already used by resources.vip1: the parameter is unique for ocf:ocfkit:IPaddr2 (pcs and crmsh refuse two such resources)',
    ]);
  });

  it('two drbd resources on one drbd_resource: refused', () => {
    const f = spec('  d1: { agent: "ocf:ocfkit:drbd", params: { drbd_resource: r0 } }\n  d2: { agent: "ocf:ocfkit:drbd", params: { drbd_resource: r0 } }\n');
    expect(issues(() => generate({ spec: f }))[0]).toMatch(/^resources\.d2\.params\.drbd_resource: drbd_resource="r0" is already used by resources\.d1/);
  });

  it('different values, or non-unique parameters with equal values, are fine', () => {
    const f = spec('  vip1: { agent: "ocf:ocfkit:IPaddr2", params: { ip: 10.0.0.5, cidr_netmask: 24 } }\n  vip2: { agent: "ocf:ocfkit:IPaddr2", params: { ip: 10.0.0.6, cidr_netmask: 24 } }\n');
    expect(generate({ spec: f }).xml).toContain('id="vip2"');
  });
});
