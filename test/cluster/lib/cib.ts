import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { run, type RunOptions, type RunResult } from './exec.js';

/**
 * Cluster properties every test-bed CIB carries. dc-deadtime 2s: a fresh cluster elects its DC in
 * ~5 s instead of ~23 s. stonith-enabled=false: the bed has no fence device (a killed node is
 * "fenced" by construction: its PID namespace is gone and its addresses are flushed).
 */
export const BED_PROPERTIES: Readonly<Record<string, string>> = { 'dc-deadtime': '2s', 'stonith-enabled': 'false' };

/**
 * The CIB every node starts from: `cibadmin --empty` (so crm_feature_set and validate-with are the
 * installed Pacemaker's own) with the bed's properties set offline (CIB_file).
 */
export async function seedCib(dir: string): Promise<string> {
  const file = join(dir, 'seed-cib.xml');
  writeFileSync(file, (await run('cibadmin', ['--empty'])).stdout);
  for (const [name, value] of Object.entries(BED_PROPERTIES)) await run('crm_attribute', ['-t', 'crm_config', '-n', name, '-v', value], { env: { CIB_file: file } });
  return readFileSync(file, 'utf8');
}

/** Runs a command on some node of the cluster (cibadmin, crm_attribute…). */
export type OnNode = (cmd: string, args: string[], o?: RunOptions) => Promise<RunResult>;

/** The elements an XPath selects, as xmllint prints them ('' when nothing matches). */
async function select(xml: string, xpath: string): Promise<string> {
  const r = await run('xmllint', ['--xpath', xpath, '-'], { input: xml, allowFail: true });
  if (r.code === 10) return ''; // "XPath set is empty"
  if (r.code !== 0) throw new Error(`xmllint --xpath ${xpath}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

export interface LoadedCib {
  /** Properties the CIB set that the bed replaced with its own (e.g. stonith-enabled). */
  overridden: Record<string, { wanted: string; bed: string }>;
}

/**
 * Loads a CIB into the running cluster as it is: a whole `<cib>` (as `ocf-gen cib` writes it) or a
 * `<configuration>`. Every configuration section but crm_config and nodes (resources, constraints,
 * rsc_defaults, op_defaults, tags…) replaces the live one in one `cibadmin --replace --scope
 * configuration`; cluster properties are set one by one with crm_attribute, then the bed's own
 * (BED_PROPERTIES) are set again; node entries stay the live cluster's. The live CIB keeps its own
 * schema (validate-with) and epoch, so the input needs neither.
 */
export async function loadCib(on: OnNode, xml: string): Promise<LoadedCib> {
  const overridden: LoadedCib['overridden'] = {};
  const nvpairs = await select(xml, '//configuration/crm_config/cluster_property_set/nvpair');
  if (nvpairs) {
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'nvpair' || name === 'x' }).parse(`<x>${nvpairs}</x>`) as {
      x: { nvpair?: { name: string; value: string }[] }[];
    };
    for (const { name, value } of parsed.x[0]?.nvpair ?? []) {
      const bed = BED_PROPERTIES[name];
      if (bed !== undefined && bed !== value) overridden[name] = { wanted: value, bed };
      else await on('crm_attribute', ['-t', 'crm_config', '-n', name, '-v', value]);
    }
  }
  for (const [name, value] of Object.entries(BED_PROPERTIES)) await on('crm_attribute', ['-t', 'crm_config', '-n', name, '-v', value]);

  const sections = await select(xml, '//configuration/*[not(self::crm_config) and not(self::nodes)]');
  const live = (await on('cibadmin', ['--query', '--scope', 'configuration'])).stdout;
  const keep = [await select(live, '/configuration/crm_config'), await select(live, '/configuration/nodes')].join('\n');
  // The schema wants both sections even when the input has none.
  const required: string[] = [];
  for (const s of ['resources', 'constraints']) if (!(await select(xml, `//configuration/${s}`))) required.push(`<${s}/>`);
  const configuration = `<configuration>\n${keep}\n${sections}\n${required.join('\n')}\n</configuration>\n`;
  await on('cibadmin', ['--replace', '--scope', 'configuration', '--xml-pipe'], { input: configuration });
  return { overridden };
}
