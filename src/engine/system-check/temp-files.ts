/**
 * Leftovers of interrupted writes: atomic writes' `<file>.tmp-<hex>` (util/atomic.ts) in the
 * metadata folders, downloads in `content/ingest/`, stray names among the blobs, and folders of
 * layer extractions (`layers/tmp-*`) and volume creations or removals (`volumes/.tmp-*`,
 * `.trash-*`). Each is startup's to clear, but a daemon that has not restarted still holds them.
 * Work in flight is left: a file untouched for a minute, a folder made before this daemon
 * started or more than ten minutes ago. A download's `<hex>.partial` is where the next pull of
 * that blob resumes: it is a leftover only once startup would drop it (PARTIAL_MAX_AGE_MS).
 */
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { PARTIAL_MAX_AGE_MS } from '../content/store.js';
import { GRACE_MS, LAYER_GRACE_MS, type CheckSources, type Finding } from './types.js';

const ATOMIC_TMP = /\.tmp-[0-9a-f]{8}$/;

async function entries(dir: string): Promise<string[]> {
  try { return (await readdir(dir)).sort(); } catch { return []; }
}

export async function tempLeftovers(src: CheckSources): Promise<Finding[]> {
  const now = Date.now();
  const out: Finding[] = [];
  const consider = async (path: string, what: string, folder: boolean, graceMs = GRACE_MS) => {
    let mtime: number;
    try { mtime = (await stat(path)).mtimeMs; } catch { return; }
    const old = folder ? mtime < src.startedAt || now - mtime > LAYER_GRACE_MS : now - mtime > graceMs;
    if (!old) return;
    out.push({
      Kind: 'temp-leftover', Object: relative(src.root, path), Path: relative(src.root, path),
      Problem: `${what} left by an interrupted write`, Repair: 'remove it',
    });
  };
  // Metadata folders written with util/atomic.ts.
  const metaDirs = [src.root, join(src.root, 'images'), join(src.root, 'network'), join(src.root, 'events')];
  for (const id of await entries(join(src.root, 'containers'))) metaDirs.push(join(src.root, 'containers', id));
  const volumes = join(src.root, 'volumes');
  for (const v of await entries(volumes)) if (!v.startsWith('.')) metaDirs.push(join(volumes, v));
  for (const dir of metaDirs) {
    for (const n of await entries(dir)) if (ATOMIC_TMP.test(n)) await consider(join(dir, n), 'temporary file', false);
  }
  for (const n of await entries(src.content.ingestDir)) {
    const resumable = /^[a-f0-9]{64}\.partial$/.test(n);
    await consider(join(src.content.ingestDir, n), resumable ? 'stale partial download' : 'partial download', false,
      resumable ? PARTIAL_MAX_AGE_MS : GRACE_MS);
  }
  for (const n of await entries(src.content.blobDir)) {
    if (!/^[a-f0-9]{64}$/.test(n)) await consider(join(src.content.blobDir, n), 'file that is no blob', false);
  }
  for (const n of await entries(src.layers.dir)) if (n.startsWith('tmp-')) await consider(join(src.layers.dir, n), 'layer extraction or removal', true);
  for (const n of await entries(volumes)) {
    if (n.startsWith('.tmp-') || n.startsWith('.trash-')) await consider(join(volumes, n), 'volume creation or removal', true);
  }
  return out;
}
