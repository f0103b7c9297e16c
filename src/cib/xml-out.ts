// The XML writer the dialect writers share. Our own, small, because every
// value must come back exactly as it went in: every `&`, `<`, `>` and `"` is
// escaped (a general-purpose builder leaves `&name;` alone, which makes
// `al&ice;` ill-formed and `a&lt;b` read back as `a<b`), and tab, newline
// and carriage return are written as character references (an XML reader
// turns literal ones in attributes into spaces). Characters XML 1.0 cannot
// carry at all are an input error naming the element.

import { CibError } from './errors.js';

/** Characters outside XML 1.0's Char production (lone surrogates included). */
// eslint-disable-next-line no-control-regex
const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const ATTR_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' };

export function escapeAttr(value: string): string {
  return value.replace(/[&<>"\t\n\r]/g, (c) => ATTR_ESCAPES[c]!);
}

/** `--` may not appear inside an XML comment, nor may it end with `-`; characters XML cannot carry become `?`. */
function commentSafe(s: string): string {
  return s.replace(new RegExp(NOT_XML_CHAR.source, 'g'), '?').replace(/-{2,}/g, (m) => m.split('').join(' '));
}

export class XmlEl {
  private readonly attrs: Array<[string, string]> = [];
  private readonly children: XmlEl[] = [];

  constructor(readonly name: string) {}

  /** A new child element with the attributes given (in order); returns the child. */
  ele(name: string, attrs: Record<string, string> = {}): XmlEl {
    const el = new XmlEl(name);
    for (const [k, v] of Object.entries(attrs)) el.att(k, v);
    this.children.push(el);
    return el;
  }

  /** Sets an attribute (a second call with the same name replaces the value). */
  att(name: string, value: string): XmlEl {
    const bad = NOT_XML_CHAR.exec(value);
    if (bad) {
      const id = this.attrs.find(([k]) => k === 'id')?.[1];
      const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      throw new CibError([{ path: `<${this.name}${id !== undefined ? ` id="${id}"` : ''}> ${name}`, message: `contains the character U+${code}, which XML 1.0 cannot carry` }]);
    }
    const at = this.attrs.findIndex(([k]) => k === name);
    if (at >= 0) this.attrs[at] = [name, value];
    else this.attrs.push([name, value]);
    return this;
  }

  write(out: string[], indent: string, depth: number): void {
    const pad = indent.repeat(depth);
    const open = `${pad}<${this.name}${this.attrs.map(([k, v]) => ` ${k}="${escapeAttr(v)}"`).join('')}`;
    if (!this.children.length) {
      out.push(`${open}/>`);
      return;
    }
    out.push(`${open}>`);
    for (const c of this.children) c.write(out, indent, depth + 1);
    out.push(`${pad}</${this.name}>`);
  }
}

export class XmlDocument {
  constructor(
    private readonly comment: string[],
    readonly root: XmlEl,
  ) {}

  /** The whole document, pretty-printed, ending with a newline. */
  end(indent = '  '): string {
    const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
    if (this.comment.length) out.push(`<!-- ${this.comment.map(commentSafe).join('\n     ')} -->`);
    this.root.write(out, indent, 0);
    return `${out.join('\n')}\n`;
  }
}

/** An XML document with a leading comment (one line per entry) and its root element. */
export function newDocument(comment: string[], rootName: string, attrs: Record<string, string>): { doc: XmlDocument; root: XmlEl } {
  const root = new XmlEl(rootName);
  for (const [k, v] of Object.entries(attrs)) root.att(k, v);
  return { doc: new XmlDocument(comment, root), root };
}

/** Sets the attributes that have a value, in the order given. */
export function setAttrs(el: XmlEl, attrs: Record<string, string | undefined>): XmlEl {
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.att(k, v);
  return el;
}
