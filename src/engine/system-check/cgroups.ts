/**
 * Cgroups named for containers that do not exist: the runtime puts a container in `/berth/<id>`
 * of every controller (runtime/spec.ts), and a crash between start and `crun delete` leaves them.
 * Every daemon on the host shares `/berth`, so only an empty cgroup (no process) older than a
 * minute whose ID is no container of a live daemon's data root and no live shim's counts
 * (owners.ts): a younger one may be another daemon's container starting or stopping.
 */
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { hostOwners } from './owners.js';
import { GRACE_MS, type CheckSources, type Finding } from './types.js';

export const CGROUP_ROOT = '/sys/fs/cgroup';

/** Each controller hierarchy's `berth` folder once (cgroup v1 links cpu → cpu,cpuacct), or the v2 one. */
async function berthDirs(): Promise<string[]> {
  const seen = new Set<string>();
  let names: string[] = [];
  try { names = await readdir(CGROUP_ROOT); } catch { return []; }
  for (const n of ['', ...names]) {
    const dir = join(CGROUP_ROOT, n, 'berth');
    try {
      if (!(await stat(dir)).isDirectory()) continue;
      seen.add(await realpath(dir));
    } catch { /* no berth cgroup in this controller */ }
  }
  return [...seen].sort();
}

export async function orphanCgroups(src: CheckSources): Promise<Finding[]> {
  const ours = new Set(src.containers().map((c) => c.Id));
  const owners = await hostOwners();
  const now = Date.now();
  const out: Finding[] = [];
  for (const dir of await berthDirs()) {
    let ids: string[] = [];
    try { ids = await readdir(dir); } catch { continue; }
    for (const id of ids.sort()) {
      if (!/^[0-9a-f]{64}$/.test(id) || ours.has(id) || owners.cgroups.has(id) || owners.containers.has(id)) continue;
      const path = join(dir, id);
      try {
        const s = await stat(path);
        if (!s.isDirectory() || now - s.mtimeMs < GRACE_MS) continue;
        if ((await readFile(join(path, 'cgroup.procs'), 'utf8')).trim() !== '') continue; // live: not ours to judge
      } catch { continue; }
      out.push({
        Kind: 'cgroup-orphan', Object: id, Path: path,
        Problem: `cgroup of container ${id.slice(0, 12)}, which does not exist; no process in it`,
        Repair: 'remove the cgroup',
      });
    }
  }
  return out;
}
