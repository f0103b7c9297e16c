// validate's own checks of a CIB XML file, on the XML tree (no model, so any
// CIB, even one ocf-gen cannot convert): what a DTD cannot check and what
// crm_verify reports less plainly. The real tools run after (check-tools.ts).

import { describeEl } from './read-xml.js';
import type { El } from './xml-in.js';

/**
 * Ids unique across the configuration and constraints naming existing
 * resources: what a DTD (ids are CDATA there) cannot check. Node ids are not
 * XML ids; the status section is the cluster's.
 */
export function scanIds(root: El, file: string): Array<{ path: string; message: string }> {
  const issues: Array<{ path: string; message: string }> = [];
  const conf = root.children.find((c) => c.name === 'configuration');
  if (!conf) return [{ path: file, message: '<cib> has no <configuration>' }];
  const seen = new Map<string, string>();
  const resources = new Set<string>();
  const RES = new Set(['primitive', 'group', 'clone', 'master', 'master_slave', 'bundle']);
  const walk = (el: El) => {
    const id = el.attrs.id;
    if (id !== undefined && el.name !== 'node' && !el.name.startsWith('resource_ref')) {
      const prev = seen.get(id);
      if (prev) issues.push({ path: `${file}: ${describeEl(el)}`, message: `duplicate id (also used by <${prev}>)` });
      else seen.set(id, el.name);
      if (RES.has(el.name)) resources.add(id);
    }
    el.children.forEach(walk);
  };
  walk(conf);
  const cons = conf.children.find((c) => c.name === 'constraints');
  for (const c of cons?.children ?? []) {
    for (const k of ['rsc', 'with-rsc', 'first', 'then', 'from', 'to']) {
      const v = c.attrs[k];
      if (v !== undefined && !resources.has(v)) issues.push({ path: `${file}: ${describeEl(c)}`, message: `${k}="${v}" is not a resource here` });
    }
  }
  return issues;
}
