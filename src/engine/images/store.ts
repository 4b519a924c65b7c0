/**
 * Image metadata and repository references.
 *
 *   <root>/images/<id hex>.json        one ImageRecord per image (without repoTags/repoDigests)
 *   <root>/images/repositories.json    {"Repositories": {"docker.io/library/busybox":
 *                                          {"docker.io/library/busybox:latest": "sha256:…"}}}
 *
 * The config bytes themselves live in the content store (id = sha256 of them). Everything is held
 * in memory; every change is written atomically before it is acknowledged. Mutations are
 * serialized. Removal follows moby's daemon/images/image_delete.go semantics.
 */
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../../util/atomic.js';
import { ConflictError, InvalidParameterError, NotFoundError } from '../errors.js';
import type { ContentStore } from '../content/store.js';
import type { LayerStore } from '../layers/store.js';
import {
  familiarString, fullName, isFullId, parseNormalizedNamed, referenceString, sha256Digest, truncateId,
  validateDigest, withDefaultTag,
} from '../../wire/reference.js';
import type { ContainerUsage, ImageConfig, ImageRecord, Reference } from './types.js';

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
}

export interface RemoveOptions {
  force?: boolean;
  noprune?: boolean;
}

/** One item of DELETE /images/{name}: exactly one of the two keys. */
export type DeleteResponseItem = { Untagged: string } | { Deleted: string };

export type ContainersUsing = (imageId: string) => Array<string | ContainerUsage>;

export type ImageEventAction = 'tag' | 'untag' | 'delete';
export type ImageEventSink = (action: ImageEventAction, imageId: string, ref?: string) => void;

