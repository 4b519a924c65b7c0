/** Views of the system endpoints: /events messages (and /version, /info). */
import type { EngineEvent } from '../../engine/events/bus.js';
import type { HostFacts, SystemConfig, SystemFacts } from '../../engine/system.js';
import type { EventMessage, SystemInfo, VersionResponse } from '../../wire/types.js';
import { compareVersions } from '../version.js';

/** One /events message; up to API 1.51 container events also carry the old status/id/from fields. */
export function eventMessage(e: EngineEvent, version: string): EventMessage {
  if (e.Type === 'container' && compareVersions(version, '1.51') <= 0) {
    return { status: e.Action, id: e.Actor.ID, from: e.Actor.Attributes.image, ...e };
  }
  return e;
}

/** Go's name for the architecture (GOARCH). */
function goArch(arch: string): string {
  return arch === 'x64' ? 'amd64' : arch;
}

/** GET /version. */
export function versionView({ config: c, host }: { config: SystemConfig; host: HostFacts }): VersionResponse {
  const arch = goArch(host.arch);
  return {
    Platform: { Name: 'Berth Engine' },
    Components: [{
      Name: 'Engine', Version: c.engineVersion,
      Details: { ApiVersion: c.apiVersion, MinAPIVersion: c.minApiVersion, Arch: arch, Os: 'linux', KernelVersion: host.kernelVersion, GitCommit: 'berth', GoVersion: host.nodeVersion, BuildTime: '', Experimental: 'false' },
    }],
    Version: c.engineVersion,
    ApiVersion: c.apiVersion,
    MinAPIVersion: c.minApiVersion,
    GitCommit: 'berth',
    GoVersion: `node ${host.nodeVersion}`,
    Os: 'linux',
    Arch: arch,
    KernelVersion: host.kernelVersion,
    BuildTime: '',
  };
}

/** GET /info: only what is enforced is advertised. */
export function infoView(f: SystemFacts): SystemInfo {
  const { host, cgroups: cg } = f;
  return {
    ID: f.id,
    Containers: f.containers.total,
    ContainersRunning: f.containers.running,
    ContainersPaused: f.containers.paused,
    ContainersStopped: f.containers.stopped,
    Images: f.images,
    Driver: 'overlay2',
    DriverStatus: [['Backing Filesystem', 'overlayfs snapshots'], ['Supports d_type', 'true']],
    Plugins: { Volume: [], Network: ['bridge', 'host', 'null'], Authorization: null, Log: ['json-file'] },
    // what the host's cgroups enforce (engine/runtime/resources.ts); kernel memory is refused
    MemoryLimit: cg.memoryLimit, SwapLimit: cg.swapLimit, KernelMemory: false, KernelMemoryTCP: false,
    CpuCfsPeriod: cg.cpuCfs, CpuCfsQuota: cg.cpuCfs, CPUShares: cg.cpuShares, CPUSet: cg.cpuset, PidsLimit: cg.pidsLimit,
    IPv4Forwarding: true, BridgeNfIptables: false, BridgeNfIp6tables: false,
    Debug: false, NFd: 0, OomKillDisable: cg.oomKillDisable, NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    // Our own record store, reported as json-file: clients (docker-py's run) read logs only from
    // drivers they know, and ours answers /logs exactly as json-file does.
    LoggingDriver: 'json-file',
    CgroupDriver: 'cgroupfs',
    CgroupVersion: cg.version,
    NEventsListener: 0,
    KernelVersion: host.kernelVersion,
    OperatingSystem: host.operatingSystem,
    OSVersion: host.osVersion,
    OSType: 'linux',
    Architecture: host.arch === 'x64' ? 'x86_64' : host.arch,
    IndexServerAddress: f.indexServerAddress,
    RegistryConfig: {
      AllowNondistributableArtifactsCIDRs: null, AllowNondistributableArtifactsHostnames: null,
      InsecureRegistryCIDRs: ['127.0.0.0/8'], IndexConfigs: {}, Mirrors: f.config.registryMirrors,
    },
    NCPU: host.ncpu,
    MemTotal: host.memTotal,
    GenericResources: null,
    DockerRootDir: f.config.dataRoot,
    HttpProxy: host.proxy.http, HttpsProxy: host.proxy.https, NoProxy: host.proxy.no,
    Name: host.hostname,
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: f.config.engineVersion,
    Runtimes: { crun: { path: '/usr/bin/crun' }, runc: { path: '/usr/bin/runc' } },
    DefaultRuntime: 'crun',
    Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
    LiveRestoreEnabled: true,
    Isolation: '',
    InitBinary: 'docker-init',
    ContainerdCommit: { ID: '' }, RuncCommit: { ID: '' }, InitCommit: { ID: '' },
    // the default seccomp profile is on for every container (engine/runtime/seccomp.ts)
    SecurityOptions: ['name=seccomp,profile=default'],
    Warnings: f.bridgeNetworking ? [] : ['WARNING: no bridge networking: containers get a private network namespace with loopback only'],
  };
}
