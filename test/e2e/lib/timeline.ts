/**
 * What the NFS client saw, from the logs its helpers keep on the client's local disk (see
 * guest-scripts.ts): the writer's acknowledged and failed writes, and the ARP prober's answers for
 * the floating IP. All times are the client's clock, in seconds since the epoch.
 */

/** One acknowledged write: the exact line (without "\n") and when write+close returned. */
export interface Ack {
  n: number;
  line: string;
  ackAt: number;
}

/** One failed write: its line, when it failed and why (the errno text). */
export interface WriteError {
  n: number;
  line: string;
  at: number;
  error: string;
}

/** One ARP probe of the floating IP: when the answer (or the timeout) came, and who answered. */
export interface Probe {
  at: number;
  /** Lower-case MAC of the answering interface, or undefined when nobody answered. */
  mac: string | undefined;
}

const num = (s: string | undefined, what: string, raw: string): number => {
  const v = Number(s);
  if (s === undefined || s === '' || !Number.isFinite(v)) throw new Error(`bad ${what} in ${JSON.stringify(raw)}`);
  return v;
};

/** The writer's ack log: "<n> <t-written>\t<t-acked>" per line; a torn last line (being written) is ignored. */
export function parseAcks(text: string): Ack[] {
  const out: Ack[] = [];
  const lines = text.split('\n');
  if (!text.endsWith('\n')) lines.pop();
  for (const raw of lines) {
    if (raw === '') continue;
    const [line, ackAt] = raw.split('\t');
    out.push({ n: num(line?.split(' ')[0], 'line number', raw), line: line!, ackAt: num(ackAt, 'ack time', raw) });
  }
  return out;
}

/** The writer's error log: "<n> <t-written>\t<t-failed>\t<error text>" per line. */
export function parseErrors(text: string): WriteError[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((raw) => {
      const [line, at, ...why] = raw.split('\t');
      return { n: num(line?.split(' ')[0], 'line number', raw), line: line!, at: num(at, 'error time', raw), error: why.join('\t') };
    });
}

/** The prober's log: "<t-sent> <t-answer-or-timeout> <mac|none>" per line. */
export function parseProbes(text: string): Probe[] {
  const out: Probe[] = [];
  const lines = text.split('\n');
  if (!text.endsWith('\n')) lines.pop();
  for (const raw of lines) {
    if (raw === '') continue;
    const [, at, who] = raw.split(' ');
    if (who === undefined) throw new Error(`bad probe line ${JSON.stringify(raw)}`);
    out.push({ at: num(at, 'probe time', raw), mac: /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(who) ? who : undefined });
  }
  return out;
}

/**
 * The service gap of the window [from, to]: the longest time between two consecutive acknowledged
 * writes, where the first of the two was acknowledged in the window or is the last one before it
 * (an outage that began just before the event counts). undefined: no such pair.
 */
export function serviceGap(acks: Ack[], from: number, to: number): { seconds: number; after: Ack; before: Ack } | undefined {
  // The last ack before the window starts belongs to it: a gap that begins before the event counts.
  let start = 0;
  for (let i = 0; i < acks.length; i++) if (acks[i]!.ackAt <= from) start = i;
  let best: { seconds: number; after: Ack; before: Ack } | undefined;
  for (let i = start + 1; i < acks.length; i++) {
    const a = acks[i - 1]!;
    const b = acks[i]!;
    if (a.ackAt > to) break;
    const seconds = b.ackAt - a.ackAt;
    if (!best || seconds > best.seconds) best = { seconds, after: a, before: b };
  }
  return best;
}

/**
 * Takeover time: from `event` to the floating IP answering from `mac` (the node that holds the
 * service afterwards) once it had stopped answering from there. "Stopped answering" is either an
 * answer from another MAC or at least two unanswered probes in a row (one lost probe on a busy
 * emulated host is not an outage). undefined: the address never went away after the event.
 */
export function takeover(probes: Probe[], event: number, mac: string, to = Infinity): { seconds: number; at: number; outageFrom: number } | undefined {
  const want = mac.toLowerCase();
  let misses = 0;
  /** The last answer (from anyone) before the outage: when the address went silent or away. */
  let lastAnswer = event;
  let outageFrom: number | undefined;
  let otherAnswered = false;
  for (const p of probes) {
    if (p.at < event) continue;
    if (p.at > to) break;
    if (p.mac === want) {
      if (outageFrom !== undefined || otherAnswered) return { seconds: p.at - event, at: p.at, outageFrom: outageFrom ?? lastAnswer };
      misses = 0;
      lastAnswer = p.at;
    } else if (p.mac !== undefined) {
      // The old node still answers: not taken over yet.
      otherAnswered = true;
      misses = 0;
      lastAnswer = p.at;
    } else if (++misses >= 2) {
      outageFrom ??= lastAnswer;
    }
  }
  return undefined;
}
