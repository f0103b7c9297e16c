// The pure parts of the QEMU rows (bench/lib/qemu.mjs): what runs in the guests, with which
// parameters and environment, how a sample taken in a guest is read, and which state each action
// must leave. No I/O here: test/unit/bench-qemu.test.ts covers it.
import { agentEnv, HEARTBEAT, LINBIT } from './agents.mjs';

/** Where things are in the guests (n1 runs the agents, n2 is DRBD's peer). */
export const GUEST = {
  /** bench/lib/measure-one.c, compiled statically on the host, on the bed's read-only share. */
  measureOne: '/opt/ocfkit/files/measure-one',
  /** The agents' executable on the share, and where its links go (as the QEMU tier installs it). */
  agentsExe: '/opt/ocfkit/ocfkit-agents',
  ocfkitDir: '/usr/lib/ocf/resource.d/ocfkit',
  work: '/run/ocfbench',
  rsctmp: '/run/ocfbench/rsctmp',
  stdout: '/run/ocfbench/stdout',
  stderr: '/run/ocfbench/stderr',
  /** The offline CIB the drbd agents' crm_attribute writes promotion scores to (no cluster runs). */
  cib: '/root/cib.xml',
  drbdResource: 'r0',
  drbdDevice: '/dev/drbd0',
  /** The "shared filesystem": ext4 on the DRBD device, mounted while n1 is Primary. */
  shared: '/srv/nfs',
  infodir: '/srv/nfs/nfsinfo',
  floatIp: '10.99.0.200',
  floatName: 'nfs-vip',
  /** The stand-in for Debian's nfs-kernel-server init script (test/e2e/lib/shell-nodes.ts). */
  nfsInitScript: '/usr/local/sbin/nfs-server-units',
};

/** What Pacemaker 2.1.5 (the guests') passes every agent as OCF_RESKEY_crm_feature_set; linbit's drbd warns without it. */
export const CRM_FEATURE_SET = '3.16.2';

/** Every QEMU action gets this Pacemaker timeout (and the agents' deadlines with it): TCG is slow. */
export const QEMU_TIMEOUT_MS = 120_000;

/** DRBD 8.4 resource r0 between the two guests' data disks. */
export const DRBD_RES = `resource r0 {
  protocol C;
  device /dev/drbd0;
  disk /dev/vdb;
  meta-disk internal;
  disk {
    resync-rate 100M;
    c-plan-ahead 0;
  }
  on n1 {
    address 10.99.0.11:7789;
  }
  on n2 {
    address 10.99.0.12:7789;
  }
}
`;
export const DRBD_GLOBAL = 'global {\n  usage-count no;\n}\ncommon {\n}\n';

/** A promotable clone of two, as Pacemaker describes it to the agent on n1 (both agents read these). */
const DRBD_CLONE_META = {
  CRM_meta_clone_max: '2',
  CRM_meta_clone_node_max: '1',
  CRM_meta_promoted_max: '1',
  CRM_meta_promoted_node_max: '1',
  CRM_meta_master_max: '1',
  CRM_meta_master_node_max: '1',
  CRM_meta_notify: 'true',
  CRM_meta_on_node: 'n1',
};

/**
 * The agents measured in the guests. `cycle`: the actions of one sample, in order, by the same side;
 * `monitor`: the "monitor (running)" row (brought up once by the shell agent). `params(side)`: the
 * OCF_RESKEY_* values; `extraEnv`: what both sides get beyond agentEnv's variables. `monitorUp`:
 * who brings the resource up for the monitor row — 'shell' (once, then both sides monitor it, as on
 * the host rows) or 'own' (each side monitors what its own start left, in blocks).
 */
export const QEMU_AGENTS = [
  {
    name: 'drbd',
    shell: `${LINBIT}/drbd`,
    provider: 'linbit',
    cycle: ['start', 'promote', 'demote', 'stop'],
    monitorUp: 'shell',
    params: () => ({ drbd_resource: GUEST.drbdResource, ...DRBD_CLONE_META }),
    // crm_attribute (promotion scores) writes to an offline CIB: there is no cluster in the guests.
    extraEnv: { CIB_file: GUEST.cib },
    describe: `DRBD 8.4 resource ${GUEST.drbdResource} (protocol C, 64 MiB data disks) between n1 and n2; the agents act on n1, n2 stays up and connected (Secondary); promotion scores go to an offline CIB (CIB_file=${GUEST.cib})`,
  },
  {
    name: 'nfsserver',
    shell: `${HEARTBEAT}/nfsserver`,
    provider: 'heartbeat',
    cycle: ['start', 'stop'],
    // ocfkit's monitor answers 1 for a server the shell agent started: its rpc.statd runs without nfs_ip's
    // identity (-n), which ocfkit's start gives it. So each side monitors the server it started.
    monitorUp: 'own',
    params: (side) => ({
      nfs_shared_infodir: GUEST.infodir,
      nfs_ip: GUEST.floatIp,
      // The shell agent starts nfsd through an init script; Debian's refuses with an empty /etc/exports and
      // its stop leaves the nfsd threads running, so the stand-in the end-to-end bed uses (what nfs-server.service does).
      ...(side === 'shell' ? { nfs_init_script: GUEST.nfsInitScript } : {}),
    }),
    extraEnv: {},
    describe: `kernel nfsd on n1; nfs_shared_infodir ${GUEST.infodir} on ext4 on DRBD (n1 Primary), nfs_ip ${GUEST.floatIp} (${GUEST.floatName}) up on n1's eth0; no exports; rpcbind running; the shell side's nfs_init_script is the end-to-end bed's stand-in for the nfs-server units`,
  },
];

