import type { AgentDecl, Ctx } from './agent.js';
import { Deadline } from './deadline.js';
import { readOcfEnv } from './env.js';
import { OCF, OcfError, ocfCodeName } from './exit-codes.js';
import { createLogger, type Logger } from './log.js';
import { metaDataOf } from './metadata-provider.js';
import { parseParams } from './params.js';
import { createRunner } from './run.js';

export interface Io {
  stdout(s: string): void;
  stderr(s: string): void;
}

const processIo: Io = { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) };

export function usage(decl: AgentDecl): string {
  const names = [...Object.keys(decl.actions), 'validate-all', 'meta-data', 'usage'];
  return `usage: ${decl.name} {${[...new Set(names)].join('|')}}\n\n${decl.shortdesc}\n`;
}

/** Default op timeout when Pacemaker gave none (a hand run): the action's own default. */
function defaultTimeoutMs(decl: AgentDecl, action: string): number {
  const a = decl.actions[action];
  return (a?.timeout ?? 20) * 1000;
}

/**
 * The OCF rules that keep a cluster safe, applied to every error before it
 * leaves the agent:
 * - a probe (monitor, interval 0) answers "not running" when the resource
 *   cannot be configured or installed here: it cannot be running either;
 * - a stop with parameters that do not validate succeeds: such a resource
 *   could never have been started, and a failed stop gets the node fenced.
 */
function applySafetyRules(err: OcfError, action: string, isProbe: boolean, log: Logger, stage: 'parameters' | 'validation' | 'action'): OcfError | number {
  const unconfigured = err.code === OCF.ERR_CONFIGURED || err.code === OCF.ERR_INSTALLED || err.code === OCF.ERR_ARGS;
  if (isProbe && unconfigured) {
    log.info(`probe: ${err.reason}: reporting not running`);
    return OCF.NOT_RUNNING;
  }
  if (action === 'stop' && stage !== 'action' && unconfigured) {
    log.warn(`stop: ${err.reason}: resource cannot have been started with this configuration, nothing to stop`);
    return OCF.SUCCESS;
  }
  return err;
}

/** Runs one OCF action of `decl` and returns its exit code. Never throws. */
export async function runAgentAction(decl: AgentDecl, action: string | undefined, env: NodeJS.ProcessEnv, io: Io = processIo): Promise<number> {
  if (action === 'meta-data') {
    io.stdout(await metaDataOf(decl));
    return OCF.SUCCESS;
  }
  if (action === 'usage' || action === 'help' || action === '--help' || action === '-h') {
    io.stdout(usage(decl));
    return OCF.SUCCESS;
  }

  const ocfEnv = readOcfEnv(decl.name, env);
  const log = createLogger(decl.name, ocfEnv.instance, env, io.stderr);
  const exitReason = (reason: string) => io.stderr(`ocf-exit-reason:${reason.replace(/\s*\n\s*/g, ' ')}\n`);

  if (action === undefined) {
    io.stderr(usage(decl));
    exitReason('no action given');
    return OCF.ERR_ARGS;
  }
  const actionDecl = decl.actions[action];
  if (!actionDecl && action !== 'validate-all') {
    exitReason(`action '${action}' is not implemented by ${decl.name}`);
    return OCF.ERR_UNIMPLEMENTED;
  }

  const isProbe = action === 'monitor' && ocfEnv.meta.intervalMs === 0;
  const deadline = new Deadline(ocfEnv.meta.timeoutMs ?? defaultTimeoutMs(decl, action));
  const finish = (result: OcfError | number): number => {
    if (typeof result === 'number') return result;
    // "Not running" is the expected answer of a probe, not something for crm_mon to show.
    if (result.code === OCF.NOT_RUNNING && isProbe) {
      log.debug(result.reason);
      return result.code;
    }
    if (result.code === OCF.NOT_RUNNING) log.info(result.reason);
    else if (!result.logged) log.error(result.reason);
    exitReason(result.reason);
    return result.code;
  };
  const asOcfError = (e: unknown): OcfError => {
    if (e instanceof OcfError) return e;
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof Error && e.stack) log.debug(e.stack);
    return new OcfError(OCF.ERR_GENERIC, `internal error: ${message}`);
  };

  let ctx: Ctx<unknown>;
  try {
    ctx = {
      agent: decl.name,
      action,
      instance: ocfEnv.instance,
      params: parseParams(decl.params, env),
      meta: ocfEnv.meta,
      checkLevel: ocfEnv.checkLevel,
      rsctmp: ocfEnv.rsctmp,
      isProbe,
      deadline,
      log,
      run: createRunner(deadline, log, env),
      env,
      exitReason,
    };
  } catch (e) {
    return finish(applySafetyRules(asOcfError(e), action, isProbe, log, 'parameters'));
  }

  try {
    if (decl.validate && (action === 'validate-all' || actionDecl?.validate)) await decl.validate(ctx as never);
  } catch (e) {
    return finish(applySafetyRules(asOcfError(e), action, isProbe, log, 'validation'));
  }
  if (action === 'validate-all') return OCF.SUCCESS;

  try {
    const code = (await actionDecl!.handler(ctx as never)) ?? OCF.SUCCESS;
    log.debug(`${action}: ${ocfCodeName(code)}`);
    return code;
  } catch (e) {
    return finish(applySafetyRules(asOcfError(e), action, isProbe, log, 'action'));
  }
}

/**
 * The name the executable was run by. Node (a SEA, or `node bundle.cjs`)
 * keeps it in argv[1]. A Bun executable (`bun build --compile`) puts its
 * embedded entry there (`/$bunfs/root/<name>`) and the name it was run by
 * (the resource.d link) in process.argv0.
 */
export function invokedName(argv: readonly string[], argv0: string): string {
  const path = argv[1]?.startsWith('/$bunfs/') ? argv0 : (argv[1] ?? '');
  return path.split('/').pop() ?? '';
}

/**
 * Multi-call entry: one executable, one name per agent. Installed as
 * resource.d/<provider>/<Agent> (a link), the name it was run by selects the
 * agent; run as `<executable> <Agent> <action>` otherwise. Agents are loaded
 * on demand, so only the invoked one's code is evaluated.
 */
export async function multiCallMain(
  agents: Record<string, AgentDecl | (() => Promise<AgentDecl>)>,
  argv: string[],
  argv0: string = process.argv0,
): Promise<number> {
  const invoked = invokedName(argv, argv0);
  let name = invoked;
  let action = argv[2];
  if (!Object.hasOwn(agents, name)) {
    name = argv[2] ?? '';
    action = argv[3];
  }
  const entry = Object.hasOwn(agents, name) ? agents[name] : undefined;
  if (!entry) {
    process.stderr.write(`usage: ${invoked} <agent> <action>\nagents: ${Object.keys(agents).join(', ')}\n`);
    return OCF.ERR_ARGS;
  }
  const decl = typeof entry === 'function' ? await entry() : entry;
  return runAgentAction(decl, action, process.env);
}
