// Types of bench/failover-table.mjs for the TypeScript tests (test/e2e/failover-table.test.ts).

/** One scenario's row as the end-to-end suite writes it (test/e2e/lib/table.ts, Row). */
export interface ReportRow {
  scenario: string;
  event?: string;
  from?: string;
  to?: string;
  takeoverS?: number;
  gapS?: number;
  writes?: number;
  result: string;
  note?: string;
  ops?: Record<string, number>;
}

/** The suite's OCFKIT_E2E_REPORT_JSON file. */
export interface Report {
  agents?: string;
  startedAt?: string;
  host?: { cpu?: string; cores?: number; memoryGiB?: number; qemu?: string };
  loadAverage?: { start: number; end: number };
  suiteSeconds?: number;
  setupError?: string;
  rows: ReportRow[];
  notes?: string[];
}

export function failoverTable(ocfkit: Report, shell: Report): string;
export function readReport(path: string): Report | string;
