import { create } from 'xmlbuilder2';
import { BUILTIN_OPS, type AgentDecl, type OpDecl } from './agent.js';
import type { ParamDecl } from './params.js';

const ACTION_ORDER = ['start', 'stop', 'promote', 'demote', 'monitor', 'notify', 'reload-agent', 'reload', 'migrate_to', 'migrate_from', 'meta-data', 'validate-all'];

/**
 * The document type every meta-data document carries inline: OCF 1.1 as we
 * write it. resource-agents' ra-api-1.dtd is OCF 1.0 and cannot describe
 * OCF 1.1 (no reload-agent action, no select/option, reloadable,
 * unique-group, deprecated), and ocf-tester validates with the document's own
 * DOCTYPE (xmllint --valid), so the document brings the DTD it conforms to.
 * pcs validates against its ocf-1.1.rng (the schema it picks for
 * <version>1.1</version>), and that is the schema that decides what we write.
 * See docs/readme/metadata.md.
 */
export const OCF_1_1_DTD = `<!ELEMENT resource-agent (version,longdesc,shortdesc,parameters?,actions)>
<!ATTLIST resource-agent name CDATA #REQUIRED version CDATA #IMPLIED>
<!ELEMENT version (#PCDATA)>
<!ELEMENT longdesc ANY>
<!ATTLIST longdesc lang NMTOKEN #IMPLIED>
<!ELEMENT shortdesc ANY>
<!ATTLIST shortdesc lang NMTOKEN #IMPLIED>
<!ELEMENT parameters (parameter*)>
<!ELEMENT parameter (longdesc,shortdesc,deprecated?,content)>
<!ATTLIST parameter name CDATA #REQUIRED required (0|1) #IMPLIED unique (0|1) #IMPLIED unique-group CDATA #IMPLIED reloadable (0|1) #IMPLIED>
<!ELEMENT deprecated (replaced-with*,desc?)>
<!ELEMENT replaced-with EMPTY>
<!ATTLIST replaced-with name CDATA #REQUIRED>
<!ELEMENT desc ANY>
<!ATTLIST desc lang NMTOKEN #IMPLIED>
<!ELEMENT content (option*)>
<!ATTLIST content type (string|integer|boolean|time|select) #REQUIRED default CDATA #IMPLIED>
<!ELEMENT option EMPTY>
<!ATTLIST option value CDATA #REQUIRED>
<!ELEMENT actions (action*)>
<!ELEMENT action EMPTY>
<!ATTLIST action name CDATA #REQUIRED timeout CDATA #REQUIRED interval CDATA #IMPLIED start-delay CDATA #IMPLIED role CDATA #IMPLIED depth CDATA #IMPLIED>`;

function opLines(decl: AgentDecl): Array<[string, OpDecl]> {
  const ops: Array<[string, OpDecl]> = [];
  const names = [...Object.keys(decl.actions), ...Object.keys(BUILTIN_OPS).filter((n) => !(n in decl.actions))];
  names.sort((a, b) => (ACTION_ORDER.indexOf(a) + 1 || 99) - (ACTION_ORDER.indexOf(b) + 1 || 99));
  for (const name of names) {
    const action = decl.actions[name];
    if (!action) ops.push([name, BUILTIN_OPS[name]!]);
    else for (const op of action.ops ?? [action]) ops.push([name, op]);
  }
  return ops;
}

/** The long description, plus what tools that read only text (crm ra info, older pcs) should see. */
function paramLongdesc(p: ParamDecl<unknown>): string {
  let text = p.longdesc.trim();
  if (p.type === 'select' && p.values) text += `\nAllowed values: ${p.values.join(', ')}.`;
  if (p.deprecated) text += typeof p.deprecated === 'string' ? `\nDeprecated: use ${p.deprecated} instead.` : '\nDeprecated.';
  if (p.reloadable) text += '\nChanging it reloads the agent (reload-agent), the resource keeps running.';
  return text;
}

/**
 * OCF 1.1 meta-data (see OCF_1_1_DTD): `unique-group` for pcs (which ignores
 * `unique` in OCF 1.1 documents) and `unique="1"` for crmsh and older tools;
 * `reloadable="1"` with a `reload-agent` action (what Pacemaker ≥ 2.1 needs to
 * reload instead of restart); `<deprecated><replaced-with/>` and
 * `type="select"` with `<option>`s, repeated in the long description for tools
 * that show only text. Text goes through xmlbuilder2, so &, < and quotes in
 * descriptions or defaults are escaped.
 */
export function renderMetaData(decl: AgentDecl): string {
  const root = create().ele('resource-agent', { name: decl.name, version: decl.version });
  root.ele('version').txt('1.1');
  root.ele('longdesc', { lang: 'en' }).txt(decl.longdesc.trim());
  root.ele('shortdesc', { lang: 'en' }).txt(decl.shortdesc);

  const params = root.ele('parameters');
  for (const [name, p] of Object.entries(decl.params)) {
    const attrs: Record<string, string> = { name, unique: p.unique ? '1' : '0', required: p.required ? '1' : '0' };
    const group = p.uniqueGroup ?? (p.unique ? name : undefined);
    if (group) attrs['unique-group'] = group;
    if (p.reloadable) attrs.reloadable = '1';
    const el = params.ele('parameter', attrs);
    el.ele('longdesc', { lang: 'en' }).txt(paramLongdesc(p));
    el.ele('shortdesc', { lang: 'en' }).txt(p.shortdesc);
    if (p.deprecated) {
      const dep = el.ele('deprecated');
      if (typeof p.deprecated === 'string') dep.ele('replaced-with', { name: p.deprecated });
    }
    const content: Record<string, string> = { type: p.type };
    if (p.default !== undefined) content.default = p.default;
    const c = el.ele('content', content);
    if (p.type === 'select') for (const v of p.values ?? []) c.ele('option', { value: v });
  }

  const actions = root.ele('actions');
  for (const [name, op] of opLines(decl)) {
    const attrs: Record<string, string> = { name, timeout: `${op.timeout}s` };
    if (op.interval !== undefined) attrs.interval = `${op.interval}s`;
    if (op.depth !== undefined) attrs.depth = String(op.depth);
    if (op.role) attrs.role = op.role;
    if (op.startDelay !== undefined) attrs['start-delay'] = `${op.startDelay}s`;
    actions.ele('action', attrs);
  }
  const body = root.end({ headless: true, prettyPrint: true, indent: '  ' });
  return `<?xml version="1.0"?>\n<!DOCTYPE resource-agent [\n${OCF_1_1_DTD}\n]>\n${body}\n`;
}
