/**
 * The Go types dockerd decodes request bodies into (api/types in moby), for api/body.ts: the
 * fields Berth reads or stores, with their JSON types. Fields not listed are not checked (Go would
 * check them too, but Berth never reads them).
 */
import { map, slice, struct, type GoType } from './body.js';

const strings = slice('string');
const stringMap = map('string');
/** Go's struct{}: an object, whatever it holds. */
const empty = struct('struct {}', {});

const healthConfig = struct('HealthConfig', {
  Test: strings, Interval: 'int64', Timeout: 'int64', StartPeriod: 'int64', StartInterval: 'int64', Retries: 'int',
});

const configFields: Record<string, GoType> = {
  Hostname: 'string', Domainname: 'string', User: 'string', AttachStdin: 'bool', AttachStdout: 'bool',
  AttachStderr: 'bool', ExposedPorts: map(empty), Tty: 'bool', OpenStdin: 'bool', StdinOnce: 'bool', Env: strings,
  Cmd: 'strslice', Healthcheck: healthConfig, ArgsEscaped: 'bool', Image: 'string', Volumes: map(empty),
  WorkingDir: 'string', Entrypoint: 'strslice', NetworkDisabled: 'bool', MacAddress: 'string', OnBuild: strings,
  Labels: stringMap, StopSignal: 'string', StopTimeout: 'int', Shell: 'strslice',
};

/** container.Config: the commit body, and the top level of the create body. */
export const CONTAINER_CONFIG = struct('Config', configFields);

const throttle = slice(struct('ThrottleDevice', { Path: 'string', Rate: 'uint64' }));

const mount = struct('Mount', {
  Type: 'string', Source: 'string', Target: 'string', ReadOnly: 'bool', Consistency: 'string',
  BindOptions: struct('BindOptions', {
    Propagation: 'string', NonRecursive: 'bool', CreateMountpoint: 'bool', ReadOnlyNonRecursive: 'bool', ReadOnlyForceRecursive: 'bool',
  }),
  VolumeOptions: struct('VolumeOptions', {
    NoCopy: 'bool', Labels: stringMap, Subpath: 'string', DriverConfig: struct('Driver', { Name: 'string', Options: stringMap }),
  }),
  TmpfsOptions: struct('TmpfsOptions', { SizeBytes: 'int64', Mode: 'uint32', Options: slice(strings) }),
  ImageOptions: struct('ImageOptions', { Subpath: 'string' }),
});

export const HOST_CONFIG = struct('HostConfig', {
  Binds: strings, ContainerIDFile: 'string', LogConfig: struct('LogConfig', { Type: 'string', Config: stringMap }),
  NetworkMode: 'string', PortBindings: map(slice(struct('PortBinding', { HostIp: 'string', HostPort: 'string' }))),
  RestartPolicy: struct('RestartPolicy', { Name: 'string', MaximumRetryCount: 'int' }), AutoRemove: 'bool',
  VolumeDriver: 'string', VolumesFrom: strings, ConsoleSize: { array: 'uint', len: 2 }, Annotations: stringMap,
  CapAdd: 'strslice', CapDrop: 'strslice', CgroupnsMode: 'string', Dns: strings, DnsOptions: strings, DnsSearch: strings,
  ExtraHosts: strings, GroupAdd: strings, IpcMode: 'string', Cgroup: 'string', Links: strings, OomScoreAdj: 'int',
  PidMode: 'string', Privileged: 'bool', PublishAllPorts: 'bool', ReadonlyRootfs: 'bool', SecurityOpt: strings,
  StorageOpt: stringMap, Tmpfs: stringMap, UTSMode: 'string', UsernsMode: 'string', ShmSize: 'int64', Sysctls: stringMap,
  Runtime: 'string', Isolation: 'string',
  CpuShares: 'int64', Memory: 'int64', NanoCpus: 'int64', CgroupParent: 'string', BlkioWeight: 'uint16',
  BlkioWeightDevice: slice(struct('WeightDevice', { Path: 'string', Weight: 'uint16' })),
  BlkioDeviceReadBps: throttle, BlkioDeviceWriteBps: throttle, BlkioDeviceReadIOps: throttle, BlkioDeviceWriteIOps: throttle,
  CpuPeriod: 'int64', CpuQuota: 'int64', CpuRealtimePeriod: 'int64', CpuRealtimeRuntime: 'int64', CpusetCpus: 'string',
  CpusetMems: 'string', Devices: slice(struct('DeviceMapping', { PathOnHost: 'string', PathInContainer: 'string', CgroupPermissions: 'string' })),
  DeviceCgroupRules: strings,
  DeviceRequests: slice(struct('DeviceRequest', { Driver: 'string', Count: 'int', DeviceIDs: strings, Capabilities: slice(strings), Options: stringMap })),
  KernelMemory: 'int64', KernelMemoryTCP: 'int64', MemoryReservation: 'int64', MemorySwap: 'int64', MemorySwappiness: 'int64',
  OomKillDisable: 'bool', PidsLimit: 'int64', Ulimits: slice(struct('Ulimit', { Name: 'string', Hard: 'int64', Soft: 'int64' })),
  CpuCount: 'int64', CpuPercent: 'int64', IOMaximumIOps: 'uint64', IOMaximumBandwidth: 'uint64',
  Mounts: slice(mount), MaskedPaths: strings, ReadonlyPaths: strings, Init: 'bool',
});

