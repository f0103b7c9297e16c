import type { AgentDecl, Ctx } from './agent.js';
import { Deadline } from './deadline.js';
import { readOcfEnv } from './env.js';
import { OCF, OcfError, ocfCodeName } from './exit-codes.js';
import { createLogger, type Logger } from './log.js';
import { metaDataOf } from './metadata-provider.js';
import { parseParams } from './params.js';
import { clearPending, groupMembers, readPending, signalGroup } from './process-groups.js';
import { createRunner, type Runner } from './run.js';
import { capExitReason } from './exit-reason.js';
import { degradedCode } from './degraded.js';
import { writeStderr, writeStdout } from './stdio.js';
import { startedAtMs } from '../sys/processes.js';

export interface Io {
  stdout(s: string): void;
  stderr(s: string): void;
  /**
   * When the operation began for Pacemaker (ms since the epoch): the agent
   * process's creation, so time lost before our code ran (a starved CPU,
   * the runtime's start-up) counts against OCF_RESKEY_CRM_meta_timeout as it
   * does for execd. Unset (in-process callers): now.
   */
  startedAt?: number;
}

const processIo: Io = { stdout: writeStdout, stderr: writeStderr };

export function usage(decl: AgentDecl): string {
  const names = [...Object.keys(decl.actions), 'validate-all', 'meta-data', 'usage'];
  return `usage: ${decl.name} {${[...new Set(names)].join('|')}}\n\n${decl.shortdesc}\n`;
}

/** Default op timeout when Pacemaker gave none (a hand run): the action's own default. */
function defaultTimeoutMs(decl: AgentDecl, action: string): number {
  const a = decl.actions[action];
  return (a?.timeout ?? 20) * 1000;
}

const isUnconfigured = (err: OcfError) => err.code === OCF.ERR_CONFIGURED || err.code === OCF.ERR_INSTALLED || err.code === OCF.ERR_ARGS;

/**
 * The OCF rules that keep a cluster safe, applied to every error before it
 * leaves the agent:
 * - a probe (monitor, interval 0) answers "not running" when the resource
 *   cannot be configured or installed here: it cannot be running either;
 * - a stop with parameters that do not validate succeeds: such a resource
 *   could never have been started, and a failed stop gets the node fenced.
 * A stop whose action fails for want of configuration or installation is
 * handled by stopProvenStopped (it needs the agent's own monitor).
 */
function applySafetyRules(err: OcfError, action: string, isProbe: boolean, log: Logger, stage: 'parameters' | 'validation' | 'action'): OcfError | number {
  const unconfigured = isUnconfigured(err);
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

/**
 * A stop that fails in its action for want of configuration or installation
 * (5, 6: a tool that cannot run here…) succeeds only when the agent's own
 * monitor, run as a probe, answers "not running" by itself: the resource is
 * then certainly not active here. Any other answer, or an error (the monitor
 * needs the missing tool too), keeps the stop's error: "not sure" is never
 * reported as stopped.
 */
async function stopProvenStopped(decl: AgentDecl, ctx: Ctx<unknown>, err: OcfError): Promise<boolean> {
  const monitor = decl.actions.monitor;
  if (!monitor || !isUnconfigured(err)) return false;
  try {
    const code = (await monitor.handler({ ...ctx, action: 'monitor', isProbe: true, checkLevel: 0 } as never)) ?? OCF.SUCCESS;
    return code === OCF.NOT_RUNNING;
  } catch (e) {
    return e instanceof OcfError && e.code === OCF.NOT_RUNNING;
  }
}

/**
 * Commands that an earlier operation of this instance gave up on while their
 * process group was still alive (uninterruptible sleep): a mount that may
 * still complete. Stop kills them again and waits (within its deadline);
 * while any is alive it cannot report success.
 */
async function settleEarlierCommands(pendingFile: string, deadline: Deadline, log: Logger, runner: Runner): Promise<void> {
  const groups = [...readPending(pendingFile), ...(runner.abandoned ?? [])];
  if (!groups.length) return;
  const alive = () => groups.filter((g) => groupMembers(g.pgid).length > 0);
  for (const g of alive()) {
    log.warn(`process group ${g.pgid} (${g.command}) started by an earlier operation is still alive: killing it`);
    signalGroup(g.pgid, 'SIGKILL');
  }
  const left = await deadline
    .until('waiting for earlier commands to end', () => (alive().length ? false : true), { intervalMs: 100 })
    .then(() => [])
    .catch(() => alive());
  if (left.length) {
    throw new OcfError(
      OCF.ERR_GENERIC,
      `${left.map((g) => `${g.command} (process group ${g.pgid})`).join(', ')} still running after SIGKILL (uninterruptible sleep): it may still complete, stop cannot report success`,
    );
  }
  clearPending(pendingFile);
}

const pendingFileOf = (rsctmp: string, agent: string, instance: string) => `${rsctmp}/ocfkit-${agent}-${instance.replace(/[^\w.:-]/g, '_')}.pending`;

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
  const exitReason = (reason: string) => io.stderr(`ocf-exit-reason:${capExitReason(reason)}\n`);
  for (const w of ocfEnv.warnings) log.warn(w);

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
  const deadline = new Deadline(ocfEnv.meta.timeoutMs ?? defaultTimeoutMs(decl, action), Math.min(Date.now(), io.startedAt ?? Date.now()));
  reportLateStart(deadline, log);
  const pendingFile = pendingFileOf(ocfEnv.rsctmp, decl.name, ocfEnv.instance);
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
      run: createRunner(deadline, log, env, { pendingFile: action === 'validate-all' || action === 'meta-data' ? undefined : pendingFile }),
      env,
      exitReason,
      degraded: (healthy, reason) => {
        log.warn(`degraded: ${reason}`);
        exitReason(reason);
        return degradedCode(healthy, { action, isProbe, ocfVersion: ocfEnv.ocfVersion });
      },
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
    if (action === 'stop') await settleEarlierCommands(pendingFile, deadline, log, ctx.run);
    const code = (await actionDecl!.handler(ctx as never)) ?? OCF.SUCCESS;
    if (action === 'stop' && code === OCF.SUCCESS) await settleEarlierCommands(pendingFile, deadline, log, ctx.run);
    log.debug(`${action}: ${ocfCodeName(code)}`);
    return code;
  } catch (e) {
    const err = asOcfError(e);
    if (action === 'stop' && (await stopProvenStopped(decl, ctx, err).catch(() => false))) {
      log.warn(`stop: ${err.reason}; the monitor finds the resource not running here: nothing to stop`);
      return OCF.SUCCESS;
    }
    return finish(applySafetyRules(err, action, isProbe, log, 'action'));
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
    writeStderr(`usage: ${invoked} <agent> <action>\nagents: ${Object.keys(agents).join(', ')}\n`);
    return OCF.ERR_ARGS;
  }
  const decl = typeof entry === 'function' ? await entry() : entry;
  return runAgentAction(decl, action, process.env, { ...processIo, startedAt: startedAtMs() });
}

/** Start-up that ate a good part of the timeout is worth a line: it explains a timeout that follows. */
function reportLateStart(deadline: Deadline, log: Logger): void {
  const lateMs = Date.now() - deadline.startedAt;
  const line = `started ${(lateMs / 1000).toFixed(1)}s after execd created the process; ${(deadline.remaining() / 1000).toFixed(1)}s of the ${deadline.timeoutMs / 1000}s timeout left`;
  if (lateMs > 1000 && lateMs > deadline.timeoutMs / 4) log.warn(`${line} (a starved CPU?)`);
  else if (lateMs > 1000) log.debug(line);
}
