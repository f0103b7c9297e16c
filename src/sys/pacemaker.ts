import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SysCtx } from '../ocf/agent.js';
import { writeStateFile } from '../ocf/state-file.js';
import { which } from './which.js';

/**
 * Pacemaker's command line tools as agents use them: promotion scores
 * (crm_attribute --promotion from Pacemaker 2.1, the node attribute
 * master-<id> before) and where Pacemaker thinks a resource runs
 * (crm_resource --locate).
 */

export type PacemakerCtx = SysCtx<'run' | 'log' | 'rsctmp'> & {
  /** This node's name as Pacemaker knows it (OCF_RESKEY_CRM_meta_on_node); crm_attribute asks the cluster when unset. */
  node?: string;
  /** The agent's PATH, to find crm_attribute for the capability check. */
  path?: string;
};

/**
 * How this crm_attribute addresses a promotion score: `--promotion=<id>`
 * (Pacemaker ≥ 2.1, feature set 3.9), or the plain node attribute
 * `--name master-<id>` that crm_master used and every Pacemaker reads.
 */
export type ScoreStyle = 'promotion' | 'attribute';

/**
 * Whether crm_attribute has --promotion, asked of the tool itself (its
 * --help-all lists it), not guessed from a version. Pacemaker 2.0's
 * crm_attribute does not know the option, prints "unrecognized option" and
 * its usage, and exits 0: a --promotion call there silently sets nothing,
 * which is why the question is asked up front. The answer is remembered in
 * HA_RSCTMP for this very binary (path, inode, size, mtime), so an upgrade of
 * Pacemaker without a reboot asks again.
 */
