// The generated HA-NFS CIB under Pacemaker's own scheduler (crm_simulate,
// crm_attribute, crm_resource on CIB files; no cluster needed, see NOTES.md):
// DRBD is promoted where its promotion score is highest, the group follows the
// Promoted role, starts after the promotion, fails over to the other node, and
// `crm_resource --move --promoted` demotes/promotes with the group stopping
// IP → nfsserver → Filesystem before the demote. Ordering is read from the
// transition graph (-G), not from where things end up.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertChain,
  buildOcfGen,
  findAction,
  type GraphAction,
  mustRun,
  ocfGen,
  placement,
  read,
  readGraph,
  requireTools,
  run,
  setPromotionScore,
  simulate,
  tempDir,
  whereIs,
  write,
} from './cib-helpers.js';

const tmp = tempDir('cib-sim');
afterAll(() => tmp.cleanup());

beforeAll(() => {
  requireTools('crm_simulate', 'crm_attribute', 'crm_resource', 'crm_mon', 'crm_verify');
  buildOcfGen();
});

/** Generates the ha-nfs CIB (dialect/settings as given), brings both nodes up and gives DRBD promotion scores. */
function startCluster(name: string, args: string[], scores: { node1: number; node2: number }, nodes = ['node1', 'node2']): { state: string; graph: Map<string, GraphAction> } {
  const cib = tmp.file(`${name}.xml`);
  const r = ocfGen(['cib', ...args]);
  expect(r.code, r.stderr).toBe(0);
  write(cib, r.stdout);
  // Both nodes online, quorum: DRBD starts Unpromoted on both (crm_simulate runs no agents).
  const up = tmp.file(`${name}-up.xml`);
  simulate(cib, up, tmp.file(`${name}-up-graph.xml`), ['-q', 'true', ...nodes.flatMap((n) => ['-u', n])]);
  const p0 = placement(up);
  expect(whereIs(p0, 'drbd', 'Unpromoted').sort()).toEqual([...nodes].sort());
  expect(whereIs(p0, 'fs')).toEqual([]); // nothing mounted while DRBD is nowhere Promoted
  // What the drbd agent does once a node's data is UpToDate.
  setPromotionScore(up, 'drbd', nodes[0]!, scores.node1);
  setPromotionScore(up, 'drbd', nodes[1]!, scores.node2);
  const state = tmp.file(`${name}-promoted.xml`);
  const graphFile = tmp.file(`${name}-promoted-graph.xml`);
  simulate(up, state, graphFile);
  return { state, graph: readGraph(graphFile) };
}

