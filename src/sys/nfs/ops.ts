import type { SysCtx } from '../../ocf/agent.js';

/** What the NFS mechanisms need from an action's context: run commands, wait within the deadline, log. */
export type Ops = SysCtx<'run' | 'deadline' | 'log'>;
