import type { Deadline } from '../../ocf/deadline.js';
import type { Logger } from '../../ocf/log.js';
import type { Runner } from '../../ocf/run.js';

/** What the NFS mechanisms need from an action's context: run commands, wait within the deadline, log. */
export interface Ops {
  run: Runner;
  deadline: Deadline;
  log: Logger;
}
