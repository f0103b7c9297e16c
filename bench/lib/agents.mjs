// What is benchmarked: per agent, the shell agent it replaces, its setup, its
// parameters, and which actions can run for real on this machine.
import { createLoopFs, createNetns } from './setups.mjs';

export const HEARTBEAT = '/usr/lib/ocf/resource.d/heartbeat';
export const LINBIT = '/usr/lib/ocf/resource.d/linbit';

/**
 * The rows. `expect` is the exit code a correct agent gives on this setup
 * (null: whatever the shell agent says; both sides are compared).
 * kind: once = one process per sample; cycle = start then stop, alternating.
 */
export const ACTIONS = [
  { id: 'meta-data', action: 'meta-data', interval: 0, state: 'any', expect: 0 },
  { id: 'validate-all', action: 'validate-all', interval: 0, state: 'any', expect: 0 },
  { id: 'probe (stopped)', action: 'monitor', interval: 0, state: 'down', expect: 7 },
  { id: 'monitor (running)', action: 'monitor', interval: 10000, state: 'up', expect: 0 },
  { id: 'start', action: 'start', interval: 0, state: 'cycle', expect: 0 },
  { id: 'stop', action: 'stop', interval: 0, state: 'cycle', expect: 0 },
];

/** @type {Array<{name:string, shell:string, provider:string, full:boolean, why?:string, setup:(dir:string)=>any, params:(s:any)=>Record<string,string>, expect?:Record<string,number|null>}>} */
export const AGENTS = [
  {
    name: 'IPaddr2',
    shell: `${HEARTBEAT}/IPaddr2`,
    provider: 'heartbeat',
    full: true,
    runInNetns: true,
    setup: () => createNetns(),
    params: (s) => ({ ip: s.vip, cidr_netmask: '24', nic: s.nic }),
  },
  {
    name: 'Filesystem',
    shell: `${HEARTBEAT}/Filesystem`,
    provider: 'heartbeat',
    full: true,
    setup: (dir) => createLoopFs(dir),
    params: (s) => ({ device: s.device, directory: s.directory, fstype: s.fstype }),
  },
  {
    name: 'nfsserver',
    shell: `${HEARTBEAT}/nfsserver`,
    provider: 'heartbeat',
    full: false,
    why: 'this kernel has no nfsd: meta-data, validate-all and a probe of a stopped server only',
    setup: () => ({ describe: 'no setup: the NFS server is not running (this kernel has no nfsd)', cleanup() {} }),
    params: () => ({}),
    // validate-all without nfsd: the shell agent checks only its tools (0); ocfkit also checks the kernel (5).
    expect: { 'validate-all': null },
  },
  {
    name: 'drbd',
    shell: `${LINBIT}/drbd`,
    provider: 'linbit',
    full: false,
    why: 'this kernel has no drbd module: meta-data, validate-all and a probe only; both agents take their "DRBD not available here" path',
    setup: () => ({ describe: 'no setup: no drbd kernel module, resource "benchr0" is not configured', cleanup() {} }),
    params: () => ({ drbd_resource: 'benchr0' }),
    // Without the module the shell agent answers 5 (not installed) to validate-all and to the probe;
    // ocfkit's runtime turns a probe's 5 into 7, as Pacemaker reads both.
    expect: { 'validate-all': null, 'probe (stopped)': null },
  },
];

/** The clean environment Pacemaker's execd gives an agent: only OCF variables (and a PATH). */
export function agentEnv({ agent, provider, params, interval, timeoutMs, rsctmp }) {
  const env = {
    PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
    OCF_ROOT: '/usr/lib/ocf',
    OCF_RA_VERSION_MAJOR: '1',
    OCF_RA_VERSION_MINOR: '1',
    OCF_RESOURCE_INSTANCE: `bench-${agent}`,
    OCF_RESOURCE_TYPE: agent,
    OCF_RESOURCE_PROVIDER: provider,
    // Private state directory (pid files of send_arp etc.): other test runs on this machine must not collide with ours.
    HA_RSCTMP: rsctmp,
    OCF_RESKEY_CRM_meta_timeout: String(timeoutMs),
    OCF_RESKEY_CRM_meta_interval: String(interval),
  };
  for (const [k, v] of Object.entries(params)) env[`OCF_RESKEY_${k}`] = v;
  return env;
}
