/**
 * The bytes of one layer as an image archive holds it (in memory or as a content-store blob), and
 * what the image record keeps of it: the stored blob with its media type, sniffed from its first
 * bytes (gzip, zstd, or a plain tar whose digest is the diffID).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { NotFoundError } from '../../errors.js';
import { Readable } from 'node:stream';
import type { ContentStore } from '../../content/store.js';
import { sha256Digest } from '../../../util/digest.js';
import { decompress } from '../../distribution/decompress.js';
import type { LayerBlob } from '../types.js';
import { InvalidArchiveError } from './errors.js';
import type { LayerSource } from './load-plan.js';

export const OCI_LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';
const DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
const OCI_LAYER_ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';

function mediaTypeOf(head: Buffer): string {
  if (head[0] === 0x1f && head[1] === 0x8b) return DOCKER_LAYER_GZIP;
  if (head.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return OCI_LAYER_ZSTD;
  return OCI_LAYER_TAR;
}

/**
 * A blob read in 1 MiB chunks: with the default 64 KiB, the per-chunk cost (stream and hash
 * calls) doubled the time of a save on a loaded machine.
 */
export async function openBlob(content: ContentStore, digest: string): Promise<Readable> {
  if (!(await content.has(digest))) throw new NotFoundError(`blob ${digest} not found`);
  return createReadStream(content.path(digest), { highWaterMark: 1 << 20 });
}

/** The raw (possibly compressed) bytes of the layer. */
export async function openRaw(content: ContentStore, src: LayerSource): Promise<Readable> {
  return src.kind === 'memory' ? Readable.from([src.data]) : openBlob(content, src.digest);
}

/** The layer's uncompressed tar stream. */
export async function openLayer(content: ContentStore, src: LayerSource): Promise<Readable> {
  return decompress(await openRaw(content, src));
}

/**
 * Stores the layer as a blob (a memory one is written now, and its digest added to `added` when
 * the store did not have it) and names its media type.
 */
export async function layerBlob(content: ContentStore, src: LayerSource, added: Set<string>): Promise<LayerBlob> {
  if (src.kind === 'memory') {
    const existed = await content.has(sha256Digest(src.data));
    const digest = await content.put(src.data);
    if (!existed) added.add(digest);
    return { mediaType: mediaTypeOf(src.data), digest, size: src.data.length };
  }
  const fh = await open(content.path(src.digest), 'r');
  try {
    const head = Buffer.alloc(8);
    const { bytesRead } = await fh.read(head, 0, 8, 0);
    return { mediaType: mediaTypeOf(head.subarray(0, bytesRead)), digest: src.digest, size: src.size };
  } finally {
    await fh.close();
  }
}

/** Reads the whole layer and checks that its uncompressed stream hashes to `diffID`. */
export async function verifyDiffID(content: ContentStore, src: LayerSource, diffID: string, maxBytes: number): Promise<void> {
  const hash = createHash('sha256');
  let n = 0;
  for await (const c of await openLayer(content, src)) {
    n += (c as Buffer).length;
    if (n > maxBytes) throw new InvalidArchiveError(`layer ${diffID} is larger than ${maxBytes} bytes`);
    hash.update(c as Buffer);
  }
  const actual = `sha256:${hash.digest('hex')}`;
  if (actual !== diffID) throw new InvalidArchiveError(`layer digest mismatch: the config says ${diffID}, the layer's content is ${actual}`);
}