interface RepositoriesFile {
  Repositories: Record<string, Record<string, string>>;
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

/** Reference-store lookup form: tag+digest → digest only; bare name → :latest. */
function lookupKey(ref: Reference): string {
  if (ref.digest !== undefined) return referenceString({ domain: ref.domain, path: ref.path, digest: ref.digest });
  return referenceString(withDefaultTag(ref));
}

function isCanonical(fullRef: string): boolean {
  return fullRef.includes('@');
}

function nameOf(fullRef: string): string {
  const at = fullRef.indexOf('@');
  const noDigest = at >= 0 ? fullRef.slice(0, at) : fullRef;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

function sortRefs(refs: string[]): string[] {
  // moby sorts references by their familiar string
  return refs.sort((a, b) => {
    const fa = familiarizeFull(a);
    const fb = familiarizeFull(b);
    return fa < fb ? -1 : fa > fb ? 1 : 0;
  });
}

function familiarizeFull(full: string): string {
  try { return familiarString(parseNormalizedNamed(full)); } catch { return full; }
}

export class ImageStore {
  readonly dir: string;
  private readonly images = new Map<string, ImageRecord>();
  /** full reference string → image id */
  private readonly refs = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly root: string,
    private readonly content: ContentStore,
    private readonly layers: LayerStore,
    private readonly onEvent?: ImageEventSink,
  ) {
    this.dir = join(root, 'images');
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  // ---------------------------------------------------------------- persistence

  async init(): Promise<void> {
    this.images.clear();
    this.refs.clear();
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
      const rec = JSON.parse(await readFile(join(this.dir, n), 'utf8')) as PersistedRecord;
      if (!rec.chainIDs.every((c) => this.layers.has(c))) {
        // A layer vanished (should not happen: layers are removed after the record). Keep the
        // record out of the index rather than hand out a broken image.
        continue;
      }
      this.images.set(rec.id, { ...rec, repoTags: [], repoDigests: [] });
    }
    let repos: RepositoriesFile = { Repositories: {} };
    try {
      repos = JSON.parse(await readFile(join(this.dir, 'repositories.json'), 'utf8')) as RepositoriesFile;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    for (const byRef of Object.values(repos.Repositories ?? {})) {
      for (const [ref, id] of Object.entries(byRef)) {
        if (this.images.has(id)) this.refs.set(ref, id);
      }
    }
    this.rebuildRefLists();
  }

  private rebuildRefLists(): void {
    for (const rec of this.images.values()) { rec.repoTags = []; rec.repoDigests = []; }
    for (const [ref, id] of this.refs) {
      const rec = this.images.get(id);
      if (!rec) continue;
      (isCanonical(ref) ? rec.repoDigests : rec.repoTags).push(ref);
    }
    for (const rec of this.images.values()) { sortRefs(rec.repoTags); sortRefs(rec.repoDigests); }
  }

  private async saveRefs(): Promise<void> {
    const out: RepositoriesFile = { Repositories: {} };
    for (const [ref, id] of [...this.refs].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const name = nameOf(ref);
      (out.Repositories[name] ??= {})[ref] = id;
    }
    await writeJsonAtomic(join(this.dir, 'repositories.json'), out);
    this.rebuildRefLists();
  }

  private async saveRecord(rec: ImageRecord): Promise<void> {
    const { repoTags: _t, repoDigests: _d, ...persisted } = rec;
    await writeJsonAtomic(join(this.dir, `${idHex(rec.id)}.json`), persisted);
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
      const id = await this.content.put(configBytes);
      if (opts.parent !== undefined && !this.images.has(opts.parent)) throw new NotFoundError(`parent image ${opts.parent} does not exist`);
      let rec = this.images.get(id);
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
        await this.saveRecord(rec);
        this.images.set(id, rec);
      } else if (opts.blobs?.length) {
        rec.blobs = [...new Set([...(rec.blobs ?? []), ...opts.blobs])];
        await this.saveRecord(rec);
      }
      const tags = opts.repoTag === undefined ? [] : Array.isArray(opts.repoTag) ? opts.repoTag : [opts.repoTag];
      const digests = opts.repoDigest === undefined ? [] : Array.isArray(opts.repoDigest) ? opts.repoDigest : [opts.repoDigest];
      const refs = [...tags.map((t) => this.tagKey(t)), ...digests.map((d) => this.digestKey(d))];
      if (refs.length) await this.setRefs(refs, id);
      return rec;
    });
  }

  private tagKey(s: string): string {
    const ref = parseNormalizedNamed(s);
    if (ref.digest !== undefined) throw new InvalidParameterError('refusing to create a tag with a digest reference');
    return referenceString(withDefaultTag(ref));
  }

  private digestKey(s: string): string {
    const ref = parseNormalizedNamed(s);
    if (ref.digest === undefined) throw new InvalidParameterError(`${s} is not a digest reference`);
    return referenceString({ domain: ref.domain, path: ref.path, digest: validateDigest(ref.digest) });
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
    for (const r of refs) if (!isCanonical(r)) this.onEvent?.('tag', id, familiarizeFull(r));
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
    return sortRefs([...this.refs].filter(([, v]) => v === id).map(([k]) => k));
  }

  // ---------------------------------------------------------------- tag / untag

  /** docker tag SOURCE TARGET. Moves TARGET if it pointed elsewhere. */
  tag(idOrRef: string, newRef: string): Promise<ImageRecord> {
    return this.serialize(async () => {
      const rec = this.lookup(idOrRef);
      await this.setRefs([this.tagKey(newRef)], rec.id);
      return rec;
    });
  }

  /** Adds a repo digest reference (after a pull or push). */
  addDigestRef(idOrRef: string, digestRef: string): Promise<void> {
    return this.serialize(async () => {
      const rec = this.lookup(idOrRef);
      await this.setRefs([this.digestKey(digestRef)], rec.id);
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
      this.onEvent?.('untag', id, familiarizeFull(key));
      return id;
    });
  }

  // ---------------------------------------------------------------- remove

  /**
   * DELETE /images/{name} with moby's semantics. `containersUsing(id)` reports containers created
   * from an image (strings are taken as stopped containers).
   * `layersInUse` (optional) pins chain IDs that must survive (e.g. used by containers of images
   * removed earlier with force).
   */
  remove(refOrId: string, opts: RemoveOptions, containersUsing: ContainersUsing, layersInUse?: () => Iterable<string>): Promise<DeleteResponseItem[]> {
    return this.serialize(async () => {
      const force = !!opts.force;
      const prune = !opts.noprune;
      const rec = this.lookup(refOrId);
      const usage = (id: string): ContainerUsage[] => containersUsing(id).map((c) => (typeof c === 'string' ? { id: c, running: false } : c));
      const records: DeleteResponseItem[] = [];
      let repoRefs = this.references(rec.id);
      let removedRepositoryRef = false;

      if (!isImageIdPrefix(rec.id, refOrId)) {
        // A repository reference was given: remove it first.
        if (!force && isSingleReference(repoRefs)) {
          const c = usage(rec.id)[0];
          if (c) {
            throw new ConflictError(`conflict: unable to remove repository reference ${JSON.stringify(refOrId)} (must force) - container ${truncateId(c.id)} is using its referenced image ${truncateId(rec.id)}`);
          }
        }
        const key = lookupKey(parseNormalizedNamed(refOrId));
        const parsedKey = this.refs.has(key) ? key : undefined;
        if (parsedKey === undefined) {
          // Found by ID prefix although it looked like a name (e.g. 'abcdef'): treat as an ID.
          return this.removeById(rec, force, prune, usage, records, layersInUse);
        }
        this.refs.delete(parsedKey);
        await this.saveRefs();
        records.push({ Untagged: familiarizeFull(parsedKey) });
        this.onEvent?.('untag', rec.id, familiarizeFull(parsedKey));
        repoRefs = this.references(rec.id);

        // A tag removed and only digest references of the same repository remain: drop those too.
        if (!isCanonical(parsedKey)) {
          const name = nameOf(parsedKey);
          const tagLeft = repoRefs.some((r) => !isCanonical(r) && nameOf(r) === name);
          if (!tagLeft) {
            const remaining: string[] = [];
            let changed = false;
            for (const r of repoRefs) {
              if (isCanonical(r) && nameOf(r) === name) {
                this.refs.delete(r);
                changed = true;
                records.push({ Untagged: familiarizeFull(r) });
              } else remaining.push(r);
            }
            if (changed) await this.saveRefs();
            repoRefs = remaining;
          }
        }
        if (repoRefs.length > 0) return records;
        removedRepositoryRef = true;
      } else {
        return this.removeById(rec, force, prune, usage, records, layersInUse);
      }
      await this.deleteHelper(rec.id, records, force, prune, removedRepositoryRef, usage, layersInUse);
      return records;
    });
  }

  private async removeById(
    rec: ImageRecord, force: boolean, prune: boolean, usage: (id: string) => ContainerUsage[],
    records: DeleteResponseItem[], layersInUse?: () => Iterable<string>,
  ): Promise<DeleteResponseItem[]> {
    // An ID was given and at most one tag (all refs in one repository): remove all references.
    const repoRefs = this.references(rec.id);
    if (isSingleReference(repoRefs)) {
      const mask = force ? HARD : HARD | (SOFT & ~ACTIVE_REFERENCE);
      const conflict = this.checkConflict(rec.id, mask, usage);
      if (conflict) throw conflict.error();
      for (const r of repoRefs) {
        this.refs.delete(r);
        records.push({ Untagged: familiarizeFull(r) });
        this.onEvent?.('untag', rec.id, familiarizeFull(r));
      }
      if (repoRefs.length) await this.saveRefs();
    }
    await this.deleteHelper(rec.id, records, force, prune, false, usage, layersInUse);
    return records;
  }

  private checkConflict(id: string, mask: number, usage: (id: string) => ContainerUsage[]): DeleteConflict | undefined {
    if (mask & DEPENDENT_CHILD && this.children(id).length > 0) {
      return new DeleteConflict(id, true, false, 'image has dependent child images');
    }
    const users = usage(id);
    if (mask & RUNNING_CONTAINER) {
      const c = users.find((u) => u.running);
      if (c) return new DeleteConflict(id, true, true, `image is being used by running container ${truncateId(c.id)}`);
    }
    if (mask & ACTIVE_REFERENCE && this.references(id).length > 0) {
      return new DeleteConflict(id, false, false, 'image is referenced in multiple repositories');
    }
    if (mask & STOPPED_CONTAINER) {
      const c = users.find((u) => !u.running);
      if (c) return new DeleteConflict(id, false, true, `image is being used by stopped container ${truncateId(c.id)}`);
    }
    return undefined;
  }

  private async deleteHelper(
    id: string, records: DeleteResponseItem[], force: boolean, prune: boolean, quiet: boolean,
    usage: (id: string) => ContainerUsage[], layersInUse?: () => Iterable<string>,
  ): Promise<void> {
    const mask = force ? HARD : HARD | SOFT;
    const conflict = this.checkConflict(id, mask, usage);
    if (conflict) {
      // When quiet (a repository reference was removed, or pruning parents), conflicts are only
      // reported for a dangling, unused image.
      const rec = this.images.get(id)!;
      if (quiet && (!this.isDangling(rec) || conflict.used)) return;
      throw conflict.error();
    }
    const rec = this.images.get(id)!;
    const parent = rec.parent;

    // All references, then the record, then layers and blobs nobody else needs.
    const refs = this.references(id);
    for (const r of refs) {
      this.refs.delete(r);
      records.push({ Untagged: familiarizeFull(r) });
      this.onEvent?.('untag', id, familiarizeFull(r));
    }
    if (refs.length) await this.saveRefs();
    this.images.delete(id);
    await rm(join(this.dir, `${idHex(id)}.json`), { force: true });
    this.onEvent?.('delete', id);
    records.push({ Deleted: id });

    const stillUsedByContainers = usage(id).length > 0; // forced removal: containers keep its layers
    if (!stillUsedByContainers) {
      const inUse = this.layersReferenced(layersInUse);
      for (const c of [...rec.chainIDs].reverse()) {
        if (inUse.has(c)) break; // everything below is in use too
        try {
          await this.layers.remove(c);
        } catch {
          break; // a child layer outside any image (e.g. a pull in progress) still needs it
        }
        records.push({ Deleted: c });
      }
    }
    const blobsInUse = new Set<string>();
    for (const other of this.images.values()) {
      blobsInUse.add(other.id);
      for (const b of other.blobs ?? []) blobsInUse.add(b);
    }
    for (const b of [id, ...(rec.blobs ?? [])]) if (!blobsInUse.has(b)) await this.content.delete(b);

    if (!prune || !parent || !this.images.has(parent)) return;
    await this.deleteHelper(parent, records, false, true, true, usage, layersInUse);
  }

  private layersReferenced(extra?: () => Iterable<string>): Set<string> {
    const s = new Set<string>();
    for (const r of this.images.values()) for (const c of r.chainIDs) s.add(c);
    if (extra) for (const c of extra()) s.add(c);
    return s;
  }

  /**
   * Frees the layers of one chain (a removed container's, whose image was force-deleted) from the
   * top down, stopping at the first layer an image or `inUse` still references. Unlike gcLayers it
   * never touches layers outside that chain (e.g. of a pull in progress).
   */
  releaseChain(chainIDs: readonly string[], inUse: Iterable<string>): Promise<string[]> {
    return this.serialize(async () => {
      const keep = this.layersReferenced(() => inUse);
      const removed: string[] = [];
      for (const c of [...chainIDs].reverse()) {
        if (keep.has(c) || !this.layers.has(c)) break;
        try {
          await this.layers.remove(c);
        } catch {
          break; // another chain builds on it
        }
        removed.push(c);
      }
      return removed;
    });
  }

  /**
   * Removes layers no image references and `inUse` does not pin (e.g. after a container of a
   * force-removed image is gone). Returns removed chain IDs.
   */
  gcLayers(inUse: Iterable<string> = []): Promise<string[]> {
    return this.serialize(async () => {
      const keep = this.layersReferenced(() => inUse);
      // Keep the ancestors of kept layers.
      for (const c of [...keep]) {
        let m = this.layers.get(c);
        while (m?.parent) { keep.add(m.parent); m = this.layers.get(m.parent); }
      }
      const removed: string[] = [];
      // Remove children before parents.
      let progress = true;
      while (progress) {
        progress = false;
        for (const m of this.layers.list()) {
          if (keep.has(m.chainID)) continue;
          if (this.layers.list().some((o) => o.parent === m.chainID)) continue;
          await this.layers.remove(m.chainID);
          removed.push(m.chainID);
          progress = true;
        }
      }
      return removed;
    });
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

  /** 'docker.io/library/busybox' → name for a reference key. Exposed for callers building refs. */
  static fullName(ref: Reference): string {
    return fullName(ref);
  }

  /** sha256 id a config would get. */
  static idOf(configBytes: Uint8Array): string {
    return sha256Digest(configBytes);
  }
}

