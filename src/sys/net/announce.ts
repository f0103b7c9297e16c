import type { Deadline } from '../../ocf/deadline.js';
import { fail, OcfError } from '../../ocf/exit-codes.js';
import type { Logger } from '../../ocf/log.js';
import { describeCommand, type Runner } from '../../ocf/run.js';
import { spawnBounded, stopRecorded, writePidFile } from './background.js';
import type { Family } from './inet.js';
import { findHaBin, which } from '../which.js';

/**
 * Telling the neighbours (and the switches) that an address now lives at
 * this MAC: gratuitous ARP for IPv4, unsolicited neighbour advertisements
 * for IPv6. Node cannot open packet sockets, so real tools send them:
 *
 * - resource-agents' send_arp: per round an ARP request and an ARP reply
 *   (some hosts heed only one kind), rounds `interval` ms apart;
 * - iputils arping when send_arp is missing: `-U` (requests) and `-A`
 *   (replies) side by side; it counts its interval in whole seconds;
 * - resource-agents' send_ua for IPv6: `count` advertisements to all nodes
 *   (ff02::1) with the override flag, `interval` ms apart.
 */

export type ArpSender = 'send_arp' | 'iputils_arping';
export const ARP_SENDERS = ['send_arp', 'iputils_arping'] as const;

export interface Announcement {
  family: Family;
  /** Canonical address text. */
  ip: string;
  prefix: number;
  nic: string;
  count: number;
  intervalMs: number;
}

export interface SenderCommand {
  cmd: string;
  args: string[];
}

export interface Sender {
  name: ArpSender | 'send_ua';
  path: string;
}

/**
 * The program that will announce, or an installation error (5): this node
 * lacks it. `prefer` is the arp_sender parameter; without it send_arp wins
 * when present, as it does for the heartbeat agent.
 */
export function findSender(family: Family, prefer: ArpSender | undefined, env: NodeJS.ProcessEnv): Sender {
  if (family === 6) {
    const path = findHaBin('send_ua', env);
    if (!path) throw fail.installed('send_ua (package resource-agents) is not installed: cannot send unsolicited neighbour advertisements');
    return { name: 'send_ua', path };
  }
  const sendArp = prefer !== 'iputils_arping' ? findHaBin('send_arp', env) : undefined;
  if (sendArp) return { name: 'send_arp', path: sendArp };
  const arping = prefer !== 'send_arp' ? which('arping', env.PATH) : undefined;
  if (arping) return { name: 'iputils_arping', path: arping };
  if (prefer === 'send_arp') throw fail.installed('send_arp (package resource-agents) is not installed');
  if (prefer === 'iputils_arping') throw fail.installed('arping (package iputils-arping) is not installed');
  throw fail.installed('neither send_arp (resource-agents) nor arping (iputils-arping) is installed: cannot send gratuitous ARP');
}

/** The command lines that make one announcement. */
export function senderCommands(a: Announcement, sender: Sender): SenderCommand[] {
  const count = String(a.count);
  switch (sender.name) {
    case 'send_arp':
      // send_arp ignores its last two arguments (broadcast, netmask); "auto" = the device's MAC.
      return [{ cmd: sender.path, args: ['-i', String(a.intervalMs), '-r', count, '--', a.nic, a.ip, 'auto', 'not_used', 'not_used'] }];
    case 'iputils_arping': {
      const seconds = String(arpingSeconds(a.intervalMs));
      return ['-U', '-A'].map((mode) => ({ cmd: sender.path, args: ['-q', mode, '-c', count, '-i', seconds, '-I', a.nic, '--', a.ip] }));
    }
    case 'send_ua':
      return [{ cmd: sender.path, args: ['-i', String(a.intervalMs), '-c', count, '--', a.ip, String(a.prefix), a.nic] }];
  }
}

/** iputils arping takes whole seconds, at least one. */
export const arpingSeconds = (intervalMs: number) => Math.max(1, Math.round(intervalMs / 1000));

function noteInterval(a: Announcement, sender: Sender, log: Logger): void {
  if (sender.name === 'iputils_arping' && arpingSeconds(a.intervalMs) * 1000 !== a.intervalMs) {
    log.info(`arping counts in whole seconds: announcing ${a.ip} every ${arpingSeconds(a.intervalMs)}s instead of ${a.intervalMs}ms (install resource-agents for send_arp)`);
  }
}

/**
 * Announces and waits (arp_bg false). A failed or cut-off announcement is
 * logged, not fatal: the address is up, and that is what start promised.
 */
export async function announceNow(run: Runner, a: Announcement, sender: Sender, log: Logger, level: 'info' | 'debug' = 'info'): Promise<void> {
  noteInterval(a, sender, log);
  await Promise.all(
    senderCommands(a, sender).map(async ({ cmd, args }) => {
      log[level](`announcing ${a.ip} on ${a.nic}: ${describeCommand(cmd, args)}`);
      try {
        const r = await run(cmd, args, { check: false });
        if (r.code !== 0) log.error(`could not announce ${a.ip}: ${describeCommand(cmd, args)}: exit ${r.code}: ${r.stderr.trim().split('\n').slice(-2).join(' / ')}`);
      } catch (e) {
        if (!(e instanceof OcfError)) throw e;
        log.error(`could not announce ${a.ip}: ${e.reason}`);
      }
    }),
  );
}

/** Where the background announcer of an address is recorded (as send_arp-<ip> is for the heartbeat agent). */
export const announcerPidFile = (rsctmp: string, ip: string) => `${rsctmp}/IPaddr2-announce-${ip}.json`;

/**
 * Announces in the background (arp_bg true): the senders run detached,
 * bounded by what is left of the op deadline, recorded in the pid file.
 * An announcer still running for this address is stopped first.
 */
export async function announceInBackground(a: Announcement, sender: Sender, rsctmp: string, deadline: Deadline, env: NodeJS.ProcessEnv, log: Logger, level: 'info' | 'debug' = 'info'): Promise<void> {
  const pidFile = announcerPidFile(rsctmp, a.ip);
  await stopAnnouncer(rsctmp, a.ip, deadline, log);
  noteInterval(a, sender, log);
  const started = [];
  for (const { cmd, args } of senderCommands(a, sender)) {
    const bound = deadline.remaining();
    log[level](`announcing ${a.ip} on ${a.nic} in the background (for at most ${(bound / 1000).toFixed(1)}s): ${describeCommand(cmd, args)}`);
    started.push(await spawnBounded(cmd, args, bound, env));
  }
  writePidFile(pidFile, a.ip, started);
}

/** Stops a background announcer for `ip` if one of ours still runs. */
export async function stopAnnouncer(rsctmp: string, ip: string, deadline: Deadline, log: Logger): Promise<void> {
  // An announcer has nothing to clean up: SIGKILL ends it at once (send_arp takes 80–160 ms over SIGTERM).
  const killed = await stopRecorded(announcerPidFile(rsctmp, ip), log, deadline.bound(2000), 'SIGKILL');
  if (killed > 0) log.info(`stopped the background announcer of ${ip}`);
}
