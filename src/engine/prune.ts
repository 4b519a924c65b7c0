/**
 * Prune filters as dockerd reads them (daemon/prune.go): `until` (a timestamp or a duration back
 * from now, at most one), `label` (all must match: `k` or `k=v`) and `label!` (none may match).
 * Image prune adds `dangling` (true by default; false/0 prunes every unused image).
 */
import { InvalidParameterError } from './errors.js';

export interface PruneFilter {
  /** Objects created after this instant (ms epoch) are kept. */
  untilMs?: number;
  labels: string[];
  notLabels: string[];
  /** Image prune only: prune only dangling images (default true). */
  danglingOnly: boolean;
}

export function parsePruneFilters(filters: Map<string, string[]>, accepted: readonly string[], now = Date.now()): PruneFilter {
  for (const key of filters.keys()) {
    if (!accepted.includes(key)) throw new InvalidParameterError(`invalid filter '${key}'`);
  }
  const out: PruneFilter = { labels: filters.get('label') ?? [], notLabels: filters.get('label!') ?? [], danglingOnly: true };
  const until = filters.get('until') ?? [];
  if (until.length > 1) throw new InvalidParameterError('more than one until filter specified');
  if (until.length === 1) out.untilMs = parseTimestamp(until[0]!, now);
  for (const v of filters.get('dangling') ?? []) {
    if (/^(true|1)$/i.test(v)) out.danglingOnly = true;
    else if (/^(false|0)$/i.test(v)) out.danglingOnly = false;
    else throw new InvalidParameterError(`invalid filter 'dangling=${v}'`);
  }
  return out;
}

/** Whether an object with these labels, created at createdMs, is to be pruned. */
export function pruneMatches(f: PruneFilter, createdMs: number, labels: Record<string, string> | null | undefined): boolean {
  if (f.untilMs !== undefined && createdMs > f.untilMs) return false;
  const l = labels ?? {};
  const has = (spec: string) => {
    const i = spec.indexOf('=');
    if (i < 0) return spec in l;
    return l[spec.slice(0, i)] === spec.slice(i + 1);
  };
  if (!f.labels.every(has)) return false;
  if (f.notLabels.some(has)) return false;
  return true;
}

/** timetypes.GetTimestamp as the daemon applies it: unix seconds, RFC3339 (or a date), or a Go duration ago. */
export function parseTimestamp(value: string, now = Date.now()): number {
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const dur = goDuration(v);
  if (dur !== undefined) return now - dur;
  let s = v;
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) s += 'T00:00:00';
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(s)) s += 'Z';
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new InvalidParameterError(`failed to parse value as time or duration: "${value}"`);
  return t;
}

/** time.ParseDuration → milliseconds, or undefined when it is not one. */
export function goDuration(s: string): number | undefined {
  if (!/^-?(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(s)) return undefined;
  const mult: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * mult[m[2]!]!;
  return s.startsWith('-') ? -total : total;
}

/** Bytes used by the files under a folder (a container's writable layer), not following links. */
export async function dirSize(dir: string): Promise<number> {
  const { lstat, readdir } = await import('node:fs/promises');
  const { join } = await import('node:path');
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    let entries;
    try { entries = await readdir(d, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) total += await lstat(p).then((st) => st.size, () => 0);
    }
  };
  await walk(dir);
  return total;
}
