import { chownSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseTcpTable, parseTickleLines, tickleLines } from '../../src/sys/net/tcp-table.js';
import { CLIENT_LIST, loadClientConnections, NFS_PORT } from '../../src/sys/nfs/tickle.js';

// Lines read off this machine's kernel in a network namespace (x86_64): a client on 10.99.0.5 and on
// fd00::5 connected to a server listening on [::]:2049 (so the IPv4 one shows as ::ffff:10.99.0.5 in tcp6).
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0500630A:DB64 0500630A:0801 01 00000000:00000000 00:00000000 00000000     0        0 25436 2 000000005d52b76d 20 0 0 10 -1
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0801 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 25412 1 000
   1: 0000000000000000FFFF00000500630A:0801 0000000000000000FFFF00000500630A:DB64 01 00000000:00000000 00:00000000 00000000     0        0 25438 1 000
   2: 000000FD000000000000000005000000:B37E 000000FD000000000000000005000000:0801 01 00000000:00000000 00:00000000 00000000     0        0 25437 2 000
   3: 000000FD000000000000000005000000:0801 000000FD000000000000000005000000:B37E 01 00000000:00000000 00:00000000 00000000     0        0 25439 1 000
`;

describe('/proc/net/tcp{,6}', () => {
  it('reads ESTABLISHED rows only, addresses in network order, v4-mapped peers as IPv4', () => {
    expect(parseTcpTable(TCP)).toEqual([{ family: 4, local: '10.99.0.5', localPort: 56164, remote: '10.99.0.5', remotePort: 2049 }]);
    expect(parseTcpTable(TCP6)).toEqual([
      { family: 4, local: '10.99.0.5', localPort: 2049, remote: '10.99.0.5', remotePort: 56164 },
      { family: 6, local: 'fd00::5', localPort: 45950, remote: 'fd00::5', remotePort: 2049 },
      { family: 6, local: 'fd00::5', localPort: 2049, remote: 'fd00::5', remotePort: 45950 },
    ]);
  });

  it('skips rows it cannot read instead of inventing connections', () => {
    expect(parseTcpTable('header\n   0: XYZ:0801 0500630A:DB64 01 0\n   1: 0500630A 0500630A:DB64 01\n   2: 0500630A:0801 00000000000000000000000000000001:DB64 01\n')).toEqual([]);
  });
});

describe("tickle_tcp's input", () => {
  it('one "local:port remote:port" line per connection, IPv6 without brackets (tickle_tcp splits at the last colon)', () => {
    const conns = parseTcpTable(TCP6).filter((c) => c.localPort === NFS_PORT);
    expect(tickleLines(conns)).toBe('10.99.0.5:2049 10.99.0.5:56164\nfd00::5:2049 fd00::5:45950\n');
  });

  it('a saved list keeps only well-formed connections to the floating addresses on the NFS port', () => {
    const saved = [
      '10.0.0.50:2049 10.0.0.7:812', // kept
      '10.0.0.50:2049 10.0.0.7:812', // duplicate
      'fd00::50:2049 fd00::7:700', // kept
      '10.0.0.99:2049 10.0.0.7:813', // another address
      '10.0.0.50:22 10.0.0.7:814', // another port
      '10.0.0.50:2049 fd00::7:815', // families differ
      '[fd00::50]:2049 [fd00::7]:816', // brackets: tickle_tcp refuses them
      '10.0.0.50:2049 10.0.0.7:0', // no port 0
      '10.0.0.50:2049 10.0.0.7:70000',
      '10.0.0.50:2049 10.0.0.7:817 extra',
      '10.0.0.50:2049 $(reboot):1',
      'garbage',
    ].join('\n');
    expect(parseTickleLines(saved, ['10.0.0.50', 'fd00::50'], NFS_PORT)).toBe('10.0.0.50:2049 10.0.0.7:812\nfd00::50:2049 fd00::7:700\n');
  });
});

describe('the client list on the shared storage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocfkit-tickle-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const target = join(dir, 'rsctmp.tickle');

  it("is copied to this node's state only when it is root's plain file, and filtered", () => {
    writeFileSync(join(dir, CLIENT_LIST), '10.0.0.50:2049 10.0.0.7:812\n10.0.0.51:2049 10.0.0.7:813\n');
    expect(loadClientConnections(dir, ['10.0.0.50'], target)).toBe(1);
    expect(readFileSync(target, 'utf8')).toBe('10.0.0.50:2049 10.0.0.7:812\n');
    expect(statSync(target).mode & 0o777).toBe(0o600);

    // Not root's (only root writes the list): ignored, and the old copy is gone.
    chownSync(join(dir, CLIENT_LIST), 65534, 65534);
    expect(loadClientConnections(dir, ['10.0.0.50'], target)).toBe(0);
    expect(() => statSync(target)).toThrow();

    // A link in its place is never followed.
    rmSync(join(dir, CLIENT_LIST));
    writeFileSync(join(dir, 'elsewhere'), '10.0.0.50:2049 10.0.0.7:812\n');
    symlinkSync(join(dir, 'elsewhere'), join(dir, CLIENT_LIST));
    expect(loadClientConnections(dir, ['10.0.0.50'], target)).toBe(0);
    expect(() => statSync(target)).toThrow();

    // Nothing recorded: nothing to send.
    rmSync(join(dir, CLIENT_LIST));
    expect(loadClientConnections(dir, ['10.0.0.50'], target)).toBe(0);
  });
});
