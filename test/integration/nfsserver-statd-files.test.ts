import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { chownPlainFile, withDirectory, writeFileAtomic } from '../../src/sys/nfs/files.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareInfodir } from '../../src/sys/nfs/infodir.js';
import { passwdLookup, prepareStatdDir, restoreNotifyList, snapshotNotifyList, type Owner } from '../../src/sys/nfs/statd.js';
import { isRoot, sh } from '../helpers/system.js';

/**
 * statd's directories on the shared storage are writable by statd's user:
 * what root does there (chown at start, copies of the client list at stop
 * and start) must not follow a link that user planted. Real files, the links
 * planted by statd's user itself (setpriv), the agent's own functions run as
 * root. The built agent's stop is tested the same way in
 * nfsserver-sandbox.test.ts, its start in test/qemu/nfsserver.test.ts (start
 * needs a kernel with nfsd).
 */

let base: string;
let statd: Owner;
/** A root-only directory with files statd's user must never get. */
let secret: string;

/** Runs a command as statd's user (as that user would, planting links). */
const asStatd = (argv: string[]) => sh('setpriv', [`--reuid=${statd.uid}`, `--regid=${statd.gid}`, '--clear-groups', '--', ...argv]);

beforeAll(() => {
  if (!isRoot()) throw new Error('these tests need root (chown, setpriv)');
  const o = passwdLookup('statd') ?? passwdLookup('rpcuser');
  if (!o) throw new Error('no statd user (install nfs-common)');
  statd = o;
  base = mkdtempSync(join(tmpdir(), 'ocfkit-statdfiles-'));
  chmodSync(base, 0o755);
  secret = join(base, 'root-only');
  mkdirSync(secret, { mode: 0o700 });
});
afterAll(() => {
  if (base) rmSync(base, { recursive: true, force: true });
});

/** A shared state directory as a previous start left it: sm, sm.bak, sm.ha statd's (the old layout), one client. */
function sharedDir(name: string): string {
  const dir = join(base, name);
  prepareInfodir(dir);
  for (const d of ['sm', 'sm.bak', 'sm.ha']) {
    mkdirSync(join(dir, d), { recursive: true });
    chownSync(join(dir, d), statd.uid, statd.gid);
  }
  writeFileSync(join(dir, 'sm', 'client1'), 'record of client1\n');
  chownSync(join(dir, 'sm', 'client1'), statd.uid, statd.gid);
  return dir;
}

function victim(name: string, text = 'precious\n'): string {
  const f = join(secret, name);
  writeFileSync(f, text, { mode: 0o600 });
  return f;
}

describe("root in statd's directories follows no link", () => {
  it('start: a link sm/evil -> root-only file does not get its target chowned to statd', () => {
    const dir = sharedDir('start');
    const target = victim('shadow');
    asStatd(['ln', '-s', target, join(dir, 'sm', 'evil')]);
    asStatd(['ln', '-s', secret, join(dir, 'sm.bak', 'evil-dir')]);
    const warnings: string[] = [];
    prepareStatdDir(dir, statd, false, (m) => warnings.push(m));

    expect(statSync(target).uid).toBe(0);
    expect(statSync(secret).uid).toBe(0);
    expect(lstatSync(join(dir, 'sm', 'client1')).uid).toBe(statd.uid);
    expect(warnings).toContain(`left ${join(dir, 'sm', 'evil')} alone: a symbolic link`);
    // sm.ha is root's now: statd cannot plant what the notifier copies as root
    expect(lstatSync(join(dir, 'sm.ha')).uid).toBe(0);
    expect(() => asStatd(['touch', join(dir, 'sm.ha', 'x')])).toThrow();
  });

  it('start: statd\'s own directory replaced by a link is refused, its target untouched', () => {
    const dir = sharedDir('start-dirlink');
    rmSync(join(dir, 'sm.bak'), { recursive: true });
    sh('ln', ['-s', secret, join(dir, 'sm.bak')]);
    expect(() => prepareStatdDir(dir, statd, false)).toThrow(/sm\.bak is not a directory \(a link\?\)/);
    expect(statSync(secret).uid).toBe(0);
  });

  it('stop: a link sm.ha/client1 -> victim is replaced, the victim is not overwritten', () => {
    const dir = sharedDir('stop');
    const target = victim('passwd');
    asStatd(['ln', '-s', target, join(dir, 'sm.ha', 'client1')]);
    expect(snapshotNotifyList(dir)).toBe(1);
    expect(readFileSync(target, 'utf8')).toBe('precious\n');
    expect(lstatSync(join(dir, 'sm.ha', 'client1')).isFile()).toBe(true);
    expect(readFileSync(join(dir, 'sm.ha', 'client1'), 'utf8')).toBe('record of client1\n');
    expect(lstatSync(join(dir, 'sm.ha', 'client1')).uid).toBe(statd.uid); // the record keeps its owner
  });

  it('stop: a link in sm/ is not copied (its target would land where statd can read it)', () => {
    const dir = sharedDir('stop-read');
    const target = victim('key', 'secret key\n');
    asStatd(['ln', '-s', target, join(dir, 'sm', 'client2')]);
    const warnings: string[] = [];
    expect(snapshotNotifyList(dir, (m) => warnings.push(m))).toBe(1);
    expect(() => lstatSync(join(dir, 'sm.ha', 'client2'))).toThrow(/ENOENT/);
    expect(warnings).toEqual([`left ${join(dir, 'sm', 'client2')} alone: a symbolic link`]);
  });

  it('start: restoring sm.ha into sm/ replaces a link statd planted there, its target untouched', () => {
    const dir = sharedDir('restore');
    writeFileSync(join(dir, 'sm.ha', 'client3'), 'record of client3\n');
    const target = victim('authorized_keys');
    asStatd(['ln', '-s', target, join(dir, 'sm', 'client3')]);
    expect(restoreNotifyList(dir)).toEqual(['client3']);
    expect(readFileSync(target, 'utf8')).toBe('precious\n');
    expect(readFileSync(join(dir, 'sm', 'client3'), 'utf8')).toBe('record of client3\n');
    expect(lstatSync(join(dir, 'sm', 'client3')).isSymbolicLink()).toBe(false);
  });

  it("a directory swapped for a link while root works in it (Red Hat's statd/ is statd's): the work stays in the directory that was opened", () => {
    const dir = join(base, 'swapped');
    mkdirSync(dir);
    const elsewhere = join(secret, 'elsewhere');
    mkdirSync(elsewhere);
    withDirectory(dir, (d) => {
      // what statd's user could do between our checks and our writes
      renameSync(dir, `${dir}.old`);
      symlinkSync(elsewhere, dir);
      writeFileAtomic(d, 'client1', 'record\n', { uid: statd.uid, gid: statd.gid, mode: 0o644 });
      expect(chownPlainFile(join(d, 'client1'), { uid: 0, gid: 0 })).toBeUndefined();
    });
    expect(readFileSync(join(`${dir}.old`, 'client1'), 'utf8')).toBe('record\n');
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it('prepareInfodir creates etab/rmtab exclusively: a dangling link there is not written through', () => {
    const dir = join(base, 'infodir-links');
    mkdirSync(dir);
    const target = join(secret, 'created-by-root');
    sh('ln', ['-s', target, join(dir, 'etab')]);
    prepareInfodir(dir);
    expect(() => lstatSync(target)).toThrow(/ENOENT/);
    expect(readlinkSync(join(dir, 'etab'))).toBe(target);
  });
});
