// Pacemaker durations ("20s", "500ms", "2min", plain numbers = seconds, as
// crm_get_msec reads them) ↔ milliseconds. Output always carries a unit.

const UNITS: Record<string, number> = {
  ms: 1,
  msec: 1,
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
};

/** Milliseconds, or undefined when the text is not a duration. */
export function parseDuration(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? Math.round(v * 1000) : undefined;
  const t = v.trim();
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(t);
  if (m) {
    const unit = m[2]!.toLowerCase();
    const mult = unit === '' ? 1000 : UNITS[unit];
    return mult === undefined ? undefined : Math.round(Number(m[1]) * mult);
  }
  // ISO 8601 durations (PT20S, PT1M30S), which Pacemaker also accepts.
  const iso = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$/i.exec(t);
  if (iso && t.length > 2) return Math.round((Number(iso[1] ?? 0) * 3600 + Number(iso[2] ?? 0) * 60 + Number(iso[3] ?? 0)) * 1000);
  return undefined;
}

export function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