export async function scoreStyle(ctx: PacemakerCtx): Promise<ScoreStyle> {
  const tool = which('crm_attribute', ctx.path);
  let key: string | undefined;
  if (tool) {
    try {
      const st = statSync(tool);
      key = `${tool}:${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      key = undefined;
    }
  }
  const file = join(ctx.rsctmp, 'ocfkit-drbd', 'crm_attribute.style');
  if (key) {
    try {
      const c = JSON.parse(readFileSync(file, 'utf8')) as { key: string; style: ScoreStyle };
      if (c.key === key && (c.style === 'promotion' || c.style === 'attribute')) return c.style;
    } catch {
      // not asked yet
    }
  }
  const r = await ctx.run('crm_attribute', ['--help-all'], { check: false, timeoutMs: 10_000 });
  if (r.code !== 0 && !r.stdout) return 'promotion'; // cannot tell: the current form, and its error is logged by the caller
  const style: ScoreStyle = /--promotion\b/.test(r.stdout) ? 'promotion' : 'attribute';
  if (style === 'attribute') ctx.log.info('crm_attribute has no --promotion (Pacemaker before 2.1): promotion scores go to the node attribute master-<resource>');
  if (key) {
    try {
      writeStateFile(file, JSON.stringify({ key, style }));
    } catch {
      // asked again next time
    }
  }
  return style;
}

/** The resource id without a clone instance number ("drbd_r0:1" → "drbd_r0"): promotion scores are per primitive. */
export const primitiveId = (instance: string) => instance.replace(/:\d+$/, '');

/** A promotion score to set, or null to remove it. */
export type ScoreValue = number | null;

interface ScoreCache {
  node: string;
  value: ScoreValue;
  at: number;
}

/**
 * The promotion score of one primitive on this node ("master-<id>",
 * lifetime reboot). The last value written is remembered in HA_RSCTMP, so a
 * monitor that computes the same score again does not fork crm_attribute;
 * it re-asserts the value anyway once REASSERT_MS has passed, so a score
 * lost outside the agent (attribute deleted by hand, attrd restarted) comes
 * back within that time.
 */
export class PromotionScore {
  static readonly REASSERT_MS = 60_000;
  private readonly cacheFile: string;

  constructor(
    private readonly ctx: PacemakerCtx,
    readonly resource: string,
  ) {
    this.cacheFile = join(ctx.rsctmp, 'ocfkit-drbd', `${resource}.score`);
  }

  private style?: ScoreStyle;

  private async baseArgs(): Promise<string[]> {
    this.style ??= await scoreStyle(this.ctx);
    const attr = this.style === 'promotion' ? [`--promotion=${this.resource}`] : ['--name', `master-${this.resource}`];
    return [...attr, '--lifetime=reboot', ...(this.ctx.node ? [`--node=${this.ctx.node}`] : [])];
  }

  private cached(): ScoreCache | undefined {
    try {
      const c = JSON.parse(readFileSync(this.cacheFile, 'utf8')) as ScoreCache;
      return c.node === (this.ctx.node ?? '') ? c : undefined;
    } catch {
      return undefined;
    }
  }

  private remember(value: ScoreValue | undefined): void {
    try {
      writeStateFile(this.cacheFile, JSON.stringify({ node: this.ctx.node ?? '', value: value ?? null, at: Date.now() } satisfies ScoreCache));
    } catch {
      // Without a cache every monitor writes the score: slower, still right.
    }
  }

  private forget(): void {
    try {
      writeFileSync(this.cacheFile, '');
    } catch {
      // nothing cached then either
    }
  }

  /**
   * Sets (number > 0) or removes (null) the score. `force` writes even when
   * the cache says it is already so (start, promote, stop: moments that
   * decide where data is). Failures are logged, not thrown: an agent that
   * cannot reach attrd must not fail its operation for that, and the next
   * monitor tries again.
   */
  async apply(value: ScoreValue, why: string, force = false): Promise<boolean> {
    const c = this.cached();
    if (!force && c && c.value === value && Date.now() - c.at < PromotionScore.REASSERT_MS) return true;
    try {
      const base = await this.baseArgs();
      const args = value === null ? [...base, '--delete'] : [...base, `--update=${value}`];
      const r = await this.ctx.run('crm_attribute', args, { check: false, timeoutMs: 15_000 });
      if (r.code !== 0) {
        this.forget();
        this.ctx.log.error(`promotion score ${value ?? 'removal'} not recorded: crm_attribute exit ${r.code}: ${r.stderr.trim()}`);
        return false;
      }
    } catch (e) {
      this.forget();
      this.ctx.log.error(`promotion score ${value ?? 'removal'} not recorded: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    }
    if (!c || c.value !== value) this.ctx.log.info(value === null ? `promotion score removed: ${why}` : `promotion score ${value}: ${why}`);
    this.remember(value);
    return true;
  }

  /** The score Pacemaker has now (undefined when none). */
  async current(): Promise<number | undefined> {
    const r = await this.ctx.run('crm_attribute', [...(await this.baseArgs()), '--query', '--quiet'], { check: false, timeoutMs: 15_000 });
    if (r.code !== 0) return undefined;
    const v = Number.parseInt(r.stdout.trim(), 10);
    return Number.isNaN(v) ? undefined : v;
  }
}

/**
 * The nodes where Pacemaker runs `resource` promoted, from
 * `crm_resource --resource <id> --locate` ("… is running on: node1 Promoted";
 * "Master" before Pacemaker 2.1).
 */
export async function promotedNodes(ctx: Pick<PacemakerCtx, 'run'>, resource: string): Promise<string[] | undefined> {
  const r = await ctx.run('crm_resource', ['--resource', resource, '--locate'], { check: false, timeoutMs: 15_000 });
  if (r.code !== 0) return undefined;
  return parseLocate(r.stdout).filter((l) => l.promoted).map((l) => l.node);
}

export function parseLocate(text: string): Array<{ node: string; promoted: boolean }> {
  const out: Array<{ node: string; promoted: boolean }> = [];
  for (const line of text.split('\n')) {
    const m = /is running on: (\S+)(?:\s+(\S+))?/.exec(line);
    if (m) out.push({ node: m[1]!, promoted: m[2] === 'Promoted' || m[2] === 'Master' });
  }
  return out;
}
