// Every value ocf-gen writes comes back exactly: `&` (also before a name and
// `;`, which looks like an entity), `<`, `>`, quotes, tab, newline and
// carriage return, in every dialect's writer and through `convert`. xmllint
// (libxml2, what Pacemaker itself parses with) reads the output: it must be
// well-formed and give back the very same string. A CIB that uses DTD
// entities is refused by `convert` (exit 2, file:line), never written out
// ill-formed.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOcfGen, crmVerifyFile, ocfGen, read, requireTools, run, tempDir, write } from './cib-helpers.js';

const tmp = tempDir('cib-escape');
afterAll(() => tmp.cleanup());

beforeAll(() => {
  requireTools('xmllint', 'crm_verify');
  buildOcfGen();
});

/** Values that break naive XML writers and readers. */
const HOSTILE: Record<string, string> = {
  entityLike: 'al&ice;',
  escapedLt: '/etc/a&lt;b.conf',
  amp: 'a & b && c',
  angle: '<cib> </cib> ]]> -->',
  quotes: `say "hi" it's`,
  whitespace: 'tab\there\nnew line\r\nwindows  two spaces ',
  charRef: '&#38; &#x26;',
  unicode: 'Grüße 𝄞 ✓',
};

function spec(): string {
  // JSON keeps every character as it is.
  return JSON.stringify({
    nodes: ['al&ice;', 'b<o>b'],
    resources: {
      d: { agent: 'ocf:heartbeat:Dummy', description: HOSTILE.quotes, params: Object.fromEntries(Object.entries(HOSTILE).map(([k, v]) => [`p_${k}`, v])) },
    },
  });
}

/** One attribute as libxml2 reads it. */
function xpathString(file: string, expr: string): string {
  const r = run('xmllint', ['--xpath', `string(${expr})`, file]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout.endsWith('\n')).toBe(true); // xmllint ends the string with a newline of its own
  return r.stdout.slice(0, -1);
}

function expectValuesBack(file: string): void {
  const wf = run('xmllint', ['--noout', file]);
  expect(wf.code, `${file} is not well-formed:\n${wf.stderr}`).toBe(0);
  for (const [k, v] of Object.entries(HOSTILE)) {
    expect(xpathString(file, `//nvpair[@name="p_${k}"]/@value`), k).toBe(v);
  }
  expect(xpathString(file, '//node[1]/@uname')).toBe('al&ice;');
  expect(xpathString(file, '//node[2]/@uname')).toBe('b<o>b');
  expect(xpathString(file, '//primitive[@id="d"]/@description')).toBe(HOSTILE.quotes);
}

describe('every writer escapes every value', () => {
  const specFile = () => {
    const f = tmp.file('hostile.json');
    write(f, spec());
    return f;
  };

  for (const dialect of ['pacemaker-3', 'pacemaker-3.0', 'pacemaker-1.0', 'heartbeat-2']) {
    it(`${dialect}: well-formed, and xmllint reads back exactly the values given`, () => {
      const r = ocfGen(['cib', '--spec', specFile(), '--schema', dialect]);
      expect(r.code, r.stderr).toBe(0);
      const f = tmp.file(`out-${dialect}.xml`);
      write(f, r.stdout);
      expectValuesBack(f);
      if (dialect.startsWith('pacemaker')) {
        const v = crmVerifyFile(f);
        expect(v.code, v.stderr).toBe(0);
      }
    });
  }

  it('convert round trips are exact: pacemaker-3 → heartbeat-2 → pacemaker-3 and → pacemaker-1.0 → pacemaker-3', () => {
    const original = ocfGen(['cib', '--spec', specFile()]);
    expect(original.code, original.stderr).toBe(0);
    const src = tmp.file('rt-src.xml');
    write(src, original.stdout);
    const body = (s: string) => s.slice(s.indexOf('<cib '));
    for (const via of ['pacemaker-1.0', 'pacemaker-3', 'heartbeat-2']) {
      const mid = ocfGen(['convert', src, '--to', via]);
      expect(mid.code, mid.stderr).toBe(0);
      const midFile = tmp.file(`rt-${via}.xml`);
      write(midFile, mid.stdout);
      expectValuesBack(midFile);
      const back = ocfGen(['convert', midFile, '--to', 'pacemaker-3']);
      expect(back.code, back.stderr).toBe(0);
      const backFile = tmp.file(`rt-${via}-back.xml`);
      write(backFile, back.stdout);
      expectValuesBack(backFile);
      // heartbeat-2 has no numeric node ids: they come back renumbered, which changes nothing else.
      if (via !== 'heartbeat-2') expect(body(back.stdout)).toBe(body(original.stdout));
    }
  });

  it('a character XML cannot carry (U+0001) is bad input naming its place, not broken output', () => {
    const f = tmp.file('ctl.json');
    write(f, JSON.stringify({ nodes: ['a'], resources: { d: { agent: 'ocf:heartbeat:Dummy', params: { fake: 'x\u0001y' } } } }));
    const r = ocfGen(['cib', '--spec', f]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^ocf-gen: error: <nvpair id="d-instance_attributes-fake"> value: contains the character U\+0001, which XML 1\.0 cannot carry$/m);
  });
});

describe('convert of CIBs using entities', () => {
  const cib = (nodes: string, doctype = '') =>
    `<?xml version="1.0"?>\n${doctype}<cib validate-with="pacemaker-3.7" epoch="1" num_updates="0" admin_epoch="0">\n  <configuration>\n    <crm_config/>\n    <nodes>\n${nodes}\n    </nodes>\n    <resources/>\n    <constraints/>\n  </configuration>\n  <status/>\n</cib>\n`;

  it('a DTD declaring entities: exit 2 naming file:line, nothing written', () => {
    const f = tmp.file('dtd-entities.xml');
    write(f, cib('      <node id="1" uname="&g;"/>', '<!DOCTYPE cib [\n  <!ENTITY g "&#62;">\n]>\n'));
    const r = ocfGen(['convert', f]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^ocf-gen: error: ${f}:2:1: not well-formed XML: a DOCTYPE with declarations \\(entities\\) is refused`, 'm'));
  });

  it('an entity that is not defined: exit 2 naming file:line:column', () => {
    const f = tmp.file('undefined-entity.xml');
    write(f, cib('      <node id="1" uname="&g;"/>'));
    const r = ocfGen(['convert', f]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^ocf-gen: error: ${f}:6:27: not well-formed XML: entity &g; is not defined`, 'm'));
  });

  it('predefined entities and character references are read as XML defines them and written back escaped', () => {
    const f = tmp.file('refs.xml');
    write(f, cib('      <node id="1" uname="a&amp;g;&lt;&#62;&#x26;&quot;&apos;"/>'));
    const r = ocfGen(['convert', f]);
    expect(r.code, r.stderr).toBe(0);
    const out = tmp.file('refs-out.xml');
    write(out, r.stdout);
    expect(xpathString(out, '//node/@uname')).toBe(`a&g;<>&"'`);
    expect(read(out)).toContain('uname="a&amp;g;&lt;&gt;&amp;&quot;\'"');
  });
});
