/**
 * docker load (POST /images/load): one streaming pass over the archive (archive-index.ts), then
 * the plan from its manifest (load-plan.ts), then, in three steps so a failure leaves nothing
 * visible:
 *
 *  1. every layer of every image: an image's missing layers extracted at once (up to three, each
 *     on its own worker, the diffID verified while extracting), then committed in order on their
 *     parents; a layer already present is still read and its diffID checked; all held until the
 *     records are written;
 *  2. the image records, tags and `Loaded image: …` lines, as dockerd prints them;
 *  3. on any failure: the layers this load made and nobody references are removed top down, the
 *     blobs it added that no image lists are deleted.
 */
import { Readable } from 'node:stream';
import { sha256Digest } from '../../../util/digest.js';
import type { ContentStore } from '../../content/store.js';
import { ThrottledProgress } from '../../distribution/progress.js';
import { DEFAULT_MAX_LAYER_BYTES } from '../../layers/apply.js';
import { chainID } from '../../layers/chain.js';
import { FileFeed } from '../../layers/file-feed.js';
import type { LayerStore, StagedLayer } from '../../layers/store.js';
import type { ImageStore } from '../store.js';
import type { ImageRecord, LayerBlob, ProgressSink } from '../types.js';
import { ArchiveIndex } from './archive-index.js';
import { LoadPlanner, type LoadItem } from './load-plan.js';
import { layerBlob, verifyDiffID } from './layer-source.js';
import { Semaphore } from '../../../util/semaphore.js';
import { archiveStream } from './source.js';

export interface TransferDeps {
  content: ContentStore;
  layers: LayerStore;
  images: ImageStore;
}

export interface LoadOptions {
  /** The daemon's max-image-load-size: cap on the decompressed archive (and on any one layer). */
  maxBytes: number;
  quiet: boolean;
  /** Chain IDs containers stand on (kept by the clean-up of a failed load). */
  layersInUse: () => Iterable<string>;
}

export interface LoadedImage {
  record: ImageRecord;
  tags: string[];
}

/** Loads every image of the archive in `body`; messages (dockerd's) go to `out`. */
export async function loadImages(deps: TransferDeps, body: Readable, opts: LoadOptions, out: ProgressSink): Promise<LoadedImage[]> {
  const archive = new ArchiveIndex(deps.content);
  const chains: string[][] = [];
  let release = (): void => {};
  try {
    await archive.read(archiveStream(body, opts.maxBytes));
    const items = await new LoadPlanner(archive, deps.content).plan();
    const layerCap = Math.min(opts.maxBytes, DEFAULT_MAX_LAYER_BYTES);
    const prepared: Array<{ item: LoadItem; chain: string[]; blobs: LayerBlob[] }> = [];
    for (const item of items) {
      const chain = chainIDs(item);
      chains.push(chain);
      const releaseThis = deps.layers.hold(chain);
      const prev = release;
      release = () => { prev(); releaseThis(); };
      await applyLayers(deps, item, chain, layerCap, opts.quiet ? undefined : out);
      const blobs: LayerBlob[] = [];
      for (const l of item.layers) blobs.push(await layerBlob(deps.content, l, archive.newBlobs));
      prepared.push({ item, chain, blobs });
    }
    const loaded: LoadedImage[] = [];
    for (const { item, chain, blobs } of prepared) {
      for (const tag of item.repoTags) {
        const old = deps.images.get(tag);
        const id = sha256Digest(item.configBytes);
        if (old && old.id !== id) out({ stream: `The image ${tag} already exists, renaming the old one with ID ${old.id} to empty string\n` });
      }
      const record = await deps.images.create(item.configBytes, {
        chainIDs: chain,
        repoTag: item.repoTags,
        blobs: blobs.map((b) => b.digest),
        layerBlobs: blobs,
      });
      for (const tag of item.repoTags) out({ stream: `Loaded image: ${tag}\n` });
      if (item.repoTags.length === 0) out({ stream: `Loaded image ID: ${record.id}\n` });
      loaded.push({ record, tags: item.repoTags });
    }
    release();
    archive.releaseBlobs();
    // The archive's own index files (OCI manifests, unused blobs) are not kept.
    await dropUnreferencedBlobs(deps, archive);
    return loaded;
  } catch (e) {
    release();
    archive.releaseBlobs();
    await cleanUp(deps, archive, chains, opts.layersInUse);
    throw e;
  }
}

function chainIDs(item: LoadItem): string[] {
  const out: string[] = [];
  let parent: string | null = null;
  for (const d of item.config.rootfs.diff_ids) {
    parent = chainID(parent, d);
    out.push(parent);
  }
  return out;
}

/** Layers of one image extracted at once (each on its own worker), then committed in order. */
const PARALLEL_LAYERS = 3;

async function applyLayers(deps: TransferDeps, item: LoadItem, chain: string[], cap: number, progress: ProgressSink | undefined): Promise<void> {
  const diffIDs = item.config.rootfs.diff_ids;
  const sem = new Semaphore(PARALLEL_LAYERS);
  const jobs = chain.map((cid, i) => sem.with(async (): Promise<StagedLayer | undefined> => {
    const src = item.layers[i]!;
    if (deps.layers.has(cid)) {
      // Present already: the archive's copy must still be what the config says (it becomes this
      // image's layer blob, which save and push hand out).
      await verifyDiffID(deps.content, src, diffIDs[i]!, cap);
      return undefined;
    }
    const size = src.kind === 'memory' ? src.data.length : src.size;
    const bar = progress ? new ThrottledProgress(progress, cid.slice(7, 19), 'Loading layer', size) : undefined;
    // A stored blob is read (and decompressed) by the extraction's worker itself.
    const from = src.kind === 'memory'
      ? Readable.from([src.data], { objectMode: false })
      : FileFeed.complete(deps.content.path(src.digest), size, (n) => bar?.update(Math.min(n, size)));
    const st = await deps.layers.stage(from, diffIDs[i]!, { maxBytes: cap, decompress: true });
    if (src.kind === 'memory') bar?.update(size);
    return st;
  }));
  const results = await Promise.allSettled(jobs);
  const staged = results.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    for (const st of staged) await st?.discard();
    throw failed.reason;
  }
  for (let i = 0; i < chain.length; i++) {
    try {
      await staged[i]?.commit(i === 0 ? null : chain[i - 1]!);
    } catch (e) {
      for (const st of staged.slice(i + 1)) await st?.discard();
      throw e;
    }
  }
}

/** A failed load leaves no layer or blob of its own that nothing references. */
async function cleanUp(deps: TransferDeps, archive: ArchiveIndex, chains: string[][], inUse: () => Iterable<string>): Promise<void> {
  for (const chain of chains) await deps.images.releaseChain(chain, inUse()).catch(() => undefined);
  await dropUnreferencedBlobs(deps, archive);
}

/** Deletes the blobs this archive added that no image lists. */
async function dropUnreferencedBlobs(deps: TransferDeps, archive: ArchiveIndex): Promise<void> {
  const referenced = new Set<string>();
  for (const rec of deps.images.list()) {
    referenced.add(rec.id);
    for (const b of rec.blobs ?? []) referenced.add(b);
    for (const b of rec.layerBlobs ?? []) if (b) referenced.add(b.digest);
  }
  for (const d of archive.newBlobs) if (!referenced.has(d)) await deps.content.delete(d).catch(() => undefined);
}
