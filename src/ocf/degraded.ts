import { OCF } from './exit-codes.js';

/**
 * OCF 1.1's degraded results (190, 191): "running (or promoted), but more likely to fail soon".
 * Pacemaker ≥ 2.1 (the executor announces OCF 1.1 in OCF_RA_VERSION_MAJOR/MINOR) maps them, for a
 * monitor, to 0 and 8 — no failure, no fail count, no recovery — and lists the result under the
 * failed resource actions of crm_mon with the exit reason. Any other executor (Pacemaker 2.0 says
 * OCF 1.0; ocf-tester, a shell) would take them for an unknown error and recover: it gets 0/8, as
 * before OCF 1.1. Probes get 0/8 too: they ask whether the resource runs here, not how well.
 */
export interface DegradedWhere {
  action: string;
  isProbe: boolean;
  /** OCF_RA_VERSION_MAJOR.MINOR as the executor set them; undefined when it set none. */
  ocfVersion?: { major: number; minor: number };
}

export function executorKnowsDegraded(v: DegradedWhere['ocfVersion']): boolean {
  return v !== undefined && (v.major > 1 || (v.major === 1 && v.minor >= 1));
}

/** The code a monitor that found the resource degraded returns: 190/191 where that is understood, else `healthy`. */
export function degradedCode(healthy: typeof OCF.SUCCESS | typeof OCF.RUNNING_PROMOTED, where: DegradedWhere): number {
  if (where.action !== 'monitor' || where.isProbe || !executorKnowsDegraded(where.ocfVersion)) return healthy;
  return healthy === OCF.RUNNING_PROMOTED ? OCF.DEGRADED_PROMOTED : OCF.DEGRADED;
}
