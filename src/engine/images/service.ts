/**
 * ImageService: the image side of the engine's domain API. One method per image request (pull,
 * list, inspect, history, tag, remove, prune, commit, push), each taking typed inputs and
 * returning records that the API renders (api/views/images.ts). It owns the local stores
 * (local.ts) and reaches containers only through the small ImageContainers interface.
 */
import { ConflictError, InvalidParameterError, NotFoundError } from '../errors.js';
import type { EventBus } from '../events/bus.js';
import type { Distribution } from '../distribution/index.js';
import { pushImage } from '../distribution/push.js';
import { NO_FILTERS, type FilterArgs } from '../filters.js';
import { parsePruneFilters, pruneMatches } from '../prune.js';
import type { ContainerRecord } from '../containers/types.js';
import { familiarString, parseDockerRef } from '../../wire/reference.js';
import { commitContainer, type CommitOptions } from './commit.js';
import { parseImageFilters, selectImages } from './filters.js';
import { LocalImages } from './local.js';
import { ImageTransfer } from './transfer/service.js';
import type { DeleteResponseItem } from './store.js';
import type {
  AuthConfig, ContainerUsage, ImageDetails, ImageHistoryEntry, ImageListEntry, ImageRecord, ProgressSink,
} from './types.js';

/** What the image service needs to know about, and do to, containers. */
export interface ImageContainers {
  /** Containers created from the image, and whether each runs. */
  usingImage(imageId: string): ContainerUsage[];
  /** Chain IDs the containers' root filesystems stand on. */
  layersInUse(): Set<string>;
  /** The container to commit (NotFoundError `No such container: x`). */
  get(ref: string): ContainerRecord;
  /** Its writable layer. */
  upperDir(id: string): string;
  /** Removed, or being removed (ContainerService.removedOrRemoving). */
  removedOrRemoving(id: string): boolean;
  pause(id: string): Promise<void>;
  unpause(id: string): Promise<void>;
}

export interface ImageServiceDeps {
  distribution: Distribution;
  events: EventBus;
  containers: ImageContainers;
  /** Written into committed images' configs (docker_version). */
  engineVersion: string;
  /** max-image-load-size: cap on a load's or import's decompressed archive (transfer/). */
  maxImageLoadSize?: number;
}

export interface CommitRequest extends Omit<CommitOptions, 'reference' | 'engineVersion'> {
  repo?: string;
  tag?: string;
  /** Freeze a running container while its changes are read (default true, as dockerd). */
  pause?: boolean;
}

export interface PruneResult {
  ImagesDeleted: DeleteResponseItem[];
  SpaceReclaimed: number;
}

export class ImageService {
  readonly local: LocalImages;
  /** save, load, import (transfer/). */
  readonly transfer: ImageTransfer;
  private readonly events: EventBus;
  private readonly containers: ImageContainers;

  constructor(root: string, private readonly deps: ImageServiceDeps) {
    this.local = new LocalImages(root);
    this.events = deps.events;
    this.containers = deps.containers;
    this.transfer = new ImageTransfer(this.local, {
      events: deps.events, engineVersion: deps.engineVersion, maxImageLoadSize: deps.maxImageLoadSize,
      layersInUse: () => deps.containers.layersInUse(),
    });
  }

  init(): Promise<void> { return this.local.init(); }

  // ---- lookups for the other services (containers, /info, ps)

  get(refOrId: string): ImageRecord | undefined { return this.local.get(refOrId); }
  resolve(refOrId: string): ImageRecord { return this.local.resolve(refOrId); }
  /** Images `docker images` shows (with `all`, intermediate ones too). */
  records(all = false): ImageRecord[] { return this.local.list(all); }
  lowerDirs(rec: ImageRecord): string[] { return this.local.lowerDirs(rec); }
  shortLowerDirs(rec: ImageRecord): { cwd: string; dirs: string[] } { return this.local.shortLowerDirs(rec); }

  /** A container is gone: if its image was force-deleted meanwhile, free the layers it held. */
  async containerRemoved(container: ContainerRecord): Promise<void> {
    if (this.local.get(container.ImageID)) return;
    await this.local.releaseChain(container.Layers ?? [], this.containers.layersInUse());
  }

  // ---- the requests

  /** POST /images/create?fromImage: Docker's JSON progress messages go to `progress`. */
  async pull(ref: string, opts: { auth?: AuthConfig; platform?: string }, progress: ProgressSink): Promise<ImageRecord> {
    const parsed = parseDockerRef(ref);
    const image = await this.deps.distribution.pull(parsed, opts, this.local.deps(), progress);
    this.events.publish('image', 'pull', familiarString(parsed), { name: familiarString(parsed) });
    return image;
  }

  /** GET /images/json: `all` and the list filters (filters.ts), newest first. */
  list(query: { all?: boolean; filters?: FilterArgs } = {}): ImageListEntry[] {
    const f = parseImageFilters(query.filters ?? NO_FILTERS, (ref) => this.local.resolve(ref));
    const store = this.local.images;
    const shown = selectImages(store.list(), f, { all: !!query.all, hasChildren: (id) => store.children(id).length > 0 });
    return shown.map((record) => ({ record, containers: this.containers.usingImage(record.id).length }));
  }

  /** GET /images/{name}/json. */
  inspect(ref: string): ImageDetails {
    return this.local.details(this.local.resolve(ref));
  }

