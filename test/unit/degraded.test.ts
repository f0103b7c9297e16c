// OCF 1.1 degraded results: where the runtime returns 190/191 (only a monitor, not a probe, and only
// to an executor announcing OCF ≥ 1.1), and which DRBD states count as lost redundancy.
import { describe, expect, it } from 'vitest';
import { degradedCode, executorKnowsDegraded } from '../../src/ocf/degraded.js';
import { degradationOf, type DrbdState, type PeerState } from '../../src/sys/drbd/state.js';

describe('degradedCode', () => {
  const v11 = { major: 1, minor: 1 };
  it('190/191 for a recurring monitor under an OCF 1.1 executor (Pacemaker ≥ 2.1)', () => {
    expect(degradedCode(0, { action: 'monitor', isProbe: false, ocfVersion: v11 })).toBe(190);
    expect(degradedCode(8, { action: 'monitor', isProbe: false, ocfVersion: v11 })).toBe(191);
    expect(degradedCode(8, { action: 'monitor', isProbe: false, ocfVersion: { major: 2, minor: 0 } })).toBe(191);
  });
  it('0/8 for probes, other actions, OCF 1.0 (Pacemaker 2.0) and executors that announce nothing (ocf-tester)', () => {
    expect(degradedCode(8, { action: 'monitor', isProbe: true, ocfVersion: v11 })).toBe(8);
    expect(degradedCode(0, { action: 'start', isProbe: false, ocfVersion: v11 })).toBe(0);
    expect(degradedCode(0, { action: 'monitor', isProbe: false, ocfVersion: { major: 1, minor: 0 } })).toBe(0);
    expect(degradedCode(8, { action: 'monitor', isProbe: false })).toBe(8);
    expect(executorKnowsDegraded(undefined)).toBe(false);
  });
});

const peer = (connection: string, disks: [string, string][], o: Partial<PeerState> = {}): PeerState => ({
  connection,
  role: 'Secondary',
  volumes: disks.map(([replication, peerDisk], volume) => ({ volume, replication, peerDisk: peerDisk as never, peerClient: false })),
  ...o,
});
const state = (disks: string[], peers: PeerState[], o: Partial<DrbdState> = {}): DrbdState => ({
  resource: 'r0',
  configured: true,
  role: 'Primary',
  volumes: disks.map((disk, volume) => ({ volume, minor: volume, disk: disk as never, client: disk === 'Diskless', quorum: true })),
  peers,
  ...o,
});

describe('degradationOf (DRBD)', () => {
  it('healthy: every disk UpToDate, every peer connected and in step', () => {
    expect(degradationOf(state(['UpToDate', 'UpToDate'], [peer('Connected', [['Established', 'UpToDate'], ['Established', 'UpToDate']])]))).toBeUndefined();
    expect(degradationOf({ ...state([], []), configured: false })).toBeUndefined();
  });
  it('names every cause: local disk, peer connection, resync or congestion, peer disk', () => {
    expect(degradationOf(state(['UpToDate'], [peer('Connecting', [['Off', 'DUnknown']])]))).toBe('peer Connecting');
    expect(degradationOf(state(['UpToDate', 'UpToDate'], [peer('Connected', [['SyncSource', 'Inconsistent'], ['Established', 'UpToDate']])]))).toBe('peer SyncSource; peer disk 0:Inconsistent');
    expect(degradationOf(state(['UpToDate'], [peer('Connected', [['Ahead', 'Outdated']])]))).toBe('peer Ahead; peer disk 0:Outdated');
    expect(degradationOf(state(['Outdated'], [peer('StandAlone', [['Off', 'DUnknown']], { name: 'b' })]))).toBe('local disk 0:Outdated; peer b StandAlone');
    expect(degradationOf(state(['UpToDate'], []))).toBe('no peer');
  });
  it('DRBD 9: a diskless client is healthy while a peer has UpToDate data; diskless-client peers are not data peers', () => {
    const client = state(['Diskless'], [peer('Connected', [['Established', 'UpToDate']], { name: 'a' }), peer('Connecting', [['Off', 'DUnknown']], { name: 'b' })]);
    expect(degradationOf(client)).toBe('peer b Connecting');
    const tiebreaker = peer('Connected', [['Established', 'Diskless']], { name: 't' });
    tiebreaker.volumes[0]!.peerClient = true;
    expect(degradationOf(state(['UpToDate'], [peer('Connected', [['Established', 'UpToDate']]), tiebreaker]))).toBeUndefined();
  });
});
