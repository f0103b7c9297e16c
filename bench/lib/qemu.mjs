// The rows measured inside QEMU/TCG guests (Debian's kernel has DRBD 8.4 and nfsd; this machine's
// has neither): drbd start/promote/demote/stop and monitor, nfsserver start/stop and monitor. Two
// guests of the QEMU tier's harness (test/qemu/lib, through build-bench/qemu-harness.mjs); both
// sides on the same resources in the same guests, one at a time, alternating as on the host rows.
// Each sample is taken in the guest by measure-one (fork/exec/wait4), never across the host↔guest
// channel. See docs/readme/bench.md, "QEMU rows".
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { alternate, sample } from './measure.mjs';
import {
  DRBD_GLOBAL,
  DRBD_RES,
  GUEST,
  manifestKernel,
  measureArgv,
  monitorBlocks,
  parseMeasureOne,
  procDrbdVersion,
  QEMU_AGENTS,
  QEMU_TIMEOUT_MS,
  qemuEnv,
  qemuExe,
  qemuRow,
  qemuRowIds,
  stateOk,
  stderrTail,
  wantedState,
} from './qemu-rows.mjs';
import { sh, which } from './sys.mjs';

const SIDES = ['ocfkit', 'shell'];

/** The bundled harness (scripts/build.mjs bench-qemu), or why it cannot be used. */
export async function loadHarness(root) {
  const file = join(root, 'build-bench', 'qemu-harness.mjs');
  if (!existsSync(file)) return { reason: `${file} is not built (node scripts/build.mjs bench-qemu; scripts/bench.sh does it)` };
  return { harness: await import(pathToFileURL(file).href) };
}

/** Whether the QEMU rows can run here: the QEMU tier's own check, plus a static build of measure-one. */
export function qemuReady(harness) {
  const a = harness.qemuAvailability();
  if (!a.ok) return a;
  if (!which('cc')) return { ok: false, reason: 'no C compiler (cc) for the static measure-one' };
  return { ok: true };
}

/** measure-one for the guests: static, so it needs nothing from the guest's libc. */
export function buildMeasureOneStatic(dir, root) {
  const out = join(dir, 'measure-one-static');
  sh('cc', ['-static', '-O2', '-Wall', '-o', out, join(root, 'bench', 'lib', 'measure-one.c')]);
  return out;
}

/**
 * @param {object} o
 * @param {any} o.harness        loadHarness().harness
 * @param {string} o.root
 * @param {string} o.tmp
 * @param {string[]} o.agents    names among QEMU_AGENTS
 * @param {number} o.cycles      samples per side of each cycle row
 * @param {number} o.iterations  samples per side of the monitor rows
 * @param {(s: string) => void} o.log
 * @param {(bed: any) => void} [o.onBed]  the bed once booted (for the caller's cleanup)
 * @returns {Promise<{ rows: any[], info: any }>}
 */
