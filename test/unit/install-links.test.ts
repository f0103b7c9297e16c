// `ocf-gen install` as root into a prefix others can write to: links that an
// unprivileged user (nobody) planted where the files go are replaced, never
// written through; the files appear under exclusive temporary names.

import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyInstall, planInstall } from '../../src/package/install.js';

const dir = mkdtempSync(join(tmpdir(), 'ocfkit-install-links-'));
chmodSync(dir, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const asNobody = (args: string[]) => spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', ...args], { encoding: 'utf8' });

describe.skipIf(process.getuid?.() !== 0)('install into a world-writable prefix (as root; skipped otherwise)', () => {
  it('replaces links planted at the executable and agent paths, never writing through them', () => {
    const prefix = join(dir, 'ocf');
    for (const d of ['', 'lib', 'lib/ocfkit', 'resource.d', 'resource.d/ocfkit']) {
      mkdirSync(join(prefix, d), { recursive: true });
      chmodSync(join(prefix, d), 0o777);
    }
    const secret = join(dir, 'root-only');
    writeFileSync(secret, 'precious\n', { mode: 0o600 });
    const source = join(dir, 'agents-exe');
    writeFileSync(source, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const exe = join(prefix, 'lib', 'ocfkit', 'ocfkit-agents');
    expect(asNobody(['ln', '-s', secret, exe]).status).toBe(0);
    // Names a predictable scheme would use (the old one: .ocfkit-agents.tmp-<pid>).
    for (const d of ['lib/ocfkit', 'resource.d/ocfkit']) expect(asNobody(['ln', '-s', secret, join(prefix, d, `.ocfkit-agents.tmp-${process.pid}`)]).status).toBe(0);
    const plan = { prefix, provider: 'ocfkit', source, agents: ['Dummy1'], force: false };
    applyInstall(plan, planInstall(plan));
    expect(readFileSync(secret, 'utf8')).toBe('precious\n');
    const st = lstatSync(exe);
    expect(st.isFile()).toBe(true);
    expect(st.uid).toBe(0);
    expect(st.mode & 0o777).toBe(0o755);
    expect(readFileSync(exe, 'utf8')).toBe('#!/bin/sh\nexit 0\n');
    expect(readlinkSync(join(prefix, 'resource.d', 'ocfkit', 'Dummy1'))).toBe('../../lib/ocfkit/ocfkit-agents');
    // Nothing of ours left behind; the planted decoys untouched.
    expect(readdirSync(join(prefix, 'lib', 'ocfkit')).sort()).toEqual([`.ocfkit-agents.tmp-${process.pid}`, 'ocfkit-agents']);
  });
});
