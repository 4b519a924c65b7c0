/**
 * DELETE /images/{name} with moby's semantics (daemon/images/image_delete.go, read for facts):
 * a repository reference is untagged first (and the image deleted only when it was the last
 * one); an ID removes every reference when they all name one repository; then the conflict
 * classes decide: hard conflicts (dependent child images, a running container) stop even a
 * forced delete, soft ones (other references, a stopped container) only an unforced one.
 * Parents left dangling and unused go too, unless `noprune`.
 */
import { ConflictError } from '../errors.js';
import type { ContentStore } from '../content/store.js';
import type { LayerStore } from '../layers/store.js';
import { parseNormalizedNamed, truncateId } from '../../wire/reference.js';
import { layersReferenced, releaseChain } from './layer-gc.js';
import { familiarizeFull, isCanonical, lookupKey, nameOf, type ReferenceIndex } from './references.js';
import type { ContainerUsage, ImageRecord } from './types.js';

export interface RemoveOptions {
  force?: boolean;
  noprune?: boolean;
}

/** One item of DELETE /images/{name}: exactly one of the two keys. */
export type DeleteResponseItem = { Untagged: string } | { Deleted: string };

/** Containers created from an image (a bare string is taken as a stopped container's ID). */
export type ContainersUsing = (imageId: string) => Array<string | ContainerUsage>;

/** What deletion needs from the image store (store.ts hands it over, serialized). */
export interface DeletableImages {
  readonly refs: ReferenceIndex;
  readonly layers: LayerStore;
  readonly content: ContentStore;
  resolve(refOrId: string): ImageRecord;
  record(id: string): ImageRecord | undefined;
  list(): ImageRecord[];
  children(id: string): ImageRecord[];
  isDangling(rec: ImageRecord): boolean;
  /** Persists the reference index (and refreshes the records' reference lists). */
  saveRefs(): Promise<void>;
  /** Forgets the record and deletes its file. */
  dropRecord(id: string): Promise<void>;
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

/**
 * Deletes what `refOrId` names. `containersUsing(id)` reports the containers of an image;
 * `layersInUse` pins chain IDs that must survive (the containers' root filesystems).
 */
export function deleteImage(
  store: DeletableImages, refOrId: string, opts: RemoveOptions, containersUsing: ContainersUsing, layersInUse?: () => Iterable<string>,
): Promise<DeleteResponseItem[]> {
  const usage = (id: string): ContainerUsage[] => containersUsing(id).map((c) => (typeof c === 'string' ? { id: c, running: false } : c));
  return new ImageDeletion(store, !!opts.force, !opts.noprune, usage, layersInUse).run(refOrId);
}

class ImageDeletion {
  private readonly records: DeleteResponseItem[] = [];

  constructor(
    private readonly store: DeletableImages,
    private readonly force: boolean,
    private readonly prune: boolean,
    private readonly usage: (id: string) => ContainerUsage[],
    private readonly layersInUse?: () => Iterable<string>,
  ) {}

  async run(refOrId: string): Promise<DeleteResponseItem[]> {
    const { store } = this;
    const rec = store.resolve(refOrId);
    if (isImageIdPrefix(rec.id, refOrId)) return this.removeById(rec);

    // A repository reference was given: remove it first.
    let repoRefs = store.refs.of(rec.id);
    if (!this.force && isSingleReference(repoRefs)) {
      const c = this.usage(rec.id)[0];
      if (c) {
        throw new ConflictError(`conflict: unable to remove repository reference ${JSON.stringify(refOrId)} (must force) - container ${truncateId(c.id)} is using its referenced image ${truncateId(rec.id)}`);
      }
    }
    const key = lookupKey(parseNormalizedNamed(refOrId));
    // Found by ID prefix although it looked like a name (e.g. 'abcdef'): treat as an ID.
    if (!store.refs.has(key)) return this.removeById(rec);
    store.refs.delete(key);
    await store.saveRefs();
    this.untag(key);
    repoRefs = store.refs.of(rec.id);

    // A tag removed and only digest references of the same repository remain: drop those too.
    if (!isCanonical(key)) {
      const name = nameOf(key);
      const tagLeft = repoRefs.some((r) => !isCanonical(r) && nameOf(r) === name);
      if (!tagLeft) {
        const sameRepoDigests = repoRefs.filter((r) => isCanonical(r) && nameOf(r) === name);
        for (const r of sameRepoDigests) {
          store.refs.delete(r);
          this.untag(r);
        }
        if (sameRepoDigests.length) await store.saveRefs();
        repoRefs = repoRefs.filter((r) => !sameRepoDigests.includes(r));
      }
    }
    if (repoRefs.length > 0) return this.records;
    await this.deleteHelper(rec.id, this.force, this.prune, true);
    return this.records;
  }

