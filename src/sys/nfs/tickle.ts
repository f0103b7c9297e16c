import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeStateFile } from '../../ocf/state-file.js';
import { parseIp } from '../net/inet.js';
import { establishedTo, parseTickleLines, tickleLines } from '../net/tcp-table.js';
import { readPlainFile, writeFileAtomic } from './files.js';
import { findHaBin } from '../which.js';

/**
 * Connection reset on takeover ("tickle ACKs", as CTDB and resource-agents' portblock do it). A
 * client whose server vanished keeps its TCP connection to the floating address and resends only
 * when its RPC times out (NFS: tens of seconds, more with back-off), so it notices a takeover late.
 * While serving, the monitor records the established connections of NFS clients to the floating
 * addresses (port 2049, from /proc/net/tcp*: no fork) in the shared state directory. After a
 * takeover the new node, once the floating address is up on it, sends each recorded client an ACK
 * with a wrong sequence number from that address (resource-agents' `tickle_tcp`); the client
 * answers with its own ACK, the new node's kernel knows no such connection and answers RST, and the
 * client reconnects at once.
 */

/** The list's name in the shared state directory (root's file; the directory may be statd's). */
export const CLIENT_LIST = 'ocfkit-tcp-clients';
export const NFS_PORT = 2049;
/** resource-agents' tickle_tcp, where this distribution puts it (HA_BIN first). */
export const tickleTcp = (env: NodeJS.ProcessEnv): string | undefined => findHaBin('tickle_tcp', env);

const canonical = (addresses: readonly string[]) => addresses.map((a) => parseIp(a)?.text).filter((a): a is string => a !== undefined);

/**
 * Records the NFS clients connected to `addresses` now, when that differs from the list on
 * shared storage (written under an exclusive temporary name, fsynced, renamed: a node may lose power
 * right after). `keepIfNone` (stop): no connections here leaves the list as it is (a start that
 * failed before serving must not erase what the node before recorded). Returns how many there are.
 */
export function recordClientConnections(infodir: string, addresses: readonly string[], o: { keepIfNone?: boolean } = {}): number {
  const conns = establishedTo(canonical(addresses), NFS_PORT);
  if (!conns.length && o.keepIfNone) return 0;
  const text = tickleLines(conns);
  const now = readPlainFile(join(infodir, CLIENT_LIST));
  if ('problem' in now || now.data.toString('utf8') !== text || now.uid !== 0) writeFileAtomic(infodir, CLIENT_LIST, text, { uid: 0, gid: 0, mode: 0o600 });
  return conns.length;
}

/**
 * The recorded list, for this node's notifier: only well-formed connections to `addresses` on the
 * NFS port, copied into root's per-boot state file `target` (the notifier reads it there, never on
 * the shared storage). Returns how many; 0 (and no file) when there is nothing to send.
 */
export function loadClientConnections(infodir: string, addresses: readonly string[], target: string): number {
  rmSync(target, { force: true });
  const saved = readPlainFile(join(infodir, CLIENT_LIST));
  if ('problem' in saved || saved.uid !== 0) return 0;
  const lines = parseTickleLines(saved.data.toString('utf8'), canonical(addresses), NFS_PORT);
  if (!lines) return 0;
  writeStateFile(target, lines);
  return lines.split('\n').filter(Boolean).length;
}
