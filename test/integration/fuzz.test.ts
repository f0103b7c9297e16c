import { spawn } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENTS_EXE } from '../helpers/agent.js';
import { Netns } from '../helpers/netns.js';
import { isRoot } from '../helpers/system.js';

/**
 * Every parameter of every agent (names from each agent's own meta-data)
 * with hostile values, through the built executable under env -i, as
 * validate-all, probe and recurring monitor. Whatever the value, an agent
 * must answer with an OCF code (0-9), give an ocf-exit-reason with every
 * error, never an "internal error", and never hang (a generous per-call
 * bound: a hang detector, not a speed test). Only read-only actions run; the
 * IPaddr2 calls run in a network namespace of their own.
 */

const HOSTILE: Array<[string, string]> = [
  ['empty', ''],
  ['100k characters', `/${'a'.repeat(100_000)}`],
  ['control characters', 'x\u0001\u001b[31m\u007fy\tz\r\nocf-exit-reason:forged'],
  ['short option', '-x'],
  ['long option', '--x=1'],
  ['dot-dot path', '/var/lib/nfs/../../etc'],
  ['relative path', '../etc/shadow'],
  ['huge number', '99999999999999999999'],
  ['negative number', '-1'],
  ['shell metacharacters', '$(touch /tmp/ocfkit-fuzz-pwned);`id`|&;<>*?'],
];

/** Enough configuration that each agent gets past its required parameters. */
const BASE: Record<string, Record<string, string>> = {
  Filesystem: { device: '/dev/nonexistent-ocfkit-fuzz', directory: '/nonexistent-ocfkit-fuzz/mnt', fstype: 'ext4' },
  IPaddr2: { ip: '192.0.2.99', nic: 'eth0', cidr_netmask: '24' },
  nfsserver: { nfs_shared_infodir: '/nonexistent-ocfkit-fuzz/nfsinfo' },
  drbd: { drbd_resource: 'ocfkitfuzz' },
};
const AGENTS = Object.keys(BASE);

/** Per call: a hang detector. Actions themselves are bounded by the op timeout given below. */
const CALL_LIMIT_MS = 20_000;
const OP_TIMEOUT_MS = 10_000;
const CONCURRENCY = 4;
/** Another build to fuzz (e.g. an older one, to see what the test finds there). */
const EXE = process.env.OCFKIT_FUZZ_EXE || AGENTS_EXE;

interface Call {
  agent: string;
  action: 'validate-all' | 'monitor';
  interval: number;
  param: string;
  label: string;
  value: string;
}
interface Outcome extends Call {
  code: number | null;
  signal: string | null;
  ms: number;
  stderr: string;
}

let ns: Netns;
let rsctmp: string;
beforeAll(() => {
  if (!isRoot()) throw new Error('the fuzz test needs root (network namespace)');
  ns = Netns.create('fz');
  ns.ip(['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p']);
  ns.ip(['link', 'set', 'eth0', 'up']);
  ns.ip(['link', 'set', 'eth0p', 'up']);
  ns.addAddress('eth0', '192.0.2.1/24');
  rsctmp = mkdtempSync(join(tmpdir(), 'ocfkit-fuzz-'));
});
afterAll(() => {
  ns?.destroy();
  if (rsctmp) rmSync(rsctmp, { recursive: true, force: true });
});

function paramsOf(agent: string): string[] {
  const r = spawnSync(EXE, [agent, 'meta-data'], { encoding: 'utf8', env: {} });
  return [...r.stdout.matchAll(/<parameter name="([^"]+)"/g)].map((m) => m[1]!);
}

function runCall(c: Call): Promise<Outcome> {
  const env = ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'OCF_ROOT=/usr/lib/ocf', `OCF_RESOURCE_INSTANCE=fuzz-${c.agent}`, `HA_RSCTMP=${rsctmp}`, `OCF_RESKEY_CRM_meta_timeout=${OP_TIMEOUT_MS}`, `OCF_RESKEY_CRM_meta_interval=${c.interval}`];
  for (const [k, v] of Object.entries({ ...BASE[c.agent], [c.param]: c.value })) env.push(`OCF_RESKEY_${k}=${v}`);
  const argv = [...(c.agent === 'IPaddr2' ? ['ip', 'netns', 'exec', ns.name] : []), 'env', '-i', ...env, EXE, c.agent, c.action];
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), CALL_LIMIT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ ...c, code, signal, ms: Date.now() - started, stderr });
    });
  });
}

async function runAll(calls: Call[]): Promise<Outcome[]> {
  const out: Outcome[] = [];
  let next = 0;
  const worker = async () => {
    while (next < calls.length) out.push(await runCall(calls[next++]!));
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return out;
}

/** What is wrong with one outcome, or nothing. */
function problem(o: Outcome): string | undefined {
  if (o.code === null) return `no exit code (${o.signal ?? 'killed'} after ${o.ms} ms: hung?)`;
  if (o.code < 0 || o.code > 9) return `exit ${o.code} is not an OCF code`;
  if (/internal error/i.test(o.stderr)) return `internal error: ${/^.*internal error.*$/im.exec(o.stderr)?.[0]}`;
  const reasons = o.stderr.split('\n').filter((l) => l.startsWith('ocf-exit-reason:'));
  const isError = o.code !== 0 && o.code !== 7 && o.code !== 8;
  if (isError && reasons.length === 0) return `exit ${o.code} without an ocf-exit-reason`;
  if (reasons.some((l) => l.length > 1024)) return 'an ocf-exit-reason longer than 1024 characters';
  // Pacemaker takes the first "ocf-exit-reason:" anywhere in stderr: a value must not plant one.
  if (o.stderr.split('ocf-exit-reason:').length - 1 !== reasons.length || reasons.some((l) => l.startsWith('ocf-exit-reason:forged'))) {
    return 'a parameter value planted an ocf-exit-reason';
  }
  return undefined;
}

describe('fuzz: every parameter of every agent with hostile values', () => {
  it('answers with OCF codes, reasons on errors, no internal errors, no hangs', { timeout: 600_000 }, async () => {
    const calls: Call[] = [];
    for (const agent of AGENTS) {
      const names = paramsOf(agent);
      expect(names.length, `${agent} meta-data lists parameters`).toBeGreaterThan(0);
      names.forEach((param, p) => {
        HOSTILE.forEach(([label, value], v) => {
          calls.push({ agent, action: 'validate-all', interval: 0, param, label, value });
          // Probes and recurring monitors take turns over the values: every value reaches both
          // kinds across the parameters, and the run stays short enough for every CI run.
          const turn = (p + v) % 4;
          if (turn === 0) calls.push({ agent, action: 'monitor', interval: 0, param, label, value });
          if (turn === 1) calls.push({ agent, action: 'monitor', interval: 10_000, param, label, value });
        });
      });
    }
    const outcomes = await runAll(calls);
    const bad = outcomes.flatMap((o) => {
      const p = problem(o);
      const action = o.action === 'monitor' ? (o.interval ? 'monitor' : 'probe') : o.action;
      return p ? [`${o.agent} ${action} ${o.param}=<${o.label}>: ${p}`] : [];
    });
    expect(bad).toEqual([]);
    expect(outcomes).toHaveLength(calls.length);
  });
});
