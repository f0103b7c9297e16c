import { constants } from 'node:fs';
import { hostname } from 'node:os';
import { defineAgent, fail, OCF, OcfError, param, type Ctx, type ParamValues } from '../src/ocf/index.js';
import { ocfIsTrue } from '../src/ocf/truth.js';
import { cloneProblem } from '../src/sys/drbd/clone-checks.js';
import { DrbdResource } from '../src/sys/drbd/resource.js';
import { checkAdjustScores, DEFAULT_ADJUST, parseAdjustScores, promotionScore } from '../src/sys/drbd/score.js';
import { findFenceConstraint, keepReason, removeFenceConstraint } from '../src/sys/drbd/fence-constraint.js';
import { degradationOf, describeState, factsOf, type DrbdFacts, type DrbdState } from '../src/sys/drbd/state.js';
import { isDrbd9, isVersionSpec, versionOutOfRange } from '../src/sys/drbd/version.js';
import { PromotionScore, primitiveId, promotedNodes } from '../src/sys/pacemaker.js';
import { canAccess, which } from '../src/sys/which.js';

/** Names drbdadm accepts, and nothing a shell or drbdadm option parser could misread (the linbit agent's set). */
const SAFE_NAME = /^[-%+./0-9:=@A-Z_a-z]+$/;
const safeName = (what: string) => (v: string) => (SAFE_NAME.test(v) ? undefined : `${what} may only contain [-%+./0-9:=@A-Z_a-z]`);

const params = {
  drbd_resource: param.string({
    shortdesc: 'drbd resource name',
    longdesc: 'The name of the DRBD resource from the drbd.conf file.',
    required: true,
    unique: true,
    check: safeName('drbd_resource'),
  }),
  drbdconf: param.string({
    reloadable: true,
    shortdesc: 'Path to drbd.conf',
    longdesc: 'Full path to the drbd.conf file.',
    default: '/etc/drbd.conf',
    check: safeName('drbdconf'),
  }),
  adjust_master_score: param.string({
    reloadable: true,
    shortdesc: 'promotion score adjustments',
    longdesc: `Four space-separated, non-decreasing promotion scores, for:
only access to Consistent data (0 by default: no score, never promote data that may be stale);
only remote access to UpToDate data (a peer has it, the local disk does not);
Secondary with UpToDate local data while the peer's disk state is unknown;
UpToDate local data, and Primary or the peer's disk state known.
See the table in the agent's description.`,
    default: DEFAULT_ADJUST,
  }),
  stop_outdates_secondary: param.boolean({
    reloadable: true,
    shortdesc: 'outdate a secondary on stop',
    longdesc: `When a Secondary stops (or a post notification finds the peer's disk state unknown) while the
notifications name another node as Primary, mark the local data Outdated in DRBD's meta data.
Relies on Pacemaker's notification variables; DRBD's own fencing policies are the better tool.`,
    default: false,
  }),
  ignore_missing_notifications: param.boolean({
    reloadable: true,
    shortdesc: 'ignore missing notify=true',
    longdesc: 'Allow a clone without notify=true (notifications reconnect a starting peer and keep scores current).',
    default: false,
  }),
  wfc_timeout: param.string({
    reloadable: true,
    shortdesc: 'wait for connections with timeout',
    longdesc: 'During start, wait at most this many seconds for the connection to the peer. Any value that is not a number: do not wait. Never past the start timeout.',
    default: '5',
  }),
  remove_master_score_if_peer_primary: param.string({
    reloadable: true,
    shortdesc: 'remove the promotion score while connected to a Primary',
    longdesc: `true: a Secondary connected to a Primary peer whose disks are all UpToDate has no promotion score
(avoids a promote attempt while DRBD still sees a Primary, e.g. after Pacemaker lost contact with the peer;
may delay a failover after a Primary crash until DRBD notices it).
unexpected: the same, but only when Pacemaker knows of no promoted instance (crm_resource --locate).
anything else (false): the peer's role does not change the score.`,
    default: 'false',
  }),
  unfence_if_all_uptodate: param.boolean({
    reloadable: true,
    shortdesc: 'lift a stale DRBD fencing constraint once fully UpToDate',
    longdesc: `DRBD's fence-peer handlers (crm-fence-peer.9.sh, crm-fence-peer.sh) place a location constraint
drbd-fence-by-handler-<resource>-<clone> that forbids promotion everywhere but on the node with good data; the
unfence handler (after-resync-target) removes it after the resync. If it is left behind, it blocks promotion on the
other node for good. true: a Primary monitor that finds every local and peer disk UpToDate removes that constraint,
when it allows this node. The agent never removes it while any disk is not UpToDate.`,
    default: false,
  }),
  require_drbd_module_version_ge: param.string({
    reloadable: true,
    shortdesc: 'minimum DRBD kernel module version',
    longdesc: 'Fail (5, on this node) unless the DRBD kernel module version is at least this (x.y.z), e.g. 9.0.16 to require DRBD 9.',
    default: '8.0.0',
  }),
  require_drbd_module_version_lt: param.string({
    reloadable: true,
    shortdesc: 'DRBD kernel module version limit',
    longdesc: 'Fail (5, on this node) unless the DRBD kernel module version is lower than this (x.y.z), e.g. 9.0.0 to require 8.4.',
    default: '10.0.0',
  }),
};

