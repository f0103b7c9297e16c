import type { AgentDecl } from '../src/ocf/index.js';

/**
 * The executable's registry: each agent's code is loaded only when it is the
 * one invoked (a third of the startup otherwise went to evaluating all four).
 * Keep in step with agents/index.ts, which the tests compare it against.
 */
export const AGENT_LOADERS: Record<string, () => Promise<AgentDecl>> = {
  drbd: async () => (await import('./drbd.js')).drbd as unknown as AgentDecl,
  Filesystem: async () => (await import('./Filesystem.js')).Filesystem as unknown as AgentDecl,
  IPaddr2: async () => (await import('./IPaddr2.js')).IPaddr2 as unknown as AgentDecl,
  nfsserver: async () => (await import('./nfsserver.js')).nfsserver as unknown as AgentDecl,
};
