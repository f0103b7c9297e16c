// `ocf-gen cib --spec <file>` on generated cluster specs of growing size.
// The time must grow linearly with the number of resources: the fit below
// (t = a + b·n) gives the fixed start-up a and the cost per resource b, and
// the per-resource cost of the largest step is compared with the fit.
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { judge, TARGETS } from './report.mjs';
import { linearFit, summary } from './stats.mjs';
import { sh, which } from './sys.mjs';

const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };

/** Whether this checkout's ocf-gen has `cib --spec` yet (the generator is being written in parallel). */
export function cibSpecSupported(root) {
  const r = sh(join(root, 'bin', 'ocf-gen'), ['cib', '--help'], { allowFail: true });
  return r.code === 0 && /--spec\b/.test(r.stdout);
}

/** A config-only address for stack i (198.18.0.0/15, the benchmarking range; nothing is sent to it). */
const addr = (i) => `198.${18 + ((i >> 16) & 1)}.${(i >> 8) & 255}.${i & 255}`;

/**
 * A cluster spec (src/cib/spec-schema.ts) with `n` primitives, shaped like
 * the ha-nfs template repeated: per stack a promotable drbd clone, a group
 * Filesystem → nfsserver → IPaddr2, the group colocated with the Promoted
 * role and ordered after the promotion. n that is not a multiple of 4 adds
 * single IPaddr2 primitives, so constraints and clones grow with n too.
 * @param {number} n
 */
export function makeSpec(n) {
  const resources = {};
  const clones = {};
  const groups = {};
  const colocation = [];
  const order = [];
  const stacks = Math.floor(n / 4);
  for (let i = 0; i < stacks; i++) {
    const mnt = `/srv/nfs${i}`;
    resources[`drbd${i}`] = { agent: 'ocf:ocfkit:drbd', params: { drbd_resource: `r${i}` } };
    resources[`fs${i}`] = { agent: 'ocf:ocfkit:Filesystem', params: { device: `/dev/drbd${i}`, directory: mnt, fstype: 'ext4' } };
    resources[`nfs${i}`] = {
      agent: 'ocf:ocfkit:nfsserver',
      params: {
        nfs_shared_infodir: `${mnt}/nfsinfo`,
        nfs_ip: addr(i),
        statd_hostname: addr(i),
        directory: `${mnt}/export`,
        clientspec: '192.0.2.0/24',
        options: 'rw,sync,no_subtree_check',
        fsid: String(i + 1),
      },
    };
    resources[`ip${i}`] = { agent: 'ocf:ocfkit:IPaddr2', params: { ip: addr(i), cidr_netmask: '24' } };
    clones[`drbd${i}-clone`] = { resource: `drbd${i}`, promotable: true, meta: { 'promoted-max': 1, 'promoted-node-max': 1, 'clone-max': 2, 'clone-node-max': 1, notify: true } };
    groups[`nfs${i}-group`] = [`fs${i}`, `nfs${i}`, `ip${i}`];
    colocation.push({ id: `nfs${i}-with-drbd${i}`, rsc: `nfs${i}-group`, 'with-rsc': `drbd${i}-clone`, 'with-rsc-role': 'Promoted', score: 'INFINITY' });
    order.push({ id: `drbd${i}-then-nfs${i}`, first: `drbd${i}-clone`, 'first-action': 'promote', then: `nfs${i}-group`, 'then-action': 'start', kind: 'Mandatory' });
  }
  for (let j = stacks * 4; j < n; j++) resources[`extra-ip${j}`] = { agent: 'ocf:ocfkit:IPaddr2', params: { ip: addr(65536 + j), cidr_netmask: '24' } };
  return {
    nodes: ['node1', 'node2'],
    'resource-defaults': { 'resource-stickiness': 100 },
    properties: { 'stonith-enabled': false },
    resources,
    clones,
    groups,
    constraints: { colocation, order },
  };
}

/**
 * @param {import('./runner.mjs').Runner} runner
 * @param {{ root: string, tmp: string, sizes: number[], iterations: number }} o
 */
export async function benchCib(runner, o) {
  if (!cibSpecSupported(o.root)) return { skipped: '`ocf-gen cib --spec` is not available yet (src/cib is being written)' };
  const bin = join(o.root, 'bin', 'ocf-gen');
  const points = [];
  for (const n of o.sizes) {
    const file = join(o.tmp, `spec-${n}.json`);
    writeFileSync(file, JSON.stringify(makeSpec(n), null, 2));
    const out = join(o.tmp, `cib-${n}.xml`);
    const wall = [];
    const cpu = [];
    const rss = [];
    let code;
    let bytes = 0;
    for (let i = -1; i < o.iterations; i++) {
      const r = await runner.measure([bin, 'cib', '--spec', file], ENV, { stdout: out, stderr: join(o.tmp, 'cib.err') });
      code = r.code;
      if (i < 0) continue;
      wall.push(r.wallNs / 1e6);
      cpu.push((r.userUs + r.sysUs) / 1000);
      rss.push(r.maxRssKiB / 1024);
    }
    try {
      bytes = statSync(out).size;
    } catch {}
    // A fast generator of an invalid CIB proves nothing: Pacemaker's own checker reads every output (untimed).
    const verify = code === 0 && which('crm_verify') ? sh('crm_verify', ['--xml-file', out], { allowFail: true, timeoutMs: 120_000 }) : undefined;
    points.push({
      resources: n,
      code,
      xmlBytes: bytes,
      crmVerify: verify ? (verify.code === 0 ? 'ok' : `exit ${verify.code}: ${verify.stderr.trim().split('\n')[0]}`) : 'not run',
      wallMs: summary(wall),
      cpuMs: summary(cpu),
      maxRssMiB: summary(rss),
    });
  }
  const ok = points.filter((p) => p.code === 0);
  const res = { points };
  if (ok.length >= 2) {
    const fit = linearFit(
      ok.map((p) => p.resources),
      ok.map((p) => p.wallMs.median),
    );
    res.fit = { startupMs: fit.a, perResourceMs: fit.b, r2: fit.r2 };
    // Marginal cost per resource between consecutive sizes: flat (or falling) when growth is linear,
    // rising step after step when it is not (quadratic id checks, re-scans…).
    res.steps = ok.slice(1).map((p, i) => ({ from: ok[i].resources, to: p.resources, perResourceMs: (p.wallMs.median - ok[i].wallMs.median) / (p.resources - ok[i].resources) }));
    const big = res.steps.filter((st) => st.from >= 100);
    if (big.length >= 2) {
      const growth = big[big.length - 1].perResourceMs / big[big.length - 2].perResourceMs;
      res.linearity = { growth, verdict: growth <= 1.5 ? 'linear' : 'grows faster than linear' };
    }
  }
  const p1000 = points.find((p) => p.resources === 1000);
  res.target = p1000 && p1000.code === 0 ? judge(`ocf-gen cib, 1,000 resources < ${TARGETS.cib1000Ms} ms`, p1000.wallMs.median, TARGETS.cib1000Ms, (x) => `${x.toFixed(0)} ms`) : { what: 'ocf-gen cib, 1,000 resources < 1 s', status: 'n/a', why: p1000 ? `exit ${p1000.code}` : 'not measured' };
  return res;
}
