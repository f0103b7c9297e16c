// What ocf-gen knows of an agent's parameters — names, required, unique,
// OCF 1.1 unique-group — from the agent's own meta-data: ocfkit's agents
// from their declarations, any other agent from `crm_resource
// --show-metadata` or a directory of meta-data files (`--metadata-dir`).
// check-params.ts checks parameters with it, as pcs and crmsh check them.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readInput } from './input.js';
import { join } from 'node:path';
import { AGENTS } from '../../agents/index.js';
import { type AgentName, agentString } from './agent-name.js';
import { CibError } from './errors.js';
import { type El, parseXml } from './xml-in.js';

export interface ParamInfo {
  required: boolean;
  /** unique="1" (OCF 1.0 rule; pcs ignores it for OCF 1.1 agents, ocf-gen checks it for all). */
  unique: boolean;
  /** OCF 1.1 unique-group: the combined values of the group's parameters must be unique. */
  uniqueGroup?: string;
  hasDefault: boolean;
}

export interface AgentInfo {
  agent: string;
  params: Map<string, ParamInfo>;
  /** Where it came from, for messages: "ocfkit", "crm_resource", a file. */
  source: string;
}

/** ocfkit's own agents, from their declarations (no tool needed). */
export function builtinAgentInfo(a: AgentName): AgentInfo | undefined {
  if (a.class !== 'ocf' || a.provider !== 'ocfkit') return undefined;
  const decl = AGENTS[a.type];
  if (!decl) return undefined;
  const params = new Map<string, ParamInfo>();
  for (const [name, p] of Object.entries(decl.params)) {
    params.set(name, { required: !!p.required && p.default === undefined, unique: !!p.unique, ...(p.uniqueGroup ? { uniqueGroup: p.uniqueGroup } : {}), hasDefault: p.default !== undefined });
  }
  return { agent: agentString(a), params, source: 'ocfkit' };
}

const child = (el: El, name: string) => el.children.find((c) => c.name === name);

/** OCF meta-data XML (1.0 or 1.1) → parameter facts. */
export function parseAgentMetadata(xml: string, agent: string, source: string): AgentInfo {
  const root = parseXml(xml, source, { ignoreExternalDtd: true });
  if (root.name !== 'resource-agent') throw new CibError([{ path: source, message: `not OCF meta-data: the root element is <${root.name}>, not <resource-agent>` }]);
  const params = new Map<string, ParamInfo>();
  for (const p of child(root, 'parameters')?.children ?? []) {
    if (p.name !== 'parameter' || !p.attrs.name) continue;
    const content = child(p, 'content');
    const truth = (v: string | undefined) => v === '1' || v === 'true';
    params.set(p.attrs.name, {
      required: truth(p.attrs.required),
      unique: truth(p.attrs.unique),
      ...(p.attrs['unique-group'] ? { uniqueGroup: p.attrs['unique-group'] } : {}),
      hasDefault: content?.attrs.default !== undefined && content.attrs.default !== '',
    });
  }
  return { agent, params, source };
}

export interface MetadataSource {
  /** A directory with `<class>:<provider>:<type>.xml` (or `<type>.xml`) meta-data files. */
  dir?: string;
  /** Ask `crm_resource --show-metadata` (when installed). */
  crmResource?: boolean;
}

/**
 * Meta-data of one agent that is not ocfkit's: from the directory first,
 * then crm_resource. Returns why not when it cannot be had.
 */
export function externalAgentInfo(a: AgentName, from: MetadataSource): AgentInfo | string {
  const name = agentString(a);
  if (from.dir !== undefined) {
    for (const f of [`${name}.xml`, `${name.replace(/[:/]/g, '_')}.xml`, `${a.type.replace(/\//g, '_')}.xml`]) {
      const path = join(from.dir, f);
      if (existsSync(path)) return parseAgentMetadata(readInput(path), name, path);
    }
  }
  if (from.crmResource) {
    const r = spawnSync('crm_resource', ['--show-metadata', name], { encoding: 'utf8', timeout: 30_000, maxBuffer: 16 << 20 });
    if (r.error) return (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'crm_resource is not installed' : `crm_resource: ${r.error.message}`;
    if (r.status === 0 && r.stdout.includes('<resource-agent')) return parseAgentMetadata(r.stdout, name, `crm_resource --show-metadata ${name}`);
    return `crm_resource --show-metadata ${name} failed: ${(r.stderr || r.stdout).trim().split('\n')[0] ?? `exit ${r.status}`}`;
  }
  return from.dir !== undefined ? `no meta-data file for ${name} in ${from.dir}` : 'no meta-data source';
}

/**
 * Parameter facts for every agent: ocfkit's from their declarations; the others' from `from`
 * (asked once per agent). Agents whose meta-data cannot be had are listed in `missing` with why.
 */
export function agentInfoSource(from: MetadataSource | undefined): { infoOf: (a: AgentName) => AgentInfo | undefined; missing: Map<string, string> } {
  const cache = new Map<string, AgentInfo | undefined>();
  const missing = new Map<string, string>();
  const infoOf = (a: AgentName) => {
    const key = agentString(a);
    if (cache.has(key)) return cache.get(key);
    let info = builtinAgentInfo(a);
    if (!info && from && a.provider !== 'ocfkit') {
      const got = externalAgentInfo(a, from);
      if (typeof got === 'string') missing.set(key, got);
      else info = got;
    }
    cache.set(key, info);
    return info;
  };
  return { infoOf, missing };
}
