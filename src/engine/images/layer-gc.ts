/**
 * Layer garbage collection: which snapshots images and containers still stand on, and freeing
 * the rest (after an image is deleted, or a container of a force-deleted image is removed).
 */
import type { LayerStore } from '../layers/store.js';
import type { ImageRecord } from './types.js';

/** Chain IDs any of `images` stands on, plus `extra` (e.g. the containers' layers). */
export function layersReferenced(images: Iterable<ImageRecord>, extra: Iterable<string> = []): Set<string> {
  const s = new Set<string>(extra);
  for (const r of images) for (const c of r.chainIDs) s.add(c);
  return s;
}

/**
 * Frees the layers of one chain from the top down, stopping at the first layer `keep` holds,
 * that is already gone, or that another chain builds on. Never touches layers outside the
 * chain (e.g. those of a pull in progress). Returns the removed chain IDs, top first.
 */
export async function releaseChain(layers: LayerStore, chainIDs: readonly string[], keep: ReadonlySet<string>): Promise<string[]> {
  const removed: string[] = [];
  for (const c of [...chainIDs].reverse()) {
    if (keep.has(c) || !layers.has(c)) break;
    try {
      await layers.remove(c);
    } catch {
      break; // a child layer outside any image still needs it: it stays, and so does what is below
    }
    removed.push(c);
  }
  return removed;
}

/** Removes every layer that `keep` holds neither directly nor as an ancestor, children first. */
export async function collectLayers(layers: LayerStore, keep: ReadonlySet<string>): Promise<string[]> {
  const kept = new Set(keep);
  for (const c of keep) {
    let m = layers.get(c);
    while (m?.parent) { kept.add(m.parent); m = layers.get(m.parent); }
  }
  const removed: string[] = [];
  let progress = true;
  while (progress) {
    progress = false;
    for (const m of layers.list()) {
      if (kept.has(m.chainID)) continue;
      if (layers.list().some((o) => o.parent === m.chainID)) continue;
      await layers.remove(m.chainID);
      removed.push(m.chainID);
      progress = true;
    }
  }
  return removed;
}
