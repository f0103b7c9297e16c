import { diskState, role, unconfigured, type DrbdState } from './state.js';

/**
 * `drbdsetup status <res> --json` (DRBD 9; drbdsetup.c resource_status_json,
 * device_status_json, connection_status_json, peer_device_status_json):
 *
 *   [ { "name": "r0", "node-id": 0, "role": "Secondary", …,
 *       "devices": [ { "volume": 0, "minor": 0, "disk-state": "UpToDate",
 *                      "client": false, "quorum": true, … } ],
 *       "connections": [ { "peer-node-id": 1, "name": "b", "connection-state": "Connected",
 *                          "peer-role": "Primary",
 *                          "peer_devices": [ { "volume": 0, "replication-state": "Established",
 *                                              "peer-disk-state": "UpToDate", "peer-client": false, … } ] } ] } ]
 *
 * Older drbd-utils lack some keys ("client", "quorum", "open"): missing ones
 * take the value that changes nothing (not a client, quorate).
 */

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown, d: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);
const bool = (v: unknown, d: boolean): boolean => (typeof v === 'boolean' ? v : d);

export function stateFromStatusJson(resource: string, text: string): DrbdState {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`drbdsetup status --json: unreadable output (${e instanceof Error ? e.message : String(e)})`);
  }
  const res = arr(data).map(obj).find((r) => r.name === resource);
  if (!res) return unconfigured(resource);
  return {
    resource,
    configured: true,
    role: role(str(res.role)),
    volumes: arr(res.devices).map(obj).map((d, i) => ({
      volume: num(d.volume, i),
      minor: num(d.minor, -1),
      disk: diskState(str(d['disk-state'])),
      client: bool(d.client, false),
      quorum: bool(d.quorum, true),
    })),
    peers: arr(res.connections).map(obj).map((c) => ({
      name: str(c.name),
      nodeId: typeof c['peer-node-id'] === 'number' ? c['peer-node-id'] : undefined,
      connection: str(c['connection-state']) ?? 'Unknown',
      role: role(str(c['peer-role'])),
      volumes: arr(c.peer_devices).map(obj).map((p, i) => ({
        volume: num(p.volume, i),
        replication: str(p['replication-state']) ?? 'Off',
        peerDisk: diskState(str(p['peer-disk-state'])),
        peerClient: bool(p['peer-client'], false),
      })),
    })),
  };
}
