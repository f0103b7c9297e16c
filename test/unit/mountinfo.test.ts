import { describe, expect, it } from 'vitest';
import { mountAt, mountsBelow, parseMountinfo } from '../../src/sys/mountinfo.js';

const SAMPLE = [
  '22 1 253:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
  '40 22 7:3 / /srv/my\\040data rw,noatime shared:20 - xfs /dev/loop3 rw,attr2,inode64',
  '41 40 7:3 /sub /srv/my\\040data/bind rw shared:20 - xfs /dev/loop3 rw',
  '42 40 0:50 / /srv/my\\040data/bind/deeper rw - tmpfs tmpfs rw',
  '43 22 0:51 / /mnt/nfs rw - nfs4 server:/exp\\134ort rw,vers=4.2',
].join('\n');

describe('mountinfo', () => {
  const m = parseMountinfo(SAMPLE);
  it('decodes octal escapes in mount points and sources', () => {
    expect(m[1]!.mountPoint).toBe('/srv/my data');
    expect(m[4]!.source).toBe('server:/exp\\ort');
  });
  it('keeps the bind root and optional fields apart from the fstype', () => {
    expect(m[2]!.root).toBe('/sub');
    expect(m[1]!.optionalFields).toEqual(['shared:20']);
    expect(m[1]!.fstype).toBe('xfs');
    expect(m[3]!.optionalFields).toEqual([]);
  });
  it('lists nested mounts deepest first', () => {
    expect(mountsBelow('/srv/my data', m).map((e) => e.id)).toEqual([42, 41]);
    expect(mountAt('/mnt/nfs', m)?.fstype).toBe('nfs4');
    expect(mountAt('/mnt', m)).toBeUndefined();
  });
});
