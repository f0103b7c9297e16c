// `ocf-gen cib --output` run as root in a directory others can write to: an
// unprivileged user (nobody, via setpriv) plants a symbolic link where the
// old code put its temporary file (`.<name>.tmp-<pid>`, a name anyone could
// predict) pointing at a root-only file. The run must not write through the
// link: the victim keeps its bytes, the output is a regular file with the CIB.
// The directory is world-writable but not sticky, so the kernel's
// protected_symlinks (which covers sticky directories only) cannot be what
// saves us.

import { spawn } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOcfGen, OCF_GEN, run, tempDir } from './cib-helpers.js';

const tmp = tempDir('cib-output');
afterAll(() => tmp.cleanup());

const asNobody = (cmd: string, args: string[]) => run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', cmd, ...args]);

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('this test plants links as nobody against a root run: run it as root');
  buildOcfGen();
  chmodSync(tmp.dir, 0o755); // nobody may reach the drop directories (and read nothing else)
});

describe('ocf-gen cib --output as root in a world-writable directory', () => {
  it("does not follow a link an unprivileged user planted at the old temporary name", async () => {
    const shared = join(tmp.dir, 'drop');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    const secret = join(tmp.dir, 'root-only');
    writeFileSync(secret, 'precious\n', { mode: 0o600 });
    const out = join(shared, 'cib.xml');

    // The spec comes on stdin, so ocf-gen waits (pid known) until the link is planted.
    const child = spawn(OCF_GEN, ['cib', '--spec', '-', '--output', out], { stdio: ['pipe', 'pipe', 'pipe'] });
    const stderr: Buffer[] = [];
    child.stderr.on('data', (b: Buffer) => stderr.push(b));
    const done = new Promise<number>((res) => child.on('close', (code) => res(code ?? -1)));
    const plant = asNobody('ln', ['-s', secret, join(shared, `.cib.xml.tmp-${child.pid}`)]);
    expect(plant.code, plant.stderr).toBe(0);
    child.stdin.end('nodes: [a, b]\nresources:\n  d: { agent: "ocf:heartbeat:Dummy" }\n');
    const code = await done;

    expect(code, Buffer.concat(stderr).toString()).toBe(0);
    expect(readFileSync(secret, 'utf8')).toBe('precious\n');
    expect(lstatSync(out).isFile()).toBe(true);
    expect(readFileSync(out, 'utf8')).toMatch(/<primitive id="d" class="ocf" provider="heartbeat" type="Dummy"/);
    // Nothing of ours is left behind; the planted link is still there, untouched.
    expect(readdirSync(shared).sort()).toEqual([`.cib.xml.tmp-${child.pid}`, 'cib.xml']);
  });

  it('a link planted at the output name itself is replaced, not written through', () => {
    const shared = join(tmp.dir, 'drop2');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    const secret = join(tmp.dir, 'root-only-2');
    writeFileSync(secret, 'precious\n', { mode: 0o600 });
    const out = join(shared, 'cib.xml');
    expect(asNobody('ln', ['-s', secret, out]).code).toBe(0);
    const r = run(OCF_GEN, ['cib', '--output', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(secret, 'utf8')).toBe('precious\n');
    expect(lstatSync(out).isFile()).toBe(true);
    expect(lstatSync(out).uid).toBe(0);
  });
});
