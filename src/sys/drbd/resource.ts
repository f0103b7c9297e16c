import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SysCtx } from '../../ocf/agent.js';
import { writeStateFile } from '../../ocf/state-file.js';
import { fail } from '../../ocf/exit-codes.js';
import type { RunResult } from '../../ocf/run.js';
import { stateFromEvents2 } from './events2.js';
import { kernelFiles, loadedModuleVersion, readKernelLog, readProcDrbd, type KernelFiles } from './kernel.js';
import { stateFromProc84 } from './proc-drbd.js';
import { splitBrainInLog } from './split-brain.js';
import { unconfigured, type DrbdState } from './state.js';
import { stateFromStatusJson } from './status-json.js';
import { isDrbd9, parseVersion, type DrbdVersion } from './version.js';

export type DrbdCtx = SysCtx<'run' | 'log' | 'env' | 'rsctmp' | 'deadline'>;

/**
 * One DRBD resource and the tools that drive it. drbd-utils 9 picks its
 * 8.4 compatibility tools (drbdadm-84, drbdsetup-84) by itself when the 8.4
 * module is loaded, so the commands are the same for both; reading the state
 * is not:
 *
 * - 8.4: /proc/drbd (no fork), its lines found by the resource's minors
 *   (`drbdadm sh-minor`, remembered in HA_RSCTMP);
 * - 9: `drbdsetup status <res> --json`, and `drbdsetup events2 <res> --now`
 *   for why a connection is StandAlone.
 */
export class DrbdResource {
  readonly files: KernelFiles;
  private readonly minorsFile: string;

  constructor(
    private readonly ctx: DrbdCtx,
    readonly name: string,
    readonly conf: string,
  ) {
    this.files = kernelFiles(ctx.env);
    this.minorsFile = join(ctx.rsctmp, 'ocfkit-drbd', `${name}.minors`);
  }

  /** drbdadm with this resource's configuration file. */
  adm(args: string[], opts: { check?: boolean; timeoutMs?: number } = {}): Promise<RunResult> {
    return this.ctx.run('drbdadm', ['-c', this.conf, ...args], opts);
  }

  moduleLoaded(): boolean {
    return readProcDrbd(this.files) !== undefined;
  }

  /** The loaded module's version, or (not loaded) the version modinfo reports for the module on disk. */
  async moduleVersion(): Promise<DrbdVersion | undefined> {
    const proc = readProcDrbd(this.files);
    if (proc) return loadedModuleVersion(this.files, proc);
    const r = await this.ctx.run('modinfo', ['-F', 'version', 'drbd'], { check: false, timeoutMs: 10_000 });
    return r.code === 0 ? parseVersion(r.stdout) : undefined;
  }

  /** modprobe drbd with the parameters the configuration asks for (minor_count…), as drbdadm's init script does. */
  async loadModule(): Promise<void> {
    const parms = await this.adm(['sh-mod-parms'], { check: false });
    const args = parms.code === 0 ? parms.stdout.split(/\s+/).filter(Boolean) : [];
    const r = await this.ctx.run('modprobe', ['-s', 'drbd', ...args], { check: false });
    if (r.code !== 0 || !this.moduleLoaded()) {
      throw fail.installed(`cannot load the drbd kernel module: ${r.stderr.trim() || `modprobe exit ${r.code}`}`);
    }
    this.ctx.log.info('loaded the drbd kernel module');
  }

  /** The resource's minors from the configuration (8.4 has no other way to find its lines in /proc/drbd). */
  async configuredMinors(): Promise<number[]> {
    const r = await this.adm(['sh-minor', this.name], { check: false });
    const minors = r.stdout.split(/\s+/).filter((w) => /^\d+$/.test(w)).map(Number);
    if (r.code !== 0 || minors.length === 0) {
      throw fail.installed(`DRBD resource ${this.name} not found in ${this.conf} for this host${r.stderr.trim() ? `: ${r.stderr.trim().split('\n').pop()}` : ''}`);
    }
    this.rememberMinors(minors);
    return minors;
  }

