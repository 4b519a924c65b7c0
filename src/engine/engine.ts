import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ContainerService } from './containers/service.js';
import { ExecService } from './exec/service.js';
import { specForContainer } from './containers/spec.js';
import { EventBus } from './events/bus.js';
import { ConflictError, InvalidParameterError } from './errors.js';
import { parsePruneFilters, pruneMatches } from './prune.js';
import { ImageService } from './images/service.js';
import { familiarString, parseDockerRef } from '../wire/reference.js';
import type { AuthConfig, ImageRecord, ProgressSink } from './images/types.js';
import { Distribution } from './distribution/index.js';
import { commitContainer, type CommitOptions } from './images/commit.js';
import { pushImage } from './distribution/push.js';
import { createRuntime } from './runtime/index.js';
import type { RuntimeApi } from './runtime/types.js';
import type { ContainerRecord } from './containers/types.js';
import { NetworkManager, type NetworkConfig } from './network/manager.js';
import { VolumeService } from './volumes/service.js';
import { SystemService } from './system.js';
import { ContainerMounts } from './volumes/mounts.js';

export interface EngineConfig {
  dataRoot: string;
  registryMirrors: string[];
  insecureRegistries: string[];
  /** Version strings reported by /version and /info. */
  engineVersion: string;
  apiVersion: string;
  minApiVersion: string;
  /** Where the daemon's own identity is kept (ID in /info). */
  runtime?: RuntimeApi;
  /** Bridge networking; without it containers get a loopback-only namespace (tests of other parts). */
  network?: NetworkConfig;
}

/**
 * The engine: the services behind the API, wired together for one data root.
 * No HTTP in here; the API layer calls these methods and shapes their results.
 */
export class Engine {
  readonly events: EventBus;
  readonly images: ImageService;
  readonly containers: ContainerService;
  readonly exec: ExecService;
  readonly distribution: Distribution;
  readonly runtime: RuntimeApi;
  network?: NetworkManager;
  readonly volumes: VolumeService;
  readonly system: SystemService;

  private constructor(readonly config: EngineConfig) {
    const root = config.dataRoot;
    this.events = new EventBus(join(root, 'events', 'events.jsonl'));
    this.images = new ImageService(root);
    this.runtime = config.runtime ?? createRuntime();
    this.distribution = new Distribution({ mirrors: config.registryMirrors, insecure: config.insecureRegistries });
    this.containers = new ContainerService({
      root: join(root, 'containers'),
      images: {
        resolve: (ref) => this.images.resolve(ref),
        lowerDirs: (img) => this.images.lowerDirs(img),
      },
      runtime: this.runtime,
      events: this.events,
      buildSpec: specForContainer,
      network: () => this.network,
      execIds: (id) => this.exec.idsFor(id),
      // A container of a force-deleted image held its layers; free them when it goes.
      onRemoved: async (rec) => {
        if (!this.images.get(rec.ImageID)) await this.images.releaseChain(rec.Layers ?? [], this.containerLayers());
      },
    });
    this.volumes = new VolumeService(join(root, 'volumes'), this.events);
    this.containers.mounts = new ContainerMounts(this.volumes, {
      get: (ref) => this.containers.get(ref),
      list: () => this.containers.list(),
      isRunning: (rec) => this.containers.isRunning(rec),
    });
    if (config.network) {
      this.network = new NetworkManager(join(root, 'network'), config.network, {
        get: (ref) => this.containers.get(ref),
        find: (id) => this.containers.store.find(id),
        all: () => this.containers.list(),
        save: (rec) => this.containers.store.save(rec),
        isRunning: (rec) => this.containers.isRunning(rec),
        dir: (id) => this.containers.dir(id),
      });
    }
    this.exec = new ExecService({
      containers: {
        get: (ref) => this.containers.get(ref),
        find: (id) => this.containers.store.find(id),
        dir: (id) => this.containers.dir(id),
        isRunning: (rec) => this.containers.isRunning(rec),
      },
      runtime: this.runtime,
      events: this.events,
    });
    this.system = new SystemService(config, {
      containers: () => this.containers.list(),
      imageCount: () => this.images.list().length,
      indexServerAddress: this.distribution.indexServerAddress,
      bridgeNetworking: () => !!this.network,
    });
  }

  static async open(config: EngineConfig): Promise<Engine> {
    await mkdir(config.dataRoot, { recursive: true, mode: 0o711 });
    const engine = new Engine(config);
    await engine.images.init();
    await engine.volumes.init();
    await engine.containers.init();
    return engine;
  }

  async close(): Promise<void> {
    this.containers.detachAll();
    this.network?.close();
    this.exec.detachAll();
    await this.events.flush();
  }

  // ---- images, with the container checks that span both services ----

  async pull(ref: string, opts: { auth?: AuthConfig; platform?: string }, progress: ProgressSink): Promise<ImageRecord> {
    const parsed = parseDockerRef(ref);
    const image = await this.distribution.pull(parsed, opts, this.images.deps(), progress);
    this.events.publish('image', 'pull', familiarString(parsed), { name: familiarString(parsed) });
    return image;
  }

  listImages(opts: { all: boolean; apiVersion?: string }) {
    return this.images.list(opts.all).map((img) => this.images.toSummary(img, {
      apiVersion: opts.apiVersion, containers: this.containers.usingImage(img.id).length,
    }));
  }

  inspectImage(ref: string, apiVersion?: string) {
    return this.images.toInspect(this.images.resolve(ref), { apiVersion });
  }

  imageHistory(ref: string) {
    return this.images.history(this.images.resolve(ref));
  }

