/** What Pacemaker tells an agent besides its parameters: OCF_RESKEY_CRM_meta_*, instance, check level. */
import { ocfIsTrue } from './truth.js';

export interface NotifyPeers {
  uname: string[];
  resource: string[];
}

export interface NotifyInfo {
  type?: 'pre' | 'post';
  operation?: string;
  start: NotifyPeers;
  stop: NotifyPeers;
  promote: NotifyPeers;
  demote: NotifyPeers;
  active: NotifyPeers;
  inactive: NotifyPeers;
  /** notify_promoted_* (Pacemaker ≥ 2.1), falling back to notify_master_*. */
  promoted: NotifyPeers;
  unpromoted: NotifyPeers;
}

export interface CrmMeta {
  /** Operation timeout in ms, when Pacemaker gave one. */
  timeoutMs?: number;
  /** Operation interval in ms; 0 for one-shot operations and probes. */
  intervalMs: number;
  notify: boolean;
  cloneMax?: number;
  cloneNodeMax?: number;
  promotedMax?: number;
  promotedNodeMax?: number;
  globallyUnique: boolean;
  /** This clone instance's number, for clones. */
  clone?: string;
  onNode?: string;
  notifyInfo: NotifyInfo;
  /** Any other CRM meta value by its name with underscores (e.g. "op_target_rc"). */
  raw(name: string): string | undefined;
}

const meta = (env: NodeJS.ProcessEnv, name: string) => {
  const v = env[`OCF_RESKEY_CRM_meta_${name}`];
  return v === undefined || v === '' ? undefined : v;
};

const int = (v: string | undefined) => {
  if (v === undefined || !/^\s*[+-]?\d+\s*$/.test(v)) return undefined;
  return Number.parseInt(v, 10);
};


/** Space-separated lists; Pacemaker pads them with blanks. */
const list = (v: string | undefined) => (v ?? '').split(/\s+/).filter(Boolean);

function peers(env: NodeJS.ProcessEnv, ...names: string[]): NotifyPeers {
  for (const n of names) {
    const uname = meta(env, `notify_${n}_uname`);
    const resource = meta(env, `notify_${n}_resource`);
    if (uname !== undefined || resource !== undefined) return { uname: list(uname), resource: list(resource) };
  }
  return { uname: [], resource: [] };
}

/** setTimeout's largest delay (2^31-1 ms, ~24.8 days): longer operation timeouts are clamped to it. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * OCF_RESKEY_CRM_meta_timeout in ms. Unusable values (0, negative, not a
 * number) give undefined, so the action's default applies, and a warning;
 * values beyond what a timer can wait are clamped.
 */
export function readTimeout(raw: string | undefined): { timeoutMs?: number; warning?: string } {
  if (raw === undefined) return {};
  const shown = JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw);
  const n = /^\s*[+-]?\d+\s*$/.test(raw) ? Number(raw.trim()) : Number.NaN;
  if (!Number.isFinite(n) || n <= 0) return { warning: `OCF_RESKEY_CRM_meta_timeout=${shown} is not a usable timeout in ms: using the action's default` };
  if (n > MAX_TIMEOUT_MS) return { timeoutMs: MAX_TIMEOUT_MS, warning: `OCF_RESKEY_CRM_meta_timeout=${shown} is too large: using ${MAX_TIMEOUT_MS} ms` };
  return { timeoutMs: n };
}

export function readCrmMeta(env: NodeJS.ProcessEnv): CrmMeta {
  const type = meta(env, 'notify_type');
  return {
    timeoutMs: readTimeout(meta(env, 'timeout')).timeoutMs,
    intervalMs: int(meta(env, 'interval')) ?? 0,
    notify: ocfIsTrue(meta(env, 'notify')?.trim()),
    cloneMax: int(meta(env, 'clone_max')),
    cloneNodeMax: int(meta(env, 'clone_node_max')),
    promotedMax: int(meta(env, 'promoted_max') ?? meta(env, 'master_max')),
    promotedNodeMax: int(meta(env, 'promoted_node_max') ?? meta(env, 'master_node_max')),
    globallyUnique: ocfIsTrue(meta(env, 'globally_unique')?.trim()),
    clone: meta(env, 'clone'),
    onNode: meta(env, 'on_node'),
    notifyInfo: {
      type: type === 'pre' || type === 'post' ? type : undefined,
      operation: meta(env, 'notify_operation'),
      start: peers(env, 'start'),
      stop: peers(env, 'stop'),
      promote: peers(env, 'promote'),
      demote: peers(env, 'demote'),
      active: peers(env, 'active'),
      inactive: peers(env, 'inactive'),
      promoted: peers(env, 'promoted', 'master'),
      unpromoted: peers(env, 'unpromoted', 'slave'),
    },
    raw: (name) => meta(env, name),
  };
}

export interface OcfEnv {
  instance: string;
  /** OCF_CHECK_LEVEL: 0 by default; 10 and 20 ask for deeper monitors. */
  checkLevel: number;
  /** HA_RSCTMP: per-boot state directory (tmpfs), as resource-agents defines it. */
  rsctmp: string;
  meta: CrmMeta;
  /** OCF_RA_VERSION_MAJOR/MINOR: the OCF version the executor implements (Pacemaker ≥ 2.1: 1.1). */
  ocfVersion?: { major: number; minor: number };
  /** Problems with what Pacemaker passed, for the log (the agent goes on with defaults). */
  warnings: string[];
}

export function readOcfEnv(agent: string, env: NodeJS.ProcessEnv): OcfEnv {
  const timeoutWarning = readTimeout(meta(env, 'timeout')).warning;
  return {
    warnings: timeoutWarning ? [timeoutWarning] : [],
    instance: env.OCF_RESOURCE_INSTANCE || agent,
    checkLevel: int(env.OCF_CHECK_LEVEL) ?? 0,
    rsctmp: env.HA_RSCTMP || '/run/resource-agents',
    meta: readCrmMeta(env),
    ocfVersion: readOcfVersion(env),
  };
}

function readOcfVersion(env: NodeJS.ProcessEnv): OcfEnv['ocfVersion'] {
  const major = int(env.OCF_RA_VERSION_MAJOR);
  if (major === undefined) return undefined;
  return { major, minor: int(env.OCF_RA_VERSION_MINOR) ?? 0 };
}