type DrbdCtx = Ctx<ParamValues<typeof params>>;

export const drbd = defineAgent({
  name: 'drbd',
  version: '1.0.0',
  shortdesc: 'Manages a DRBD resource as a promotable clone',
  longdesc: `Manages one DRBD resource as a promotable clone: Unpromoted (Secondary) on every node, Promoted (Primary)
where the service runs. Compatible with ocf:linbit:drbd (same parameters, defaults and meanings). Works with the
DRBD 8.4 kernel module (driven by drbd-utils 9's 8.4 tools) and with DRBD 9.

monitor: 7 down, 0 Secondary, 8 Primary, 9 Primary whose local disk failed or was detached (I/O now depends on
the peer). Running without full redundancy — a peer not connected (down, StandAlone, Connecting), a resync or
verify running, a local or peer disk not UpToDate — is OCF 1.1's degraded: 190 (Secondary) or 191 (Primary), with
the cause as exit reason, where the executor announces OCF 1.1 (Pacemaker 2.1 and later: crm_mon lists it with
the failed actions, nothing is recovered and no fail count is kept); 0/8 elsewhere and for probes. A connection
left StandAlone by a split brain is logged as critical and named in the exit reason; it is degraded too, not a
failure, since stopping or restarting DRBD cannot resolve a split brain (an admin must: drbdadm connect
--discard-my-data on the node whose changes are dropped). promote exits 1 at once, without
retrying, when DRBD refuses for lack of UpToDate data (drbdadm exit 17); every wait is bounded by the operation
timeout.

Promotion scores (crm_attribute --promotion, lifetime reboot) come from DRBD's own state, first match wins,
with the adjust_master_score values "c r l g" (default "0 10 1000 10000"):
- not running; a volume without quorum (DRBD 9): no score;
- remove_master_score_if_peer_primary and a healthy Primary peer: no score;
- DRBD 9 diskless client: g-1 with all peers (or, as Primary, some peer) UpToDate, l-1 with some peer UpToDate, else none;
- all local disks UpToDate: g as Primary or when the peer's disk state is known, l while it is unknown;
- local disk not UpToDate but a peer's are: r;
- local disk Attaching/Negotiating: unchanged;
- all local disks Consistent: c (0: none);
- Inconsistent, Outdated, Diskless, Failed: no score.
A node without a score is never promoted, so Pacemaker cannot promote stale data.

The clone must have notify=true (unless ignore_missing_notifications), clone-node-max=1, promoted-node-max=1,
promoted-max at most 2 (2 only with allow-two-primaries in the DRBD configuration), and clone-max at most 2 with
DRBD 8.4. To avoid diverging data, configure DRBD fencing (fencing resource-and-stonith with crm-fence-peer
handlers) or DRBD 9 quorum, and fencing in Pacemaker. The handlers' drbd-fence-by-handler constraint is Pacemaker's to
enforce; the agent removes a stale one only with unfence_if_all_uptodate.`,
  params,
  validate: validateDrbd,
  actions: {
    start: { timeout: 240, validate: true, handler: start },
    stop: { timeout: 100, handler: stop },
    promote: { timeout: 90, validate: true, handler: promote },
    demote: { timeout: 90, validate: true, handler: demote },
    monitor: {
      timeout: 20,
      interval: 29,
      ops: [
        { role: 'Promoted', interval: 29, timeout: 20 },
        { role: 'Unpromoted', interval: 31, timeout: 20 },
      ],
      handler: monitor,
    },
    notify: { timeout: 90, handler: notify },
    // Pacemaker ≥ 2.1 (OCF 1.1): reload-agent when only reloadable parameters changed. 2.0 and older
    // use the legacy reload for every parameter but the unique drbd_resource: the same set here.
    'reload-agent': { timeout: 30, validate: true, handler: reload },
    reload: { timeout: 30, validate: true, handler: reload },
  },
});

