/**
 * Fixed Perl scripts the suite installs on the client guest (the image has perl; no python).
 * Values only ever travel as arguments (@ARGV), never inside the script text.
 */

/**
 * The writer: appends "<n> <unix time>" to FILE every INTERVAL seconds. Each write is checked:
 * open with O_APPEND|O_SYNC (write() returns once the server has the line on stable storage; on a
 * hard NFS mount it blocks, not fails, while the server is away), the whole line in one write(),
 * close. Success → ACKS gets "<line>\t<ack time>"; failure → ERRORS gets "<line>\t<time>\t<errno
 * text>" (e.g. "open: Stale file handle"). Both logs are on the client's local disk.
 */
export const WRITER = String.raw`#!/usr/bin/perl
use strict;
use warnings;
use Fcntl qw(O_WRONLY O_APPEND O_CREAT O_SYNC);
use IO::Handle;
use Time::HiRes qw(time sleep);

my ($file, $acks, $errors, $interval) = @ARGV;
open(my $ack, '>>', $acks) or die "$acks: $!\n";
open(my $err, '>>', $errors) or die "$errors: $!\n";
$ack->autoflush(1);
$err->autoflush(1);
$SIG{TERM} = sub { exit 0 };
my $n = 0;
while (1) {
  $n++;
  my $line = sprintf("%d %.3f", $n, time);
  my $problem;
  if (sysopen(my $fh, $file, O_WRONLY | O_APPEND | O_CREAT | O_SYNC, 0644)) {
    my $w = syswrite($fh, "$line\n");
    if (!defined $w) { $problem = "write: $!" }
    elsif ($w != length($line) + 1) { $problem = "short write: $w bytes" }
    if (!close($fh) && !defined $problem) { $problem = "close: $!" }
  } else {
    $problem = "open: $!";
  }
  if (defined $problem) { printf $err "%s\t%.3f\t%s\n", $line, time, $problem }
  else { printf $ack "%s\t%.3f\n", $line, time }
  sleep($interval);
}
`;

/** struct flock on x86_64: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid. */
const FLOCK_PACK = `pack('s s x4 q q i x4', F_WRLCK, SEEK_SET, 0, 0, 0)`;

/**
 * The lock holder: a POSIX (fcntl F_SETLKW) write lock on the whole of FILE, held until killed.
 * Over NFSv3 the client's lockd takes it on the server (NLM); after a failover it must be reclaimed.
 */
export const LOCK_HOLDER = String.raw`#!/usr/bin/perl
use strict;
use warnings;
use Fcntl qw(O_RDWR O_CREAT F_SETLKW F_WRLCK SEEK_SET);
$| = 1;
my ($file) = @ARGV;
sysopen(my $fh, $file, O_RDWR | O_CREAT, 0644) or die "open $file: $!\n";
my $lock = ${FLOCK_PACK}; # fcntl() writes back into it: a variable
fcntl($fh, F_SETLKW, $lock) or die "fcntl(F_SETLKW) $file: $!\n";
print "locked $file (pid $$)\n";
$SIG{TERM} = sub { exit 0 };
sleep 1 while 1;
`;

/**
 * The lock probe, run on the server that exports FILE: tries a non-blocking POSIX write lock.
 * Exit 3 "held" (EAGAIN/EACCES: someone — lockd for the client — holds a conflicting lock),
 * 0 "free" (and releases it at once), 2 on any other error.
 */
export const LOCK_PROBE = String.raw`#!/usr/bin/perl
use strict;
use warnings;
use Fcntl qw(O_RDWR F_SETLK F_WRLCK SEEK_SET);
use POSIX qw(EAGAIN EACCES);
my ($file) = @ARGV;
sysopen(my $fh, $file, O_RDWR) or do { print "open $file: $!\n"; exit 2 };
my $lock = ${FLOCK_PACK};
if (fcntl($fh, F_SETLK, $lock)) { print "free\n"; exit 0 }
if ($! == EAGAIN || $! == EACCES) { print "held\n"; exit 3 }
print "fcntl: $!\n";
exit 2;
`;

/**
 * The ARP prober: asks who has IP (arping on DEV, one request, up to 2 s for the answer) about four
 * times a second; logs "<sent> <answered-or-gave-up> <mac|none>".
 */
export const PROBER = String.raw`#!/usr/bin/perl
use strict;
use warnings;
use IO::Handle;
use Time::HiRes qw(time sleep);
my ($ip, $dev, $log) = @ARGV;
open(my $out, '>>', $log) or die "$log: $!\n";
$out->autoflush(1);
$SIG{TERM} = sub { exit 0 };
while (1) {
  my $sent = time;
  my $mac = 'none';
  if (open(my $p, '-|', 'arping', '-c', '1', '-w', '2', '-I', $dev, $ip)) {
    while (<$p>) { $mac = lc $1 if /reply from \S+ \[([0-9A-Fa-f:]{17})\]/ }
    close $p;
  } else {
    $mac = 'error';
  }
  printf $out "%.3f %.3f %s\n", $sent, time, $mac;
  sleep 0.25;
}
`;
