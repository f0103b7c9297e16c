import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { defuseReasonPrefix } from './exit-reason.js';
import { writeStderr } from './stdio.js';
import { ocfIsFalse } from './truth.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'err' | 'crit';

const LABEL: Record<LogLevel, string> = { debug: 'DEBUG', info: 'INFO', warn: 'WARNING', err: 'ERROR', crit: 'CRIT' };
const SYSLOG_PRIORITY: Record<LogLevel, string> = { debug: 'debug', info: 'info', warn: 'warning', err: 'err', crit: 'crit' };

export interface Logger {
  readonly tag: string;
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  crit(msg: string): void;
}

/** Longest message text logged; syslog drops or splits longer lines anyway. */
const MAX_LOG_MESSAGE = 4096;

/** ha_log: debug is on unless HA_debug is empty or "0"; a spelled-out "false"/"no"/"off" means off too. */
const isOff = (v: string | undefined) => !v || ocfIsFalse(v);

function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())}_${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/**
 * Logging as ocf-shellfuncs' ha_log does it, so admins find our lines where
 * they look for the shell agents': syslog through `logger` when HA_LOGFACILITY
 * is set (Pacemaker sets it from PCMK_logfacility), HA_LOGFILE / HA_DEBUGLOG
 * appended, debug only with HA_debug/HA_DEBUG. stderr always gets the line
 * too: Pacemaker records an operation's stderr in its own log.
 */
export function createLogger(agent: string, instance: string, env: NodeJS.ProcessEnv, stderr: (s: string) => void = writeStderr): Logger {
  const tag = `${agent}(${instance})[${process.pid}]`;
  const facility = env.HA_LOGFACILITY && env.HA_LOGFACILITY !== 'none' ? env.HA_LOGFACILITY : undefined;
  const logfile = env.HA_LOGFILE || undefined;
  const debuglog = env.HA_DEBUGLOG || undefined;
  const debugOn = !isOff(env.HA_debug) || !isOff(env.HA_DEBUG);

  const append = (file: string, line: string) => {
    try {
      appendFileSync(file, line);
    } catch {
      // A log file we cannot write must never fail the operation.
    }
  };

  const emit = (level: LogLevel, raw: string) => {
    if (level === 'debug' && !debugOn) return;
    // One line each, bounded: a parameter value can be anything (100k characters, newlines).
    const flat = defuseReasonPrefix(raw.replace(/\s*\n\s*/g, ' '));
    const msg = flat.length > MAX_LOG_MESSAGE ? `${flat.slice(0, MAX_LOG_MESSAGE)}… (${flat.length - MAX_LOG_MESSAGE} more characters)` : flat;
    const text = `${LABEL[level]}: ${msg}`;
    stderr(`${tag}: ${text}\n`);
    if (facility) {
      try {
        // Fire and forget: the logger process finishes on its own after we exit.
        const child = spawn('logger', ['-t', tag, '-p', `${facility}.${SYSLOG_PRIORITY[level]}`, '--', text], {
          stdio: 'ignore',
          detached: true,
          env: { PATH: '/usr/bin:/bin' },
        });
        child.on('error', () => {});
        child.unref();
      } catch {
        // syslog is best effort
      }
    }
    const line = `${stamp()} ${tag}:    ${text}\n`;
    if (logfile && level !== 'debug') append(logfile, line);
    if (debuglog && debuglog !== logfile) append(debuglog, line);
    else if (level === 'debug' && logfile) append(logfile, line);
  };

  return {
    tag,
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('err', m),
    crit: (m) => emit('crit', m),
  };
}