// ---------------------------------------------------------------------------

function open(ctx: DrbdCtx) {
  const res = new DrbdResource(ctx, ctx.params.drbd_resource, ctx.params.drbdconf);
  const score = new PromotionScore({ run: ctx.run, log: ctx.log, rsctmp: ctx.rsctmp, node: ctx.meta.onNode, path: ctx.env.PATH }, primitiveId(ctx.instance));
  return { res, score };
}

const thisNode = (ctx: DrbdCtx) => ctx.meta.onNode ?? hostname();
const lastLine = (s: string) => s.trim().split('\n').filter(Boolean).slice(-2).join(' / ');

/**
 * Values the linbit agent tolerates at run time (a bad adjust_master_score
 * falls back to the default, with an error logged) are refused here, when
 * the configuration is applied (start, promote, validate-all…), and never
 * fail a monitor or a stop.
 */
function checkValues(ctx: DrbdCtx): void {
  const adjust = checkAdjustScores(ctx.params.adjust_master_score);
  if (adjust) throw fail.configured(`adjust_master_score: ${adjust}: "${ctx.params.adjust_master_score}"`);
  for (const name of ['require_drbd_module_version_ge', 'require_drbd_module_version_lt'] as const) {
    if (!isVersionSpec(ctx.params[name])) throw fail.configured(`${name} must be a version x.y.z, found "${ctx.params[name]}"`);
  }
}

/** adjust_master_score as given, or the default when it is unusable (logged: validate refuses it). */
function adjustScores(ctx: DrbdCtx) {
  if (!checkAdjustScores(ctx.params.adjust_master_score)) return parseAdjustScores(ctx.params.adjust_master_score);
  ctx.log.error(`bad adjust_master_score "${ctx.params.adjust_master_score}": using the default "${DEFAULT_ADJUST}"`);
  return parseAdjustScores(DEFAULT_ADJUST);
}

