/** OCF 1.1 exit codes, with the names the standard gives them. */
export const OCF = {
  SUCCESS: 0,
  ERR_GENERIC: 1,
  ERR_ARGS: 2,
  ERR_UNIMPLEMENTED: 3,
  ERR_PERM: 4,
  ERR_INSTALLED: 5,
  ERR_CONFIGURED: 6,
  NOT_RUNNING: 7,
  RUNNING_PROMOTED: 8,
  FAILED_PROMOTED: 9,
  DEGRADED: 190,
  DEGRADED_PROMOTED: 191,
} as const;

export type OcfCode = (typeof OCF)[keyof typeof OCF];

const NAMES = new Map<number, string>(Object.entries(OCF).map(([k, v]) => [v, `OCF_${k}`]));

export function ocfCodeName(code: number): string {
  return NAMES.get(code) ?? `exit ${code}`;
}

/**
 * An action ends with this code and reason. The reason becomes the
 * `ocf-exit-reason:` line that crm_mon shows next to the failed operation.
 */
export class OcfError extends Error {
  /** Set once the reason went to the log, so it is not logged twice. */
  logged = false;
  /** A command killed because the operation's time ran out (not for what it did). */
  cutByDeadline = false;

  constructor(
    readonly code: number,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'OcfError';
  }
}

export const fail = {
  generic: (reason: string) => new OcfError(OCF.ERR_GENERIC, reason),
  args: (reason: string) => new OcfError(OCF.ERR_ARGS, reason),
  perm: (reason: string) => new OcfError(OCF.ERR_PERM, reason),
  /** Something this node lacks (a tool, a module, a device): other nodes may be fine. */
  installed: (reason: string) => new OcfError(OCF.ERR_INSTALLED, reason),
  /** Configuration that is wrong on every node: Pacemaker will not retry anywhere. */
  configured: (reason: string) => new OcfError(OCF.ERR_CONFIGURED, reason),
  notRunning: (reason: string) => new OcfError(OCF.NOT_RUNNING, reason),
  failedPromoted: (reason: string) => new OcfError(OCF.FAILED_PROMOTED, reason),
};
