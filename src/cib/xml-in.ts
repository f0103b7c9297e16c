// A strict reader for CIB XML: elements and attributes into a light tree,
// exactly as XML 1.0 defines their values, or an input error naming
// file:line:column. A CIB needs none of XML's document type machinery, so
// none is read: a DOCTYPE with declarations (entities, internal or external)
// is refused, never expanded; only the five predefined entities and
// character references exist. Nesting is bounded and the walk is iterative,
// so no input can exhaust the stack, and the work is linear in the input.

import { CibError } from './errors.js';

export interface El {
  name: string;
  attrs: Record<string, string>;
  children: El[];
  /** 1-based line of the start tag, for messages. */
  line: number;
}

/** Far deeper than any CIB (about 10 levels), far shallower than what hurts. */
export const MAX_DEPTH = 256;

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const NAME_RE = /[A-Za-z_:\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD][-.0-9\u00B7\u0300-\u036F\u203F\u2040A-Za-z_:\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD]*/y;
// eslint-disable-next-line no-control-regex
const BAD_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const isXmlChar = (c: number) => c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);

class Reader {
  private pos = 0;

  constructor(
    private readonly s: string,
    private readonly file: string,
    private readonly o: ParseOptions,
  ) {}

  /** file:line:column of an offset. */
  private where(at: number): string {
    let line = 1;
    let last = -1;
    for (let i = this.s.indexOf('\n'); i !== -1 && i < at; i = this.s.indexOf('\n', i + 1)) {
      line++;
      last = i;
    }
    return `${this.file}:${line}:${at - last}`;
  }

  lineOf(at: number): number {
    let line = 1;
    for (let i = this.s.indexOf('\n'); i !== -1 && i < at; i = this.s.indexOf('\n', i + 1)) line++;
    return line;
  }

  fail(message: string, at = this.pos): never {
    throw new CibError([{ path: this.where(Math.min(at, this.s.length)), message: `not well-formed XML: ${message}` }]);
  }

  private startsWith(t: string): boolean {
    return this.s.startsWith(t, this.pos);
  }

  private skipSpace(): boolean {
    const start = this.pos;
    while (this.pos < this.s.length && ' \t\r\n'.includes(this.s[this.pos]!)) this.pos++;
    return this.pos > start;
  }

  private name(what: string): string {
    NAME_RE.lastIndex = this.pos;
    const m = NAME_RE.exec(this.s);
    if (!m) this.fail(`expected ${what}`);
    this.pos += m[0].length;
    return m[0];
  }

  private expect(t: string, what = `"${t}"`): void {
    if (!this.startsWith(t)) this.fail(`expected ${what}`);
    this.pos += t.length;
  }

  /** Text with references resolved; `inAttr` applies attribute-value normalization (literal whitespace → space). */
  private decode(raw: string, at: number, inAttr: boolean): string {
    if (!raw.includes('&') && !(inAttr && /[\t\n\r]/.test(raw))) return raw;
    let out = '';
    let i = 0;
    while (i < raw.length) {
      const c = raw[i]!;
      if (c === '&') {
        const end = raw.indexOf(';', i);
        if (end < 0) this.fail("'&' not followed by a reference (write &amp;)", at + i);
        const ref = raw.slice(i + 1, end);
        if (ref.startsWith('#')) {
          const code = /^#x[0-9A-Fa-f]{1,6}$/.test(ref) ? parseInt(ref.slice(2), 16) : /^#[0-9]{1,7}$/.test(ref) ? parseInt(ref.slice(1), 10) : NaN;
          if (!isXmlChar(code)) this.fail(`&${ref}; is not a character XML allows`, at + i);
          out += String.fromCodePoint(code);
        } else if (ref in PREDEFINED) out += PREDEFINED[ref];
        else if (/^[A-Za-z_:][-\w.:]*$/.test(ref)) this.fail(`entity &${ref}; is not defined (a CIB may use only &lt; &gt; &amp; &quot; &apos; and character references)`, at + i);
        else this.fail("'&' not followed by a reference (write &amp;)", at + i);
        i = end + 1;
      } else if (inAttr && (c === '\t' || c === '\n' || c === '\r')) {
        // \r\n was already folded to \n
        out += ' ';
        i++;
      } else {
        out += c;
        i++;
      }
    }
    return out;
  }

  private comment(): void {
    const end = this.s.indexOf('--', this.pos + 4);
    if (end < 0) this.fail('comment not closed');
    if (this.s[end + 2] !== '>') this.fail("'--' inside a comment", end);
    this.pos = end + 3;
  }

  private pi(): void {
    const start = this.pos;
    this.pos += 2;
    const target = this.name('a processing instruction target');
    if (target.toLowerCase() === 'xml') this.fail('an XML declaration is only allowed at the very start', start);
    const end = this.s.indexOf('?>', this.pos);
    if (end < 0) this.fail('processing instruction not closed', start);
    this.pos = end + 2;
  }

  /** Comments, processing instructions and white space between the top-level parts. */
  private misc(): void {
    for (;;) {
      this.skipSpace();
      if (this.startsWith('<!--')) this.comment();
      else if (this.startsWith('<?')) this.pi();
      else return;
    }
  }

