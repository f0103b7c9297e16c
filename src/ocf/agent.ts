import type { Deadline } from './deadline.js';
import type { CrmMeta } from './env.js';
import type { Logger } from './log.js';
import type { ParamDecls, ParamValues } from './params.js';
import type { Runner } from './run.js';

export type Role = 'Promoted' | 'Unpromoted';

/** One <action> line of the meta-data. Times in seconds, as crm shells show them. */
export interface OpDecl {
  timeout: number;
  interval?: number;
  depth?: number;
  role?: Role;
  startDelay?: number;
}

export interface Ctx<V> {
  agent: string;
  action: string;
  instance: string;
  params: V;
  meta: CrmMeta;
  checkLevel: number;
  /** Per-boot state directory (HA_RSCTMP). */
  rsctmp: string;
  /** monitor with interval 0: Pacemaker asks "is it running here?", not "is it healthy?". */
  isProbe: boolean;
  deadline: Deadline;
  log: Logger;
  run: Runner;
  env: NodeJS.ProcessEnv;
  /**
   * Prints an `ocf-exit-reason:` line without failing the operation: for a
   * monitor that succeeds but has something admins must see (e.g. a DRBD
   * split brain). A thrown OcfError's reason is printed by the runtime.
   */
  exitReason?: (reason: string) => void;
  /**
   * A monitor that finds the resource running (0) or promoted (8) but degraded: logs `reason` as a
   * warning, prints it as the exit reason and returns 190/191 where the executor understands them
   * (src/ocf/degraded.ts), else `healthy`. Recovery is the same either way: none.
   */
  degraded?: (healthy: 0 | 8, reason: string) => number;
}

/**
 * What src/sys needs of an action's context, named by the fields a function
 * uses: `SysCtx<'run' | 'log'>`. One subset type, so a context passes as it is.
 */
export type SysCtx<K extends keyof Ctx<unknown> = 'run' | 'log' | 'deadline' | 'env' | 'rsctmp'> = Pick<Ctx<unknown>, K>;

export interface ActionDecl<V> extends OpDecl {
  /** Run the agent's `validate` before this action (start, promote…). */
  validate?: boolean;
  /** Extra <action> lines, e.g. one monitor per role. Replaces the default line when given. */
  ops?: OpDecl[];
  /** Returns an OCF code (default 0) or throws OcfError. */
  handler: (ctx: Ctx<V>) => Promise<number | void> | number | void;
}

export interface AgentDecl<P extends ParamDecls = ParamDecls> {
  name: string;
  version: string;
  shortdesc: string;
  longdesc: string;
  params: P;
  actions: Record<string, ActionDecl<ParamValues<P>>>;
  /**
   * Checks that need this node (tools, interfaces, devices): 5 for what this
   * node lacks, 6 for configuration wrong everywhere. Run by validate-all and
   * by actions declared with `validate: true`.
   */
  validate?: (ctx: Ctx<ParamValues<P>>) => Promise<void> | void;
}

/** Identity function that keeps the parameter types flowing into the actions. */
export function defineAgent<P extends ParamDecls>(decl: AgentDecl<P>): AgentDecl<P> {
  return decl;
}

/** Actions every agent has, provided by the runtime. */
export const BUILTIN_OPS: Record<string, OpDecl> = {
  'meta-data': { timeout: 5 },
  'validate-all': { timeout: 20 },
};
