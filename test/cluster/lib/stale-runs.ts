import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * What a run created, written to <run dir>/manifest.json as it goes. A test process killed with
 * SIGKILL cannot tear down: its nodes die with it (parent-death signal), but its namespaces and loop
 * devices stay. The next run removes exactly what such a dead run's manifest lists, nothing else.
 */
export interface Manifest {
  /** The test process that owns the run. */
  pid: number;
  /** Its start time (/proc/<pid>/stat field 22), so a reused PID is not mistaken for the owner. */
  started: string;
  namespaces: string[];
  loops: { device: string; image: string }[];
}

export const RUN_DIR_PREFIX = 'ocfkit-ocl';

function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export class RunManifest {
  private readonly m: Manifest;

  constructor(private readonly dir: string) {
    this.m = { pid: process.pid, started: startTime(process.pid) ?? '', namespaces: [], loops: [] };
    this.save();
  }

  addNamespace(ns: string): void {
    this.m.namespaces.push(ns);
    this.save();
  }

  addLoop(device: string, image: string): void {
    this.m.loops.push({ device, image });
    this.save();
  }

  private save(): void {
    writeFileSync(join(this.dir, 'manifest.json'), JSON.stringify(this.m));
  }
}

/** Cleans up after runs whose owning process is gone (see Manifest). Returns the directories removed. */
export function reapStaleRuns(): string[] {
  const reaped: string[] = [];
  for (const entry of readdirSync(tmpdir())) {
    if (!entry.startsWith(RUN_DIR_PREFIX)) continue;
    const dir = join(tmpdir(), entry);
    let m: Manifest;
    try {
      m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    } catch {
      continue; // not (yet) a run of ours
    }
    if (startTime(m.pid) === m.started) continue; // its owner still runs
    for (const { device, image } of m.loops) {
      const back = spawnSync('losetup', ['--list', '--noheadings', '--output', 'BACK-FILE', device], { encoding: 'utf8', timeout: 10_000 });
      if (back.status === 0 && back.stdout.trim().replace(/ \(deleted\)$/, '') === image) spawnSync('losetup', ['--detach', device], { timeout: 10_000 });
    }
    for (const ns of m.namespaces) if (existsSync(`/run/netns/${ns}`)) spawnSync('ip', ['netns', 'del', ns], { timeout: 10_000 });
    rmSync(dir, { recursive: true, force: true });
    reaped.push(dir);
  }
  return reaped;
}