// ---- moby's conflict classes
const DEPENDENT_CHILD = 1;
const RUNNING_CONTAINER = 2;
const ACTIVE_REFERENCE = 4;
const STOPPED_CONTAINER = 8;
const HARD = DEPENDENT_CHILD | RUNNING_CONTAINER;
const SOFT = ACTIVE_REFERENCE | STOPPED_CONTAINER;

class DeleteConflict {
  constructor(readonly id: string, readonly hard: boolean, readonly used: boolean, readonly message: string) {}
  error(): ConflictError {
    return new ConflictError(`conflict: unable to delete ${truncateId(this.id)} (${this.hard ? 'cannot be forced' : 'must be forced'}) - ${this.message}`);
  }
}

/** imageRef is a prefix of the id, with or without 'sha256:'. */
function isImageIdPrefix(id: string, ref: string): boolean {
  return id.startsWith(ref) || id.slice(7).startsWith(ref);
}

/** All references are in one repository and there is at most one tag; false for none. */
function isSingleReference(refs: string[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  let single: string | undefined;
  const canonicalNames = new Set<string>();
  for (const r of refs) {
    if (isCanonical(r)) canonicalNames.add(nameOf(r));
    else if (single === undefined) single = r;
    else return false;
  }
  single ??= refs[0]!;
  return canonicalNames.size === 1 && canonicalNames.has(nameOf(single));
}
