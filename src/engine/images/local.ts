/**
 * LocalImages: the image stores of one data root (content, layers, image records and references)
 * behind one face, with the store-level operations the image service (service.ts) builds on.
 *
 *   <root>/content/blobs/sha256/<hex>   blobs (configs, manifests, compressed layers)
 *   <root>/content/ingest/               writes in progress
 *   <root>/layers/<chainID hex>/{diff/,meta.json}, layers/l/<short> → ../<hex>/diff
 *   <root>/images/<id hex>.json, images/repositories.json
 */
import { mkdir } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ContentStore } from '../content/store.js';
import { LayerStore } from '../layers/store.js';
import { InvalidParameterError } from '../errors.js';
import {
  ImageStore, type ContainersUsing, type CreateImageOptions, type DeleteResponseItem, type RemoveOptions,
} from './store.js';
import type { ImageConfig, ImageDetails, ImageHistoryEntry, ImageRecord } from './types.js';

export class LocalImages {
  readonly content: ContentStore;
  readonly layers: LayerStore;
  readonly images: ImageStore;

  constructor(readonly root: string) {
    this.content = new ContentStore(root);
    this.layers = new LayerStore(root);
    this.images = new ImageStore(root, this.content, this.layers);
  }

  /** Creates the layout, clears crash leftovers (ingests, temp snapshots), loads the indexes. */
  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await this.content.init();
    await this.layers.init();
    await this.images.init();
  }

  // ---- lookups
  get(refOrId: string): ImageRecord | undefined { return this.images.get(refOrId); }
  resolve(refOrId: string): ImageRecord { return this.images.resolve(refOrId); }
  list(all = false): ImageRecord[] { return this.images.listVisible(all); }
  isDangling(rec: ImageRecord): boolean { return this.images.isDangling(rec); }

  // ---- changes
  create(configBytes: Uint8Array, opts: CreateImageOptions): Promise<ImageRecord> { return this.images.create(configBytes, opts); }
  tag(idOrRef: string, newRef: string): Promise<ImageRecord> { return this.images.tag(idOrRef, newRef); }
  untag(ref: string): Promise<string> { return this.images.untag(ref); }
  remove(refOrId: string, opts: RemoveOptions, containersUsing: ContainersUsing, layersInUse?: () => Iterable<string>): Promise<DeleteResponseItem[]> {
    return this.images.remove(refOrId, opts, containersUsing, layersInUse);
  }
  gcLayers(inUse: Iterable<string> = []): Promise<string[]> { return this.images.gcLayers(inUse); }
  releaseChain(chainIDs: readonly string[], inUse: Iterable<string>): Promise<string[]> { return this.images.releaseChain(chainIDs, inUse); }

  /**
   * Applies uncompressed layer tars in order (skipping layers already present when the config's
   * diffIDs say so), then stores the image. `openLayer(i)` is called only for missing layers.
   * For `docker load`, builds, and tests.
   */
  async importImage(
    configBytes: Uint8Array,
    openLayer: (index: number) => Promise<Readable> | Readable,
    opts: Omit<CreateImageOptions, 'chainIDs'> = {},
  ): Promise<ImageRecord> {
    const config = JSON.parse(Buffer.from(configBytes).toString('utf8')) as ImageConfig;
    const diffIDs = config.rootfs?.diff_ids;
    if (!Array.isArray(diffIDs)) throw new InvalidParameterError('image config has no rootfs.diff_ids');
    const chain: string[] = [];
    let parent: string | null = null;
    for (let i = 0; i < diffIDs.length; i++) {
      const r = await this.layers.apply(parent, await openLayer(i), diffIDs[i]);
      chain.push(r.chainID);
      parent = r.chainID;
    }
    return this.images.create(configBytes, { ...opts, chainIDs: chain });
  }

  // ---- what containers and views need
  lowerDirs(rec: ImageRecord): string[] { return this.images.lowerDirs(rec); }
  shortLowerDirs(rec: ImageRecord): { cwd: string; dirs: string[] } { return this.images.shortLowerDirs(rec); }
  /** What inspect shows besides the record: the layers' directories, top first. */
  details(rec: ImageRecord): ImageDetails {
    return { record: rec, layerDirs: this.lowerDirs(rec) };
  }

  /**
   * The image's history, newest first, as moby: one entry per config history entry, sizes from
   * the layer each non-empty entry produced; image IDs filled from the image up its parent chain
   * (the API shows `<missing>` beyond).
   */
  history(rec: ImageRecord): ImageHistoryEntry[] {
    const out: ImageHistoryEntry[] = [];
    let layer = 0;
    for (const h of rec.config.history ?? []) {
      let size = 0;
      if (!h.empty_layer) {
        const c = rec.chainIDs[layer];
        if (c && this.layers.has(c)) size = this.layers.size(c);
        layer++;
      }
      out.unshift({ tags: [], created: h.created, createdBy: h.created_by ?? '', size, comment: h.comment ?? '' });
    }
    let cur: ImageRecord | undefined = rec;
    for (const entry of out) {
      if (!cur) break;
      entry.imageId = cur.id;
      entry.tags = [...cur.repoTags];
      cur = cur.parent ? this.images.get(cur.parent) : undefined;
    }
    return out;
  }

  /** What the registry client's pull needs (distribution/pull.ts PullDeps). */
  deps(): { content: ContentStore; layers: LayerStore; images: ImageStore } {
    return { content: this.content, layers: this.layers, images: this.images };
  }
}