async function validateDrbd(ctx: DrbdCtx): Promise<void> {
  checkValues(ctx);
  // Clone problems are the same on every node: report them (6) before anything this node may lack (5).
  const cloneOpts = { ignoreMissingNotifications: ctx.params.ignore_missing_notifications, drbd9: true };
  const problem = cloneProblem(ctx.meta, ctx.action, cloneOpts);
  if (problem) throw fail.configured(problem);
  const { res } = open(ctx);
  for (const tool of ['drbdadm', 'drbdsetup']) {
    if (!which(tool, ctx.env.PATH)) throw fail.installed(`${tool} not found: install drbd-utils`);
  }
  if (!canAccess(ctx.params.drbdconf, constants.R_OK)) throw fail.installed(`configuration file ${ctx.params.drbdconf} does not exist or is not readable`);
  const version = await res.moduleVersion();
  if (!version) throw fail.installed('DRBD kernel module not available (not loaded, and modinfo drbd found none)');
  const outOfRange = versionOutOfRange(version, ctx.params.require_drbd_module_version_ge, ctx.params.require_drbd_module_version_lt);
  if (outOfRange) throw fail.installed(outOfRange);

  const problem84 = isDrbd9(version) ? undefined : cloneProblem(ctx.meta, ctx.action, { ...cloneOpts, drbd9: false });
  if (problem84) throw fail.configured(problem84);

  await res.configuredMinors(); // 5 when this host has no such resource
  if ((ctx.meta.promotedMax ?? 1) > 1 && ['start', 'promote', 'validate-all'].includes(ctx.action) && !(await res.allowsTwoPrimaries())) {
    throw fail.configured(`promoted-max is ${ctx.meta.promotedMax}, but DRBD resource ${res.name} does not allow-two-primaries`);
  }
}

/** Updates the promotion score from `state`; `force` writes even if the cache says it is unchanged. */
async function updateScore(ctx: DrbdCtx, score: PromotionScore, state: DrbdState, force = false): Promise<void> {
  const facts = factsOf(state);
  const mode = ctx.params.remove_master_score_if_peer_primary;
  let removeIfPeerPrimary = ocfIsTrue(mode);
  if (mode === 'unexpected' && !facts.primary && facts.somePeerPrimary && facts.somePeerAllUpToDate && (ctx.meta.promotedMax ?? 1) === 1) {
    // A Primary peer that Pacemaker does not know about: likely a cluster split, DRBD still connected.
    const promoted = await promotedNodes(ctx, score.resource);
    removeIfPeerPrimary = promoted !== undefined && promoted.filter((n) => n !== thisNode(ctx)).length === 0;
  }
  const d = promotionScore(facts, adjustScores(ctx), { removeIfPeerPrimary });
  if (d.kind === 'keep') {
    ctx.log.debug(`promotion score unchanged: ${d.why}`);
    return;
  }
  await score.apply(d.kind === 'set' ? d.score : null, d.why, force);
}

/** Local disks that should be attached but are not (an attach that failed). */
const attachFailed = (s: DrbdState) => s.volumes.some((v) => !v.client && (v.disk === 'Diskless' || v.disk === 'Failed' || v.disk === 'Unconfigured'));

/** Connected, or StandAlone (which no waiting changes). */
const peersSettled = (s: DrbdState) => s.peers.every((p) => p.connection === 'Connected' || p.connection === 'StandAlone');

async function start(ctx: DrbdCtx): Promise<number> {
  const { res, score } = open(ctx);
  if (!res.moduleLoaded()) await res.loadModule();

  let state = await res.read();
  if (state.configured && state.role === 'Primary') {
    ctx.log.warn(`${res.name} already Primary, demoting`);
    await res.adm(['secondary', res.name]);
  }

  // adjust brings the resource to what the configuration says: creates it, attaches the disk, connects.
  let adjust = await res.adm(['adjust', res.name], { check: false });
  state = await res.read();
  if (state.configured && attachFailed(state)) {
    ctx.log.warn(`attach of ${res.name} failed (${describeState(state)}), trying once more`);
    await ctx.deadline.sleep(1000);
    adjust = await res.adm(['adjust', res.name], { check: false });
    state = await res.read();
  }
  if (!state.configured) throw fail.generic(`drbdadm adjust ${res.name} did not bring the resource up: ${lastLine(adjust.stderr) || `exit ${adjust.code}`}`);
  if (attachFailed(state)) throw fail.generic(`cannot attach the backing disk of ${res.name} (${describeState(state)}): ${lastLine(adjust.stderr) || `exit ${adjust.code}`}`);
  if (adjust.code !== 0) ctx.log.warn(`drbdadm adjust ${res.name}: exit ${adjust.code}: ${lastLine(adjust.stderr)}`);

  // Wait (bounded) for the peer, so the first score knows the peer's disk state.
  const wfc = /^\d+$/.test(ctx.params.wfc_timeout.trim()) ? Number(ctx.params.wfc_timeout) : 0;
  const waitMs = Math.min(wfc * 1000, Math.max(0, ctx.deadline.remaining() - 3000));
  if (waitMs > 0 && !peersSettled(state)) await ctx.deadline.poll(async () => peersSettled((state = await res.read())), { intervalMs: 250, limitMs: waitMs });
  if (!peersSettled(state)) ctx.log.info(`${res.name}: peer not connected after ${waitMs / 1000}s (${describeState(state)}); continuing`);

  if (state.role === 'Primary') throw fail.generic(`${res.name} is still Primary after start`);
  await updateScore(ctx, score, state, true);
  ctx.log.info(`started: ${describeState(state)}`);
  return OCF.SUCCESS;
}