  private cachedMinors(): number[] | undefined {
    try {
      const c = JSON.parse(readFileSync(this.minorsFile, 'utf8')) as { conf: string; minors: number[] };
      return c.conf === this.conf && Array.isArray(c.minors) && c.minors.length > 0 ? c.minors : undefined;
    } catch {
      return undefined;
    }
  }

  private rememberMinors(minors: number[]): void {
    try {
      writeStateFile(this.minorsFile, JSON.stringify({ conf: this.conf, minors }));
    } catch {
      // no cache: the next read asks drbdadm again
    }
  }

  /** The minors of the last read (for kernel log lookups). */
  minors: number[] = [];

  /**
   * The resource's state now. Not loaded or not known to the kernel:
   * configured=false. Throws 5 when the resource is not in the
   * configuration (8.4 needs it to find the minors).
   */
  async read(): Promise<DrbdState> {
    const proc = readProcDrbd(this.files);
    if (!proc) return unconfigured(this.name);
    const version = loadedModuleVersion(this.files, proc);
    if (version && isDrbd9(version)) return this.read9();

    const cached = this.cachedMinors();
    let minors = cached ?? (await this.configuredMinors());
    let state = stateFromProc84(this.name, minors, proc);
    // Minors remembered from an older configuration: ask again before saying "not running".
    if (!state.configured && cached) {
      minors = await this.configuredMinors();
      state = stateFromProc84(this.name, minors, readProcDrbd(this.files) ?? proc);
    }
    this.minors = minors;
    return state;
  }

  private async read9(): Promise<DrbdState> {
    const r = await this.ctx.run('drbdsetup', ['status', this.name, '--json'], { check: false });
    if (r.code !== 0) {
      // "<res>: No such resource" (exit 10): the kernel does not know it, i.e. it is down.
      if (/No such resource|Unknown resource/i.test(r.stderr)) return unconfigured(this.name);
      throw fail.generic(`drbdsetup status ${this.name} --json: exit ${r.code}: ${r.stderr.trim()}`);
    }
    const state = stateFromStatusJson(this.name, r.stdout);
    this.minors = state.volumes.map((v) => v.minor);
    return state;
  }

  /**
   * Marks StandAlone peers whose connection ended in a split brain. Only
   * runs when some peer is StandAlone (rare), so its forks and the kernel
   * log scan stay off the normal monitor path.
   */
  async markSplitBrain(state: DrbdState): Promise<void> {
    const standAlone = state.peers.filter((p) => p.connection === 'StandAlone' && p.splitBrain === undefined);
    if (standAlone.length === 0) return;
    const version = loadedModuleVersion(this.files, readProcDrbd(this.files));
    if (version && isDrbd9(version)) {
      const r = await this.ctx.run('drbdsetup', ['events2', this.name, '--now'], { check: false });
      if (r.code === 0) {
        const ev = stateFromEvents2(this.name, r.stdout);
        for (const p of standAlone) {
          const e = ev.peers.find((x) => (x.nodeId !== undefined && x.nodeId === p.nodeId) || (x.name !== undefined && x.name === p.name));
          if (e?.splitBrain) p.splitBrain = true;
        }
      }
      if (standAlone.every((p) => p.splitBrain)) return;
    }
    if (splitBrainInLog(readKernelLog(this.files.kmsg), this.name, this.minors)) {
      for (const p of standAlone) p.splitBrain ??= true;
    }
  }

  /** allow-two-primaries from `drbdadm dump` (both the 8.4 and the 9 dump formats). */
  async allowsTwoPrimaries(): Promise<boolean> {
    const r = await this.adm(['dump', this.name], { check: false });
    if (r.code !== 0) throw fail.installed(`drbdadm dump ${this.name}: ${r.stderr.trim() || `exit ${r.code}`}`);
    return /^\s*allow-two-primaries(\s+yes)?\s*;/m.test(r.stdout);
  }
}