  /** GET /images/{name}/history, newest first. */
  history(ref: string): ImageHistoryEntry[] {
    return this.local.history(this.local.resolve(ref));
  }

  /** POST /images/{name}/tag. */
  async tag(source: string, repo: string, tag?: string): Promise<void> {
    const img = this.local.resolve(source);
    const target = tag ? `${repo}:${tag}` : repo;
    await this.local.tag(img.id, target);
    this.events.publish('image', 'tag', img.id, { name: familiarString(parseDockerRef(target)) });
  }

  /** DELETE /images/{name}: moby's conflict rules (delete.ts). */
  async remove(ref: string, opts: { force: boolean; noprune: boolean }): Promise<DeleteResponseItem[]> {
    const result = await this.local.remove(ref, opts, (id) => this.containers.usingImage(id), () => this.containers.layersInUse());
    for (const r of result) {
      if ('Untagged' in r) this.events.publish('image', 'untag', r.Untagged, { name: r.Untagged });
      if ('Deleted' in r) this.events.publish('image', 'delete', r.Deleted, {});
    }
    if (result.length === 0) throw new ConflictError(`unable to remove image ${ref}`);
    return result;
  }

  /**
   * POST /images/prune: unused dangling images, or with dangling=false every image no container
   * uses (by each of its tags, so a conflict skips the image as in dockerd); until, label, label!.
   */
  async prune(filters: FilterArgs): Promise<PruneResult> {
    const f = parsePruneFilters(filters, ['dangling', 'until', 'label', 'label!']);
    const layers = this.local.layers;
    const before = new Map(layers.list().map((m) => [m.chainID, layers.size(m.chainID)]));
    const deleted: DeleteResponseItem[] = [];
    for (const img of this.local.list(false)) {
      if (this.containers.usingImage(img.id).length > 0) continue;
      // As dockerd: dangling means no tag (digest references may remain; they go with it).
      const dangling = img.repoTags.length === 0;
      if (f.danglingOnly && !dangling) continue;
      const created = Date.parse(img.config.created ?? '') || img.loaded;
      if (!pruneMatches(f, created, img.config.config?.Labels)) continue;
      const refs = img.repoTags.length + img.repoDigests.length === 0 ? [img.id] : [...img.repoTags, ...img.repoDigests];
      for (const ref of refs) {
        try {
          deleted.push(...await this.remove(ref, { force: false, noprune: false }));
        } catch { /* in use or gone meanwhile: skipped, as dockerd */ }
      }
    }
    let reclaimed = 0;
    for (const [chainID, size] of before) if (!layers.has(chainID)) reclaimed += size;
    this.events.publish('image', 'prune', '', { reclaimed: String(reclaimed) });
    return { ImagesDeleted: deleted, SpaceReclaimed: reclaimed };
  }

  /** POST /commit: the container's changes as a new image; returns its ID. */
  async commit(containerRef: string, opts: CommitRequest): Promise<string> {
    const rec = this.containers.get(containerRef);
    let reference: string | undefined;
    if (opts.repo) {
      const parsed = parseDockerRef(opts.tag ? `${opts.repo}:${opts.tag}` : opts.repo);
      if (parsed.digest) throw new InvalidParameterError('refusing to create a tag with a digest reference');
      reference = familiarString(parsed);
    } else if (opts.tag) {
      throw new InvalidParameterError('tag requires a repository name');
    }
    const parent = this.local.resolve(rec.ImageID);
    // As dockerd: a running container is frozen while its upper dir is read (unless pause=0). A
    // container that exits meanwhile cannot be frozen: as dockerd, the pause failing does not fail
    // the commit; the stopped container's changes are committed.
    const paused = opts.pause !== false && rec.State.Status === 'running'
      && await this.containers.pause(rec.Id).then(() => true, () => false);
    let img: ImageRecord;
    try {
      img = await commitContainer(this.local.deps(), rec, this.containers.upperDir(rec.Id), parent, {
        ...opts, reference, engineVersion: this.deps.engineVersion,
      });
    } catch (e) {
      // Removed meanwhile, its upper dir gone from under the read: a 404, not that ENOENT as a 500
      // (fuzz seed 2144231673).
      if (this.containers.removedOrRemoving(rec.Id)) throw new NotFoundError(`No such container: ${containerRef}`);
      throw e;
    } finally {
      // The commit's own outcome is what the client needs; a container that cannot be thawed
      // (it died meanwhile) shows in its own state.
      if (paused) await this.containers.unpause(rec.Id).catch(() => undefined);
    }
    this.events.publish('container', 'commit', rec.Id, {
      comment: opts.comment ?? '', imageID: img.id, imageRef: reference ?? '', image: rec.Config.Image, name: rec.Name,
    });
    if (reference) this.events.publish('image', 'tag', img.id, { name: reference });
    return img.id;
  }

  /** POST /images/{name}/push: JSON progress to `progress`, Docker's messages. */
  async push(name: string, tag: string | undefined, auth: AuthConfig | undefined, progress: ProgressSink): Promise<void> {
    const pushed = await pushImage(name, tag, { auth, distribution: this.deps.distribution.opts }, this.local.deps(), progress);
    for (const r of pushed) this.events.publish('image', 'push', r, { name: r });
  }

  /** GET /system/df's image part: layer bytes and the images `docker images` shows. */
  diskUsage(): { LayersSize: number; Images: ImageListEntry[] } {
    const images = this.list();
    return { LayersSize: images.reduce((n, e) => n + e.record.size, 0), Images: images };
  }
}
