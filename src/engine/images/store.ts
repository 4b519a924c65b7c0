/**
 * Image records: one ImageRecord per image, held in memory and persisted as
 *
 *   <root>/images/<id hex>.json        one record per image (without repoTags/repoDigests)
 *
 * with the repository references in references.ts. The config bytes themselves live in the
 * content store (id = sha256 of them). Every change is written atomically before it is
 * acknowledged, and changes are serialized. Deletion rules: delete.ts; layer GC: layer-gc.ts.
 */
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../../util/atomic.js';
import { InvalidParameterError, NotFoundError } from '../errors.js';
import { isPlainObject, parseJsonOrUndefined, setAsideCorrupt } from '../corrupt-file.js';
import type { ContentStore } from '../content/store.js';
import type { LayerStore } from '../layers/store.js';
import { familiarString, isFullId, parseNormalizedNamed, withDefaultTag } from '../../wire/reference.js';
import { deleteImage, type ContainersUsing, type DeletableImages, type DeleteResponseItem, type RemoveOptions } from './delete.js';
import { collectLayers, layersReferenced, releaseChain } from './layer-gc.js';
import { digestKey, isCanonical, lookupKey, ReferenceIndex, tagKey } from './references.js';
import type { ImageConfig, ImageRecord } from './types.js';

export type { ContainersUsing, DeleteResponseItem, RemoveOptions } from './delete.js';

export interface CreateImageOptions {
  /** Chain IDs of the image's layers, bottom first; must all be present in the layer store. */
  chainIDs: string[];
  /** 'busybox:latest', 'docker.io/library/busybox:latest'… (':latest' added when no tag). */
  repoTag?: string | string[];
  /** 'busybox@sha256:<manifest digest>' */
  repoDigest?: string | string[];
  parent?: string;
  /** Other content blobs owned by the image (manifests, compressed layers). */
  blobs?: string[];
  /** Compressed blob per layer (commit), see ImageRecord.layerBlobs. */
  layerBlobs?: ImageRecord['layerBlobs'];
  /** Write the config blob and the record without fsyncs; the caller syncs the file system (LayerStore.seal) before it acknowledges the image. */
  deferSync?: boolean;
}

type PersistedRecord = Omit<ImageRecord, 'repoTags' | 'repoDigests'>;

/** No such image: <familiar ref with :latest>, as moby's ErrImageDoesNotExist. */
export function noSuchImage(refOrId: string): NotFoundError {
  let shown = refOrId;
  try {
    if (!isFullId(refOrId) && !/^sha256:[a-f0-9]{64}$/.test(refOrId)) shown = familiarString(withDefaultTag(parseNormalizedNamed(refOrId)));
  } catch { /* keep as given */ }
  return new NotFoundError(`No such image: ${shown}`);
}

function idHex(id: string): string {
  return id.startsWith('sha256:') ? id.slice(7) : id;
}

/** An image record as stored, or undefined if the text is not one (empty, torn, wrong id). */
function parsePersisted(text: string, id: string): PersistedRecord | undefined {
  const j = parseJsonOrUndefined(text);
  if (!isPlainObject(j) || j['id'] !== id || !isPlainObject(j['config'])) return undefined;
  const chain = j['chainIDs'];
  if (!Array.isArray(chain) || !chain.every((c) => typeof c === 'string')) return undefined;
  return j as unknown as PersistedRecord;
}

