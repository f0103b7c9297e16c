/**
 * Did the last connection attempt of a StandAlone resource end in a split
 * brain? DRBD says so in the kernel log only (8.4, and DRBD 9 before
 * events2's sync-state): when the two data sets diverged and no after-sb
 * policy resolved it, it logs
 *
 *   8.4 (in-kernel):  block drbd0: Split-Brain detected but unresolved, dropping connection!
 *   DRBD 9:           drbd r0/0 drbd0 peer: Split-Brain detected but unresolved, dropping connection!
 *
 * and leaves the connection StandAlone until an admin resolves it
 * (`drbdadm connect --discard-my-data` on the victim). The split brain is
 * current when no reconnect from StandAlone was logged after it:
 *
 *   8.4:              drbd r0: conn( StandAlone -> Unconnected )
 *   DRBD 9:           drbd r0 peer: conn( StandAlone -> Unconnected )
 */

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function splitBrainInLog(lines: readonly string[], resource: string, minors: readonly number[]): boolean {
  const res = escape(resource);
  const minorSet = new Set(minors);
  const sb84 = /block drbd(\d+): Split-Brain detected but unresolved/;
  const sb9 = new RegExp(`^drbd ${res}/\\d+ drbd\\d+\\b.*: Split-Brain detected but unresolved`);
  const reconnect = new RegExp(`^drbd ${res}(?: [^:]+)?: .*conn\\( StandAlone -> `);

  let lastSplitBrain = -1;
  let lastReconnect = -1;
  lines.forEach((line, i) => {
    const m = sb84.exec(line);
    if ((m && minorSet.has(Number(m[1]))) || sb9.test(line)) lastSplitBrain = i;
    else if (reconnect.test(line)) lastReconnect = i;
  });
  return lastSplitBrain >= 0 && lastSplitBrain > lastReconnect;
}
