import { cpus, hostname, release, totalmem } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ContainerService } from './containers/service.js';
import { ExecService } from './exec/service.js';
import { specForContainer } from './containers/spec.js';
import { EventBus } from './events/bus.js';
import { ConflictError, InvalidParameterError } from './errors.js';
import { parsePruneFilters, pruneMatches } from './prune.js';
import { ImageService } from './images/service.js';
import { familiarString, parseDockerRef, truncateId } from '../wire/reference.js';
import type { AuthConfig, ImageRecord, ProgressSink } from './images/types.js';
import { Distribution } from './distribution/index.js';
import { commitContainer, type CommitOptions } from './images/commit.js';
import { pushImage } from './distribution/push.js';
import { createRuntime } from './runtime/index.js';
import type { RuntimeApi } from './runtime/types.js';
import type { ContainerRecord } from './containers/types.js';
import { NetworkManager, type NetworkConfig } from './network/manager.js';
import { VolumeService } from './volumes/service.js';
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
  private readonly id: string;

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
        all: () => this.containers.list(),
        isRunning: (id) => {
          const rec = this.containers.store.find(id);
          return rec !== undefined && this.containers.isRunning(rec);
        },
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
    this.id = engineId(root);
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
    try {
      const img = this.images.resolve(rec.Config.Image);
      if (img.id === rec.ImageID) return rec.Config.Image;
    } catch { /* the name no longer resolves */ }
    return truncateId(rec.ImageID);
  }

  // ---- system ----

  version() {
    const c = this.config;
    return {
      Platform: { Name: 'Berth Engine' },
      Components: [{
        Name: 'Engine', Version: c.engineVersion,
        Details: { ApiVersion: c.apiVersion, MinAPIVersion: c.minApiVersion, Arch: goArch(), Os: 'linux', KernelVersion: release(), GitCommit: 'berth', GoVersion: process.version, BuildTime: '', Experimental: 'false' },
      }],
      Version: c.engineVersion,
      ApiVersion: c.apiVersion,
      MinAPIVersion: c.minApiVersion,
      GitCommit: 'berth',
      GoVersion: `node ${process.version}`,
      Os: 'linux',
      Arch: goArch(),
      KernelVersion: release(),
      BuildTime: '',
    };
  }

  async info() {
    const all = this.containers.list();
    const running = all.filter((c) => c.State.Status === 'running').length;
    const paused = all.filter((c) => c.State.Status === 'paused').length;
    return {
      ID: this.id,
      Containers: all.length,
      ContainersRunning: running,
      ContainersPaused: paused,
      ContainersStopped: all.length - running - paused,
      Images: this.images.list().length,
      Driver: 'overlay2',
      DriverStatus: [['Backing Filesystem', 'overlayfs snapshots'], ['Supports d_type', 'true']],
      Plugins: { Volume: [], Network: ['bridge', 'host', 'null'], Authorization: null, Log: ['json-file'] },
      MemoryLimit: true, SwapLimit: false, KernelMemory: false, KernelMemoryTCP: false,
      CpuCfsPeriod: true, CpuCfsQuota: true, CPUShares: true, CPUSet: true, PidsLimit: true,
      IPv4Forwarding: true, BridgeNfIptables: false, BridgeNfIp6tables: false,
      Debug: false, NFd: 0, OomKillDisable: true, NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      // Our own record store, reported as json-file: clients (docker-py's run) read logs only from
      // drivers they know, and ours answers /logs exactly as json-file does.
      LoggingDriver: 'json-file',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: '1',
      NEventsListener: 0,
      KernelVersion: release(),
      OperatingSystem: osName(),
      OSVersion: osVersion(),
      OSType: 'linux',
      Architecture: process.arch === 'x64' ? 'x86_64' : process.arch,
      IndexServerAddress: this.distribution.indexServerAddress,
      RegistryConfig: {
        AllowNondistributableArtifactsCIDRs: null, AllowNondistributableArtifactsHostnames: null,
        InsecureRegistryCIDRs: ['127.0.0.0/8'], IndexConfigs: {}, Mirrors: this.config.registryMirrors,
      },
      NCPU: cpus().length,
      MemTotal: totalmem(),
      GenericResources: null,
      DockerRootDir: this.config.dataRoot,
      HttpProxy: process.env.HTTP_PROXY ?? '', HttpsProxy: process.env.HTTPS_PROXY ?? '', NoProxy: process.env.NO_PROXY ?? '',
      Name: hostname(),
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: this.config.engineVersion,
      Runtimes: { crun: { path: '/usr/bin/crun' }, runc: { path: '/usr/bin/runc' } },
      DefaultRuntime: 'crun',
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: true,
      Isolation: '',
      InitBinary: '',
      ContainerdCommit: { ID: '' }, RuncCommit: { ID: '' }, InitCommit: { ID: '' },
      SecurityOptions: [],
      Warnings: this.network ? [] : ['WARNING: no bridge networking: containers get a private network namespace with loopback only'],
    };
  }

  /** Images and layer bytes for GET /system/df; the API adds the container rows. */
  diskUsage(apiVersion?: string) {
    return {
      LayersSize: this.images.list().reduce((n, i) => n + i.size, 0),
      Images: this.listImages({ all: false, apiVersion }),
    };
  }
}

function goArch(): string {
  return process.arch === 'x64' ? 'amd64' : process.arch;
}

function osRelease(): Record<string, string> {
  try {
    const out: Record<string, string> = {};
    for (const line of readFileSync('/etc/os-release', 'utf8').split('\n')) {
      const m = /^(\w+)=("?)(.*)\2$/.exec(line);
      if (m) out[m[1]] = m[3];
    }
    return out;
  } catch {
    return {};
  }
}

function osName(): string { return osRelease().PRETTY_NAME ?? 'Linux'; }
function osVersion(): string { return osRelease().VERSION_ID ?? ''; }

/** A stable daemon ID kept in the data root. */
function engineId(root: string): string {
  const file = join(root, 'engine-id');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    const id = randomUUID();
    try {
      writeFileSync(file, id);
    } catch { /* read-only root: a fresh id each start */ }
    return id;
  }
}