/** The row ids of an agent's QEMU rows, in table order. */
export const qemuRowIds = (agent) => ['monitor (running)', ...agent.cycle];

/** A fresh QEMU row (same shape as bench/lib/measure.mjs's rows, marked where: 'qemu'). */
export function qemuRow(agent, id) {
  const monitor = id === 'monitor (running)';
  return {
    agent: agent.name,
    action: id,
    argv: monitor ? 'monitor' : id,
    interval: monitor ? 10_000 : 0,
    expect: 0,
    where: 'qemu',
    sides: { ocfkit: { samples: [], forks: null }, shell: { samples: [], forks: null } },
    notes: [],
  };
}

/** The agent's environment in the guest: agentEnv's (OCF variables + PATH) and the agent's extraEnv. */
export function qemuEnv(agent, side, interval) {
  return {
    ...agentEnv({ agent: agent.name, provider: side === 'shell' ? agent.provider : 'ocfkit', params: { ...agent.params(side), crm_feature_set: CRM_FEATURE_SET }, interval, timeoutMs: QEMU_TIMEOUT_MS, rsctmp: GUEST.rsctmp }),
    ...agent.extraEnv,
  };
}

/** The executable a side runs in the guest. */
export const qemuExe = (agent, side) => (side === 'shell' ? agent.shell : `${GUEST.ocfkitDir}/${agent.name}`);

/**
 * The guest command of one sample: measure-one (clock, wait4) started by `env -i` with exactly the
 * agent's environment; the little sh around it only passes the tail of the agent's stderr back
 * after measure-one has printed its figures, outside what is measured.
 */
export function measureArgv(exe, action, env, timeoutS) {
  return [
    'sh',
    '-c',
    'e=$1; shift; "$@"; rc=$?; tail -n 3 -- "$e" >&2; exit $rc',
    'sh',
    GUEST.stderr,
    'env',
    '-i',
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    GUEST.measureOne,
    GUEST.stdout,
    GUEST.stderr,
    String(timeoutS),
    exe,
    action,
  ];
}

/** A wait(2) status as exit code or signal (what Python's os.waitstatus_to_exitcode does for the host rows). */
export function decodeWaitStatus(status) {
  const sig = status & 0x7f;
  if (sig === 0) return { code: (status >> 8) & 0xff, signal: null };
  if (sig !== 0x7f) return { code: null, signal: sig };
  return { code: null, signal: null }; // stopped: measure-one does not ask for it (no WUNTRACED)
}

/** measure-one's line "<wall_ns> <user_us> <sys_us> <maxrss_kib> <wait_status> <timed_out>", as the runner reports it. */
export function parseMeasureOne(stdout) {
  const f = stdout.trim().split(/\s+/);
  if (f.length !== 6 || !f.every((x) => /^-?\d+$/.test(x))) throw new Error(`measure-one: unexpected output ${JSON.stringify(stdout.slice(0, 200))}`);
  const [wallNs, userUs, sysUs, maxRssKiB, status, timedOut] = f.map(Number);
  return { wallNs, userUs, sysUs, maxRssKiB, ...decodeWaitStatus(status), timedOut: timedOut !== 0 };
}

/**
 * The monitor row's plan for monitorUp 'own': blocks of samples, each side's start, its monitors, its
 * stop; two blocks per side in the order A B B A, so drift falls on both alike. Returns [{ side, n }].
 */
export function monitorBlocks(sides, iterations) {
  const first = Math.ceil(iterations / 2);
  const order = [...sides, ...[...sides].reverse()];
  return order.map((side, i) => ({ side, n: i < sides.length ? first : iterations - first })).filter((b) => b.n > 0);
}

/** The agent's last stderr lines as the host rows keep them (one line, at most 400 characters). */
export const stderrTail = (text) => text.trim().split('\n').slice(-3).join(' | ').slice(0, 400);

/**
 * Whether the guest is in the state an action must leave. drbd: `role`/`cstate`/`dstate` are
 * drbdadm's answers for r0 (null while r0 is not configured); after start the bench first waits
 * (untimed) for Connected and UpToDate/UpToDate, as Pacemaker promotes only after a monitor saw it.
 * nfsserver: `threads` from /proc/fs/nfsd/threads (0 when absent).
 */
export function stateOk(agent, action, s) {
  if (agent === 'nfsserver') return action === 'stop' ? s.threads === 0 : s.threads > 0;
  switch (action) {
    case 'start':
    case 'monitor (running)':
      return s.role === 'Secondary/Secondary' && s.cstate === 'Connected' && s.dstate === 'UpToDate/UpToDate';
    case 'promote':
      return s.role === 'Primary/Secondary';
    case 'demote':
      return s.role === 'Secondary/Secondary';
    case 'stop':
      return s.role === null;
    default:
      throw new Error(`stateOk: no state for ${agent} ${action}`);
  }
}

/** What state was wanted, for the row's note. */
export const wantedState = (agent, action) =>
  agent === 'nfsserver'
    ? action === 'stop'
      ? 'no nfsd threads'
      : 'nfsd threads > 0'
    : { start: 'Secondary/Secondary, Connected, UpToDate/UpToDate', promote: 'Primary/Secondary', demote: 'Secondary/Secondary', stop: 'r0 down' }[action];

/** The Debian kernel's version from the image's manifest ("kernel linux-image-6.1.0-57-amd64 6.1.0-57-amd64"). */
export function manifestKernel(manifest) {
  return /^kernel \S+ (\S+)$/m.exec(manifest)?.[1] ?? null;
}

/** The DRBD module's version from /proc/drbd ("version: 8.4.11 (api:1/proto:86-101)"). */
export function procDrbdVersion(text) {
  return /^version: (\S+)/m.exec(text)?.[1] ?? null;
}