const endpointSettings = struct('EndpointSettings', {
  IPAMConfig: struct('EndpointIPAMConfig', { IPv4Address: 'string', IPv6Address: 'string', LinkLocalIPs: strings }),
  Links: strings, Aliases: strings, DriverOpts: stringMap, GwPriority: 'int', NetworkID: 'string', EndpointID: 'string',
  Gateway: 'string', IPAddress: 'string', IPPrefixLen: 'int', IPv6Gateway: 'string', GlobalIPv6Address: 'string',
  GlobalIPv6PrefixLen: 'int', MacAddress: 'string', DNSNames: strings,
});

/** POST /containers/create: container.Config with HostConfig and NetworkingConfig beside it. */
export const CONTAINER_CREATE = struct('CreateRequest', {
  ...configFields,
  HostConfig: HOST_CONFIG,
  NetworkingConfig: struct('NetworkingConfig', { EndpointsConfig: map(endpointSettings) }),
});

export const EXEC_CREATE = struct('ExecOptions', {
  User: 'string', Privileged: 'bool', Tty: 'bool', ConsoleSize: { array: 'uint', len: 2 }, AttachStdin: 'bool',
  AttachStderr: 'bool', AttachStdout: 'bool', DetachKeys: 'string', Env: strings, WorkingDir: 'string', Cmd: strings,
});

export const EXEC_START = struct('ExecStartOptions', { Detach: 'bool', Tty: 'bool', ConsoleSize: { array: 'uint', len: 2 } });

export const NETWORK_CREATE = struct('CreateRequest', {
  Name: 'string', Driver: 'string', Scope: 'string', EnableIPv4: 'bool', EnableIPv6: 'bool',
  IPAM: struct('IPAM', {
    Driver: 'string', Options: stringMap,
    Config: slice(struct('IPAMConfig', { Subnet: 'string', IPRange: 'string', Gateway: 'string', AuxiliaryAddresses: stringMap })),
  }),
  Internal: 'bool', Attachable: 'bool', Ingress: 'bool', ConfigOnly: 'bool', ConfigFrom: struct('ConfigReference', { Network: 'string' }),
  Options: stringMap, Labels: stringMap, CheckDuplicate: 'bool',
});

export const NETWORK_CONNECT = struct('NetworkConnect', { Container: 'string', EndpointConfig: endpointSettings });
export const NETWORK_DISCONNECT = struct('NetworkDisconnect', { Container: 'string', Force: 'bool' });

export const VOLUME_CREATE = struct('CreateOptions', { Name: 'string', Driver: 'string', DriverOpts: stringMap, Labels: stringMap });
