import type { DrbdFacts } from './state.js';

/**
 * The promotion score: how Pacemaker learns where good data is. Computed
 * from DRBD's own state the way ocf:linbit:drbd does (drbd_update_master_score),
 * with its four adjust_master_score values (default "0 10 1000 10000"):
 *
 *   situation (first match wins)                                   score
 *   -------------------------------------------------------------  -------------------
 *   not configured (down, module not loaded)                       none
 *   a volume without quorum (DRBD 9)                               none
 *   remove_master_score_if_peer_primary, we are Secondary and a    none
 *     peer is Primary with all disks UpToDate
 *   intentional diskless client (DRBD 9):
 *     Primary with an UpToDate peer, or all peers UpToDate         4th − 1   (9999)
 *     some peer UpToDate                                           3rd − 1   (999)
 *     otherwise                                                    none
 *   all local disks UpToDate:
 *     Primary                                                      4th       (10000)
 *     Secondary, every peer's disk state known                     4th       (10000)
 *     Secondary, a peer's disk state unknown (DUnknown)            3rd       (1000)
 *   local disk not UpToDate, a peer has all disks UpToDate         2nd       (10)
 *   a local disk Attaching/Negotiating                             unchanged
 *   all local disks Consistent (maybe stale: DRBD cannot tell)     1st       (0: none)
 *   Inconsistent, Outdated, Diskless, Failed (and no UpToDate peer) none
 *
 * "none" removes the attribute: a node without a score is never promoted.
 * A score of 0 is "none" too (crm_attribute -D, as crm_master does). Scores
 * are never negative: a negative promotion score makes Pacemaker stop and
 * restart the instance.
 */

export interface AdjustScores {
  onlyConsistent: number;
  onlyRemote: number;
  localOk: number;
  asGoodAsItGets: number;
}

export const DEFAULT_ADJUST = '0 10 1000 10000';

/** Problem with an adjust_master_score value, or undefined: four non-negative, non-decreasing integers. */
export function checkAdjustScores(s: string): string | undefined {
  const parts = s.trim().split(/\s+/);
  if (parts.length !== 4) return `expected four space-separated numbers, got ${parts.length}`;
  if (!parts.every((p) => /^\d+$/.test(p))) return 'values must be non-negative integers';
  const n = parts.map(Number);
  for (let i = 1; i < 4; i++) if (n[i]! < n[i - 1]!) return `values must not decrease (${n[i - 1]} > ${n[i]})`;
  return undefined;
}

export function parseAdjustScores(s: string): AdjustScores {
  const [onlyConsistent, onlyRemote, localOk, asGoodAsItGets] = s.trim().split(/\s+/).map(Number) as [number, number, number, number];
  return { onlyConsistent, onlyRemote, localOk, asGoodAsItGets };
}

export type ScoreDecision =
  | { kind: 'set'; score: number; why: string }
  | { kind: 'remove'; why: string }
  | { kind: 'keep'; why: string };

export interface ScoreOptions {
  /** remove_master_score_if_peer_primary=true, or "unexpected" and Pacemaker knows no promoted instance. */
  removeIfPeerPrimary: boolean;
}

const set = (score: number, why: string): ScoreDecision => (score > 0 ? { kind: 'set', score, why } : { kind: 'remove', why: `${why} (score ${score})` });

export function promotionScore(f: DrbdFacts, adjust: AdjustScores, opts: ScoreOptions = { removeIfPeerPrimary: false }): ScoreDecision {
  if (!f.configured) return { kind: 'remove', why: 'not configured' };
  if (!f.haveQuorum) return { kind: 'remove', why: 'no quorum' };
  if (opts.removeIfPeerPrimary && !f.primary && f.somePeerPrimary && f.somePeerAllUpToDate) {
    return { kind: 'remove', why: 'connected to a healthy Primary peer' };
  }

  if (f.disklessClient) {
    if ((f.primary && f.somePeerAllUpToDate) || f.peerDisksAllUpToDate) return set(adjust.asGoodAsItGets - 1, 'diskless client with UpToDate peers');
    if (f.somePeerAllUpToDate) return set(adjust.localOk - 1, 'diskless client, some peer UpToDate');
    return { kind: 'remove', why: 'diskless client without access to UpToDate data' };
  }

  if (f.diskAllUpToDate) {
    if (f.primary) return set(adjust.asGoodAsItGets, 'Primary, local disks UpToDate');
    if (f.peerDiskAnyUnknown) return set(adjust.localOk, 'local disks UpToDate, peer disk state unknown');
    return set(adjust.asGoodAsItGets, 'local disks UpToDate, peer disk states known');
  }
  if (f.somePeerAllUpToDate) return set(adjust.onlyRemote, `local disk ${f.badDisks.join(',')}, a peer is UpToDate`);
  if (f.diskTransitional) return { kind: 'keep', why: `local disk ${f.badDisks.join(',')}: in transition` };
  if (f.diskAllConsistent) return set(adjust.onlyConsistent, 'local disks Consistent, peer unknown');
  return { kind: 'remove', why: `no access to UpToDate data (local disk ${f.badDisks.join(',') || 'none'})` };
}
