import type { Command } from '@oclif/core';

/**
 * Ends a command with one plain line on stderr (`ocf-gen: <message>`) and an
 * exit code: no stack trace, no wrapping, easy to grep in scripts.
 */
export function fatal(cmd: Command, message: string, exitCode: number): never {
  process.stderr.write(`ocf-gen: ${message}\n`);
  return cmd.exit(exitCode);
}