describe('ha-nfs under crm_simulate (pacemaker-3 dialect)', () => {
  let promoted: { state: string; graph: Map<string, GraphAction> };

  it('promotes DRBD on the node with the higher promotion score and starts the group there, after the promote', () => {
    promoted = startCluster('ha-nfs', [], { node1: 10000, node2: 5000 });
    const p = placement(promoted.state);
    expect(whereIs(p, 'drbd', 'Promoted')).toEqual(['node1']);
    expect(whereIs(p, 'drbd', 'Unpromoted')).toEqual(['node2']);
    for (const r of ['fs', 'nfs', 'ip']) expect(whereIs(p, r), r).toEqual(['node1']);
    const g = promoted.graph;
    assertChain(g, [
      findAction(g, 'drbd', 'promote', 'node1'),
      findAction(g, 'fs', 'start', 'node1'),
      findAction(g, 'nfs', 'start', 'node1'),
      findAction(g, 'ip', 'start', 'node1'),
    ]);
  });

  it('follows the scores: node2 preferred → everything on node2', () => {
    const other = startCluster('ha-nfs-node2', [], { node1: 100, node2: 10000 });
    const p = placement(other.state);
    expect(whereIs(p, 'drbd', 'Promoted')).toEqual(['node2']);
    for (const r of ['fs', 'nfs', 'ip']) expect(whereIs(p, r), r).toEqual(['node2']);
    assertChain(other.graph, [findAction(other.graph, 'drbd', 'promote', 'node2'), findAction(other.graph, 'fs', 'start', 'node2')]);
  });

  it('--node-fail node1: DRBD promoted on node2, then the group starts there in order', () => {
    const out = tmp.file('fail.xml');
    const graphFile = tmp.file('fail-graph.xml');
    simulate(promoted.state, out, graphFile, ['--node-fail', 'node1']);
    const p = placement(out);
    expect(whereIs(p, 'drbd', 'Promoted')).toEqual(['node2']);
    for (const r of ['fs', 'nfs', 'ip']) expect(whereIs(p, r), r).toEqual(['node2']);
    const g = readGraph(graphFile);
    assertChain(g, [
      findAction(g, 'drbd', 'promote', 'node2'),
      findAction(g, 'fs', 'start', 'node2'),
      findAction(g, 'nfs', 'start', 'node2'),
      findAction(g, 'ip', 'start', 'node2'),
    ]);
  });

  it('crm_resource --move --promoted: stop IP → nfsserver → Filesystem, demote, promote, start again on the other node; --clear removes the constraint', () => {
    const moved = tmp.file('move.xml');
    write(moved, read(promoted.state));
    mustRun('crm_resource', ['--resource', 'drbd-clone', '--move', '--promoted', '--node', 'node2'], { env: { CIB_file: moved } });
    expect(read(moved)).toMatch(/<rsc_location id="cli-prefer-drbd-clone" rsc="drbd-clone" role="Promoted" node="node2" score="INFINITY"\/>/);
    const after = tmp.file('move-after.xml');
    const graphFile = tmp.file('move-graph.xml');
    simulate(moved, after, graphFile);
    const p = placement(after);
    expect(whereIs(p, 'drbd', 'Promoted')).toEqual(['node2']);
    expect(whereIs(p, 'drbd', 'Unpromoted')).toEqual(['node1']); // demoted, not stopped
    for (const r of ['fs', 'nfs', 'ip']) expect(whereIs(p, r), r).toEqual(['node2']);
    const g = readGraph(graphFile);
    assertChain(g, [
      findAction(g, 'ip', 'stop', 'node1'),
      findAction(g, 'nfs', 'stop', 'node1'),
      findAction(g, 'fs', 'stop', 'node1'),
      findAction(g, 'drbd', 'demote', 'node1'),
      findAction(g, 'drbd', 'promote', 'node2'),
      findAction(g, 'fs', 'start', 'node2'),
      findAction(g, 'nfs', 'start', 'node2'),
      findAction(g, 'ip', 'start', 'node2'),
    ]);
    expect([...g.values()].some((a) => a.rsc === 'drbd' && a.operation === 'stop')).toBe(false);

    mustRun('crm_resource', ['--resource', 'drbd-clone', '--clear'], { env: { CIB_file: after } });
    expect(read(after)).not.toMatch(/cli-prefer|cli-ban/);
    // The drbd agent now scores its new Primary above the Secondary (crm_simulate runs no agents: do it here);
    // with the move constraint gone, nothing moves back.
    setPromotionScore(after, 'drbd', 'node2', 10000);
    setPromotionScore(after, 'drbd', 'node1', 5000);
    const settled = tmp.file('settled.xml');
    const settledGraph = tmp.file('settled-graph.xml');
    simulate(after, settled, settledGraph);
    const ps = placement(settled);
    expect(whereIs(ps, 'drbd', 'Promoted')).toEqual(['node2']);
    for (const r of ['fs', 'nfs', 'ip']) expect(whereIs(ps, r), r).toEqual(['node2']);
    expect([...readGraph(settledGraph).values()].filter((a) => ['start', 'stop', 'promote', 'demote'].includes(a.operation) && a.rsc)).toEqual([]);
  });

  it('works the same with other node names and a pinned schema (pacemaker-3.9)', () => {
    const c = startCluster('named', ['--set', 'node1=alice', '--set', 'node2=bob', '--schema', 'pacemaker-3.9'], { node1: 10, node2: 10000 }, ['alice', 'bob']);
    const p = placement(c.state);
    expect(whereIs(p, 'drbd', 'Promoted')).toEqual(['bob']);
    for (const r of ['fs', 'nfs', 'ip']) expect(whereIs(p, r), r).toEqual(['bob']);
  });
});

describe('why pacemaker-3.7 is the floor', () => {
  it('on a pacemaker-3.6 CIB crm_resource --move --promoted fails; on the default 3.7 it works (test above)', () => {
    const c = startCluster('p36', ['--schema', 'pacemaker-3.6'], { node1: 10000, node2: 5000 });
    const r = run('crm_resource', ['--resource', 'drbd-clone', '--move', '--promoted', '--node', 'node2'], { env: { CIB_file: c.state } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Invalid configuration/);
  });
});

describe('the pacemaker-1.0 dialect under crm_simulate', () => {
  it('places and orders the same way (Pacemaker upgrades <master> itself)', () => {
    const c = startCluster('p10', ['--schema', 'pacemaker-1.0'], { node1: 10000, node2: 5000 });
    const p = placement(c.state);
    expect(whereIs(p, 'drbd', 'Promoted')).toEqual(['node1']);
    for (const r of ['fs', 'nfs', 'ip']) expect(whereIs(p, r), r).toEqual(['node1']);
    assertChain(c.graph, [findAction(c.graph, 'drbd', 'promote', 'node1'), findAction(c.graph, 'fs', 'start', 'node1'), findAction(c.graph, 'ip', 'start', 'node1')]);
  });
});
