/**
 * Prune filters as dockerd reads them (daemon/prune.go): `until` (a timestamp or a duration back
 * from now, at most one), `label` (all must match: `k` or `k=v`) and `label!` (none may match).
 * Image prune adds `dangling` (true by default; false/0 prunes every unused image).
 */
import { InvalidParameterError } from './errors.js';
import { checkFilterKeys, boolFilter, matchLabels, missLabels, parseTimestamp, type FilterArgs } from './filters.js';

export { goDuration, parseTimestamp } from './filters.js';

export interface PruneFilter {
  /** Objects created after this instant (ms epoch) are kept. */
  untilMs?: number;
  labels: string[];
  notLabels: string[];
  /** Image prune only: prune only dangling images (default true). */
  danglingOnly: boolean;
}

export function parsePruneFilters(filters: FilterArgs, accepted: readonly string[], now = Date.now()): PruneFilter {
  checkFilterKeys(filters, accepted);
  const out: PruneFilter = { labels: [...filters.get('label') ?? []], notLabels: [...filters.get('label!') ?? []], danglingOnly: true };
  const until = filters.get('until') ?? [];
  if (until.length > 1) throw new InvalidParameterError('more than one until filter specified');
  if (until.length === 1) out.untilMs = parseTimestamp(until[0]!, now);
  out.danglingOnly = boolFilter(filters, 'dangling') ?? true;
  return out;
}

/** Whether an object with these labels, created at createdMs, is to be pruned. */
export function pruneMatches(f: PruneFilter, createdMs: number, labels: Record<string, string> | null | undefined): boolean {
  if (f.untilMs !== undefined && createdMs > f.untilMs) return false;
  return matchLabels(f.labels, labels) && missLabels(f.notLabels, labels);
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
