// ocf-gen's strict XML reader: values exactly as XML 1.0 defines them, every
// well-formedness error with file:line:column, no DTD processing, bounded depth.

import { describe, expect, it } from 'vitest';
import { CibError } from '../../src/cib/errors.js';
import { MAX_DEPTH, parseXml } from '../../src/cib/xml-in.js';

function error(xml: string): string {
  try {
    parseXml(xml, 'f.xml');
  } catch (e) {
    if (e instanceof CibError) return e.message;
    throw e;
  }
  throw new Error('parsed without error');
}

describe('parseXml', () => {
  it('reads elements, attributes and references as XML defines them', () => {
    const root = parseXml('\ufeff<?xml version="1.0" encoding="utf-8"?>\n<!-- c -->\n<!DOCTYPE cib>\n<cib a="x&amp;y&lt;&gt;&quot;&apos;&#65;&#x42;" b=\'t\ta\nb\' c="&#9;&#10;">text<![CDATA[<raw>]]><?pi x?><n id="1"/><!-- x --></cib>\n', 'f.xml');
    expect(root.name).toBe('cib');
    expect(root.attrs).toEqual({ a: `x&y<>"'AB`, b: 't a b', c: '\t\n' });
    expect(root.children.map((c) => [c.name, c.attrs.id, c.line])).toEqual([['n', '1', 5]]) // b's value spans a line;
  });

  it('folds \\r\\n before counting lines and normalizing attributes', () => {
    const root = parseXml('<cib>\r\n<n a="x\r\ny"/>\r\n</cib>', 'f.xml');
    expect(root.children[0]).toMatchObject({ line: 2, attrs: { a: 'x y' } });
  });

  const BAD: Array<[string, string, RegExp]> = [
    ['mismatched end tag', '<cib>\n<a></b>\n</cib>', /^f\.xml:2:7: not well-formed XML: <\/b> closes <a> \(line 2\)$/],
    ['unclosed root', '<cib><configuration>', /^f\.xml:1:21: not well-formed XML: <configuration> is not closed$/],
    ['duplicate attribute', '<cib a="1" a="2"/>', /^f\.xml:1:12: .*attribute a given twice/],
    ['< in an attribute', '<cib a="<"/>', /^f\.xml:1:9: .*'<' in the value of attribute a/],
    ['bare &', '<cib a="a & b"/>', /^f\.xml:1:11: .*'&' not followed by a reference/],
    ['undefined entity', '<cib>\n  <n uname="&g;"/></cib>', /^f\.xml:2:13: .*entity &g; is not defined/],
    ['character reference to U+0001', '<cib a="&#1;"/>', /&#1; is not a character XML allows/],
    ['raw U+0001', '<cib>\u0001</cib>', /^f\.xml:1:6: .*U\+0001 is not allowed/],
    ['unquoted attribute', '<cib a=1/>', /must be quoted/],
    ['content after the root', '<cib/><cib/>', /content after the root element/],
    ['-- in a comment', '<cib><!-- a -- b --></cib>', /'--' inside a comment/],
    [']]> in text', '<cib>a]]>b</cib>', /']]>' in text/],
    ['no root', '<?xml version="1.0"?>', /no root element/],
    ['internal DTD subset', '<!DOCTYPE cib [<!ENTITY a "b">]><cib/>', /^f\.xml:1:1: .*DOCTYPE with declarations \(entities\) is refused/],
    ['external DTD / entity', '<!DOCTYPE cib SYSTEM "file:///etc/shadow"><cib/>', /^f\.xml:1:1: .*external DTD is not read/],
    ['other encodings', '<?xml version="1.0" encoding="ISO-8859-1"?><cib/>', /encoding ISO-8859-1: ocf-gen reads UTF-8/],
    ['late XML declaration', '<cib><?xml version="1.0"?></cib>', /XML declaration is only allowed at the very start/],
    ['markup declaration in content', '<cib><!ENTITY a "b"></cib>', /markup declarations are not allowed inside elements/],
  ];
  for (const [what, xml, re] of BAD) it(`refuses: ${what}`, () => expect(error(xml)).toMatch(re));

  it(`refuses nesting deeper than ${MAX_DEPTH} levels at once, naming the line (20,000 levels: no stack overflow)`, () => {
    const deep = `<cib>\n${'<a>'.repeat(20_000)}${'</a>'.repeat(20_000)}</cib>`;
    expect(error(deep)).toMatch(new RegExp(`^f\\.xml:2:${3 * (MAX_DEPTH - 1) + 1}: not well-formed XML: elements nested deeper than ${MAX_DEPTH} levels`));
    expect(() => parseXml(`<cib>${'<a>'.repeat(MAX_DEPTH - 1)}${'</a>'.repeat(MAX_DEPTH - 1)}</cib>`, 'f.xml')).not.toThrow();
  });
});
