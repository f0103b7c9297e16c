// A minimal FUSE filesystem that can be told to stop answering: a real hung
// mount (like an NFS mount whose server died), for tests that prove an agent
// never hangs on one. It speaks the kernel's FUSE protocol on /dev/fuse
// directly (no libfuse needed) and serves one file, /disk.img, backed by a
// real image file; a loop device on that file is a block device whose I/O
// hangs when the server does.
//
//   node hangfs-server.mjs <mountpoint> <backing image>
//   prints "ready" once mounted; SIGUSR1: stop answering (requests are read
//   and never replied to); SIGTERM/SIGKILL: exit, which aborts the connection
//   (every waiting request fails with ENOTCONN).
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, read, readSync, writeSync } from 'node:fs';

const [mountpoint, backingPath] = process.argv.slice(2);
if (!mountpoint || !backingPath) {
  process.stderr.write('usage: hangfs-server.mjs <mountpoint> <backing image>\n');
  process.exit(2);
}

const backing = openSync(backingPath, 'r+');
const fuse = openSync('/dev/fuse', 'r+');
let hung = false;
process.on('SIGUSR1', () => {
  hung = true;
});
process.on('SIGTERM', () => process.exit(0));

const OP = { LOOKUP: 1, FORGET: 2, GETATTR: 3, SETATTR: 4, OPEN: 14, READ: 15, WRITE: 16, STATFS: 17, RELEASE: 18, FSYNC: 20, FLUSH: 25, INIT: 26, OPENDIR: 27, READDIR: 28, RELEASEDIR: 29, FSYNCDIR: 30, INTERRUPT: 36, DESTROY: 38, BATCH_FORGET: 42 };
const ENOENT = 2;
const ENOSYS = 38;
const FOPEN_DIRECT_IO = 1; // every read and write of the file reaches us: no page cache hides a hang
const ROOT = 1n;
const FILE = 2n;

function attr(node) {
  const b = Buffer.alloc(88);
  const size = node === FILE ? BigInt(fstatSync(backing).size) : 0n;
  b.writeBigUInt64LE(node, 0); // ino
  b.writeBigUInt64LE(size, 8);
  b.writeBigUInt64LE((size + 511n) / 512n, 16); // blocks
  b.writeUInt32LE(node === FILE ? 0o100644 : 0o40755, 60); // mode
  b.writeUInt32LE(node === FILE ? 1 : 2, 64); // nlink
  b.writeUInt32LE(4096, 80); // blksize
  return b;
}

function reply(unique, error, payload = Buffer.alloc(0)) {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(16 + payload.length, 0);
  h.writeInt32LE(-error, 4);
  h.writeBigUInt64LE(unique, 8);
  try {
    writeSync(fuse, Buffer.concat([h, payload]));
  } catch {
    // the request was interrupted or the connection is gone
  }
}

function handle(req) {
  const opcode = req.readUInt32LE(4);
  const unique = req.readBigUInt64LE(8);
  const node = req.readBigUInt64LE(16);
  const body = req.subarray(40);
  if (opcode === OP.FORGET || opcode === OP.BATCH_FORGET || opcode === OP.INTERRUPT) return;
  if (hung && opcode !== OP.INIT) return; // never answered: the caller waits, as on a dead server
  switch (opcode) {
    case OP.INIT: {
      const out = Buffer.alloc(64);
      out.writeUInt32LE(7, 0); // major
      out.writeUInt32LE(31, 4); // minor
      out.writeUInt32LE(body.readUInt32LE(8), 8); // max_readahead
      out.writeUInt16LE(16, 16); // max_background
      out.writeUInt16LE(12, 18); // congestion_threshold
      out.writeUInt32LE(128 * 1024, 20); // max_write
      out.writeUInt32LE(1, 24); // time_gran
      reply(unique, 0, out);
      process.stdout.write('ready\n');
      return;
    }
    case OP.LOOKUP: {
      const name = body.subarray(0, body.indexOf(0)).toString();
      if (node !== ROOT || name !== 'disk.img') return reply(unique, ENOENT);
      const out = Buffer.alloc(40);
      out.writeBigUInt64LE(FILE, 0); // nodeid; generation, entry_valid, attr_valid stay 0
      return reply(unique, 0, Buffer.concat([out, attr(FILE)]));
    }
    case OP.GETATTR:
    case OP.SETATTR:
      return reply(unique, 0, Buffer.concat([Buffer.alloc(16), attr(node)]));
    case OP.OPEN:
    case OP.OPENDIR: {
      const out = Buffer.alloc(16);
      out.writeBigUInt64LE(1n, 0);
      out.writeUInt32LE(opcode === OP.OPEN ? FOPEN_DIRECT_IO : 0, 8);
      return reply(unique, 0, out);
    }
    case OP.READ: {
      const offset = Number(body.readBigUInt64LE(8));
      const size = body.readUInt32LE(16);
      const data = Buffer.alloc(size);
      const n = readSync(backing, data, 0, size, offset);
      return reply(unique, 0, data.subarray(0, n));
    }
    case OP.WRITE: {
      const offset = Number(body.readBigUInt64LE(8));
      const size = body.readUInt32LE(16);
      const n = writeSync(backing, body.subarray(40, 40 + size), 0, size, offset);
      const out = Buffer.alloc(8);
      out.writeUInt32LE(n, 0);
      return reply(unique, 0, out);
    }
    case OP.STATFS: {
      const out = Buffer.alloc(80);
      out.writeUInt32LE(4096, 40); // bsize
      out.writeUInt32LE(255, 44); // namelen
      return reply(unique, 0, out);
    }
    case OP.READDIR:
      return reply(unique, 0);
    case OP.RELEASE:
    case OP.RELEASEDIR:
    case OP.FLUSH:
    case OP.FSYNC:
    case OP.FSYNCDIR:
    case OP.DESTROY:
      return reply(unique, 0);
    default:
      return reply(unique, ENOSYS);
  }
}

// One request per read; the buffer must hold the largest write (max_write) plus headers.
const buf = Buffer.alloc(256 * 1024);
function loop() {
  read(fuse, buf, 0, buf.length, null, (err, n) => {
    if (err) {
      // EPERM: not mounted yet; EINTR/ENOENT: an interrupted request. ENODEV: unmounted, done.
      if (err.code === 'ENODEV') process.exit(0);
      return setTimeout(loop, err.code === 'EPERM' ? 10 : 0);
    }
    handle(Buffer.from(buf.subarray(0, n)));
    loop();
  });
}

// mount(2) through mount(8) (-i: no mount.fuse helper needed), the /dev/fuse fd passed as fd 3.
const mount = spawn('mount', ['-i', '-t', 'fuse', '-o', 'fd=3,rootmode=40000,user_id=0,group_id=0', 'ocfkit-hangfs', mountpoint], {
  stdio: ['ignore', 'inherit', 'inherit', fuse],
});
mount.on('exit', (code) => {
  if (code !== 0) {
    process.stderr.write(`mount exited ${code}\n`);
    process.exit(1);
  }
});
loop();
process.on('exit', () => {
  try {
    closeSync(fuse);
  } catch {
    // exiting anyway
  }
});
