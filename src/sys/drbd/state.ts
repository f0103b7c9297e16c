/**
 * One DRBD resource's state, the same shape whichever source it came from
 * (/proc/drbd of DRBD 8.4, `drbdsetup status --json` or `events2 --now` of
 * DRBD 9). Names are DRBD's own (drbd_strings.c), DRBD 9 spelling.
 */

/** Local or peer disk state. "Unconfigured" is ours: a volume of the resource the kernel does not know. */
export type DiskState =
  | 'Diskless'
  | 'Attaching'
  | 'Detaching'
  | 'Failed'
  | 'Negotiating'
  | 'Inconsistent'
  | 'Outdated'
  | 'DUnknown'
  | 'Consistent'
  | 'UpToDate'
  | 'Unconfigured';

export type Role = 'Primary' | 'Secondary' | 'Unknown';

export interface VolumeState {
  volume: number;
  minor: number;
  disk: DiskState;
  /** DRBD 9 intentional diskless ("client:yes"). Never true on 8.4. */
  client: boolean;
  /** DRBD 9 quorum; always true on 8.4 (it has none). */
  quorum: boolean;
}

export interface PeerVolumeState {
  volume: number;
  /** DRBD 9 replication state (Off, Established, SyncSource…); on 8.4 the connection state when ≥ Connected. */
  replication: string;
  peerDisk: DiskState;
  peerClient: boolean;
}

export interface PeerState {
  /** DRBD 9 connection name (the peer's host name); on 8.4 unknown. */
  name?: string;
  nodeId?: number;
  /** StandAlone, Connecting (8.4: WFConnection), Connected, … */
  connection: string;
  role: Role;
  /**
   * The connection was dropped because of a split brain: events2's
   * sync-state:SplitBrain (newer DRBD 9), or the kernel log (see splitbrain.ts).
   */
  splitBrain?: boolean;
  volumes: PeerVolumeState[];
}

export interface DrbdState {
  resource: string;
  /** false: the kernel has no such resource (down, or module not loaded). */
  configured: boolean;
  role: Role;
  volumes: VolumeState[];
  peers: PeerState[];
}

export const unconfigured = (resource: string): DrbdState => ({ resource, configured: false, role: 'Unknown', volumes: [], peers: [] });

const DISK_STATES = new Set<string>(['Diskless', 'Attaching', 'Detaching', 'Failed', 'Negotiating', 'Inconsistent', 'Outdated', 'DUnknown', 'Consistent', 'UpToDate']);

/** A disk state word from a tool's output; anything unknown is kept out of the "good" states. */
export function diskState(s: string | undefined): DiskState {
  return s !== undefined && DISK_STATES.has(s) ? (s as DiskState) : 'DUnknown';
}

export function role(s: string | undefined): Role {
  return s === 'Primary' || s === 'Secondary' ? s : 'Unknown';
}

/**
 * The facts the promotion score and the monitor are decided on; the same
 * questions ocf:linbit:drbd asks (drbd.shellfuncs.sh), answered once.
 */
export interface DrbdFacts {
  configured: boolean;
  primary: boolean;
  somePeerPrimary: boolean;
  /** Every volume is an intentional diskless client (DRBD 9). */
  disklessClient: boolean;
  haveQuorum: boolean;
  diskAllUpToDate: boolean;
  /** No local volume is Diskless/Failed/Inconsistent/Outdated/Detaching (Consistent counts as consistent). */
  diskAllConsistent: boolean;
  /** A local volume is Attaching or Negotiating: wait, decide nothing. */
  diskTransitional: boolean;
  /** Some (diskful) peer has all its volumes UpToDate. */
  somePeerAllUpToDate: boolean;
  /** Every (diskful) peer has all volumes UpToDate, and there is at least one. */
  peerDisksAllUpToDate: boolean;
  /** Some peer volume's disk state is DUnknown (not connected, or never was). */
  peerDiskAnyUnknown: boolean;
  /** Primary, but a local (not intentionally diskless) disk is gone: DRBD serves I/O from the peer or fails it. */
  primaryLostDisk: boolean;
  /** Volumes whose local disk is not UpToDate, as "vol:state" (for messages). */
  badDisks: string[];
  standAlonePeers: PeerState[];
}

const LOST = new Set<DiskState>(['Diskless', 'Failed', 'Detaching']);
const NOT_CONSISTENT = new Set<DiskState>(['Diskless', 'Failed', 'Inconsistent', 'Outdated', 'Detaching', 'DUnknown', 'Unconfigured']);