export async function benchQemu(o) {
  const { harness: h, log } = o;
  const agents = QEMU_AGENTS.filter((a) => o.agents.includes(a.name));
  const t0 = Date.now();
  const measureOne = buildMeasureOneStatic(o.tmp, o.root);
  const bed = await h.startGuests({
    guests: [
      { name: 'n1', dataDiskMiB: 64 },
      { name: 'n2', dataDiskMiB: 64 },
    ],
    files: { 'measure-one': measureOne },
    log: (l) => log(l),
  });
  o.onBed?.(bed);
  const info = { guests: 'n1, n2: 1 vCPU, 640 MiB each, QEMU TCG (-accel tcg,thread=multi -cpu max)', cycles: o.cycles, iterations: o.iterations, agents: {} };
  const rows = [];
  try {
    info.bootS = Math.round((Date.now() - t0) / 1000);
    const n1 = bed.guest('n1');
    const n2 = bed.guest('n2');
    const run = (g, argv, timeoutMs = 120_000) => g.run(argv, { timeoutMs });
    const out = async (g, argv) => (await run(g, argv)).trim();
    const drbdState = async () => {
      const q = async (what) => {
        const r = await n1.exec(['drbdadm', what, GUEST.drbdResource]);
        return r.code === 0 ? r.stdout.trim() : null;
      };
      const role = await q('role');
      return { role, cstate: role === null ? null : await q('cstate'), dstate: role === null ? null : await q('dstate') };
    };
    const threads = async () => {
      const r = await n1.exec(['cat', '/proc/fs/nfsd/threads']);
      return { threads: r.code === 0 ? Number(r.stdout.trim()) || 0 : 0 };
    };
    const waitDrbd = (g, what, want, timeoutMs = 180_000) =>
      h.until(async () => (await out(g, ['drbdadm', what, GUEST.drbdResource])) === want, { timeoutMs, what: `${g.name}: drbdadm ${what} ${GUEST.drbdResource} = ${want}` });

    // Set up once: DRBD r0 synced between the data disks, ext4 on it, n2 left up and Secondary.
    log('qemu: DRBD r0 between n1 and n2 (create-md, initial sync, ext4)');
    for (const g of [n1, n2]) {
      await g.writeFile('/etc/drbd.d/r0.res', DRBD_RES);
      await g.writeFile('/etc/drbd.d/global_common.conf', DRBD_GLOBAL);
      await run(g, ['drbdadm', 'create-md', '--force', GUEST.drbdResource]);
    }
    for (const g of [n2, n1]) await run(g, ['drbdadm', 'up', GUEST.drbdResource]);
    for (const g of [n1, n2]) await waitDrbd(g, 'cstate', 'Connected');
    await run(n1, ['drbdadm', 'primary', '--force', GUEST.drbdResource]);
    for (const g of [n1, n2]) await waitDrbd(g, 'dstate', 'UpToDate/UpToDate', 300_000);
    await run(n1, ['mkfs.ext4', '-q', GUEST.drbdDevice]);
    await run(n1, ['mkdir', '-p', GUEST.shared]);
    await run(n1, ['mount', GUEST.drbdDevice, GUEST.shared]);
    await run(n1, ['mkdir', '-p', GUEST.infodir]);
    await run(n1, ['umount', GUEST.shared]);
    await run(n1, ['drbdadm', 'secondary', GUEST.drbdResource]);
    await run(n1, ['drbdadm', 'down', GUEST.drbdResource]);
    info.drbdModule = procDrbdVersion(await out(n1, ['cat', '/proc/drbd']));
    // The offline CIB the drbd agents' crm_attribute writes to, both nodes online (as test/qemu/drbd-agent.test.ts).
    await n1.writeFile('/root/cib-empty.xml', await run(n1, ['cibadmin', '--empty']));
    for (const [id, uname] of [['1', 'n1'], ['2', 'n2']]) {
      await run(n1, ['env', 'CIB_file=/root/cib-empty.xml', 'cibadmin', '-C', '-o', 'nodes', '-X', `<node id="${id}" uname="${uname}"/>`]);
    }
    await run(n1, ['crm_simulate', '-x', '/root/cib-empty.xml', '-S', '-u', 'n1', '-u', 'n2', '-O', GUEST.cib], 180_000);
    // The ocfkit side as the QEMU tier installs it: links to the executable on the share.
    await run(n1, ['mkdir', '-p', GUEST.ocfkitDir, GUEST.rsctmp]);
    for (const a of agents) await run(n1, ['ln', '-sf', GUEST.agentsExe, qemuExe(a, 'ocfkit')]);
    await run(n1, ['test', '-x', GUEST.measureOne]);
    info.kernel = (await out(n1, ['uname', '-r'])) || manifestKernel(readFileSync(bed.image.manifest, 'utf8'));
    info.packages = (await out(n1, ['dpkg-query', '-W', '-f', '${Package} ${Version}\\n', 'resource-agents', 'drbd-utils', 'nfs-kernel-server', 'pacemaker-cli-utils'])).split('\n').join(', ');
    info.agentsSha256 = bed.agentsSha256;

    /** One sample in n1: measure-one there, exactly the agent's environment. */
    const measure = async (agent, side, action, interval) => {
      const timeoutS = QEMU_TIMEOUT_MS / 1000 + 10;
      const r = await n1.exec(measureArgv(qemuExe(agent, side), action, qemuEnv(agent, side, interval), timeoutS), { timeoutMs: (timeoutS + 60) * 1000 });
      if (r.code !== 0) throw new Error(`n1: measure-one exited ${r.code}: ${r.stderr.trim()}`);
      const s = sample(parseMeasureOne(r.stdout));
      s.stderr = stderrTail(r.stderr);
      return s;
    };

    for (const agent of agents) {
      const at = Date.now();
      const byId = Object.fromEntries(qemuRowIds(agent).map((id) => [id, qemuRow(agent, id)]));
      rows.push(...Object.values(byId));
      const isDrbd = agent.name === 'drbd';
      const state = isDrbd ? drbdState : threads;
      // After start, drbd waits (untimed) until it is connected and UpToDate: Pacemaker promotes only then.
      const settle = async () => {
        if (!isDrbd) return;
        await waitDrbd(n1, 'cstate', 'Connected').catch(() => undefined);
        await waitDrbd(n1, 'dstate', 'UpToDate/UpToDate').catch(() => undefined);
      };
      const forceDown = async () => {
        if (isDrbd) {
          await n1.exec(['drbdadm', 'secondary', GUEST.drbdResource]);
          await n1.exec(['drbdadm', 'down', GUEST.drbdResource]);
        } else {
          await n1.exec([GUEST.nfsInitScript, 'stop']);
          await n1.exec(['sh', '-c', 'while mountpoint -q /var/lib/nfs; do umount /var/lib/nfs || exit 1; done']);
        }
      };
      if (!isDrbd) {
        // What resource-agents' nfsserver needs in a guest without systemd (shell-nodes.ts): the init-script
        // stand-in and rpcbind running; the shared filesystem (ext4 on DRBD, n1 Primary) and the floating IP.
        await n1.writeFile(GUEST.nfsInitScript, h.NFS_SERVER_UNITS, { mode: '755' });
        if ((await n1.exec(['pidof', 'rpcbind'])).code !== 0) await n1.spawn(['rpcbind', '-f', '-w'], { log: '/var/log/rpcbind.out' });
        await h.until(async () => (await n1.exec(['rpcinfo', '-p'])).code === 0, { timeoutMs: 60_000, what: 'n1: rpcbind answers' });
        await run(n1, ['sh', '-c', 'grep -q " $2$" /etc/hosts || echo "$1 $2" >> /etc/hosts', 'sh', GUEST.floatIp, GUEST.floatName]);
        await run(n1, ['drbdadm', 'up', GUEST.drbdResource]);
        await waitDrbd(n1, 'dstate', 'UpToDate/UpToDate');
        await run(n1, ['drbdadm', 'primary', GUEST.drbdResource]);
        await run(n1, ['mount', GUEST.drbdDevice, GUEST.shared]);
        await run(n1, ['ip', 'addr', 'add', `${GUEST.floatIp}/24`, 'dev', 'eth0']);
      }
      try {
        // monitor (running): brought up once by the shell agent, then both sides monitor it; or (monitorUp 'own')
        // each side monitors what its own start left, in blocks A B B A.
        const mon = byId['monitor (running)'];
        const bringUp = async (side) => {
          const up = await measure(agent, side, 'start', 0);
          await settle();
          if (up.code === 0 && stateOk(agent.name, 'monitor (running)', await state())) return true;
          mon.error = `could not bring the resource up with the ${side} agent (exit ${up.code}: ${up.stderr})`;
          return false;
        };
        const bringDown = async (side) => {
          const down = await measure(agent, side, 'stop', 0);
          if (down.code !== 0) mon.notes.push(`${side} stop after the monitors: exit ${down.code}: ${down.stderr}`);
          if (!stateOk(agent.name, 'stop', await state())) {
            mon.notes.push('resource was left up: removed by the bench');
            await forceDown();
          }
        };
        log(`qemu ${agent.name} monitor (running): ${o.iterations} × ${SIDES.join(' + ')}${agent.monitorUp === 'own' ? ', each side on what it started' : ''}`);
        if (agent.monitorUp === 'own') {
          for (const b of monitorBlocks(SIDES, o.iterations)) {
            if (await bringUp(b.side)) {
              for (let i = -1; i < b.n; i++) {
                const s = await measure(agent, b.side, 'monitor', 10_000);
                if (i >= 0) mon.sides[b.side].samples.push(s);
              }
            }
            await bringDown(b.side);
          }
        } else {
          if (await bringUp('shell')) {
            for (let i = -1; i < o.iterations; i++) {
              for (const side of alternate(SIDES, i)) {
                const s = await measure(agent, side, 'monitor', 10_000);
                if (i >= 0) mon.sides[side].samples.push(s);
              }
            }
          }
          await bringDown('shell');
        }

        // The cycle: each sample runs every action of agent.cycle by the same side, the state checked after each.
        log(`qemu ${agent.name} ${agent.cycle.join('→')}: ${o.cycles} cycles × ${SIDES.join(' + ')}`);
        const cycle = async (side, record) => {
          for (const action of agent.cycle) {
            const s = await measure(agent, side, action, 0);
            if (action === 'start') await settle();
            s.stateOk = stateOk(agent.name, action, await state());
            if (record) byId[action].sides[side].samples.push(s);
            if (!s.stateOk) {
              byId[action].notes.push(`${side}: after ${action} the state was not ${wantedState(agent.name, action)} (exit ${s.code}: ${s.stderr})`);
              await forceDown();
              return;
            }
          }
        };
        for (let i = -1; i < o.cycles; i++) for (const side of alternate(SIDES, i)) await cycle(side, i >= 0);
      } finally {
        if (!isDrbd) {
          await n1.exec(['ip', 'addr', 'del', `${GUEST.floatIp}/24`, 'dev', 'eth0']);
          await n1.exec(['umount', GUEST.shared]);
          await n1.exec(['drbdadm', 'secondary', GUEST.drbdResource]);
          await n1.exec(['drbdadm', 'down', GUEST.drbdResource]);
        }
      }
      info.agents[agent.name] = { setup: agent.describe, durationS: Math.round((Date.now() - at) / 1000) };
    }
  } finally {
    await bed.teardown();
  }
  info.durationS = Math.round((Date.now() - t0) / 1000);
  return { rows, info };
}
