// Types of bench/lib/report.mjs for the TypeScript tests (test/unit/bench-qemu.test.ts): the parts they use.

/** The harness's rows are plain objects (bench/lib/measure.mjs, qemu-rows.mjs). */
type Row = any;
export interface TableLine {
  agent: string;
  action: string;
  ocfkitWall: string;
  shellWall: string;
  ratio: string;
  cpu: string;
  rss: string;
  procs: string;
  targets: string;
  sea?: string;
}
export const TARGETS: { ratio: Record<string, number>; rssMiB: number; cib1000Ms: number };
export const agentLabel: (row: Row) => string;
export function judgeRows(rows: Row[]): Row[];
export function tableRows(rows: Row[]): TableLine[];
export function textTable(lines: TableLine[]): string;
export function markdownTable(lines: TableLine[]): string;
export function targetLines(rows: Row[], extra?: unknown[]): string[];
export function qemuLines(q: Record<string, unknown> | undefined, options?: { nice?: number }): string[];
