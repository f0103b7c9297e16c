import { diskState, role, unconfigured, type DrbdState, type PeerState, type VolumeState } from './state.js';

/**
 * `drbdsetup events2 <res> --now` (DRBD 9; drbdsetup_events2.c): the current
 * state as "exists" lines of key:value words, ended by "exists -":
 *
 *   exists resource name:r0 role:Secondary suspended:no
 *   exists connection name:r0 peer-node-id:1 conn-name:b connection:StandAlone role:Unknown sync-state:SplitBrain
 *   exists device name:r0 volume:0 minor:0 disk:UpToDate client:no quorum:yes
 *   exists peer-device name:r0 peer-node-id:1 conn-name:b volume:0 replication:Off peer-disk:DUnknown peer-client:no
 *   exists -
 *
 * The reason a connection is StandAlone (sync-state:SplitBrain or Unrelated)
 * is printed by newer drbd-utils only; older ones leave it out.
 */

export type Events2Line = { action: string; object: string; fields: Record<string, string> };

export function parseEvents2(text: string): Events2Line[] {
  const out: Events2Line[] = [];
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    // With --timestamps every line starts with one; skip it.
    if (words[0] && /^\d{4}-\d\d-\d\dT/.test(words[0])) words.shift();
    const [action, object, ...rest] = words;
    if (!action || !object || object === '-') continue;
    const fields: Record<string, string> = {};
    for (const w of rest) {
      const i = w.indexOf(':');
      if (i > 0) fields[w.slice(0, i)] = w.slice(i + 1);
    }
    out.push({ action, object, fields });
  }
  return out;
}

export function stateFromEvents2(resource: string, text: string): DrbdState {
  const lines = parseEvents2(text).filter((l) => l.action === 'exists' && l.fields.name === resource);
  const res = lines.find((l) => l.object === 'resource');
  if (!res) return unconfigured(resource);

  const volumes: VolumeState[] = lines
    .filter((l) => l.object === 'device')
    .map((l) => ({
      volume: Number(l.fields.volume ?? 0),
      minor: Number(l.fields.minor ?? -1),
      disk: diskState(l.fields.disk),
      client: l.fields.client === 'yes',
      quorum: l.fields.quorum !== 'no',
    }));

  const peers = new Map<string, PeerState>();
  for (const l of lines.filter((x) => x.object === 'connection')) {
    const key = l.fields['peer-node-id'] ?? l.fields['conn-name'] ?? String(peers.size);
    peers.set(key, {
      name: l.fields['conn-name'],
      nodeId: l.fields['peer-node-id'] === undefined ? undefined : Number(l.fields['peer-node-id']),
      connection: l.fields.connection ?? 'Unknown',
      role: role(l.fields.role),
      splitBrain: l.fields['sync-state'] === 'SplitBrain' ? true : undefined,
      volumes: [],
    });
  }
  for (const l of lines.filter((x) => x.object === 'peer-device')) {
    const peer = peers.get(l.fields['peer-node-id'] ?? l.fields['conn-name'] ?? '');
    peer?.volumes.push({
      volume: Number(l.fields.volume ?? 0),
      replication: l.fields.replication ?? 'Off',
      peerDisk: diskState(l.fields['peer-disk']),
      peerClient: l.fields['peer-client'] === 'yes',
    });
  }
  return { resource, configured: true, role: role(res.fields.role), volumes, peers: [...peers.values()] };
}