export class ImageStore {
  readonly dir: string;
  private readonly images = new Map<string, ImageRecord>();
  private readonly refs: ReferenceIndex;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly root: string,
    private readonly content: ContentStore,
    private readonly layers: LayerStore,
  ) {
    this.dir = join(root, 'images');
    this.refs = new ReferenceIndex(join(this.dir, 'repositories.json'));
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {}); // the caller gets the error through `run`; the queue goes on
    return run;
  }

  // ---------------------------------------------------------------- persistence

  async init(): Promise<void> {
    this.images.clear();
    let names: string[] = [];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    for (const n of names) {
      if (n.includes('.tmp-')) { await rm(join(this.dir, n), { force: true }); continue; }
      const m = /^([a-f0-9]{64})\.json$/.exec(n);
      if (!m) continue;
      const file = join(this.dir, n);
      const rec = parsePersisted(await readFile(file, 'utf8'), `sha256:${m[1]}`);
      if (!rec) { await setAsideCorrupt(file, 'not a valid image record'); continue; }
      if (!rec.chainIDs.every((c) => this.layers.has(c))) {
        // A layer vanished (should not happen: layers are removed after the record). Keep the
        // record out of the index rather than hand out a broken image.
        continue;
      }
      this.images.set(rec.id, { ...rec, repoTags: [], repoDigests: [] });
    }
    await this.refs.load((id) => this.images.has(id));
    this.refs.applyTo(this.images);
  }

  /** Persists the reference index and refreshes the records' reference lists. */
  private async saveRefs(): Promise<void> {
    await this.refs.save();
    this.refs.applyTo(this.images);
  }

  private async saveRecord(rec: ImageRecord, sync = true): Promise<void> {
    const { repoTags: _t, repoDigests: _d, ...persisted } = rec;
    await writeJsonAtomic(join(this.dir, `${idHex(rec.id)}.json`), persisted, { sync });
  }

  // ---------------------------------------------------------------- create / lookup

  /**
   * Stores an image: config blob into the content store, record, references.
   * id = 'sha256:' + sha256(configBytes). Existing images are reused (refs added).
   */
  create(configBytes: Uint8Array, opts: CreateImageOptions): Promise<ImageRecord> {
    return this.serialize(async () => {
      const config = JSON.parse(Buffer.from(configBytes).toString('utf8')) as ImageConfig;
      const diffIDs = config.rootfs?.diff_ids ?? [];
      if (diffIDs.length !== opts.chainIDs.length) {
        throw new InvalidParameterError(`image config lists ${diffIDs.length} layers but ${opts.chainIDs.length} were given`);
      }
      for (let i = 0; i < opts.chainIDs.length; i++) {
        const meta = this.layers.get(opts.chainIDs[i]!);
        if (!meta) throw new NotFoundError(`layer ${opts.chainIDs[i]} does not exist`);
        if (meta.diffID !== diffIDs[i]) throw new InvalidParameterError(`layer ${i} has diffID ${meta.diffID}, config says ${diffIDs[i]}`);
        if (meta.parent !== (i === 0 ? null : opts.chainIDs[i - 1])) throw new InvalidParameterError(`layer ${i} is not stacked on layer ${i - 1}`);
      }
      const sync = !opts.deferSync;
      const id = await this.content.put(configBytes, undefined, { sync });
      if (opts.parent !== undefined && !this.images.has(opts.parent)) throw new NotFoundError(`parent image ${opts.parent} does not exist`);
      const tags = opts.repoTag === undefined ? [] : Array.isArray(opts.repoTag) ? opts.repoTag : [opts.repoTag];
      const digests = opts.repoDigest === undefined ? [] : Array.isArray(opts.repoDigest) ? opts.repoDigest : [opts.repoDigest];
      const refs = [...tags.map(tagKey), ...digests.map(digestKey)];
      const refsBefore = refs.map((r) => [r, this.refs.get(r)] as const);
      let rec = this.images.get(id);
      const isNew = !rec;
      try {
        if (!rec) {
          rec = {
            id,
            config,
            chainIDs: [...opts.chainIDs],
            repoTags: [],
            repoDigests: [],
            size: opts.chainIDs.reduce((s, c) => s + this.layers.size(c), 0),
            loaded: Date.now(),
          };
          if (opts.parent) rec.parent = opts.parent;
          if (opts.blobs?.length) rec.blobs = [...new Set(opts.blobs)];
          if (opts.layerBlobs) rec.layerBlobs = opts.layerBlobs;
          await this.saveRecord(rec, sync);
          this.images.set(id, rec);
        } else if (opts.blobs?.length) {
          rec.blobs = [...new Set([...(rec.blobs ?? []), ...opts.blobs])];
          await this.saveRecord(rec);
        }
        if (refs.length) await this.setRefs(refs, id);
      } catch (e) {
        // A write that failed (a full disk) leaves no half image: neither a new record without
        // its references (listed as dangling after a restart) nor references only memory holds.
        for (const [r, prev] of refsBefore) {
          if (prev === undefined) this.refs.delete(r);
          else this.refs.set(r, prev);
        }
        if (isNew) {
          this.images.delete(id);
          await rm(join(this.dir, `${idHex(id)}.json`), { force: true }).catch(() => undefined);
        }
        this.refs.applyTo(this.images);
        throw e;
      }
      return rec;
    });
  }

  private async setRefs(refs: string[], id: string): Promise<void> {
    const rec = this.images.get(id)!;
    let tagged = false;
    for (const r of refs) {
      if (this.refs.get(r) === id) continue;
      this.refs.set(r, id);
      if (!isCanonical(r)) tagged = true;
    }
    if (tagged) {
      rec.lastTagTime = Date.now();
      await this.saveRecord(rec);
    }
    await this.saveRefs();
  }

  /** Looks up by full/short id, unique id prefix, name, name:tag, name@digest. Undefined if absent. */
  get(refOrId: string): ImageRecord | undefined {
    try {
      return this.lookup(refOrId);
    } catch (e) {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    }
  }

  /** As get(), throwing NotFoundError('No such image: busybox:latest') or InvalidParameterError. */
  resolve(refOrId: string): ImageRecord {
    return this.lookup(refOrId);
  }

  private lookup(refOrId: string): ImageRecord {
    // ParseAnyReference: 64 hex or a full digest is an ID.
    if (isFullId(refOrId) || /^sha256:[a-f0-9]{64}$/.test(refOrId)) {
      const rec = this.images.get('sha256:' + idHex(refOrId));
      if (rec) return rec;
      throw noSuchImage(refOrId);
    }
    const ref = parseNormalizedNamed(refOrId); // InvalidParameterError on bad input, as Docker
    const id = this.refs.get(lookupKey(ref));
    if (id) return this.images.get(id)!;
    const byPrefix = this.searchId(refOrId);
    if (byPrefix) return byPrefix;
    throw noSuchImage(refOrId);
  }

  /** Unique ID prefix search (with or without 'sha256:'); undefined when none or ambiguous. */
  searchId(prefix: string): ImageRecord | undefined {
    const p = idHex(prefix);
    if (!/^[a-f0-9]+$/.test(p)) return undefined;
    let found: ImageRecord | undefined;
    for (const [id, rec] of this.images) {
      if (id.slice(7).startsWith(p)) {
        if (found) return undefined; // ambiguous
        found = rec;
      }
    }
    return found;
  }

  has(refOrId: string): boolean {
    return this.get(refOrId) !== undefined;
  }

  list(): ImageRecord[] {
    return [...this.images.values()];
  }

  /** Images whose parent is `id` (built on top of it). */
  children(id: string): ImageRecord[] {
    return this.list().filter((r) => r.parent === id);
  }

  /** No repository tag or digest points at it. */
  isDangling(rec: ImageRecord): boolean {
    return rec.repoTags.length === 0 && rec.repoDigests.length === 0;
  }

  /** Untagged with children: an intermediate build image, hidden from `images` without -a. */
  isIntermediate(rec: ImageRecord): boolean {
    return this.isDangling(rec) && this.children(rec.id).length > 0;
  }

  /** What `docker images` (all=false) or `docker images -a` (all=true) shows. */
  listVisible(all = false): ImageRecord[] {
    return all ? this.list() : this.list().filter((r) => !this.isIntermediate(r));
  }

  /** All references (full strings) pointing at the image. */
  references(id: string): string[] {
    return this.refs.of(id);
  }

  // ---------------------------------------------------------------- tag / untag

  /** docker tag SOURCE TARGET. Moves TARGET if it pointed elsewhere. */
  tag(idOrRef: string, newRef: string): Promise<ImageRecord> {
    return this.serialize(async () => {
      const rec = this.lookup(idOrRef);
      await this.setRefs([tagKey(newRef)], rec.id);
      return rec;
    });
  }

  /** Adds a repo digest reference (after a pull or push). */
  addDigestRef(idOrRef: string, digestRef: string): Promise<void> {
    return this.serialize(async () => {
      const rec = this.lookup(idOrRef);
      await this.setRefs([digestKey(digestRef)], rec.id);
    });
  }

  /** Removes one reference; returns the image id it pointed at. NotFoundError if absent. */
  untag(ref: string): Promise<string> {
    return this.serialize(async () => {
      const key = lookupKey(parseNormalizedNamed(ref));
      const id = this.refs.get(key);
      if (!id) throw noSuchImage(ref);
      this.refs.delete(key);
      await this.saveRefs();
      return id;
    });
  }

  // ---------------------------------------------------------------- remove, layer GC

  /** DELETE /images/{name} with moby's semantics (delete.ts). */
  remove(refOrId: string, opts: RemoveOptions, containersUsing: ContainersUsing, layersInUse?: () => Iterable<string>): Promise<DeleteResponseItem[]> {
    return this.serialize(() => deleteImage(this.deletable(), refOrId, opts, containersUsing, layersInUse));
  }

  /** The store as deletion sees it: its index, records and stores, with the writes it may make. */
  private deletable(): DeletableImages {
    return {
      refs: this.refs,
      layers: this.layers,
      content: this.content,
      resolve: (r) => this.lookup(r),
      record: (id) => this.images.get(id),
      list: () => this.list(),
      children: (id) => this.children(id),
      isDangling: (rec) => this.isDangling(rec),
      saveRefs: () => this.saveRefs(),
      dropRecord: async (id) => {
        this.images.delete(id);
        await rm(join(this.dir, `${idHex(id)}.json`), { force: true });
      },
    };
  }

  /**
   * Frees the layers of one chain (a removed container's, whose image was force-deleted) from the
   * top down, stopping at the first layer an image or `inUse` still references.
   */
  releaseChain(chainIDs: readonly string[], inUse: Iterable<string>): Promise<string[]> {
    return this.serialize(() => releaseChain(this.layers, chainIDs, layersReferenced(this.list(), [...inUse, ...this.layers.held()])));
  }

  /**
   * Removes layers no image references, `inUse` does not pin and no operation in progress (a pull)
   * holds. Returns removed chain IDs.
   */
  gcLayers(inUse: Iterable<string> = []): Promise<string[]> {
    return this.serialize(() => collectLayers(this.layers, layersReferenced(this.list(), [...inUse, ...this.layers.held()])));
  }

  // ---------------------------------------------------------------- views

  /** Overlay lowerdirs for a container of this image: top layer first. */
  lowerDirs(rec: ImageRecord): string[] {
    return [...rec.chainIDs].reverse().map((c) => this.layers.diffDir(c));
  }

  /** Short lowerdirs ('l/ABC…', top first), relative to `layersDir` (mount with cwd there). */
  shortLowerDirs(rec: ImageRecord): { cwd: string; dirs: string[] } {
    return { cwd: this.layers.dir, dirs: [...rec.chainIDs].reverse().map((c) => this.layers.shortDir(c)) };
  }
}

