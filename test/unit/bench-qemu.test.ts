// The benchmark's QEMU rows, their pure parts (bench/lib/qemu-rows.mjs) and how the table shows them
// (bench/lib/report.mjs). Nothing here boots a guest or times anything.
import { describe, expect, test } from 'vitest';
import {
  CRM_FEATURE_SET,
  GUEST,
  QEMU_AGENTS,
  QEMU_TIMEOUT_MS,
  decodeWaitStatus,
  manifestKernel,
  measureArgv,
  monitorBlocks,
  parseMeasureOne,
  procDrbdVersion,
  qemuEnv,
  qemuExe,
  qemuRow,
  qemuRowIds,
  stateOk,
  stderrTail,
  type QemuAgent,
} from '../../bench/lib/qemu-rows.mjs';
import { judgeRows, markdownTable, qemuLines, tableRows, targetLines } from '../../bench/lib/report.mjs';

const agent = (name: string): QemuAgent => {
  const a = QEMU_AGENTS.find((x) => x.name === name);
  if (!a) throw new Error(`no QEMU agent ${name}`);
  return a;
};
const drbd = agent('drbd');
const nfs = agent('nfsserver');

describe('measure-one in the guest', () => {
  test('wait statuses decode as the host runner decodes them', () => {
    expect(decodeWaitStatus(0)).toEqual({ code: 0, signal: null });
    expect(decodeWaitStatus(7 << 8)).toEqual({ code: 7, signal: null });
    expect(decodeWaitStatus(255 << 8)).toEqual({ code: 255, signal: null });
    expect(decodeWaitStatus(9)).toEqual({ code: null, signal: 9 });
    expect(decodeWaitStatus(15 | 0x80)).toEqual({ code: null, signal: 15 }); // core dumped
  });

  test('its line parses into the runner result the host rows use', () => {
    expect(parseMeasureOne('2807861 1200 2391 1080 256 0\n')).toEqual({ wallNs: 2807861, userUs: 1200, sysUs: 2391, maxRssKiB: 1080, code: 1, signal: null, timedOut: false });
    expect(parseMeasureOne('130000000000 5 6 7 9 1')).toMatchObject({ code: null, signal: 9, timedOut: true });
  });

  test('anything else is an error, not a sample', () => {
    expect(() => parseMeasureOne('')).toThrow(/unexpected output/);
    expect(() => parseMeasureOne('1 2 3 4 5')).toThrow(/unexpected output/);
    expect(() => parseMeasureOne('1 2 3 4 5 x')).toThrow(/unexpected output/);
  });

  test('the command: env -i with exactly the agent environment, then measure-one, the agent and its action', () => {
    const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', OCF_RESKEY_exports: '/srv/a 10.0.0.0/8(rw) ; $(touch /x)' };
    const argv = measureArgv('/usr/lib/ocf/resource.d/ocfkit/nfsserver', 'start', env, 130);
    expect(argv.slice(0, 2)).toEqual(['sh', '-c']);
    // The script is fixed; every value is an argument of its own (no shell sees it).
    expect(argv[2]).toBe('e=$1; shift; "$@"; rc=$?; tail -n 3 -- "$e" >&2; exit $rc');
    expect(argv.slice(3)).toEqual([
      'sh',
      GUEST.stderr,
      'env',
      '-i',
      'PATH=/usr/sbin:/usr/bin:/sbin:/bin',
      'OCF_RESKEY_exports=/srv/a 10.0.0.0/8(rw) ; $(touch /x)',
      GUEST.measureOne,
      GUEST.stdout,
      GUEST.stderr,
      '130',
      '/usr/lib/ocf/resource.d/ocfkit/nfsserver',
      'start',
    ]);
  });

  test('stderr is kept as the host rows keep it: the last three lines, at most 400 characters', () => {
    expect(stderrTail('a\nb\nc\nd\n')).toBe('b | c | d');
    expect(stderrTail('x'.repeat(1000))).toHaveLength(400);
  });
});