export function factsOf(s: DrbdState): DrbdFacts {
  const diskful = s.volumes.filter((v) => !v.client);
  const primary = s.configured && s.role === 'Primary';
  const disklessClient = s.volumes.length > 0 && diskful.length === 0;

  // Diskless-client peers neither hold good data nor hide it (as the linbit agent counts them).
  const dataPeers = s.peers.filter((p) => !(p.volumes.length > 0 && p.volumes.every((v) => v.peerClient)));
  const peerAllUpToDate = (p: PeerState) => s.volumes.length > 0 && s.volumes.every((v) => p.volumes.some((pv) => pv.volume === v.volume && pv.peerDisk === 'UpToDate'));
  const peerAnyUnknown = (p: PeerState) => s.volumes.some((v) => {
    const pv = p.volumes.find((x) => x.volume === v.volume);
    return pv === undefined || pv.peerDisk === 'DUnknown';
  });
  const somePeerAllUpToDate = dataPeers.some(peerAllUpToDate);
  const peerDiskAnyUnknown = dataPeers.some(peerAnyUnknown);

  return {
    configured: s.configured,
    primary,
    somePeerPrimary: s.peers.some((p) => p.role === 'Primary'),
    disklessClient,
    haveQuorum: s.volumes.every((v) => v.quorum),
    diskAllUpToDate: diskful.length > 0 && diskful.every((v) => v.disk === 'UpToDate'),
    diskAllConsistent: diskful.length > 0 && diskful.every((v) => !NOT_CONSISTENT.has(v.disk)),
    diskTransitional: diskful.some((v) => v.disk === 'Attaching' || v.disk === 'Negotiating'),
    somePeerAllUpToDate,
    peerDisksAllUpToDate: dataPeers.length > 0 && dataPeers.every(peerAllUpToDate),
    peerDiskAnyUnknown,
    primaryLostDisk: primary && diskful.some((v) => LOST.has(v.disk)),
    badDisks: diskful.filter((v) => v.disk !== 'UpToDate').map((v) => `${v.volume}:${v.disk}`),
    standAlonePeers: s.peers.filter((p) => p.connection === 'StandAlone'),
  };
}

/** One line for logs and exit reasons: "Secondary, disk UpToDate, peer Connected Secondary UpToDate". */
export function describeState(s: DrbdState): string {
  if (!s.configured) return 'not configured';
  const disks = [...new Set(s.volumes.map((v) => (v.client ? 'Diskless client' : v.disk)))].join('/');
  const peers = s.peers.map((p) => {
    const pd = [...new Set(p.volumes.map((v) => v.peerDisk))].join('/') || 'DUnknown';
    return `peer${p.name ? ` ${p.name}` : ''} ${p.connection} ${p.role} ${pd}`;
  });
  return [`${s.role}`, `disk ${disks || 'none'}`, ...peers].join(', ');
}

/** Replication states of a connected peer volume that are not a resync: data flows both ways in step. */
const IN_STEP = new Set(['Established', 'Connected']);

/**
 * Why a running resource has lost redundancy — the OCF 1.1 "degraded" of its monitor — or
 * undefined when it has all of it: every local (diskful) disk UpToDate, every data peer connected
 * and in step (no resync, no verify) with every disk UpToDate. Diskless clients count as healthy when
 * some peer holds UpToDate data. Split brain is named by the caller, with how to resolve it.
 */
export function degradationOf(s: DrbdState): string | undefined {
  if (!s.configured) return undefined;
  const f = factsOf(s);
  const why: string[] = [];
  if (f.disklessClient) {
    if (!f.somePeerAllUpToDate) why.push('diskless client without an UpToDate peer');
  } else if (!f.diskAllUpToDate) {
    why.push(`local disk ${f.badDisks.join(', ')}`);
  }
  const dataPeers = s.peers.filter((p) => !(p.volumes.length > 0 && p.volumes.every((v) => v.peerClient)));
  if (dataPeers.length === 0 && !f.disklessClient) why.push('no peer');
  for (const p of dataPeers) {
    const name = `peer${p.name ? ` ${p.name}` : ''}`;
    if (p.connection !== 'Connected') {
      why.push(`${name} ${p.connection}`);
      continue;
    }
    const syncing = [...new Set(p.volumes.map((v) => v.replication).filter((r) => !IN_STEP.has(r)))];
    if (syncing.length) why.push(`${name} ${syncing.join('/')}`);
    const bad = p.volumes.filter((v) => !v.peerClient && v.peerDisk !== 'UpToDate').map((v) => `${v.volume}:${v.peerDisk}`);
    if (bad.length) why.push(`${name} disk ${bad.join(', ')}`);
  }
  return why.length ? why.join('; ') : undefined;
}
