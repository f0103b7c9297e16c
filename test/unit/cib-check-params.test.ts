// Parameter checks of ocf-gen take the agent's own rules: ocfkit's agents are
// checked with the checks they declare (and run at validate-all), not with a
// second hand-written set that could disagree with them.
import { describe, expect, it } from 'vitest';
import { AGENTS } from '../../agents/index.js';
import { buildCib } from '../../src/cib/build.js';
import { CibError } from '../../src/cib/errors.js';
import { validateSpec } from '../../src/cib/spec-load.js';

function problemsOf(raw: unknown): string[] {
  try {
    buildCib(validateSpec({ raw, provenance: new Map() }), { origin: ['test'] });
  } catch (e) {
    if (e instanceof CibError) return e.issues.map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  return [];
}

const drbdSpec = (drbd_resource: string) => ({
  nodes: ['a', 'b'],
  resources: { d: { agent: 'ocf:ocfkit:drbd', params: { drbd_resource } } },
  clones: { ms: { resource: 'd', promotable: true, meta: { notify: true } } },
});

describe('parameter checks follow the agent', () => {
  it('a drbd_resource the ocfkit drbd agent accepts is accepted (the old hand-written rule refused ":" and "@")', () => {
    const name = 'r0:site@a';
    expect(AGENTS.drbd!.params.drbd_resource!.schema.safeParse(name).success).toBe(true);
    expect(problemsOf(drbdSpec(name))).toEqual([]);
  });

  it('a drbd_resource the agent refuses is refused with the agent\'s own words', () => {
    const name = 'r0 x';
    expect(AGENTS.drbd!.params.drbd_resource!.schema.safeParse(name).success).toBe(false);
    expect(problemsOf(drbdSpec(name))).toEqual([expect.stringMatching(/^resources\.d\.params\.drbd_resource: drbd_resource may only contain /)]);
  });
});
