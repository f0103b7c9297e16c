import { OCF, OcfError } from '../ocf/exit-codes.js';
import type { Runner } from '../ocf/run.js';

/**
 * OCF_CHECK_LEVEL 20: write a block to a status file inside the mount and read
 * it back, each step in its own child process with a time limit, so a hung
 * filesystem fails the check instead of hanging the agent. A unique token
 * proves the read returns what was just written. O_DIRECT (when `direct`)
 * bypasses the page cache, so the device is really written and read.
 *
 * The mount may be writable by unprivileged users (a share's root is often
 * mode 777): the path below the mount point is never resolved by name. A
 * small perl program (perl-base is part of every Debian system) walks it one
 * component at a time with O_NOFOLLOW|O_DIRECTORY and fchdir, creating what
 * is missing, and refuses a link, a directory not owned by us or writable by
 * others, or a status file that is not a regular file of ours; then it hands
 * the open file to dd as stdin or stdout (dd sets O_DIRECT on it). Nothing is
 * written through a link an unprivileged user planted, whatever they swap
 * while we look.
 */

/** Exit 3 with a reason on stderr: refused; exit 0 without output for "remove" of something absent. */
const WALKER = String.raw`
use strict;
use Fcntl qw(O_RDONLY O_WRONLY O_CREAT O_NOFOLLOW O_DIRECTORY);
my ($mode, $mp, $rel, @dd) = @ARGV;
sub refuse { print STDERR "$_[0]\n"; exit 3; }
my @parts = grep { $_ ne '' && $_ ne '.' } split m{/+}, $rel;
my $name = pop @parts;
refuse("no file name in $rel") unless defined $name;
chdir $mp or refuse("cannot enter $mp: $!");
my $where = $mp;
for my $d (@parts) {
  refuse("'..' in $rel") if $d eq '..';
  $where .= "/$d";
  if ($mode eq 'write' && !mkdir($d, 0700) && !$!{EEXIST}) { refuse("cannot create $where: $!"); }
  my $dh;
  if (!sysopen($dh, $d, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)) {
    exit 0 if $mode eq 'remove' && $!{ENOENT};
    refuse("$where is not a directory (a symbolic link?): $!");
  }
  my @st = stat($dh);
  refuse("$where is owned by uid $st[4], not by uid $>: not using it") if $st[4] != $>;
  refuse(sprintf("$where is writable by others (mode %o): not using it", $st[2] & 07777)) if $st[2] & 022;
  chdir($dh) or refuse("cannot enter $where: $!");
}
$where .= "/$name";
refuse("'..' in $rel") if $name eq '..';
if ($mode eq 'remove') {
  exit 0 if unlink($name) || $!{ENOENT};
  refuse("cannot remove $where: $!");
}
my $fh;
my $flags = $mode eq 'write' ? (O_WRONLY | O_CREAT | O_NOFOLLOW) : (O_RDONLY | O_NOFOLLOW);
sysopen($fh, $name, $flags, 0600) or refuse("cannot open $where (a symbolic link?): $!");
my @st = stat($fh);
refuse("$where is not a regular file: not using it") unless -f _;
refuse("$where is owned by uid $st[4], not by uid $>: not using it") if $st[4] != $>;
refuse("$where has $st[3] hard links: not using it") if $st[3] != 1;
if ($mode eq 'write') { open(STDOUT, '>&', $fh) or refuse("dup: $!"); }
else { open(STDIN, '<&', $fh) or refuse("dup: $!"); }
close $fh;
exec { $dd[0] } @dd or refuse("cannot run $dd[0]: $!");
`;

/** The walker travels in the environment, so commands (in logs and exit reasons) stay short. */
const walker = (mode: 'write' | 'read' | 'remove', mountPoint: string, relPath: string, dd: string[] = []) =>
  ['-e', 'eval $ENV{OCFKIT_STATUS_WALKER}; die $@ if $@', '--', mode, mountPoint, relPath, ...dd];
const addEnv = { OCFKIT_STATUS_WALKER: WALKER };

/** A timed-out step says which step, on which file. */
async function step(run: Runner, what: string, file: string, args: string[], opts: { input?: string; timeoutMs: number }) {
  try {
    return await run('perl', args, { check: false, addEnv, ...opts });
  } catch (e) {
    if (e instanceof OcfError) throw new OcfError(e.code, `${what} status file ${file}: ${e.reason}`);
    throw e;
  }
}

const flat = (s: string) => s.trim().replace(/\s*\n\s*/g, ' / ');

/**
 * Writes `token` (padded to 4 KiB) to `<mountPoint>/<relPath>` and reads it
 * back. `mountPoint` is the kernel's path from mountinfo; `relPath` is never
 * resolved through links.
 */
export async function writeAndReadBack(run: Runner, mountPoint: string, relPath: string, token: string, direct: boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  const left = () => Math.max(1, end - Date.now());
  const file = `${mountPoint}/${relPath}`;
  const fail = (what: string, r: { stderr: string; code: number | null }) => new OcfError(OCF.ERR_GENERIC, `${what} status file ${file}: ${flat(r.stderr) || `exit ${r.code}`}`);

  const oflag = direct ? 'oflag=direct,sync' : 'oflag=sync';
  const w = await step(run, 'cannot write', file, walker('write', mountPoint, relPath, ['dd', oflag, 'bs=4096', 'conv=fsync,sync', 'status=none']), { input: token, timeoutMs: left() });
  if (w.code !== 0) throw fail('cannot write', w);
  const rd = await step(run, 'cannot read', file, walker('read', mountPoint, relPath, ['dd', ...(direct ? ['iflag=direct'] : []), 'bs=4096', 'count=1', 'status=none']), { timeoutMs: left() });
  if (rd.code !== 0) throw fail('cannot read', rd);
  if (!rd.stdout.startsWith(token)) throw new OcfError(OCF.ERR_GENERIC, `status file ${file} does not read back what was written`);
}

/** Removes the status file on stop; a link planted in its path is never followed. Returns a problem, or nothing. */
export async function removeStatusFile(run: Runner, mountPoint: string, relPath: string, timeoutMs: number): Promise<string | undefined> {
  const r = await step(run, 'cannot remove', `${mountPoint}/${relPath}`, walker('remove', mountPoint, relPath), { timeoutMs });
  return r.code === 0 ? undefined : flat(r.stderr) || `exit ${r.code}`;
}
