/** Content store check: every blob's bytes must hash to the name it is stored under. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { CheckSources, CheckState, Finding } from './types.js';

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Blobs whose content does not match their digest (a torn write, a disk error, an edit). */
export async function corruptBlobs(src: CheckSources, state: CheckState): Promise<Finding[]> {
  const dir = src.content.blobDir;
  let names: string[] = [];
  try { names = await readdir(dir); } catch { return []; }
  const out: Finding[] = [];
  for (const name of names.sort()) {
    if (!/^[a-f0-9]{64}$/.test(name)) continue; // not a blob: temp-files.ts looks at those
    const path = join(dir, name);
    let actual: string;
    try {
      const { size, mtimeMs } = await stat(path);
      const known = state.hashes.get(name);
      actual = known && known.size === size && known.mtimeMs === mtimeMs ? known.hex : await sha256File(path);
      state.hashes.set(name, { size, mtimeMs, hex: actual });
    } catch { continue; } // removed meanwhile
    if (actual === name) continue;
    out.push({
      Kind: 'blob-corrupt',
      Object: `sha256:${name}`,
      Path: relative(src.root, path),
      Problem: `content hashes to sha256:${actual.slice(0, 12)}…, not to its digest`,
      Repair: 'remove the blob (an image that needs it is then reported and removed; pull it again)',
    });
  }
  return out;
}

/** Digests of the blobs corrupt() found, for the image check. */
export function corruptDigests(findings: Finding[]): Set<string> {
  return new Set(findings.filter((f) => f.Kind === 'blob-corrupt').map((f) => f.Object));
}