describe('what runs in the guests', () => {
  test('drbd: the same resource and clone description for both sides; the provider and executable differ', () => {
    const o = qemuEnv(drbd, 'ocfkit', 0);
    const s = qemuEnv(drbd, 'shell', 0);
    expect(o.OCF_RESOURCE_PROVIDER).toBe('ocfkit');
    expect(s.OCF_RESOURCE_PROVIDER).toBe('linbit');
    const { OCF_RESOURCE_PROVIDER: _a, ...oRest } = o;
    const { OCF_RESOURCE_PROVIDER: _b, ...sRest } = s;
    expect(oRest).toEqual(sRest);
    expect(o).toMatchObject({
      PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
      OCF_ROOT: '/usr/lib/ocf',
      OCF_RESKEY_drbd_resource: 'r0',
      OCF_RESKEY_CRM_meta_clone_max: '2',
      OCF_RESKEY_CRM_meta_promoted_max: '1',
      OCF_RESKEY_CRM_meta_notify: 'true',
      OCF_RESKEY_CRM_meta_on_node: 'n1',
      OCF_RESKEY_CRM_meta_timeout: String(QEMU_TIMEOUT_MS),
      OCF_RESKEY_CRM_meta_interval: '0',
      OCF_RESKEY_crm_feature_set: CRM_FEATURE_SET,
      HA_RSCTMP: GUEST.rsctmp,
      CIB_file: GUEST.cib,
    });
    // Nothing else: the OCF variables, PATH, HA_RSCTMP and the offline CIB.
    expect(Object.keys(o).filter((k) => !k.startsWith('OCF_'))).toEqual(['PATH', 'HA_RSCTMP', 'CIB_file']);
    expect(qemuEnv(drbd, 'ocfkit', 10_000).OCF_RESKEY_CRM_meta_interval).toBe('10000');
    expect(qemuExe(drbd, 'ocfkit')).toBe('/usr/lib/ocf/resource.d/ocfkit/drbd');
    expect(qemuExe(drbd, 'shell')).toBe('/usr/lib/ocf/resource.d/linbit/drbd');
  });

  test('nfsserver: the same shared state directory and address; only the shell side needs the init-script stand-in', () => {
    const o = qemuEnv(nfs, 'ocfkit', 0);
    const s = qemuEnv(nfs, 'shell', 0);
    for (const e of [o, s]) expect(e).toMatchObject({ OCF_RESKEY_nfs_shared_infodir: GUEST.infodir, OCF_RESKEY_nfs_ip: GUEST.floatIp });
    expect(s.OCF_RESKEY_nfs_init_script).toBe(GUEST.nfsInitScript);
    expect(o.OCF_RESKEY_nfs_init_script).toBeUndefined();
    expect(o.CIB_file).toBeUndefined();
    expect(qemuExe(nfs, 'shell')).toBe('/usr/lib/ocf/resource.d/heartbeat/nfsserver');
  });

  test('rows: monitor first, then the cycle; marked as QEMU rows, both sides, exit 0 expected', () => {
    expect(qemuRowIds(drbd)).toEqual(['monitor (running)', 'start', 'promote', 'demote', 'stop']);
    expect(qemuRowIds(nfs)).toEqual(['monitor (running)', 'start', 'stop']);
    expect(qemuRow(drbd, 'monitor (running)')).toMatchObject({ agent: 'drbd', argv: 'monitor', interval: 10_000, expect: 0, where: 'qemu' });
    expect(qemuRow(drbd, 'promote')).toEqual({
      agent: 'drbd',
      action: 'promote',
      argv: 'promote',
      interval: 0,
      expect: 0,
      where: 'qemu',
      sides: { ocfkit: { samples: [], forks: null }, shell: { samples: [], forks: null } },
      notes: [],
    });
  });

  test('monitor blocks for "each side on what it started": A B B A, the samples split evenly', () => {
    expect(monitorBlocks(['ocfkit', 'shell'], 8)).toEqual([
      { side: 'ocfkit', n: 4 },
      { side: 'shell', n: 4 },
      { side: 'shell', n: 4 },
      { side: 'ocfkit', n: 4 },
    ]);
    expect(monitorBlocks(['ocfkit', 'shell'], 5).map((b) => b.n)).toEqual([3, 3, 2, 2]);
    expect(monitorBlocks(['ocfkit', 'shell'], 1)).toEqual([
      { side: 'ocfkit', n: 1 },
      { side: 'shell', n: 1 },
    ]);
  });
});

describe('the state each action must leave', () => {
  const up = { role: 'Secondary/Secondary', cstate: 'Connected', dstate: 'UpToDate/UpToDate' };
  test('drbd', () => {
    expect(stateOk('drbd', 'start', up)).toBe(true);
    expect(stateOk('drbd', 'start', { ...up, cstate: 'WFConnection' })).toBe(false);
    expect(stateOk('drbd', 'start', { ...up, dstate: 'Consistent/DUnknown' })).toBe(false);
    expect(stateOk('drbd', 'monitor (running)', up)).toBe(true);
    expect(stateOk('drbd', 'promote', { ...up, role: 'Primary/Secondary' })).toBe(true);
    expect(stateOk('drbd', 'promote', up)).toBe(false);
    expect(stateOk('drbd', 'demote', up)).toBe(true);
    expect(stateOk('drbd', 'demote', { ...up, role: 'Primary/Secondary' })).toBe(false);
    expect(stateOk('drbd', 'stop', { role: null, cstate: null, dstate: null })).toBe(true);
    expect(stateOk('drbd', 'stop', up)).toBe(false);
    expect(() => stateOk('drbd', 'notify', up)).toThrow(/no state/);
  });
  test('nfsserver: nfsd threads', () => {
    expect(stateOk('nfsserver', 'start', { threads: 8 })).toBe(true);
    expect(stateOk('nfsserver', 'start', { threads: 0 })).toBe(false);
    expect(stateOk('nfsserver', 'monitor (running)', { threads: 8 })).toBe(true);
    expect(stateOk('nfsserver', 'stop', { threads: 0 })).toBe(true);
    expect(stateOk('nfsserver', 'stop', { threads: 8 })).toBe(false);
  });
});

