/**
 * Leftover mounts under the data root: what a crash of the shim or of the daemon can leave mounted.
 * In use, and so never reported: anything in the folder of a running container or of a live shim
 * (a container starting), the volumes a running container mounts, and the folder of a container
 * being created (no record yet, made in the last minute: its image may be mounted for the
 * copy-up into a volume).
 */
import { stat } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { mountsUnder } from '../mountinfo.js';
import { hostOwners } from './owners.js';
import { GRACE_MS, type CheckSources, type Finding } from './types.js';

/** mountinfo's octal escapes (\040 for a space…) back to the path. */
export function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export async function leftoverMounts(src: CheckSources): Promise<Finding[]> {
  const inUse: string[] = [...(await hostOwners()).bundles];
  const records = new Set<string>();
  for (const rec of src.containers()) {
    records.add(src.containerDir(rec.Id));
    if (!src.isRunning(rec) && rec.State.Status !== 'restarting') continue;
    inUse.push(src.containerDir(rec.Id));
    for (const m of rec.MountPoints ?? []) if (m.Type === 'volume' && m.Source) inUse.push(m.Source);
  }
  const within = (p: string, dir: string) => p === dir || p.startsWith(dir + '/');
  const out: Finding[] = [];
  const root = src.root.replace(/\/+$/, '');
  const containers = `${root}/containers`;
  for (const escaped of await mountsUnder(root)) {
    const path = unescapeMountPath(escaped);
    if (path === root || inUse.some((d) => within(path, d))) continue;
    if (await creating(path, containers, records)) continue;
    out.push({
      Kind: 'mount-leftover', Object: path, Path: relative(root, path) || '.',
      Problem: 'mounted, but no running container uses it',
      Repair: 'unmount it (lazily)',
    });
  }
  return out;
}


/** A mount in the folder of a container whose create is in flight: no record yet, made in the last minute. */
async function creating(path: string, containers: string, records: ReadonlySet<string>): Promise<boolean> {
  if (!path.startsWith(containers + '/')) return false;
  let dir = path;
  while (dirname(dir) !== containers && dir !== containers) dir = dirname(dir);
  if (records.has(dir)) return false;
  const made = await stat(dir).then((s) => s.mtimeMs, () => 0);
  return Date.now() - made < GRACE_MS;
}
