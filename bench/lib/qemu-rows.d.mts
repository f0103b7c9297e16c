// Types of bench/lib/qemu-rows.mjs for the TypeScript tests (test/unit/bench-qemu.test.ts).

export interface QemuAgent {
  name: 'drbd' | 'nfsserver';
  shell: string;
  provider: string;
  cycle: string[];
  monitorUp: 'shell' | 'own';
  params(side: 'ocfkit' | 'shell'): Record<string, string>;
  extraEnv: Record<string, string>;
  describe: string;
}
export interface Side {
  samples: Array<Record<string, unknown>>;
  forks: null;
}
export interface QemuRow {
  agent: string;
  action: string;
  argv: string;
  interval: number;
  expect: number;
  where: 'qemu';
  sides: { ocfkit: Side; shell: Side };
  notes: string[];
  error?: string;
}
export interface MeasureResult {
  wallNs: number;
  userUs: number;
  sysUs: number;
  maxRssKiB: number;
  code: number | null;
  signal: number | null;
  timedOut: boolean;
}
export interface DrbdState {
  role: string | null;
  cstate: string | null;
  dstate: string | null;
}

export const GUEST: Record<string, string>;
export const CRM_FEATURE_SET: string;
export const QEMU_TIMEOUT_MS: number;
export const DRBD_RES: string;
export const DRBD_GLOBAL: string;
export const QEMU_AGENTS: QemuAgent[];
export function qemuRowIds(agent: QemuAgent): string[];
export function qemuRow(agent: QemuAgent, id: string): QemuRow;
export function qemuEnv(agent: QemuAgent, side: 'ocfkit' | 'shell', interval: number): Record<string, string>;
export function qemuExe(agent: QemuAgent, side: 'ocfkit' | 'shell'): string;
export function measureArgv(exe: string, action: string, env: Record<string, string>, timeoutS: number): string[];
export function decodeWaitStatus(status: number): { code: number | null; signal: number | null };
export function parseMeasureOne(stdout: string): MeasureResult;
export function monitorBlocks(sides: string[], iterations: number): Array<{ side: string; n: number }>;
export const stderrTail: (text: string) => string;
export function stateOk(agent: string, action: string, s: DrbdState | { threads: number }): boolean;
export const wantedState: (agent: string, action: string) => string | undefined;
export function manifestKernel(manifest: string): string | null;
export function procDrbdVersion(text: string): string | null;
