import type { CrmMeta } from '../../ocf/env.js';

/**
 * What a promotable DRBD clone must look like, as ocf:linbit:drbd demands:
 * one instance per node (a node has one copy of the data), at most one
 * promoted instance per node and two overall, at most two instances with
 * DRBD 8.4 (it has exactly one peer) or with two Primaries, and
 * notifications (they reconnect a starting peer and keep scores current).
 * A problem here is the same on every node: the caller reports it as 6.
 * Meta values Pacemaker did not pass (a hand run, ocf-tester) are not held
 * against the configuration.
 */
export function cloneProblem(meta: CrmMeta, action: string, o: { ignoreMissingNotifications: boolean; drbd9: boolean }): string | undefined {
  if (action === 'stop') return undefined;
  const cloneNodeMax = meta.cloneNodeMax ?? 1;
  const promotedNodeMax = meta.promotedNodeMax ?? 1;
  const promotedMax = meta.promotedMax ?? 1;
  if (cloneNodeMax !== 1) return `clone-node-max must be 1 (one DRBD instance per node), found ${cloneNodeMax}`;
  if (promotedNodeMax !== 1) return `promoted-node-max must be 1, found ${promotedNodeMax}`;
  if (promotedMax > 2) return `promoted-max must be at most 2 (DRBD cannot safely run more Primaries), found ${promotedMax}`;
  if (meta.cloneMax !== undefined && meta.cloneMax > 2 && (!o.drbd9 || promotedMax === 2)) {
    return `clone-max must be at most 2 ${o.drbd9 ? 'with two Primaries' : 'with DRBD 8.4 (one peer per resource)'}, found ${meta.cloneMax}`;
  }
  if (!['monitor', 'validate-all', 'notify'].includes(action) && !o.ignoreMissingNotifications) {
    const notifyVarsPresent = meta.raw('notify_start_uname') !== undefined;
    if (!meta.notify && !notifyVarsPresent) return 'the clone needs notify=true (or set ignore_missing_notifications=true)';
  }
  return undefined;
}