async function stop(ctx: DrbdCtx): Promise<number> {
  const { res, score } = open(ctx);
  if (!res.moduleLoaded()) {
    await score.apply(null, 'stopped', true);
    return OCF.SUCCESS;
  }
  let state: DrbdState;
  try {
    state = await res.read();
  } catch (e) {
    // Not in the configuration (any more): take it down by name, as the linbit agent does, rather than fail the stop.
    ctx.log.error(`${e instanceof OcfError ? e.reason : String(e)}: trying drbdsetup down ${res.name}`);
    const r = await ctx.run('drbdsetup', ['down', res.name], { check: false });
    if (r.code !== 0 && !/No such resource|Unknown resource/i.test(r.stderr)) throw fail.generic(`drbdsetup down ${res.name}: exit ${r.code}: ${lastLine(r.stderr)}`);
    await score.apply(null, 'stopped', true);
    return OCF.SUCCESS;
  }

  const before = state;
  if (!state.configured) {
    // It may still exist without minors (8.4): down is harmless either way.
    await res.adm(['down', res.name], { check: false });
  } else {
    if (state.role === 'Primary') {
      ctx.log.warn(`${res.name} still Primary, demoting`);
      await res.adm(['secondary', res.name], { check: false });
    }
    await ctx.deadline.retry(
      async () => {
        const r = await res.adm(['down', res.name], { check: false });
        state = await res.read();
        return state.configured ? lastLine(r.stderr) || `exit ${r.code}` : undefined;
      },
      {
        intervalMs: 1000,
        marginMs: 2000,
        onRetry: (why) => ctx.log.warn(`drbdadm down ${res.name}: ${why}; retrying`),
        giveUp: (why) => fail.generic(`cannot take ${res.name} down (${describeState(state)}): ${why}`),
      },
    );
  }
  await maybeOutdateSelf(ctx, res, before);
  await score.apply(null, 'stopped', true);
  return OCF.SUCCESS;
}

/** drbdsetup's exit codes worth another try: 11 (state change failed, e.g. the peer is still Primary), 20 (timeout). */
const RETRYABLE = new Set([11, 20]);

async function promote(ctx: DrbdCtx): Promise<number> {
  const { res, score } = open(ctx);
  let state = await res.read();
  if (!state.configured) throw fail.generic(`cannot promote ${res.name}: not started`);
  if (state.role !== 'Primary') {
    await ctx.deadline.retry(
      async () => {
        const r = await res.adm(['primary', res.name], { check: false });
        state = await res.read();
        if (state.role === 'Primary') return undefined;
        if (r.code === 17) {
          // DRBD itself refuses: no UpToDate data here or at a peer, or the peer could not be fenced. Retrying cannot help.
          await score.apply(null, 'promote refused: no access to UpToDate data', true);
          throw fail.generic(`refusing to promote ${res.name}: no access to UpToDate data (${describeState(state)}): ${lastLine(r.stderr)}`);
        }
        const why = `drbdadm primary ${res.name}: exit ${r.code}: ${lastLine(r.stderr)} (${describeState(state)})`;
        if (r.code !== 0 && !RETRYABLE.has(r.code ?? -1)) throw fail.generic(why);
        return why;
      },
      {
        intervalMs: 1000,
        marginMs: 2500,
        onRetry: (why) => ctx.log.info(`${why}; retrying`),
        giveUp: (why, tries) => fail.generic(`promote gave up after ${tries} attempts: ${why}`),
      },
    );
  }
  await updateScore(ctx, score, state, true);
  ctx.log.info(`promoted: ${describeState(state)}`);
  return OCF.SUCCESS;
}

