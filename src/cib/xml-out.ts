// Small helpers over xmlbuilder2 shared by the dialect writers.

import { create } from 'xmlbuilder2';

export type XmlEl = ReturnType<ReturnType<typeof create>['ele']>;

/** `--` may not appear inside an XML comment. */
const commentSafe = (s: string) => s.replace(/-{2,}/g, (m) => m.split('').join(' '));

/** An XML document with a leading comment (one line per entry) and its root element. */
export function newDocument(comment: string[], rootName: string, attrs: Record<string, string>): { doc: ReturnType<typeof create>; root: XmlEl } {
  const doc = create({ version: '1.0', encoding: 'UTF-8' });
  if (comment.length) doc.com(` ${comment.map(commentSafe).join('\n     ')} `);
  const root = doc.ele(rootName, attrs);
  return { doc, root };
}

/** Sets the attributes that have a value, in the order given. */
export function setAttrs(el: XmlEl, attrs: Record<string, string | undefined>): XmlEl {
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.att(k, v);
  return el;
}
