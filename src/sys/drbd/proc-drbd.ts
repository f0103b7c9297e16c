import { diskState, role, type DrbdState, type PeerState } from './state.js';
import { parseVersion, type DrbdVersion } from './version.js';

/**
 * /proc/drbd as DRBD 8.4 writes it (drbd_proc.c, drbd_seq_show):
 *
 *   version: 8.4.11 (api:1/proto:86-101)
 *   srcversion: 211FB288A383ED945B83420
 *    0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----
 *       ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0
 *    1: cs:Unconfigured
 *
 * A minor that is StandAlone, Diskless and Secondary prints as
 * "cs:Unconfigured"; a minor that does not exist is not listed. DRBD 9
 * prints only the version lines here: its state comes from drbdsetup.
 */

export interface ProcMinor {
  minor: number;
  /** Connection state, or "Unconfigured". */
  cs: string;
  role?: string;
  peerRole?: string;
  disk?: string;
  peerDisk?: string;
}

export interface ProcDrbd {
  version?: DrbdVersion;
  minors: Map<number, ProcMinor>;
}

const MINOR = /^\s*(\d+): cs:(\S+)(?: ro:([^/\s]+)\/(\S+) ds:([^/\s]+)\/(\S+))?/;

export function parseProcDrbd(text: string): ProcDrbd {
  const out: ProcDrbd = { minors: new Map() };
  for (const line of text.split('\n')) {
    if (line.startsWith('version:')) {
      out.version = parseVersion(line.slice('version:'.length));
      continue;
    }
    const m = MINOR.exec(line);
    if (!m) continue;
    const minor = Number(m[1]);
    out.minors.set(minor, { minor, cs: m[2]!, role: m[3], peerRole: m[4], disk: m[5], peerDisk: m[6] });
  }
  return out;
}

/**
 * 8.4 connection states from Connected on are "connected" ones (drbd_conns[]
 * order); DRBD 9 calls the part after Connected the replication state.
 */
const CONNECTED_84 = new Set([
  'Connected', 'StartingSyncS', 'StartingSyncT', 'WFBitMapS', 'WFBitMapT', 'WFSyncUUID',
  'SyncSource', 'SyncTarget', 'VerifyS', 'VerifyT', 'PausedSyncS', 'PausedSyncT', 'Ahead', 'Behind',
]);

/** 8.4's names for connection states that DRBD 9 renamed. */
const CONNECTION_9_NAME: Record<string, string> = { WFConnection: 'Connecting' };

/**
 * The state of one 8.4 resource from its minors' lines. 8.4 has one peer;
 * its connection state is per minor, so the resource's is the first minor's
 * unless another one is worse (not connected).
 */
export function stateFromProc84(resource: string, minors: number[], proc: ProcDrbd): DrbdState {
  const lines = minors.map((m) => proc.minors.get(m));
  const present = lines.filter((l): l is ProcMinor => l !== undefined && l.cs !== 'Unconfigured');
  if (present.length === 0) return { resource, configured: false, role: 'Unknown', volumes: [], peers: [] };

  const roles = present.map((l) => role(l.role));
  const resRole = roles.includes('Primary') ? 'Primary' : roles.includes('Secondary') ? 'Secondary' : 'Unknown';
  const volumes = minors.map((minor, volume) => {
    const l = lines[volume];
    const configured = l !== undefined && l.cs !== 'Unconfigured';
    return { volume, minor, disk: configured ? diskState(l.disk) : ('Unconfigured' as const), client: false, quorum: true };
  });

  const notConnected = present.find((l) => !CONNECTED_84.has(l.cs));
  const cs = (notConnected ?? present[0]!).cs;
  const peerRoles = present.map((l) => role(l.peerRole));
  const peer: PeerState = {
    connection: CONNECTED_84.has(cs) ? 'Connected' : (CONNECTION_9_NAME[cs] ?? cs),
    role: peerRoles.includes('Primary') ? 'Primary' : peerRoles.includes('Secondary') ? 'Secondary' : 'Unknown',
    volumes: minors.flatMap((_, volume) => {
      const l = lines[volume];
      if (!l || l.cs === 'Unconfigured') return [];
      return [{ volume, replication: CONNECTED_84.has(l.cs) ? (l.cs === 'Connected' ? 'Established' : l.cs) : 'Off', peerDisk: diskState(l.peerDisk), peerClient: false }];
    }),
  };
  return { resource, configured: true, role: resRole, volumes, peers: [peer] };
}
