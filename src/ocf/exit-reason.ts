/**
 * The longest `ocf-exit-reason` we print. crm_mon shows the reason on one
 * line next to the failed operation, and Pacemaker keeps it in the CIB's
 * status section: a reason naming 200 processes helps nobody and costs every
 * CIB update.
 */
export const MAX_EXIT_REASON = 512;

/**
 * Pacemaker takes the first "ocf-exit-reason:" anywhere in an agent's stderr:
 * text that carries one (a parameter value in a log line) must not plant a
 * reason. Used for every log line and inside reasons.
 */
export const defuseReasonPrefix = (s: string) => s.replace(/ocf-exit-reason:/gi, 'ocf-exit-reason :');

/**
 * One line, at most MAX_EXIT_REASON characters. A reason that ends in a list
 * ("used by a, b, c, …") keeps the first items that fit and says how many
 * more there are; anything else is cut with a count of what was left out.
 */
export function capExitReason(reason: string, max = MAX_EXIT_REASON): string {
  // Control characters (from parameter values) would break the line-oriented protocol or the terminal.
  const line = defuseReasonPrefix(reason.replace(/\s*\n\s*/g, ' ').replace(/[\u0000-\u001f\u007f]/g, '?'));
  if (line.length <= max) return line;
  const items = line.split(', ');
  if (items.length > 2) {
    let out = items[0]!;
    let used = 1;
    const room = (rest: number) => max - ` … and ${rest} more`.length;
    while (used < items.length && out.length + 2 + items[used]!.length <= room(items.length - used - 1)) out += `, ${items[used++]}`;
    if (out.length <= room(items.length - used)) return `${out} … and ${items.length - used} more`;
  }
  const tail = (cut: number) => `… (${cut} more characters)`;
  const keep = max - tail(line.length).length;
  return `${line.slice(0, keep)}${tail(line.length - keep)}`;
}
