import type { AgentDecl } from './agent.js';

/**
 * Meta-data for an agent. The build replaces this module with one that holds
 * the XML rendered at build time, so the executables neither load xmlbuilder2
 * nor build XML at run time; from source it is rendered on demand.
 */
export async function metaDataOf(decl: AgentDecl): Promise<string> {
  const { renderMetaData } = await import('./metadata.js');
  return renderMetaData(decl);
}
