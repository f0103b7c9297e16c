#!/usr/bin/env node
// STAND-IN for drbdadm, drbdsetup, modprobe and modinfo, for the fast tests on machines without a DRBD
// kernel module. It is not DRBD: it replays output the real tools print (captured from the QEMU guests, or
// written from drbd-utils' and the kernel's source where no capture exists yet: see README.md), and moves
// between the states a scenario file lists. A command the scenario has no recorded answer for in the current
// state fails loudly (exit 99, logged as UNRECORDED), so the stand-in can never invent a state or an answer.
//
// Environment:
//   DRBD_STANDIN_SCENARIO  scenario file (JSON, see scenarios/)
//   DRBD_STANDIN_DIR       work directory: state.json, calls.log, and kernel/ (the stand-in kernel's
//                          proc/drbd, sys/module/drbd/version, dev/kmsg, which the agent reads through
//                          OCFKIT_DRBD_KERNEL_ROOT=<DRBD_STANDIN_DIR>/kernel)
//
// Tests (not the agent) change the state from outside, as a failing disk or a vanishing peer would:
//   standin.mjs --enter <state>
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { parseCapture } from './capture.mjs';

const dir = process.env.DRBD_STANDIN_DIR;
const scenarioFile = process.env.DRBD_STANDIN_SCENARIO;
if (!dir || !scenarioFile) {
  process.stderr.write('drbd stand-in: DRBD_STANDIN_DIR and DRBD_STANDIN_SCENARIO must be set\n');
  process.exit(99);
}
const base = dirname(resolve(scenarioFile));
// "extends": another scenario (relative path) whose "any" answers and states this one adds to or replaces.
const load = (file) => {
  const s = JSON.parse(readFileSync(file, 'utf8'));
  if (!s.extends) return s;
  const parent = load(join(dirname(file), s.extends));
  return { ...parent, ...s, any: { ...parent.any, ...s.any }, states: { ...parent.states, ...s.states } };
};
const scenario = load(resolve(scenarioFile));
const stateFile = join(dir, 'state.json');
const kernel = join(dir, 'kernel');

const file = (ref) => readFileSync(isAbsolute(ref) ? ref : join(base, ref), 'utf8');
/** "@relative/path" → that file's text (relative to the scenario file), a capture's stdout; other strings as they are. */
const text = (v) => {
  if (typeof v !== 'string' || !v.startsWith('@')) return v ?? '';
  const t = file(v.slice(1));
  return parseCapture(t)?.stdout ?? t;
};
/** An answer: inline/"@file" stdout, stderr, exit; or "capture": a captured run of the real command (all three). */
const reply = (a) => {
  if (a.capture) {
    const c = parseCapture(file(a.capture));
    if (!c) throw new Error(`${a.capture} is not a capture file`);
    return { stdout: c.stdout, stderr: c.stderr, exit: c.exit };
  }
  return { stdout: text(a.stdout), stderr: text(a.stderr), exit: a.exit ?? 0 };
};

function enter(name) {
  const st = scenario.states[name];
  if (!st) throw new Error(`scenario has no state ${name}`);
  mkdirSync(join(kernel, 'proc'), { recursive: true });
  mkdirSync(join(kernel, 'dev'), { recursive: true });
  if (st.proc) {
    writeFileSync(join(kernel, 'proc/drbd'), text(st.proc));
    mkdirSync(join(kernel, 'sys/module/drbd'), { recursive: true });
    writeFileSync(join(kernel, 'sys/module/drbd/version'), `${scenario.moduleVersion}\n`);
  } else {
    rmSync(join(kernel, 'proc/drbd'), { force: true });
    rmSync(join(kernel, 'sys/module/drbd'), { recursive: true, force: true });
  }
  if (st.kmsg) appendFileSync(join(kernel, 'dev/kmsg'), text(st.kmsg));
  writeFileSync(stateFile, JSON.stringify({ state: name }));
}

function current() {
  if (!existsSync(stateFile)) enter(scenario.initial);
  return JSON.parse(readFileSync(stateFile, 'utf8')).state;
}

const log = (line) => appendFileSync(join(dir, 'calls.log'), `${line}\n`);

if (process.argv[2] === '--enter') {
  enter(process.argv[3]);
  log(`ENTER ${process.argv[3]}`);
  process.exit(0);
}

// The command as the scenario keys it: tool name and arguments, drbdadm's "-c <file>" left out.
const tool = basename(process.argv[1]);
const args = process.argv.slice(2);
if (tool === 'drbdadm' && args[0] === '-c') args.splice(0, 2);
const key = [tool, ...args].join(' ');

const state = current();
const answer = scenario.states[state].on?.[key] ?? scenario.any?.[key];
if (!answer) {
  log(`UNRECORDED [${state}] ${key}`);
  process.stderr.write(`drbd stand-in: no recorded answer for '${key}' in state '${state}'\n`);
  process.exit(99);
}
const r = reply(answer);
log(`[${state}] ${key} -> ${r.exit}${answer.next ? ` => ${answer.next}` : ''}`);
process.stdout.write(r.stdout);
process.stderr.write(r.stderr);
if (answer.next) enter(answer.next);
process.exit(r.exit);
