export interface Capture {
  stdout: string;
  stderr: string;
  exit: number;
  state?: string;
  command?: string;
}
export function parseCapture(text: string): Capture | undefined;
