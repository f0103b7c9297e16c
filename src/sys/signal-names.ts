import { constants } from 'node:os';

/** A signal as admins write it: "TERM", "SIGTERM", "sigterm" or "15". */
export function parseSignal(s: string): NodeJS.Signals | number | undefined {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    return n >= 1 && n <= 64 ? n : undefined;
  }
  const name = (s.toUpperCase().startsWith('SIG') ? s.toUpperCase() : `SIG${s.toUpperCase()}`) as NodeJS.Signals;
  return name in constants.signals ? name : undefined;
}

/** A whitespace-separated signal list ("TERM", "HUP TERM"); throws on an unknown name. */
export function parseSignalList(list: string): Array<NodeJS.Signals | number> {
  const out: Array<NodeJS.Signals | number> = [];
  for (const word of list.trim().split(/\s+/).filter(Boolean)) {
    const sig = parseSignal(word);
    if (sig === undefined) throw new Error(`unknown signal "${word}"`);
    out.push(sig);
  }
  return out;
}

export const signalName = (s: NodeJS.Signals | number) => (typeof s === 'number' ? `signal ${s}` : s);