async function demote(ctx: DrbdCtx): Promise<number> {
  const { res, score } = open(ctx);
  let state = await res.read();
  if (!state.configured) throw fail.generic(`cannot demote ${res.name}: not started`);
  if (state.role === 'Primary') {
    await ctx.deadline.retry(
      async () => {
        const r = await res.adm(['secondary', res.name], { check: false });
        state = await res.read();
        // Typically "Device is held open by someone": something still uses it (a mount, a process).
        return state.role === 'Primary' ? `drbdadm secondary ${res.name}: exit ${r.code}: ${lastLine(r.stderr)}` : undefined;
      },
      { intervalMs: 1000, marginMs: 2500, onRetry: (why) => ctx.log.warn(`${why}; retrying`), giveUp: (why) => fail.generic(why) },
    );
  }
  await updateScore(ctx, score, state, true);
  return OCF.SUCCESS;
}

async function monitor(ctx: DrbdCtx): Promise<number> {
  const { res, score } = open(ctx);
  const state = await res.read();
  if (!state.configured) {
    // A probe on a node where nothing ran leaves the attribute alone (as the linbit agent does).
    if (!ctx.isProbe) await score.apply(null, 'not running');
    return OCF.NOT_RUNNING;
  }
  const facts = factsOf(state);
  if (facts.standAlonePeers.length > 0) await res.markSplitBrain(state);
  await updateScore(ctx, score, state);
  if (ctx.params.unfence_if_all_uptodate && fullyUpToDate(facts)) await liftStaleFence(ctx, res);

  const splitBrain = state.peers.filter((p) => p.splitBrain);
  const sbReason = splitBrain.length
    ? `split brain: ${res.name} is StandAlone${splitBrain.map((p) => (p.name ? ` from ${p.name}` : '')).join(',')} after its data diverged from the peer's; resolve by hand (drbdadm connect --discard-my-data ${res.name} on the node whose changes are to be dropped)`
    : undefined;
  if (sbReason) ctx.log.crit(sbReason);

  if (facts.primaryLostDisk) {
    throw fail.failedPromoted(`${res.name} is Primary but its local disk failed (${describeState(state)})${sbReason ? `; ${sbReason}` : ''}`);
  }
  const healthy = facts.primary ? OCF.RUNNING_PROMOTED : OCF.SUCCESS;
  const lost = degradationOf(state);
  const degraded = [sbReason, lost && `${res.name} without full redundancy: ${lost}`].filter(Boolean).join('; ');
  if (!degraded) return healthy;
  if (ctx.degraded) return ctx.degraded(healthy, degraded);
  ctx.exitReason?.(degraded);
  return healthy;
}

async function notify(ctx: DrbdCtx): Promise<number> {
  const { res, score } = open(ctx);
  const n = ctx.meta.notifyInfo;
  try {
    if (n.operation === 'start') {
      // A peer is (re)starting: connect to it now rather than at the next monitor. adjust is a no-op when connected.
      const state = await res.read();
      if (state.configured) await res.adm(['adjust', res.name], { check: false });
    }
    if (n.type === 'post') {
      const state = await res.read();
      await updateScore(ctx, score, state, true);
      if (factsOf(state).peerDiskAnyUnknown && (await maybeOutdateSelf(ctx, res, state))) {
        await score.apply(null, 'outdated: another node is Primary', true);
      }
    }
  } catch (e) {
    // A notification must not fail (Pacemaker would only log it); the next monitor tries again.
    ctx.log.error(`notify ${n.type ?? ''}-${n.operation ?? ''}: ${e instanceof OcfError ? e.reason : String(e)}`);
  }
  return OCF.SUCCESS;
}

