import type { AgentDecl } from '../src/ocf/index.js';
import { drbd } from './drbd.js';
import { Filesystem } from './Filesystem.js';
import { IPaddr2 } from './IPaddr2.js';
import { nfsserver } from './nfsserver.js';

/** Every agent ocfkit ships, by the name Pacemaker knows it as (ocf:ocfkit:<name>). */
export const AGENTS: Record<string, AgentDecl> = {
  drbd: drbd as unknown as AgentDecl,
  Filesystem: Filesystem as unknown as AgentDecl,
  IPaddr2: IPaddr2 as unknown as AgentDecl,
  nfsserver: nfsserver as unknown as AgentDecl,
};