test('versions from the image manifest and /proc/drbd', () => {
  expect(manifestKernel('kernel linux-image-6.1.0-57-amd64 6.1.0-57-amd64\nsuite bookworm\n')).toBe('6.1.0-57-amd64');
  expect(manifestKernel('suite bookworm\n')).toBeNull();
  expect(procDrbdVersion('version: 8.4.11 (api:1/proto:86-101)\nsrcversion: 211FB288A383ED945B83420 \n')).toBe('8.4.11');
  expect(procDrbdVersion('')).toBeNull();
});

describe('QEMU rows in the table', () => {
  const sample = (wallMs: number, code = 0, stateOkValue?: boolean) => ({ wallMs, cpuMs: wallMs * 0.9, userMs: wallMs / 2, sysMs: wallMs / 3, maxRssMiB: 36, code, ...(stateOkValue === undefined ? {} : { stateOk: stateOkValue }) });
  const rowWith = (id: string, ocfkit: number[], shell: number[], o: { code?: number; stateOk?: boolean } = {}) => {
    const row = qemuRow(drbd, id);
    row.sides.ocfkit.samples = ocfkit.map((w) => sample(w, o.code ?? 0, o.stateOk));
    row.sides.shell.samples = shell.map((w) => sample(w, 0, true));
    return row;
  };

  test('labelled as measured in a QEMU guest; ratio, CPU and RSS as for the host rows; no process count', () => {
    const rows = judgeRows([rowWith('start', [2000, 2100, 1900], [4000, 4200, 4100], { stateOk: true }), rowWith('promote', [1500], [1000], { stateOk: true })]);
    const lines = tableRows(rows);
    expect(lines[0]).toMatchObject({ agent: 'drbd (QEMU guest)', action: 'start', ocfkitWall: '2000 (1920–2080)', shellWall: '4100 (4020–4180)', ratio: '0.49×', procs: '– / –', rss: '36.0 / 36.0' });
    expect(lines[0]!.targets).toBe('✓ wall ≤ 0.5×; ✓ RSS ≤ 40 MiB');
    // promote has no ratio target: only the RSS one.
    expect(lines[1]).toMatchObject({ agent: 'drbd (QEMU guest)', action: 'promote', ratio: '1.50×', targets: '✓ RSS ≤ 40 MiB' });
    expect(markdownTable(lines)).toContain('| drbd (QEMU guest) | promote | 1500 (1500–1500) | 1000 (1000–1000) | 1.50× |');
    expect(targetLines(rows)[0]).toMatch(/^✓ drbd \(QEMU guest\) start: wall ≤ 0\.5× shell — met/);
  });

  test('an unexpected exit code or a wrong state after the action flags the row and is not judged', () => {
    const [bad] = tableRows(judgeRows([rowWith('stop', [700, 710], [1700, 1710], { code: 1, stateOk: true })]));
    expect(bad!.targets).toBe('· wall ≤ 0.5× [ocfkit exit 1]');
    const [wrong] = tableRows(judgeRows([rowWith('stop', [700, 710], [1700, 1710], { stateOk: false })]));
    expect(wrong!.targets).toBe('· wall ≤ 0.5× [ocfkit state ✗ ×2]');
    const [both] = tableRows(judgeRows([rowWith('stop', [700, 710], [1700, 1710], { code: 1, stateOk: false })]));
    expect(both!.targets).toBe('· wall ≤ 0.5× [ocfkit exit 1; ocfkit state ✗ ×2]');
  });

  test('the lines under the table say where and how they were measured, or why not', () => {
    expect(qemuLines(undefined)).toEqual([]);
    expect(qemuLines({ skipped: '--no-qemu' })).toEqual(['QEMU rows: not measured (--no-qemu)']);
    const lines = qemuLines({
      guests: 'n1, n2: 1 vCPU',
      kernel: '6.1.0-57-amd64',
      drbdModule: '8.4.11',
      packages: 'drbd-utils 9.22.0-1',
      cycles: 4,
      iterations: 8,
      bootS: 12,
      durationS: 300,
      agents: { drbd: { setup: 'DRBD r0', durationS: 100 } },
    });
    expect(lines[0]).toMatch(/^QEMU rows, marked "\(QEMU guest\)": measured inside n1, n2: 1 vCPU, Debian 12 guest kernel 6\.1\.0-57-amd64, DRBD module 8\.4\.11/);
    expect(lines[0]).toMatch(/compare the ratio/);
    expect(lines[0]).toMatch(/4 cycles and 8 monitor samples per side/);
    expect(lines[1]).toBe('QEMU drbd: DRBD r0 (100 s)');
  });
});
