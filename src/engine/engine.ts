import { join } from 'node:path';
import { prepareDataRoot } from './data-root.js';
import { ContainerService } from './containers/service.js';
import { ExecService } from './exec/service.js';
import { specForContainer } from './containers/spec.js';
import { EventBus } from './events/bus.js';
import { ImageService } from './images/service.js';
import type { ImageListEntry } from './images/types.js';
import { Distribution } from './distribution/index.js';
import { createRuntime } from './runtime/index.js';
import type { RuntimeApi } from './runtime/types.js';
import { NetworkManager, type NetworkConfig } from './network/manager.js';
import type { NetworkRecord } from './network/types.js';
import { VolumeService } from './volumes/service.js';
import type { VolumeUsage } from './volumes/types.js';
import { containerEventAttributes, type ContainerRecord } from './containers/types.js';
import { ContainerMounts, usesVolume } from './volumes/mounts.js';
import { VolumeArchive } from './volumes/archive.js';
import { ContainerArchive } from './containers/archive/service.js';
import { SystemService } from './system.js';
import { HealthMonitor, runProbe } from './containers/health.js';
import { SystemCheck } from './system-check/index.js';
import { chainNames } from './network/chains.js';
import { Builder } from './build/builder.js';

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
  /** max-image-load-size in bytes (images/transfer). */
  maxImageLoadSize?: number;
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
  readonly health: HealthMonitor;
  /** `berth system check [--repair]` (system-check/). */
  readonly check: SystemCheck;
  /** docker cp, diff, export (containers/archive/). */
  readonly archive: ContainerArchive;
  /** Berth's volume export/import (volumes/archive.ts). */
  readonly volumeArchive: VolumeArchive;
  /** POST /build (build/). */
  readonly builder: Builder;

  private constructor(readonly config: EngineConfig) {
    const root = config.dataRoot;
    this.events = new EventBus(join(root, 'events', 'events.jsonl'));
    this.runtime = config.runtime ?? createRuntime();
    this.distribution = new Distribution({ mirrors: config.registryMirrors, insecure: config.insecureRegistries });
    // The image service sees containers only through this interface (images/service.ts).
    this.images = new ImageService(root, {
      distribution: this.distribution,
      events: this.events,
      engineVersion: config.engineVersion,
      maxImageLoadSize: config.maxImageLoadSize,
      containers: {
        usingImage: (id) => this.containers.usingImage(id).map((c) => ({ id: c.Id, running: this.containers.isRunning(c) })),
        layersInUse: () => new Set(this.containers.list().flatMap((c) => c.Layers ?? [])),
        get: (ref) => this.containers.get(ref),
        upperDir: (id) => join(this.containers.dir(id), 'upper'),
        removedOrRemoving: (id) => this.containers.removedOrRemoving(id),
        pause: (id) => this.containers.pause(id),
        unpause: (id) => this.containers.unpause(id),
      },
    });
    this.containers = new ContainerService({
      root: join(root, 'containers'),
      images: {
        resolve: (ref) => this.images.resolve(ref),
        lowerDirs: (img) => this.images.lowerDirs(img),
      },
      runtime: this.runtime,
      events: this.events,
      buildSpec: (rec, paths) => specForContainer(rec, paths, (ref) => this.containers.get(ref)),
      network: () => this.network,
      execIds: (id) => this.exec.idsFor(id),
      // A container of a force-deleted image held its layers; free them when it goes.
      onRemoved: (rec) => this.images.containerRemoved(rec),
    });
    this.volumes = new VolumeService(join(root, 'volumes'), this.events);
    this.archive = new ContainerArchive(this.containers, this.events);
    this.volumeArchive = new VolumeArchive(this.volumes, (name) =>
      this.containers.list().filter((c) => this.containers.isRunning(c) && usesVolume(c, name)).map((c) => c.Id));
    this.containers.mounts = new ContainerMounts(this.volumes, {
      get: (ref) => this.containers.get(ref),
      list: () => this.containers.list(),
      isRunning: (rec) => this.containers.isRunning(rec),
    });
    if (config.network) {
      this.network = new NetworkManager(join(root, 'network'), config.network, {
        get: (ref) => this.containers.get(ref),
        all: () => this.containers.list(),
        isRunning: (id) => {
          const rec = this.containers.store.find(id);
          return rec !== undefined && this.containers.isRunning(rec);
        },
        dir: (id) => this.containers.dir(id),
      }, (action: string, n?: NetworkRecord, containerId?: string) => {
        if (!n) this.events.publish('network', action, '', { reclaimed: '0' });
        else this.events.publish('network', action, n.Id, { ...(containerId ? { container: containerId } : {}), name: n.Name, type: n.Driver });
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
    this.containers.health = this.health = new HealthMonitor({
      find: (id) => this.containers.store.find(id),
      save: (rec) => this.containers.store.save(rec),
      publish: (rec, action) => this.events.publish('container', action, rec.Id, containerEventAttributes(rec)),
      probe: (rec, argv, timeoutNs) => runProbe(this.exec, rec.Id, argv, timeoutNs),
      act: async (rec, action) => {
        if (action === 'restart') await this.containers.restart(rec.Id);
        else if (action === 'stop') await this.containers.stop(rec.Id);
        // kill: SIGKILL as the runtime sends it, not `docker kill`, so the restart policy still applies.
        else this.runtime.kill(rec.State.Pid, 'SIGKILL');
      },
    });
    this.system = new SystemService(config, {
      containers: () => this.containers.list(),
      imageCount: () => this.images.records().length,
      indexServerAddress: this.distribution.indexServerAddress,
      bridgeNetworking: () => !!this.network,
    });
    this.check = new SystemCheck({
      root,
      startedAt: Date.now(),
      content: this.images.local.content,
      layers: this.images.local.layers,
      images: () => this.images.local.images.list(),
      removeImage: async (id) => { await this.images.remove(id, { force: true, noprune: false }); },
      containers: () => this.containers.list(),
      isRunning: (rec) => this.containers.isRunning(rec),
      containerDir: (id) => this.containers.dir(id),
      removeContainer: (id) => this.containers.remove(id),
      bridges: () => (this.network?.all() ?? []).map((n) => n.bridge).filter((b): b is string => !!b),
      natChain: () => (config.network ? chainNames(config.network.bridge).nat : undefined),
    });
    this.builder = new Builder({
      dir: join(root, 'build'),
      engineVersion: config.engineVersion,
      images: {
        get: (ref) => this.images.get(ref),
        pull: (ref, progress, platform) => this.images.pull(ref, { platform }, progress),
        lowerDirs: (rec) => this.images.lowerDirs(rec),
        create: (bytes, opts) => this.images.local.create(bytes, opts),
        tag: (id, ref) => this.images.tag(id, ref),
        commitDeps: () => this.images.local.deps(),
      },
      containers: {
        create: async (body) => (await this.containers.create(body as never)).Id,
        attach: (id) => this.containers.attach(id, { stdin: false, stdout: true, stderr: true, logs: false, stream: true }),
        start: (id) => this.containers.start(id),
        wait: (id) => this.containers.wait(id, 'not-running'),
        kill: (id) => this.containers.kill(id),
        remove: (id) => this.containers.remove(id, { force: true, volumes: true }),
        upperDir: (id) => join(this.containers.dir(id), 'upper'),
      },
    });
  }

  static async open(config: EngineConfig): Promise<Engine> {
    await prepareDataRoot(config.dataRoot);
    const engine = new Engine(config);
    await engine.images.init();
    await engine.volumes.init();
    await engine.containers.init();
    await engine.builder.init();
    return engine;
  }

  async close(): Promise<void> {
    this.health.close();
    this.containers.detachAll();
    this.network?.close();
    this.exec.detachAll();
    await this.events.flush();
  }

  /**
   * GET /system/df: the images (with their layer bytes), every container with its sizes and the
   * IMAGE name ps shows, and the volumes with their usage; the API renders them.
   */
  async diskUsage(): Promise<DiskUsage> {
    const images = this.images.diskUsage();
    const containers = await Promise.all(this.containers.list().map(async (record) => ({
      record, imageName: this.containers.imageName(record), sizes: await this.containers.sizes(record),
    })));
    return { ...images, Containers: containers, Volumes: await this.volumes.usage(), BuildCache: this.builder.usage() };
  }

  /** POST /build/prune: the build cache and the step images only it held. */
  pruneBuildCache(filters: Map<string, string[]>, keepStorage: number): Promise<{ CachesDeleted: string[]; SpaceReclaimed: number }> {
    return this.builder.prune(filters, keepStorage, async (id) => {
      const rec = this.images.get(id);
      if (!rec || rec.repoTags.length || this.images.local.images.children(rec.id).length || this.containers.usingImage(rec.id).length) return false;
      await this.images.remove(rec.id, { force: false, noprune: true });
      return true;
    });
  }
}

export interface DiskUsage {
  LayersSize: number;
  Images: ImageListEntry[];
  Containers: Array<{ record: ContainerRecord; imageName: string; sizes: { SizeRw: number; SizeRootFs: number } }>;
  Volumes: VolumeUsage[];
  BuildCache: Array<Record<string, unknown>>;
}
