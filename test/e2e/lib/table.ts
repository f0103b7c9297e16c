/** The suite's result table: one row per scenario, printed at the end (and written as Markdown). */

export interface Row {
  scenario: string;
  /** What started the clock, e.g. "qemu SIGKILL of n1". */
  event: string;
  /** Where the service was before → after. */
  from: string;
  to: string;
  /** Seconds, or undefined when not applicable / not measured. */
  takeoverS?: number;
  gapS?: number;
  /** The service gap of the NFSv4.2 stream, when the suite runs one. */
  gap4S?: number;
  /** Acknowledged writes during the scenario. */
  writes?: number;
  /** n/a: the scenario does not apply to the agents under test (OCFKIT_E2E_AGENTS=shell). */
  result: 'pass' | 'FAIL' | 'n/a';
  note?: string;
  /**
   * Seconds the executor took for each takeover step ("drbd promote", "nfs start"; on the old node
   * "ip stop"…), from the CIB's history: for the JSON report (OCFKIT_E2E_REPORT_JSON), not the table.
   */
  ops?: Record<string, number>;
}

const sec = (v: number | undefined) => (v === undefined ? '—' : v.toFixed(1));

export function markdownTable(rows: Row[]): string {
  // The NFSv4.2 column only when a stream of it ran: NFSv3 is the measure every run has.
  const v4 = rows.some((r) => r.gap4S !== undefined);
  const head = ['scenario', 'event', 'service', 'takeover (s)', v4 ? 'service gap NFSv3 (s)' : 'service gap (s)', ...(v4 ? ['service gap NFSv4.2 (s)'] : []), 'writes', 'result'];
  const body = rows.map((r) => [r.scenario, r.event, r.from === r.to ? r.to : `${r.from} → ${r.to}`, sec(r.takeoverS), sec(r.gapS), ...(v4 ? [sec(r.gap4S)] : []), r.writes === undefined ? '—' : String(r.writes), r.note ? `${r.result} (${r.note})` : r.result]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}