  async tagImage(source: string, repo: string, tag?: string): Promise<void> {
    const img = this.images.resolve(source);
    const target = tag ? `${repo}:${tag}` : repo;
    await this.images.tag(img.id, target);
    this.events.publish('image', 'tag', img.id, { name: familiarString(parseDockerRef(target)) });
  }

  async removeImage(ref: string, opts: { force: boolean; noprune: boolean }) {
    const result = await this.images.remove(ref, opts, (imageId) => this.containers.usingImage(imageId).map((c) => ({
      id: c.Id, running: this.containers.isRunning(c),
    })), () => this.containerLayers());
    for (const r of result) {
      if ('Untagged' in r) this.events.publish('image', 'untag', String(r.Untagged), { name: String(r.Untagged) });
      if ('Deleted' in r) this.events.publish('image', 'delete', String(r.Deleted), {});
    }
    if (result.length === 0) throw new ConflictError(`unable to remove image ${ref}`);
    return result;
  }

  /**
   * POST /images/prune: unused dangling images, or with dangling=false every image no container
   * uses (by each of its tags, so a conflict skips the image as in dockerd); until, label, label!.
   */
  async pruneImages(filters: Map<string, string[]>): Promise<{ ImagesDeleted: Array<{ Untagged?: string; Deleted?: string }>; SpaceReclaimed: number }> {
    const f = parsePruneFilters(filters, ['dangling', 'until', 'label', 'label!']);
    const layers = this.images.layers;
    const before = new Map(this.images.layers.list().map((m) => [m.chainID, layers.size(m.chainID)]));
    const used = new Set(this.containers.list().map((c) => c.ImageID));
    const deleted: Array<{ Untagged?: string; Deleted?: string }> = [];
    for (const img of this.images.list(false)) {
      if (used.has(img.id)) continue;
      // As dockerd: dangling means no tag (digest references may remain; they go with it).
      const dangling = img.repoTags.length === 0;
      if (f.danglingOnly && !dangling) continue;
      const created = Date.parse(img.config.created ?? '') || img.loaded;
      if (!pruneMatches(f, created, img.config.config?.Labels)) continue;
      const refs = img.repoTags.length + img.repoDigests.length === 0 ? [img.id] : [...img.repoTags, ...img.repoDigests];
      for (const ref of refs) {
        try {
          deleted.push(...await this.removeImage(ref, { force: false, noprune: false }));
        } catch { /* in use or gone meanwhile: skipped, as dockerd */ }
      }
    }
    let reclaimed = 0;
    for (const [chainID, size] of before) if (!layers.has(chainID)) reclaimed += size;
    this.events.publish('image', 'prune', '', { reclaimed: String(reclaimed) });
    return { ImagesDeleted: deleted, SpaceReclaimed: reclaimed };
  }

  /** docker commit: the container's changes as a new image; returns its ID. */
  async commit(containerRef: string, opts: Omit<CommitOptions, 'reference' | 'engineVersion'> & { repo?: string; tag?: string; pause?: boolean }): Promise<string> {
    const rec = this.containers.get(containerRef);
    let reference: string | undefined;
    if (opts.repo) {
      const parsed = parseDockerRef(opts.tag ? `${opts.repo}:${opts.tag}` : opts.repo);
      if (parsed.digest) throw new InvalidParameterError('refusing to create a tag with a digest reference');
      reference = familiarString(parsed);
    } else if (opts.tag) {
      throw new InvalidParameterError('tag requires a repository name');
    }
    const parent = this.images.resolve(rec.ImageID);
    // As dockerd: a running container is frozen while its upper dir is read (unless pause=0).
    const paused = opts.pause !== false && rec.State.Status === 'running';
    if (paused) await this.containers.pause(rec.Id);
    let img: ImageRecord;
    try {
      img = await commitContainer(this.images.deps(), rec, join(this.containers.dir(rec.Id), 'upper'), parent, {
        ...opts, reference, engineVersion: this.config.engineVersion,
      });
    } finally {
      if (paused) await this.containers.unpause(rec.Id).catch(() => undefined);
    }
    this.events.publish('container', 'commit', rec.Id, {
      comment: opts.comment ?? '', imageID: img.id, imageRef: reference ?? '', image: rec.Config.Image, name: rec.Name,
    });
    if (reference) this.events.publish('image', 'tag', img.id, { name: reference });
    return img.id;
  }

  /** docker push: JSON progress to `progress`, Docker's messages. */
  async push(name: string, tag: string | undefined, auth: AuthConfig | undefined, progress: ProgressSink): Promise<void> {
    const pushed = await pushImage(name, tag, { auth, distribution: this.distribution.opts }, this.images.deps(), progress);
    for (const r of pushed) this.events.publish('image', 'push', r, { name: r });
  }

  /** Chain IDs the containers' root filesystems stand on. */
  private containerLayers(): Set<string> {
    const inUse = new Set<string>();
    for (const c of this.containers.list()) for (const l of c.Layers ?? []) inUse.add(l);
    return inUse;
  }

  /** The IMAGE column of `ps`: what the user asked for, or the short ID once that name moved on. */
  imageDisplayName(rec: ContainerRecord): string {
    return this.containers.imageName(rec);
  }

  /** Images and layer bytes for GET /system/df; the API adds the container rows. */
  diskUsage(apiVersion?: string) {
    return {
      LayersSize: this.images.list().reduce((n, i) => n + i.size, 0),
      Images: this.listImages({ all: false, apiVersion }),
    };
  }
}
