import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseProcDrbd, stateFromProc84 } from '../../src/sys/drbd/proc-drbd.js';
import { checkAdjustScores, DEFAULT_ADJUST, parseAdjustScores, promotionScore, type ScoreDecision } from '../../src/sys/drbd/score.js';
import { factsOf, type DrbdState } from '../../src/sys/drbd/state.js';
import { stateFromStatusJson } from '../../src/sys/drbd/status-json.js';

const ROOT = join(import.meta.dirname, '../..');
const from84 = (name: string) => stateFromProc84('r0', [0], parseProcDrbd(readFileSync(join(ROOT, 'test/standins/drbd/documented-84/proc', `${name}.txt`), 'utf8')));
const from9 = (name: string) => stateFromStatusJson('r0', readFileSync(join(ROOT, 'test/fixtures/drbd9', name), 'utf8'));
const adjust = parseAdjustScores(DEFAULT_ADJUST);
const score = (s: DrbdState, removeIfPeerPrimary = false, a = adjust): number | 'none' | 'keep' => {
  const d: ScoreDecision = promotionScore(factsOf(s), a, { removeIfPeerPrimary });
  return d.kind === 'set' ? d.score : d.kind === 'remove' ? 'none' : 'keep';
};

describe('promotion score table (defaults "0 10 1000 10000")', () => {
  // Every row of the table in score.ts, from tool output of that situation.
  it.each([
    ['8.4 Primary, UpToDate, connected', from84('primary-connected-uptodate'), 10000],
    ['8.4 Primary, UpToDate, peer unknown', from84('primary-wfconnection-uptodate'), 10000],
    ['8.4 Secondary, UpToDate, peer known UpToDate', from84('secondary-connected-uptodate'), 10000],
    ['8.4 Secondary, UpToDate, peer disk unknown', from84('secondary-wfconnection-uptodate'), 1000],
    ['8.4 Secondary, StandAlone (split brain), UpToDate', from84('secondary-standalone-uptodate'), 1000],
    ['8.4 SyncTarget: Inconsistent, peer UpToDate', from84('secondary-synctarget'), 10],
    ['8.4 Primary lost its disk, peer UpToDate', from84('primary-diskless-connected'), 10],
    ['8.4 Inconsistent, peer unknown', from84('secondary-wfconnection-inconsistent'), 'none'],
    ['8.4 Outdated, peer unknown', from84('secondary-wfconnection-outdated'), 'none'],
    ['8.4 Consistent, peer unknown (first value 0)', from84('secondary-wfconnection-consistent'), 'none'],
    ['8.4 not configured', from84('loaded-no-minors'), 'none'],
    ['9 Secondary, UpToDate, connected', from9('status-secondary-connected.json'), 10000],
    ['9 Secondary, UpToDate, peer connecting', from9('status-secondary-connecting.json'), 1000],
    ['9 Outdated', from9('status-secondary-outdated.json'), 'none'],
    ['9 SyncTarget', from9('status-secondary-synctarget.json'), 10],
    ['9 no quorum (UpToDate disk)', from9('status-secondary-no-quorum.json'), 'none'],
    ['9 diskless client, all peers UpToDate', from9('status-diskless-client.json'), 9999],
    ['9 Primary detached', from9('status-primary-detached.json'), 10],
  ])('%s → %s', (_, state, expected) => {
    expect(score(state)).toBe(expected);
  });

  it('lets the admin opt Consistent data into a score (first value), as ocf:linbit:drbd does', () => {
    expect(score(from84('secondary-wfconnection-consistent'), false, parseAdjustScores('5 10 1000 10000'))).toBe(5);
  });

  it('uses the configured values', () => {
    const a = parseAdjustScores('0 1 2 3');
    expect(score(from84('primary-connected-uptodate'), false, a)).toBe(3);
    expect(score(from84('secondary-wfconnection-uptodate'), false, a)).toBe(2);
    expect(score(from84('secondary-synctarget'), false, a)).toBe(1);
    expect(score(from9('status-diskless-client.json'), false, a)).toBe(2);
  });

  it('removes the score while connected to a healthy Primary when asked to, never as Primary', () => {
    const peerPrimary = from84('secondary-connected-peer-primary');
    expect(score(peerPrimary)).toBe(10000);
    expect(score(peerPrimary, true)).toBe('none');
    expect(score(from84('primary-connected-uptodate'), true)).toBe(10000);
    // The peer is Primary but its disk is not all UpToDate: keep the normal score.
    const sick = from84('secondary-connected-peer-primary');
    sick.peers[0]!.volumes[0]!.peerDisk = 'Diskless';
    expect(score(sick, true)).toBe(10000);
  });

  it('leaves the score alone while a disk is attaching', () => {
    const s = from84('secondary-wfconnection-uptodate');
    s.volumes[0]!.disk = 'Attaching';
    expect(score(s)).toBe('keep');
  });

  it('needs every volume UpToDate for the top scores', () => {
    const s = from9('status-all-two-volumes.json'); // volume 1 still Inconsistent, peer UpToDate
    expect(score(s)).toBe(10);
  });

  it('never promotes stale data: no combination of bad local disks without an UpToDate peer gets a score', () => {
    for (const disk of ['Inconsistent', 'Outdated', 'Diskless', 'Failed', 'DUnknown', 'Detaching', 'Unconfigured'] as const) {
      for (const peerDisk of ['DUnknown', 'Outdated', 'Inconsistent', 'Consistent', 'Diskless'] as const) {
        for (const role of ['Primary', 'Secondary'] as const) {
          const s: DrbdState = {
            resource: 'r0', configured: true, role,
            volumes: [{ volume: 0, minor: 0, disk, client: false, quorum: true }],
            peers: [{ connection: 'Connected', role: 'Secondary', volumes: [{ volume: 0, replication: 'Established', peerDisk, peerClient: false }] }],
          };
          expect(score(s), `${role} ${disk}/${peerDisk}`).toBe('none');
        }
      }
    }
  });
});

describe('adjust_master_score values', () => {
  it.each([
    ['0 10 1000 10000', undefined],
    ['  0   10 1000 10000 ', undefined],
    ['0 10 1000', /four/],
    ['0 10 1000 10000 5', /four/],
    ['0 10 -1 10000', /non-negative/],
    ['0 10 x 10000', /non-negative/],
    ['0 1000 10 10000', /not decrease/],
  ])('%j', (v, problem) => {
    const p = checkAdjustScores(v);
    if (problem) expect(p).toMatch(problem);
    else expect(p).toBeUndefined();
  });
});