/**
 * reload-agent (and the legacy reload): the agent reads its parameters at
 * every operation, so applying new values means re-applying the DRBD
 * configuration (drbdadm adjust, as the linbit agent does); the monitors
 * that Pacemaker restarts right after the reload write the score from the
 * new values. Not the reload: Pacemaker records a successful reload as a
 * "start", i.e. Unpromoted, until the Promoted monitor reports 8; a score
 * change in that window aborts the transition, and the next one promotes
 * again and restarts everything colocated with the Promoted role (measured
 * on Pacemaker 2.1.5: test/cluster/drbd-reload.test.ts).
 */
async function reload(ctx: DrbdCtx): Promise<number> {
  const { res } = open(ctx);
  const state = await res.read();
  if (!state.configured) return OCF.SUCCESS; // nothing runs: the next start reads the new values
  await res.adm(['adjust', res.name]);
  return OCF.SUCCESS;
}

/** Primary, every local and every peer disk UpToDate: no node's data is stale, a fencing constraint is not needed. */
const fullyUpToDate = (f: DrbdFacts) => f.primary && f.diskAllUpToDate && f.peerDisksAllUpToDate;

/**
 * unfence_if_all_uptodate: remove a stale drbd-fence-by-handler constraint.
 * DRBD's state is read again just before the removal, so a connection lost
 * meanwhile (when the handler would place a fresh one) keeps it.
 */
async function liftStaleFence(ctx: DrbdCtx, res: DrbdResource): Promise<void> {
  try {
    const c = await findFenceConstraint(ctx, res.name, primitiveId(ctx.instance));
    if (!c) return;
    const keep = keepReason(c, thisNode(ctx));
    if (keep) {
      ctx.log.warn(`all disks UpToDate, but keeping ${c.id}: ${keep}`);
      return;
    }
    const now = factsOf(await res.read());
    if (!fullyUpToDate(now)) return;
    if (await removeFenceConstraint(ctx, c)) ctx.log.info(`removed stale fencing constraint ${c.id}: all disks UpToDate`);
  } catch (e) {
    // The constraint only limits where Pacemaker promotes: keeping it a while longer is safe; the next monitor retries.
    ctx.log.error(`unfence_if_all_uptodate: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * stop_outdates_secondary: with another node Primary (per the notification
 * variables) and no connection to it, mark our data Outdated, so this node
 * can never be promoted with it. Both Primary and disconnected is a split
 * brain in the making: say so loudly, decide nothing.
 */
async function maybeOutdateSelf(ctx: DrbdCtx, res: DrbdResource, state: DrbdState): Promise<boolean> {
  if (!ctx.params.stop_outdates_secondary) return false;
  const n = ctx.meta.notifyInfo;
  const me = thisNode(ctx).toLowerCase();
  const other = n.promoted.uname.find((u) => u.toLowerCase() !== me);
  if (!other) return false;
  // Stale notification data: the "Primary" is the one being stopped.
  if (n.stop.uname.some((u) => u.toLowerCase() === other.toLowerCase())) return false;
  if (state.configured && state.role === 'Primary') {
    ctx.log.crit(`split brain: both ${thisNode(ctx)} and ${other} are Primary for ${res.name}, but the replication link is down`);
    return false;
  }
  ctx.log.info(`outdating ${res.name}: ${other} is still Primary`);
  const r = await res.adm(['outdate', res.name], { check: false });
  if (r.code !== 0) ctx.log.error(`drbdadm outdate ${res.name}: exit ${r.code}: ${lastLine(r.stderr)}`);
  return r.code === 0;
}
