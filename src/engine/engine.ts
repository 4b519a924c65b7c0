import { cpus, hostname, release, totalmem } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ContainerService } from './containers/service.js';
import { ExecService } from './exec/service.js';
import { specForContainer } from './containers/spec.js';
import { EventBus } from './events/bus.js';
import { ImageService } from './images/service.js';
import type { ImageListEntry } from './images/types.js';
import { Distribution } from './distribution/index.js';
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
    this.runtime = config.runtime ?? createRuntime();
    this.distribution = new Distribution({ mirrors: config.registryMirrors, insecure: config.insecureRegistries });
    // The image service sees containers only through this interface (images/service.ts).
    this.images = new ImageService(root, {
      distribution: this.distribution,
      events: this.events,
      engineVersion: config.engineVersion,
      containers: {
        usingImage: (id) => this.containers.usingImage(id).map((c) => ({ id: c.Id, running: this.containers.isRunning(c) })),
        layersInUse: () => new Set(this.containers.list().flatMap((c) => c.Layers ?? [])),
        get: (ref) => this.containers.get(ref),
        upperDir: (id) => join(this.containers.dir(id), 'upper'),
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
      buildSpec: specForContainer,
      network: () => this.network,
      // A container of a force-deleted image held its layers; free them when it goes.
      onRemoved: (rec) => this.images.containerRemoved(rec),
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

  /** The IMAGE column of `ps` (container routes render it). */
  imageDisplayName(rec: ContainerRecord): string {
    return this.images.displayName(rec);
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
      Images: this.images.records().length,
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

  /** Images and layer bytes for GET /system/df; the API renders the images and adds the container rows. */
  diskUsage(): { LayersSize: number; Images: ImageListEntry[] } {
    return this.images.diskUsage();
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
