import { create } from 'xmlbuilder2';
import { BUILTIN_OPS, type AgentDecl, type OpDecl } from './agent.js';
import type { ParamDecl } from './params.js';

const ACTION_ORDER = ['start', 'stop', 'promote', 'demote', 'monitor', 'notify', 'reload', 'migrate_to', 'migrate_from', 'meta-data', 'validate-all'];

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

function paramLongdesc(p: ParamDecl<unknown>): string {
  let text = p.longdesc.trim();
  if (p.type === 'select' && p.values) text += `\nAllowed values: ${p.values.join(', ')}.`;
  if (p.deprecated) text += typeof p.deprecated === 'string' ? `\nDeprecated: use ${p.deprecated} instead.` : '\nDeprecated.';
  return text;
}

/**
 * OCF meta-data that validates against both schemas admins check with:
 * resource-agents' ra-api-1.dtd and metadata.rng. They disagree on two things,
 * so we write what both accept: `select` parameters are typed "string" with
 * their values listed in the long description (the DTD has no select/option),
 * and unique-group/reloadable/deprecated (OCF 1.1 only) are folded into
 * unique="1" and the descriptions. Text goes through xmlbuilder2, so &, < and
 * quotes in descriptions or defaults are escaped.
 */
export function renderMetaData(decl: AgentDecl): string {
  const root = create({ version: '1.0' })
    .dtd({ name: 'resource-agent', sysID: 'ra-api-1.dtd' })
    .ele('resource-agent', { name: decl.name, version: decl.version });
  root.ele('version').txt('1.1');
  root.ele('longdesc', { lang: 'en' }).txt(decl.longdesc.trim());
  root.ele('shortdesc', { lang: 'en' }).txt(decl.shortdesc);

  const params = root.ele('parameters');
  for (const [name, p] of Object.entries(decl.params)) {
    const el = params.ele('parameter', {
      name,
      unique: p.unique || p.uniqueGroup ? '1' : '0',
      required: p.required ? '1' : '0',
    });
    el.ele('longdesc', { lang: 'en' }).txt(paramLongdesc(p));
    el.ele('shortdesc', { lang: 'en' }).txt(p.shortdesc);
    const content: Record<string, string> = { type: p.type === 'select' ? 'string' : p.type };
    if (p.default !== undefined) content.default = p.default;
    el.ele('content', content);
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
  return `${root.end({ prettyPrint: true, indent: '  ' })}\n`;
}
