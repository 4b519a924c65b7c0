/**
 * Layer store check, from the disk rather than the store's memory (a careless `rm` does not tell
 * the daemon): which snapshots are whole, and which no image or container stands on.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { LAYER_GRACE_MS, type CheckSources, type CheckState, type Finding } from './types.js';

interface DiskLayer { chainID: string; parent: string | null; created: number }

/** The layers whose folder holds a readable meta.json and a diff/ folder. */
export async function wholeLayers(src: CheckSources): Promise<Map<string, DiskLayer>> {
  const dir = src.layers.dir;
  const out = new Map<string, DiskLayer>();
  let names: string[] = [];
  try { names = await readdir(dir); } catch { return out; }
  for (const name of names) {
    if (!/^[a-f0-9]{64}$/.test(name)) continue;
    try {
      const meta = JSON.parse(await readFile(join(dir, name, 'meta.json'), 'utf8')) as Partial<DiskLayer>;
      if (!(await stat(join(dir, name, 'diff'))).isDirectory()) continue;
      if (meta.chainID !== `sha256:${name}`) continue;
      out.set(meta.chainID, { chainID: meta.chainID, parent: meta.parent ?? null, created: Number(meta.created) || 0 });
    } catch { /* not whole */ }
  }
  return out;
}

/** Chain IDs that images and containers stand on, with every ancestor of those present. */
function referenced(src: CheckSources, layers: Map<string, DiskLayer>): Set<string> {
  const keep = new Set<string>();
  for (const img of src.images()) for (const c of img.chainIDs) keep.add(c);
  for (const c of src.containers()) for (const l of c.Layers ?? []) keep.add(l);
  for (const c of [...keep]) {
    let p = layers.get(c)?.parent;
    while (p && !keep.has(p)) { keep.add(p); p = layers.get(p)?.parent ?? null; }
  }
  return keep;
}

/**
 * Whole layers nothing references, children before parents (the order they can be removed in).
 * One made since this daemon started and less than ten minutes ago is left: a pull in progress
 * writes its image record only after its last layer.
 */
export async function unreferencedLayers(src: CheckSources, state: CheckState, layers: Map<string, DiskLayer>): Promise<Finding[]> {
  const keep = referenced(src, layers);
  const now = Date.now();
  const loose = [...layers.values()].filter((l) => !keep.has(l.chainID))
    .filter((l) => state.released.has(l.chainID) || l.created < src.startedAt || now - l.created > LAYER_GRACE_MS);
  const depth = (l: DiskLayer) => { let d = 0; let p = l.parent; while (p) { d++; p = layers.get(p)?.parent ?? null; } return d; };
  return loose.sort((a, b) => depth(b) - depth(a)).map((l) => ({
    Kind: 'layer-unreferenced',
    Object: l.chainID,
    Path: relative(src.root, join(src.layers.dir, l.chainID.slice(7))),
    Problem: 'no image or container uses this layer',
    Repair: 'remove the layer',
  }));
}
