// ocf-gen as oclif users expect it: `help`, "did you mean" for a mistyped
// command (plugin-not-found: asks on a terminal, says so and exits 127 in a
// script), shell completion (plugin-autocomplete), --json on every command
// that reports something, exit 2 naming the place for bad input (a truncated
// XML file included), and no message said twice.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOcfGen, OCF_GEN, ocfGen, read, requireTools, run, tempDir, write } from './cib-helpers.js';

const tmp = tempDir('cib-cli');
afterAll(() => tmp.cleanup());

beforeAll(() => {
  requireTools('crm_verify', 'script');
  buildOcfGen();
});

const env = () => ({ XDG_CACHE_HOME: tmp.file('cache'), XDG_DATA_HOME: tmp.file('data'), HOME: tmp.dir });

describe('plugins', () => {
  it('help lists every command', () => {
    const r = ocfGen(['help'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    for (const c of ['agents', 'autocomplete', 'cib', 'convert', 'drbd-conf', 'help', 'install', 'meta-data', 'validate']) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\s`, 'm'));
    expect(ocfGen(['help', 'drbd-conf'], { env: env() }).stdout).toMatch(/--drbd-version/);
  });

  it('a mistyped command in a script: named, exit 127, no prompt', () => {
    const r = ocfGen(['cbi'], { env: env(), input: '' });
    expect(r.code).toBe(127);
    expect(r.stderr).toMatch(/cbi is not a ocf-gen command/);
  });

  it('a mistyped command on a terminal: "Did you mean cib?"', () => {
    // script(1) gives ocf-gen a terminal; "n" (sent once the prompt is up) declines the suggestion.
    const r = run('sh', ['-c', `(sleep 3; printf 'n\\r') | script -qec '${OCF_GEN} cbi' /dev/null`], { env: env() });
    expect(r.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')).toMatch(/Did you mean cib\?/);
  });

  it('autocomplete prints the shell setup', () => {
    const r = ocfGen(['autocomplete', 'bash'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ocf-gen/);
    expect(r.stdout).toMatch(/bashrc/);
  });
});

describe('--json', () => {
  const json = (args: string[]) => {
    const r = ocfGen([...args, '--json']);
    return { ...r, doc: JSON.parse(r.stdout) as Record<string, unknown> };
  };

  it('validate: findings as JSON, the exit code as without', () => {
    const good = tmp.file('good.xml');
    write(good, ocfGen(['cib']).stdout);
    const ok = json(['validate', good]);
    expect(ok.code).toBe(0);
    expect(ok.doc).toMatchObject({ file: good, dialect: 'pacemaker', validateWith: 'pacemaker-3.7', valid: true, problems: [], check: { tool: 'crm_verify', ran: true, ok: true }, fencing: false });
    expect(ok.stderr).toBe('');
    const bad = tmp.file('bad.xml');
    write(bad, read(good).replace('then="nfs-group"', 'then="ghost"'));
    const no = json(['validate', bad]);
    expect(no.code).toBe(1);
    expect(no.doc).toMatchObject({ valid: false, problems: [{ place: `${bad}: <rsc_order id="drbd-promote-then-nfs-group">`, message: 'then="ghost" is not a resource here' }] });
  });

  it('cib: settings, the CIB with its notes, and bad input as {errors} with exit 2', () => {
    const s = json(['cib', '--list-settings']);
    expect(s.code).toBe(0);
    expect(s.doc.settings).toContainEqual({ name: 'fence_agent', default: '', description: expect.stringMatching(/fence_ipmilan/) });
    const c = json(['cib', '--check']);
    expect(c.code).toBe(0);
    expect(c.doc.cib).toMatch(/^<\?xml/);
    expect(c.doc.check).toMatchObject({ tool: 'crm_verify', ran: true, ok: true });
    expect((c.doc.notes as string[]).some((n) => /NO FENCING/.test(n))).toBe(true);
    const e = json(['cib', '--set', 'ip=10.0.0.300']);
    expect(e.code).toBe(2);
    expect(e.doc.errors).toContainEqual({ place: 'resources.ip.params.ip', message: expect.stringMatching(/10\.0\.0\.300.*\(from --set ip\)/) });
  });

  it('convert and drbd-conf', () => {
    const hb = tmp.file('hb.xml');
    write(hb, ocfGen(['cib', '--schema', 'heartbeat-2']).stdout);
    const c = json(['convert', hb]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.doc.cib).toMatch(/<cib crm_feature_set=/);
    expect((c.doc.notes as string[]).join('\n')).toMatch(/not corosync node ids/);
    const d = json(['drbd-conf']);
    expect(d.doc.config).toMatch(/fencing resource-and-stonith;/);
    expect(json(['drbd-conf', '--list-settings']).doc.settings).toContainEqual({ name: 'drbd_resource', default: 'r0', description: expect.any(String) });
  });
});

describe('bad input and repeated messages', () => {
  it('a truncated CIB: exit 2 with file:line:column (validate and convert)', () => {
    const f = tmp.file('truncated.xml');
    const whole = ocfGen(['cib']).stdout;
    write(f, whole.slice(0, whole.indexOf('</resources>')));
    for (const cmd of ['validate', 'convert']) {
      const r = ocfGen([cmd, f]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^ocf-gen: error: ${f}:\\d+:\\d+: not well-formed XML: <resources> is not closed$`, 'm'));
    }
  });

  it('validate names a dangling reference once: crm_verify\'s IDREF error for it is not repeated, nor any line twice', () => {
    const f = tmp.file('dangling.xml');
    write(f, ocfGen(['cib']).stdout.replace('then="nfs-group"', 'then="ghost"'));
    const r = ocfGen(['validate', f]);
    expect(r.code).toBe(1);
    expect(r.stderr.match(/ghost/g)).toHaveLength(1);
    const lines = r.stderr.split('\n').filter((l) => l.trim() && !/^ocf-gen: \*+$/.test(l));
    expect(new Set(lines).size).toBe(lines.length);
  });

  it('flags and arguments: exit 2 naming them', () => {
    const a = ocfGen(['cib', '--nope']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/Nonexistent flag: --nope/);
    const b = ocfGen(['drbd-conf', '--drbd-version', '8.3']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/Expected --drbd-version=8\.3 to be one of: 9, 8\.4/);
    const c = ocfGen(['meta-data', 'Nope']);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/unknown agent 'Nope'/);
  });
});
