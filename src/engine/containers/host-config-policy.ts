/**
 * Every field of a create body's Config and HostConfig (Engine API v1.50) and what Berth does with
 * it: `honoured` (applied as dockerd applies it) or `refused` (a non-default value is a 400 naming
 * the field). Zero values are always fine: clients send many fields with them (`"Memory":0`,
 * `"Dns":[]`, `"MemorySwappiness":-1`, `"LogConfig":{"Type":"","Config":{}}` …). Fields not in the
 * API are ignored, as dockerd's JSON decoder ignores them.
 *
 * One line per field, so that whoever implements a refused field flips its line in the same commit.
 */
import { InvalidParameterError } from '../errors.js';

export type FieldStatus = 'honoured' | 'refused';

export interface FieldPolicy {
  readonly status: FieldStatus;
  /** the docker CLI flag that sets it, for the message and docs/COMPAT.md */
  readonly flag?: string;
}

const H = (flag?: string): FieldPolicy => ({ status: 'honoured', ...(flag ? { flag } : {}) });
const R = (flag?: string): FieldPolicy => ({ status: 'refused', ...(flag ? { flag } : {}) });

/** Config (the top level of the create body). */
export const CONFIG_FIELDS: Readonly<Record<string, FieldPolicy>> = {
  Hostname: H('--hostname'),
  Domainname: H('--domainname'),
  User: H('--user'),
  AttachStdin: H('--attach'),
  AttachStdout: H('--attach'),
  AttachStderr: H('--attach'),
  ExposedPorts: H('--expose'),
  Tty: H('--tty'),
  OpenStdin: H('--interactive'),
  StdinOnce: H(),
  Env: H('--env'),
  Cmd: H(),
  Healthcheck: H('--health-cmd'),
  ArgsEscaped: H(), // Windows only; dockerd on Linux ignores it too
  Image: H(),
  Volumes: H('--volume'),
  WorkingDir: H('--workdir'),
  Entrypoint: H('--entrypoint'),
  NetworkDisabled: R(),
  MacAddress: H('--mac-address'),
  OnBuild: H(), // kept in the record, used by commit, as dockerd
  Labels: H('--label'),
  StopSignal: H('--stop-signal'),
  StopTimeout: H('--stop-timeout'),
  Shell: H(), // used by builders only, as dockerd
};

/** HostConfig, apart from the resource limits below. */
export const HOST_CONFIG_FIELDS: Readonly<Record<string, FieldPolicy>> = {
  Binds: H('--volume'),
  ContainerIDFile: H('--cidfile'), // written by the client, ignored by dockerd too
  LogConfig: H('--log-driver'), // json-file, local (one store behind both), none; log-config.ts refuses the rest
  NetworkMode: H('--network'),
  PortBindings: H('--publish'),
  RestartPolicy: H('--restart'),
  AutoRemove: H('--rm'),
  VolumeDriver: R('--volume-driver'),
  VolumesFrom: H('--volumes-from'),
  Mounts: H('--mount'),
  ConsoleSize: H(),
  Annotations: H('--annotation'),
  CapAdd: H('--cap-add'),
  CapDrop: H('--cap-drop'),
  CgroupnsMode: H('--cgroupns'),
  Dns: H('--dns'),
  DnsOptions: H('--dns-option'),
  DnsSearch: H('--dns-search'),
  ExtraHosts: H('--add-host'),
  GroupAdd: H('--group-add'),
  IpcMode: H('--ipc'),
  Cgroup: R(),
  Links: H('--link'),
  OomScoreAdj: H('--oom-score-adj'),
  PidMode: H('--pid'),
  Privileged: H('--privileged'),
  PublishAllPorts: H('--publish-all'),
  ReadonlyRootfs: H('--read-only'),
  SecurityOpt: H('--security-opt'),
  StorageOpt: R('--storage-opt'),
  Tmpfs: H('--tmpfs'),
  UTSMode: H('--uts'),
  UsernsMode: R('--userns'), // "host" is the default: no daemon-wide remapping here
  ShmSize: H('--shm-size'),
  Sysctls: H('--sysctl'),
  Runtime: H('--runtime'),
  Isolation: R('--isolation'), // "default" only, as dockerd on Linux
  MaskedPaths: H('--security-opt systempaths=unconfined'),
  ReadonlyPaths: H('--security-opt systempaths=unconfined'),
  Init: H('--init'),
  HealthOnFailure: H('--health-on-failure'), // Berth's own (Docker has no such option)
  // Resources not in the group below
  CgroupParent: R('--cgroup-parent'),
  BlkioWeightDevice: R('--blkio-weight-device'),
  BlkioDeviceReadBps: R('--device-read-bps'),
  BlkioDeviceWriteBps: R('--device-write-bps'),
  BlkioDeviceReadIOps: R('--device-read-iops'),
  BlkioDeviceWriteIOps: R('--device-write-iops'),
  CpuRealtimePeriod: R('--cpu-rt-period'),
  CpuRealtimeRuntime: R('--cpu-rt-runtime'),
  Devices: H('--device'),
  DeviceCgroupRules: H('--device-cgroup-rule'),
  DeviceRequests: R('--gpus'),
  KernelMemory: R('--kernel-memory'),
  KernelMemoryTCP: R(),
  MemorySwappiness: H('--memory-swappiness'),
  Ulimits: H('--ulimit'),
  CpuCount: R('--cpu-count'),
  CpuPercent: H('--cpu-percent'),
  IOMaximumIOps: H('--io-maxiops'),
  IOMaximumBandwidth: H('--io-maxbandwidth'),
};

