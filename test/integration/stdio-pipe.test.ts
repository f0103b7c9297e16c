import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AGENTS_EXE, ROOT } from '../helpers/agent.js';

// The agents write stdout/stderr with write(2) (src/ocf/stdio.ts). Pacemaker's pipes are blocking;
// a non-blocking one that is full must not lose what does not fit: the agent keeps it and waits
// (bounded) before it exits. Bun's own streams lost it (the text was cut at the pipe's size).
const tmp = mkdtempSync(join(tmpdir(), 'ocfkit-stdio-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs argv with fd 1 or 2 on a non-blocking pipe of `size` bytes that is read only after `delayS`. */
const READ_LATE = `
import fcntl, os, subprocess, sys, time
fd, size, delay, cmd = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4:]
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, size)
os.set_blocking(w, False)
p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=w if fd == 1 else subprocess.DEVNULL, stderr=w if fd == 2 else subprocess.DEVNULL)
os.close(w)
time.sleep(delay)
data = b''
while True:
    b = os.read(r, 65536)
    if not b:
        break
    data += b
sys.stdout.buffer.write(data)
sys.exit(p.wait())
`;

function readLate(fd: 1 | 2, env: Record<string, string>, args: string[]) {
  return spawnSync('python3', ['-c', READ_LATE, String(fd), '4096', '1', AGENTS_EXE, ...args], {
    encoding: 'utf8',
    env: { PATH: '/usr/bin:/bin', ...env },
    timeout: 60_000,
    maxBuffer: 16 * 1024 * 1024,
  });
}

describe('output through a full non-blocking pipe', () => {
  it('meta-data larger than the pipe arrives whole', () => {
    const r = readLate(1, {}, ['Filesystem', 'meta-data']);
    expect(r.status, r.stderr).toBe(0);
    const expected = readFileSync(join(ROOT, 'build', 'metadata', 'Filesystem.xml'), 'utf8');
    expect(expected.length).toBeGreaterThan(4096);
    expect(r.stdout).toBe(expected);
  });

  it('stderr larger than the pipe arrives whole, ending with the exit reason', () => {
    const device = `/dev/${'x'.repeat(100_000)}`;
    const r = readLate(2, { OCF_RESOURCE_INSTANCE: 'fs-nb', OCF_RESKEY_device: device, OCF_RESKEY_directory: join(tmp, 'mnt') }, ['Filesystem', 'start']);
    expect(r.status).toBe(5);
    expect(r.stdout.length).toBeGreaterThan(4096);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Filesystem\(fs-nb\)\[\d+\]: /);
    expect(lines.at(-1)).toMatch(/^ocf-exit-reason:device \/dev\/x+… \(\d+ more characters\)$/);
  });
});
