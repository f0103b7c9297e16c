// The schema dialects ocf-gen writes, and which validate-with each carries.

import type { Cib } from './model.js';
import { primitives } from './model.js';
import { Problems } from './errors.js';

export type Dialect =
  /** Pacemaker 2.x/3.x: <clone promotable=true>; `pinned` when the user chose pacemaker-X.Y. */
  | { family: 'pacemaker'; major: number; minor: number; pinned: boolean }
  /** Pacemaker 1.x: <master>, Master/Slave. */
  | { family: 'pacemaker-1.0' }
  /** Heartbeat 2.x crm.dtd. */
  | { family: 'heartbeat-2' };

/** Lowest pacemaker-3 schema with every feature ocf-gen uses: Promoted/Unpromoted (crm_resource --move --promoted needs it). */
export const BASE_MINOR = 7;
/** Newest pacemaker-3.x schema (Pacemaker 2.1.8/2.1.9); Pacemaker 3.0 brought pacemaker-4.0. */
export const MAX_MINOR = 10;

export const DIALECT_HELP = `pacemaker-3 (default), pacemaker-3.0 … pacemaker-3.${MAX_MINOR}, pacemaker-4.0, pacemaker-1.0, heartbeat-2`;

export function parseDialect(s: string): Dialect | string {
  if (s === 'pacemaker-3') return { family: 'pacemaker', major: 3, minor: BASE_MINOR, pinned: false };
  if (s === 'pacemaker-1.0') return { family: 'pacemaker-1.0' };
  if (s === 'heartbeat-2') return { family: 'heartbeat-2' };
  if (s === 'pacemaker-4.0') return { family: 'pacemaker', major: 4, minor: 0, pinned: true };
  const m = /^pacemaker-3\.(\d+)$/.exec(s);
  if (m && Number(m[1]) <= MAX_MINOR) return { family: 'pacemaker', major: 3, minor: Number(m[1]), pinned: true };
  return `unknown schema '${s}' (one of: ${DIALECT_HELP})`;
}

/** Pacemaker 3 style names (Promoted, promoted-max) from schema 3.7 on; Master/Slave before. */
export const usesPromotedNames = (d: Dialect) => d.family === 'pacemaker' && (d.major > 3 || d.minor >= 7);

/**
 * validate-with for the pacemaker family: the pinned version, or the lowest
 * one carrying every feature in use — never below pacemaker-3.7. A pin below
 * what a feature needs is an error.
 */
export function validateWith(cib: Cib, d: Dialect & { family: 'pacemaker' }): string {
  const problems = new Problems();
  let need = 0; // minimum 3.x minor for the features used
  for (const p of primitives(cib.resources)) {
    for (const op of p.ops) {
      if (op.onFail === 'demote') {
        need = Math.max(need, 4);
        if (d.major === 3 && d.minor < 4) problems.add(`primitive '${p.id}' operation '${op.name}'`, 'on-fail=demote needs pacemaker-3.4 or later');
      }
    }
  }
  problems.throwIfAny();
  if (d.pinned) return `pacemaker-${d.major}.${d.minor}`;
  return `pacemaker-3.${Math.max(BASE_MINOR, need)}`;
}
