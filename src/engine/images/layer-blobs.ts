/**
 * Which compressed blob in the content store holds each layer of an image (what push uploads).
 * A committed image records them (ImageRecord.layerBlobs); a pulled one keeps the manifest it was
 * pulled with among its blobs: the manifest whose config digest is the image ID lists them.
 */
import type { ContentStore } from '../content/store.js';
import type { ImageRecord, LayerBlob } from './types.js';

export interface StoredManifest {
  digest: string;
  bytes: Buffer;
  mediaType: string;
}

export interface ImageLayerBlobs {
  /** Bottom first, aligned with the image's layers; null where no blob is known. */
  layers: Array<LayerBlob | null>;
  /** The manifest the image was pulled with, when it is still stored. */
  manifest?: StoredManifest;
}

const MANIFEST_MAX = 4 * 1024 * 1024;

export async function findManifest(rec: ImageRecord, content: ContentStore): Promise<StoredManifest | undefined> {
  for (const d of rec.blobs ?? []) {
    try {
      if ((await content.size(d)) > MANIFEST_MAX) continue;
      const bytes = await content.read(d);
      if (bytes[0] !== 0x7b) continue; // '{'
      const m = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; config?: { digest?: string }; layers?: unknown[] };
      if (m.config?.digest !== rec.id || !Array.isArray(m.layers)) continue;
      return { digest: d, bytes, mediaType: m.mediaType ?? 'application/vnd.oci.image.manifest.v1+json' };
    } catch { /* not a manifest, or gone */ }
  }
  return undefined;
}

export async function imageLayerBlobs(rec: ImageRecord, content: ContentStore): Promise<ImageLayerBlobs> {
  const n = rec.chainIDs.length;
  const manifest = await findManifest(rec, content);
  if (rec.layerBlobs && rec.layerBlobs.length === n) return { layers: rec.layerBlobs, manifest };
  if (manifest) {
    const m = JSON.parse(manifest.bytes.toString('utf8')) as { layers: LayerBlob[] };
    if (m.layers.length === n) {
      return { layers: m.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })), manifest };
    }
  }
  return { layers: new Array(n).fill(null), manifest };
}