/** The resource limits runtime/resources.ts applies (and checks, with dockerd's messages and warnings). */
export const RESOURCE_FIELDS: Readonly<Record<string, FieldPolicy>> = {
  Memory: H('--memory'),
  MemorySwap: H('--memory-swap'),
  MemoryReservation: H('--memory-reservation'),
  OomKillDisable: H('--oom-kill-disable'),
  NanoCpus: H('--cpus'),
  CpuShares: H('--cpu-shares'),
  CpuQuota: H('--cpu-quota'),
  CpuPeriod: H('--cpu-period'),
  CpusetCpus: H('--cpuset-cpus'),
  CpusetMems: H('--cpuset-mems'),
  PidsLimit: H('--pids-limit'),
  BlkioWeight: H('--blkio-weight'),
};

/** Values that mean "not set" beyond the JSON zero values. */
const DEFAULT_VALUES: Readonly<Record<string, readonly unknown[]>> = {
  MemorySwappiness: [-1],
  MemorySwap: [-1],
  PidsLimit: [-1],
  UsernsMode: ['host'],
  Isolation: ['default'],
  VolumeDriver: ['local'],
};

/** JSON zero value: null, false, 0, "", [], {}, or an object of zero values ([0,0], {Type:"",Config:{}}). */
export function isZeroValue(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return true;
  if (Array.isArray(v)) return v.every(isZeroValue);
  if (typeof v === 'object') return Object.values(v as object).every(isZeroValue);
  return false;
}

function isDefault(section: 'Config' | 'HostConfig', field: string, v: unknown): boolean {
  if (isZeroValue(v)) return true;
  return section === 'HostConfig' && DEFAULT_VALUES[field]?.includes(v) === true;
}

export function hostConfigPolicy(): Record<string, FieldPolicy> {
  return { ...HOST_CONFIG_FIELDS, ...RESOURCE_FIELDS };
}

export function notSupported(section: string, field: string, flag?: string): InvalidParameterError {
  return new InvalidParameterError(`not supported by Berth: ${section}.${field}${flag ? ` (${flag})` : ''}`);
}

/**
 * Refuse every refused field that carries a non-default value, naming it. The honoured fields'
 * values are checked where they are applied (create.ts, host-options.ts, log-config.ts, health.ts…).
 */
export function checkCreatePolicy(body: Record<string, unknown>): void {
  for (const [field, p] of Object.entries(CONFIG_FIELDS)) {
    if (p.status === 'refused' && !isDefault('Config', field, body[field])) throw notSupported('Config', field, p.flag);
  }
  const hc = body.HostConfig;
  if (!hc || typeof hc !== 'object') return;
  checkHostConfigPolicy(hc as Record<string, unknown>);
}

/** The HostConfig part (also what POST /containers/{id}/update will check). */
export function checkHostConfigPolicy(hc: Record<string, unknown>): void {
  for (const [field, p] of Object.entries(hostConfigPolicy())) {
    if (p.status === 'refused' && !isDefault('HostConfig', field, hc[field])) throw notSupported('HostConfig', field, p.flag);
  }
}
