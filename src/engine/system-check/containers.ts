/**
 * Container check: a container needs its folders for the overlay (upper/, work/, rootfs/) and the
 * image layers it stands on. Running containers are reported, never repaired.
 */
import { stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { CheckSources, Finding } from './types.js';

export const ROOTFS_DIRS = ['upper', 'work', 'rootfs'] as const;

async function isDir(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

export async function brokenContainers(src: CheckSources, wholeLayers: ReadonlySet<string>): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const rec of src.containers()) {
    if (rec.State.Status === 'removing') continue;
    const running = src.isRunning(rec);
    const dir = src.containerDir(rec.Id);
    const name = `container ${rec.Name || rec.Id.slice(0, 12)}`;
    const missingLayers = (rec.Layers ?? []).filter((c) => !wholeLayers.has(c));
    if (missingLayers.length) {
      out.push({
        Kind: 'container-missing-layer', Object: rec.Id, Path: relative(src.root, dir),
        Problem: `${name} stands on ${missingLayers.length} layer(s) that are gone (first: ${missingLayers[0]}); it cannot start again`,
        Repair: running ? 'nothing while it runs (stop it and run the check again)' : 'remove the container',
      });
      continue;
    }
    const missingDirs: string[] = [];
    for (const d of ROOTFS_DIRS) if (!(await isDir(join(dir, d)))) missingDirs.push(d);
    if (missingDirs.length) {
      out.push({
        Kind: 'container-missing-rootfs', Object: rec.Id, Path: relative(src.root, dir),
        Problem: `${name} lacks ${missingDirs.map((d) => d + '/').join(', ')} (its writable layer is gone)`,
        Repair: running ? 'nothing while it runs (stop it and run the check again)' : 'make an empty writable layer (the container\'s changes are lost)',
      });
    }
  }
  return out;
}
