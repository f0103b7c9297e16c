// Heartbeat 2 and Pacemaker 1.x names and how Pacemaker 3 spells them (or
// drops them): the tables the CIB XML reader (read-xml.ts) converts with.

/** Heartbeat 2 cluster options that Pacemaker keeps elsewhere or no longer has. */
export const MOVED_OPTIONS: Record<string, ['rsc' | 'op', string]> = {
  'default-resource-stickiness': ['rsc', 'resource-stickiness'],
  'is-managed-default': ['rsc', 'is-managed'],
  'default-action-timeout': ['op', 'timeout'],
};
export const DROPPED_OPTIONS: Record<string, string> = {
  'transition-idle-timeout': 'Pacemaker has no transition idle timeout',
  'short-resource-names': 'Pacemaker always uses the short names',
  'default-resource-failure-stickiness': 'Pacemaker uses migration-threshold (resource default) instead',
  'dc-version': 'the cluster sets it',
  'cluster-infrastructure': 'the cluster sets it',
  'last-lrm-refresh': 'the cluster sets it',
  'expected-quorum-votes': 'corosync decides quorum now',
};
/** Names Heartbeat 2 accepted in instance_attributes that are resource options (meta attributes) in Pacemaker. */
export const META_NAMES = new Set([
  'priority',
  'target-role',
  'is-managed',
  'resource-stickiness',
  'migration-threshold',
  'failure-timeout',
  'multiple-active',
  'restart-type',
  'clone-max',
  'clone-node-max',
  'promoted-max',
  'promoted-node-max',
  'notify',
  'globally-unique',
  'ordered',
  'interleave',
  'collocated',
  'allow-migrate',
]);

export const dashes = (s: string) => s.replace(/_/g, '-');
export function metaName(s: string): string {
  const d = dashes(s);
  return d === 'master-max' ? 'promoted-max' : d === 'master-node-max' ? 'promoted-node-max' : d;
}
