import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { defineAgent, param, type AgentDecl } from '../../src/ocf/index.js';
import { renderMetaData } from '../../src/ocf/metadata.js';

/**
 * The OCF 1.1 parts of the meta-data renderer: reloadable parameters with a
 * reload-agent action, unique-group (what pcs reads) next to unique (what
 * crmsh and older tools read), deprecated parameters with their
 * replacement, select with options. Checked with the tools' own validators:
 * pcs's ocf-1.1.rng and xmllint --valid against the document's DOCTYPE
 * (what ocf-tester runs).
 */
const decl = defineAgent({
  name: 'Sample',
  version: '1.0.0',
  shortdesc: 'sample',
  longdesc: 'A sample agent for the renderer.',
  params: {
    address: param.string({ shortdesc: 'address', longdesc: 'The address.', required: true, unique: true }),
    port: param.integer({ shortdesc: 'port', longdesc: 'Port, unique together with host.', uniqueGroup: 'endpoint', default: 80 }),
    host: param.string({ shortdesc: 'host', longdesc: 'Host, unique together with port.', uniqueGroup: 'endpoint' }),
    timeout: param.integer({ shortdesc: 'timeout', longdesc: 'Seconds.', default: 5, reloadable: true }),
    mode: param.select(['fast', 'safe'] as const, { shortdesc: 'mode', longdesc: 'How.', default: 'safe', reloadable: true }),
    netmask: param.string({ shortdesc: 'old name', longdesc: 'Old name of address.', deprecated: 'address' }),
  },
  actions: {
    start: { timeout: 20, handler: () => 0 },
    stop: { timeout: 20, handler: () => 0 },
    monitor: { timeout: 20, interval: 10, handler: () => 0 },
    'reload-agent': { timeout: 20, handler: () => 0 },
  },
});

const xml = renderMetaData(decl as unknown as AgentDecl);
const parameter = (name: string) => new RegExp(`<parameter name="${name}"[^>]*>[\\s\\S]*?</parameter>`).exec(xml)?.[0] ?? '';
const tag = (name: string) => /<parameter [^>]*>/.exec(parameter(name))?.[0] ?? '';

function xmllint(args: string[]) {
  const r = spawnSync('xmllint', ['--noout', ...args, '-'], { input: xml, encoding: 'utf8' });
  return `${r.status} ${r.stderr}`;
}

describe('meta-data (OCF 1.1)', () => {
  it('declares OCF 1.1 and the reload-agent action', () => {
    expect(xml).toContain('<version>1.1</version>');
    expect(xml).toMatch(/<action name="reload-agent" timeout="20s"\/>/);
  });

  it('marks reloadable parameters, and only those', () => {
    expect(tag('timeout')).toContain('reloadable="1"');
    expect(tag('mode')).toContain('reloadable="1"');
    expect(tag('address')).not.toContain('reloadable');
  });

  it('unique: unique="1" and its own unique-group; a group of two: the group only', () => {
    expect(tag('address')).toBe('<parameter name="address" unique="1" required="1" unique-group="address">');
    expect(tag('port')).toBe('<parameter name="port" unique="0" required="0" unique-group="endpoint">');
    expect(tag('host')).toContain('unique-group="endpoint"');
  });

  it('deprecated with its replacement, also said in the text', () => {
    expect(parameter('netmask')).toMatch(/<deprecated>\s*<replaced-with name="address"\/>\s*<\/deprecated>/);
    expect(parameter('netmask')).toContain('Deprecated: use address instead.');
  });

  it('select with its options', () => {
    expect(parameter('mode')).toMatch(/<content type="select" default="safe">\s*<option value="fast"\/>\s*<option value="safe"\/>\s*<\/content>/);
  });

  it('valid for pcs (ocf-1.1.rng) and against its own DOCTYPE (ocf-tester: xmllint --valid)', () => {
    expect(xmllint(['--relaxng', '/usr/share/pcs/data/ocf-1.1.rng'])).toBe('0 - validates\n');
    expect(xmllint(['--valid'])).toBe('0 ');
  });

  it('resource-agents\' OCF 1.0 schemas cannot hold it (why the document carries its own DTD)', () => {
    expect(xmllint(['--dtdvalid', '/usr/share/resource-agents/ra-api-1.dtd'])).toMatch(/reload-agent|reloadable|unique-group/);
  });
});
