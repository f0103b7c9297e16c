// Input built to exhaust ocf-gen — a YAML alias bomb, a CIB nested 20,000
// deep, external and expanding entities, endless files, template defaults that
// double at each step — is bad input: exit 2, the file (and line where there
// is one) named, never "internal error" (exit 70), never a crash, and the
// process ends on its own (each run has a generous time bound, which is a
// safety net, not a speed assertion).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOcfGen, ocfGen, requireTools, tempDir, write } from './cib-helpers.js';

const tmp = tempDir('cib-hostile');
afterAll(() => tmp.cleanup());

beforeAll(() => {
  requireTools('crm_verify');
  buildOcfGen();
});

function expectBadInput(args: string[], place: RegExp): void {
  const r = ocfGen(args);
  expect(r.stderr).not.toMatch(/internal error/);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(place);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

const deepCib = (depth: number) =>
  `<?xml version="1.0"?>\n<cib validate-with="pacemaker-3.7" epoch="1" num_updates="0" admin_epoch="0">\n<configuration><crm_config/><nodes/><resources>\n${'<group id="g">'.repeat(depth)}${'</group>'.repeat(depth)}\n</resources><constraints/></configuration><status/></cib>\n`;

describe('hostile input to ocf-gen', () => {
  it('a YAML alias bomb spec: exit 2 at the first alias', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    const f = tmp.file('bomb.yaml');
    write(f, `${lines.join('\n')}\nnodes: [a]\n`);
    expectBadInput(['cib', '--spec', f], new RegExp(`^ocf-gen: error: ${f}:2:8: aliases expand too far`, 'm'));
  });

  for (const cmd of ['convert', 'validate']) {
    it(`${cmd} of a CIB nested 20,000 deep: exit 2 at file:line:column`, () => {
      const f = tmp.file(`deep-${cmd}.xml`);
      write(f, deepCib(20_000));
      expectBadInput([cmd, f], new RegExp(`^ocf-gen: error: ${f}:4:\\d+: not well-formed XML: elements nested deeper than 256 levels`, 'm'));
    });

    it(`${cmd} of a CIB with an external entity: exit 2, nothing of the entity read`, () => {
      const f = tmp.file(`xxe-${cmd}.xml`);
      write(f, `<?xml version="1.0"?>\n<!DOCTYPE cib [\n<!ENTITY x SYSTEM "file:///etc/passwd">\n]>\n${deepCib(1).split('\n').slice(1).join('\n').replace('<nodes/>', '<nodes><node id="1" uname="&x;"/></nodes>')}`);
      expectBadInput([cmd, f], new RegExp(`^ocf-gen: error: ${f}:2:1: not well-formed XML: a DOCTYPE with declarations`, 'm'));
    });

    it(`${cmd} of an endless file (/dev/zero): exit 2 naming it`, () => {
      expectBadInput([cmd, '/dev/zero'], /^ocf-gen: error: \/dev\/zero: larger than 64 MiB: not a file ocf-gen reads$/m);
    });
  }

  it('convert of "billion laughs" entities: exit 2 (entities are never expanded)', () => {
    const f = tmp.file('laughs.xml');
    const ents = ['<!ENTITY l0 "lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`)].join('\n');
    write(f, `<?xml version="1.0"?>\n<!DOCTYPE cib [\n${ents}\n]>\n<cib epoch="1" num_updates="0" admin_epoch="0"><configuration><crm_config/><nodes><node id="1" uname="&l9;"/></nodes><resources/><constraints/></configuration><status/></cib>\n`);
    expectBadInput(['convert', f], new RegExp(`^ocf-gen: error: ${f}:2:1: not well-formed XML: a DOCTYPE with declarations`, 'm'));
  });

  it('an endless spec or haresources file: exit 2 naming it', () => {
    expectBadInput(['cib', '--spec', '/dev/zero'], /^ocf-gen: error: \/dev\/zero: larger than 64 MiB/m);
    expectBadInput(['cib', '--from-haresources', '/dev/zero', '--ha-cf', '/dev/null'], /^ocf-gen: error: \/dev\/zero: larger than 64 MiB/m);
  });

  it('template defaults that double at each step (2^40 characters): exit 2 naming the setting', () => {
    const settings = ['  s0: { default: "xxxxxxxx", description: d }'];
    for (let i = 1; i <= 40; i++) settings.push(`  s${i}: { default: "\${s${i - 1}}\${s${i - 1}}", description: d }`);
    const f = tmp.file('doubling.yaml');
    write(f, `template: t\nsettings:\n${settings.join('\n')}\nspec:\n  nodes: ["\${s40}"]\n`);
    expectBadInput(['cib', '--spec', f], new RegExp(`^ocf-gen: error: ${f}: settings\\.s14: expands to more than 64 KiB`, 'm'));
  });
});
