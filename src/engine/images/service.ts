/**
 * ImageService: the local image side of the engine for one data root. Owns the content store,
 * the layer store and the image store; the daemon constructs one and calls init() once.
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
  ImageStore, type ContainersUsing, type CreateImageOptions, type DeleteResponseItem, type ImageEventSink,
  type RemoveOptions,
} from './store.js';
import type { ImageConfig, ImageRecord } from './types.js';
import { toHistory, toInspect, toSummary, type HistoryItem, type ImageSummary } from './views.js';

export interface ImageServiceOptions {
  onEvent?: ImageEventSink;
}

export class ImageService {
  readonly content: ContentStore;
  readonly layers: LayerStore;
  readonly images: ImageStore;

  constructor(readonly root: string, opts: ImageServiceOptions = {}) {
    this.content = new ContentStore(root);
    this.layers = new LayerStore(root);
    this.images = new ImageStore(root, this.content, this.layers, opts.onEvent);
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

  // ---- views
  lowerDirs(rec: ImageRecord): string[] { return this.images.lowerDirs(rec); }
  shortLowerDirs(rec: ImageRecord): { cwd: string; dirs: string[] } { return this.images.shortLowerDirs(rec); }
  toSummary(rec: ImageRecord, opts: { apiVersion?: string; containers?: number } = {}): ImageSummary { return toSummary(rec, opts); }
  toInspect(rec: ImageRecord, opts: { apiVersion?: string } = {}): Record<string, unknown> {
    return toInspect(rec, { diffDirs: this.lowerDirs(rec) }, opts);
  }
  /** GET /images/{name}/history items, newest first. */
  history(rec: ImageRecord): HistoryItem[] {
    return toHistory(rec, (i) => {
      const c = rec.chainIDs[i];
      return c && this.layers.has(c) ? this.layers.size(c) : 0;
    }, (id) => this.images.get(id));
  }

  /** What the registry client's pull needs (distribution/pull.ts PullDeps). */
  deps(): { content: ContentStore; layers: LayerStore; images: ImageStore } {
    return { content: this.content, layers: this.layers, images: this.images };
  }
}
