/**
 * Chain IDs (OCI image-spec "Layer ChainID"):
 *   ChainID(L0)   = DiffID(L0)
 *   ChainID(L0|…|Ln) = sha256(ChainID(L0|…|Ln-1) + " " + DiffID(Ln))
 * A chain ID names a layer together with everything below it: the key of a snapshot.
 */
import { sha256Digest } from '../../util/digest.js';

export function chainID(parent: string | null | undefined, diffID: string): string {
  if (!parent) return diffID;
  return sha256Digest(`${parent} ${diffID}`);
}

/** Chain IDs for diffIDs listed bottom first; the result is bottom first too. */
export function chainIDs(diffIDs: readonly string[]): string[] {
  const out: string[] = [];
  let parent: string | null = null;
  for (const d of diffIDs) {
    parent = chainID(parent, d);
    out.push(parent);
  }
  return out;
}