  private doctype(): void {
    const start = this.pos;
    this.pos += '<!DOCTYPE'.length;
    if (!this.skipSpace()) this.fail('expected white space after <!DOCTYPE');
    this.name('the document type name');
    this.skipSpace();
    if (this.startsWith('SYSTEM') || this.startsWith('PUBLIC')) {
      if (!this.o.ignoreExternalDtd) this.fail('a DOCTYPE naming an external DTD is not read: a CIB needs none (remove the <!DOCTYPE …> line)', start);
      // Named only (agents' meta-data name ra-api-1.dtd): skip the quoted identifiers, read nothing.
      while (this.s[this.pos] !== '[' && this.s[this.pos] !== '>') {
        const c = this.s[this.pos];
        if (c === undefined) this.fail('DOCTYPE not closed', start);
        if (c === '"' || c === "'") {
          const end = this.s.indexOf(c, this.pos + 1);
          if (end < 0) this.fail('DOCTYPE not closed', start);
          this.pos = end + 1;
        } else this.pos++;
      }
    }
    if (this.startsWith('[')) this.fail('a DOCTYPE with declarations (entities) is refused: a CIB needs none, and ocf-gen expands no entities', start);
    this.expect('>', "'>' to end the DOCTYPE");
  }

  parse(): El {
    const s = this.s;
    BAD_CHAR.lastIndex = 0;
    const bad = BAD_CHAR.exec(s);
    if (bad) this.fail(`the character U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`, bad.index);
    if (s.charCodeAt(0) === 0xfeff) this.pos = 1;
    if (this.startsWith('<?xml') && /[\s?]/.test(s[this.pos + 5] ?? '')) {
      const end = s.indexOf('?>', this.pos);
      if (end < 0) this.fail('XML declaration not closed');
      const decl = s.slice(this.pos, end);
      const enc = /encoding\s*=\s*["']([^"']*)["']/.exec(decl)?.[1];
      if (enc && !/^utf-?8$/i.test(enc)) this.fail(`encoding ${enc}: ocf-gen reads UTF-8 (convert the file with iconv first)`);
      this.pos = end + 2;
    }
    this.misc();
    if (this.startsWith('<!DOCTYPE')) {
      this.doctype();
      this.misc();
    }
    if (!this.startsWith('<')) this.fail(this.pos >= s.length ? 'no root element' : 'expected the root element');
    const root = this.element();
    this.misc();
    if (this.pos < s.length) this.fail('content after the root element');
    return root;
  }

  /** One element and everything in it, iteratively (depth-bounded). */
  private element(): El {
    const stack: El[] = [];
    let root: El | undefined;
    for (;;) {
      // at '<' of a start tag
      const at = this.pos;
      this.pos++;
      const el: El = { name: this.name('an element name'), attrs: {}, children: [], line: this.lineOf(at) };
      if (stack.length >= MAX_DEPTH) this.fail(`elements nested deeper than ${MAX_DEPTH} levels (a CIB has about 10)`, at);
      for (;;) {
        const spaced = this.skipSpace();
        if (this.startsWith('/>') || this.startsWith('>')) break;
        if (!spaced) this.fail('expected white space between attributes');
        const aAt = this.pos;
        const name = this.name('an attribute name');
        this.skipSpace();
        this.expect('=', `'=' after attribute ${name}`);
        this.skipSpace();
        const q = this.s[this.pos];
        if (q !== '"' && q !== "'") this.fail(`the value of attribute ${name} must be quoted`);
        const end = this.s.indexOf(q, this.pos + 1);
        if (end < 0) this.fail(`the value of attribute ${name} is not closed`);
        const raw = this.s.slice(this.pos + 1, end);
        const lt = raw.indexOf('<');
        if (lt >= 0) this.fail(`'<' in the value of attribute ${name} (write &lt;)`, this.pos + 1 + lt);
        if (Object.hasOwn(el.attrs, name)) this.fail(`attribute ${name} given twice`, aAt);
        el.attrs[name] = this.decode(raw, this.pos + 1, true);
        this.pos = end + 1;
      }
      if (stack.length) stack[stack.length - 1]!.children.push(el);
      else root = el;
      if (this.startsWith('/>')) {
        this.pos += 2;
      } else {
        this.pos++;
        stack.push(el);
      }
      // Content until the next start tag, or until the stack is empty.
      while (stack.length) {
        const lt = this.s.indexOf('<', this.pos);
        if (lt < 0) this.fail(`<${stack[stack.length - 1]!.name}> is not closed`, this.s.length);
        const text = this.s.slice(this.pos, lt);
        const cdEnd = text.indexOf(']]>');
        if (cdEnd >= 0) this.fail("']]>' in text", this.pos + cdEnd);
        this.decode(text, this.pos, false); // references must be well-formed; CIB text is not kept
        this.pos = lt;
        if (this.startsWith('</')) {
          const open = stack.pop()!;
          this.pos += 2;
          const name = this.name('an element name');
          if (name !== open.name) this.fail(`</${name}> closes <${open.name}> (line ${open.line})`);
          this.skipSpace();
          this.expect('>', "'>'");
        } else if (this.startsWith('<!--')) this.comment();
        else if (this.startsWith('<![CDATA[')) {
          const end = this.s.indexOf(']]>', this.pos);
          if (end < 0) this.fail('CDATA section not closed');
          this.pos = end + 3;
        } else if (this.startsWith('<?')) this.pi();
        else if (this.startsWith('<!')) this.fail('markup declarations are not allowed inside elements');
        else break; // a child start tag
      }
      if (!stack.length) return root!;
    }
  }
}

export interface ParseOptions {
  /** Accept (and never read) a DOCTYPE that only names an external DTD: OCF meta-data carries one. */
  ignoreExternalDtd?: boolean;
}

/** Parses a whole document into its root element, or throws a CibError naming file:line:column. */
export function parseXml(text: string, file: string, o: ParseOptions = {}): El {
  // XML folds \r\n and lone \r to \n before anything else.
  return new Reader(text.replace(/\r\n?/g, '\n'), file, o).parse();
}