  private untag(key: string): void {
    this.records.push({ Untagged: familiarizeFull(key) });
  }

  private async removeById(rec: ImageRecord): Promise<DeleteResponseItem[]> {
    // An ID was given and at most one tag (all refs in one repository): remove all references.
    const repoRefs = this.store.refs.of(rec.id);
    if (isSingleReference(repoRefs)) {
      const mask = this.force ? HARD : HARD | (SOFT & ~ACTIVE_REFERENCE);
      const conflict = this.checkConflict(rec.id, mask);
      if (conflict) throw conflict.error();
      for (const r of repoRefs) {
        this.store.refs.delete(r);
        this.untag(r);
      }
      if (repoRefs.length) await this.store.saveRefs();
    }
    await this.deleteHelper(rec.id, this.force, this.prune, false);
    return this.records;
  }

  private checkConflict(id: string, mask: number): DeleteConflict | undefined {
    if (mask & DEPENDENT_CHILD && this.store.children(id).length > 0) {
      return new DeleteConflict(id, true, false, 'image has dependent child images');
    }
    const users = this.usage(id);
    if (mask & RUNNING_CONTAINER) {
      const c = users.find((u) => u.running);
      if (c) return new DeleteConflict(id, true, true, `image is being used by running container ${truncateId(c.id)}`);
    }
    if (mask & ACTIVE_REFERENCE && this.store.refs.of(id).length > 0) {
      return new DeleteConflict(id, false, false, 'image is referenced in multiple repositories');
    }
    if (mask & STOPPED_CONTAINER) {
      const c = users.find((u) => !u.running);
      if (c) return new DeleteConflict(id, false, true, `image is being used by stopped container ${truncateId(c.id)}`);
    }
    return undefined;
  }

  /**
   * Deletes the image: references, record, then layers and blobs nobody else needs, then (when
   * pruning) its parent if that is left dangling. When `quiet` (a repository reference was
   * removed, or a parent is pruned), conflicts are reported only for a dangling, unused image.
   */
  private async deleteHelper(id: string, force: boolean, prune: boolean, quiet: boolean): Promise<void> {
    const { store } = this;
    const rec = store.record(id)!;
    const conflict = this.checkConflict(id, force ? HARD : HARD | SOFT);
    if (conflict) {
      if (quiet && (!store.isDangling(rec) || conflict.used)) return;
      throw conflict.error();
    }
    const refs = store.refs.of(id);
    for (const r of refs) {
      store.refs.delete(r);
      this.untag(r);
    }
    if (refs.length) await store.saveRefs();
    await store.dropRecord(id);
    this.records.push({ Deleted: id });

    // Forced removal of an image containers use: they keep its layers.
    if (this.usage(id).length === 0) {
      const keep = layersReferenced(store.list(), this.layersInUse?.() ?? []);
      for (const c of await releaseChain(store.layers, rec.chainIDs, keep)) this.records.push({ Deleted: c });
    }
    const blobsInUse = new Set<string>();
    for (const other of store.list()) {
      blobsInUse.add(other.id);
      for (const b of other.blobs ?? []) blobsInUse.add(b);
    }
    for (const b of [id, ...(rec.blobs ?? [])]) if (!blobsInUse.has(b)) await store.content.delete(b);

    if (!prune || !rec.parent || !store.record(rec.parent)) return;
    await this.deleteHelper(rec.parent, false, true, true);
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
