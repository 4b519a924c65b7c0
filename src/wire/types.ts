/**
 * The Engine API's JSON shapes, as the daemon sends them and clients read them: declared once,
 * here, below both the client and the engine (the layering test keeps this folder a leaf).
 * Fields the daemon sends but no Berth client reads stay open (`[k: string]: unknown`).
 */


export type Labels = Record<string, string>;

export interface Port {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  Ports: Port[];
  SizeRw?: number;
  SizeRootFs?: number;
  Labels: Labels | null;
  State: string;
  Status: string;
  HostConfig?: { NetworkMode?: string };
  NetworkSettings?: { Networks?: Record<string, unknown> };
  Mounts?: Array<{ Name?: string; Source?: string; Destination?: string; Type?: string }>;
  [k: string]: unknown;
}

export interface ContainerConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, object>;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[];
  Cmd?: string[] | null;
  Image?: string;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  Labels?: Labels;
  StopSignal?: string;
  StopTimeout?: number;
  [k: string]: unknown;
}

export interface HostConfig {
  Binds?: string[] | null;
  NetworkMode?: string;
  PortBindings?: Record<string, Array<{ HostIp: string; HostPort: string }>>;
  RestartPolicy?: { Name: string; MaximumRetryCount?: number };
  AutoRemove?: boolean;
  Privileged?: boolean;
  ConsoleSize?: [number, number];
  [k: string]: unknown;
}

export interface ContainerCreateBody extends ContainerConfig {
  HostConfig?: HostConfig;
  NetworkingConfig?: { EndpointsConfig?: Record<string, unknown> };
}

export interface ContainerCreateResponse {
  Id: string;
  Warnings: string[] | null;
}

export interface ContainerState {
  Status: string;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
}

export interface ContainerInspect {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerState;
  Image: string;
  Name: string;
  RestartCount: number;
  Config: ContainerConfig;
  HostConfig: HostConfig;
  NetworkSettings: Record<string, unknown>;
  Mounts: unknown[];
  [k: string]: unknown;
}

export interface ImageHistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Created: number;
  Size: number;
  SharedSize: number;
  VirtualSize?: number;
  Labels: Labels | null;
  Containers: number;
  [k: string]: unknown;
}

export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  /** null from API 1.50 for an image without a config. */
  Config: ContainerConfig | null;
  Architecture: string;
  Os: string;
  Size: number;
  RootFS: { Type: string; Layers?: string[] };
  [k: string]: unknown;
}

export interface ImageDeleteItem {
  Untagged?: string;
  Deleted?: string;
}

export interface WaitResponse {
  StatusCode: number;
  Error?: { Message: string } | null;
}

export interface VersionResponse {
  Platform?: { Name: string };
  Components?: Array<{ Name: string; Version: string; Details?: Record<string, string> }>;
  Version: string;
  ApiVersion: string;
  MinAPIVersion?: string;
  GitCommit: string;
  GoVersion: string;
  Os: string;
  Arch: string;
  KernelVersion?: string;
  Experimental?: boolean;
  BuildTime?: string;
}

export interface PingResponse {
  apiVersion?: string;
  osType?: string;
  experimental: boolean;
  builderVersion?: string;
  swarm?: string;
}

export interface SystemInfo {
  [k: string]: unknown;
}

export interface EventMessage {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope?: string;
  time: number;
  timeNano: number;
  status?: string;
  id?: string;
  from?: string;
}

export type Filters = Record<string, string[]>;

// ---- Networks as the daemon renders them (api/views/networks.ts); the client reads NetworkSummary ----

/** One container of a network's `Containers` (inspect). */
export interface NetworkEndpointResource { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }

/** GET /networks items and GET /networks/{id} in full (dockerd's network.Inspect). */
export interface NetworkResource extends NetworkSummary {
  /** API ≥ 1.47 */
  EnableIPv4?: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: IPAMConfig[] };
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Containers: Record<string, NetworkEndpointResource>;
  Options: Record<string, string>;
  Labels: Labels;
}

/** POST /networks/prune */
export interface NetworkPruneResponse { NetworksDeleted: string[] }

/** One object of GET /containers/{id}/stats (the fields clients read). */
export interface ContainerStats {
  name?: string;
  id?: string;
  read?: string;
  preread?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  blkio_stats?: { io_service_bytes_recursive?: Array<{ op: string; value: number }> | null };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
  pids_stats?: { current?: number; limit?: number };
  [k: string]: unknown;
}

/* ---- additions: volumes, networks and port maps as the daemon sends them (read by the CLI) ---- */

/** One host binding of a published port (nat.PortBinding). */
export interface PortBinding {
  HostIp: string;
  HostPort: string;
}

/** NetworkSettings.Ports: "80/tcp" → its host bindings, null when exposed but not published (nat.PortMap). */
export type PortMap = Record<string, PortBinding[] | null>;

/** GET /volumes/{name}, and each of GET /volumes' `Volumes`. */
export interface Volume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt?: string;
  Labels: Labels | null;
  Scope: string;
  Options: Record<string, string> | null;
  UsageData?: { Size: number; RefCount: number } | null;
  [k: string]: unknown;
}

/** GET /volumes */
export interface VolumeListResponse {
  Volumes: Volume[] | null;
  Warnings?: string[] | null;
}

/** POST /volumes/create */
export interface VolumeCreateBody {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string>;
  Labels?: Labels;
}

/** POST /volumes/prune */
export interface VolumePruneResponse {
  VolumesDeleted: string[] | null;
  SpaceReclaimed: number;
}

export interface IPAMConfig {
  Subnet?: string;
  Gateway?: string;
  IPRange?: string;
}

/** GET /networks (each item) and GET /networks/{id}: the fields clients read. */
export interface NetworkSummary {
  Name: string;
  Id: string;
  Created: string;
  Scope: string;
  Driver: string;
  EnableIPv6: boolean;
  Internal: boolean;
  Attachable?: boolean;
  IPAM: { Driver?: string; Options?: Record<string, string> | null; Config: IPAMConfig[] | null };
  Options?: Record<string, string> | null;
  Labels: Labels | null;
  [k: string]: unknown;
}

/** POST /networks/create */
export interface NetworkCreateBody {
  Name: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Config?: IPAMConfig[]; Options?: Record<string, string> };
  Options?: Record<string, string>;
  Labels?: Labels;
}

export interface NetworkCreateResponse {
  Id: string;
  Warning?: string;
}

/** POST /networks/{id}/connect: the endpoint settings a client may ask for. */
export interface NetworkConnectBody {
  Container: string;
  EndpointConfig?: { Aliases?: string[] | null; IPAMConfig?: { IPv4Address?: string; IPv6Address?: string } | null };
}

/** One of HostConfig.Mounts (mount.Mount), as `--mount` makes it. */
export interface Mount {
  Type: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Labels; DriverConfig?: { Name: string; Options?: Record<string, string> }; Subpath?: string };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

/** POST /containers/{id}/exec */
export interface ExecCreateBody {
  User?: string;
  Privileged?: boolean;
  Tty?: boolean;
  /** API >= 1.42 */
  ConsoleSize?: [number, number] | null;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Detach?: boolean;
  DetachKeys?: string;
  Env?: string[] | null;
  WorkingDir?: string;
  /** An array; a single string from some clients; the daemon refuses it missing or empty. */
  Cmd?: string[] | string | null;
}

/** GET /exec/{id}/json: the fields clients read. */
export interface ExecInspect {
  ID?: string;
  Running?: boolean;
  ExitCode: number | null;
  [k: string]: unknown;
}

/* ---- JSON progress streams (pull, push, build): one message per line ---- */

/** jsonmessage.JSONProgress */
export interface JSONProgress {
  current?: number;
  total?: number;
  start?: number;
  hidecounts?: boolean;
  units?: string;
}

/** jsonmessage.JSONMessage: a line of a pull, push or build stream (and of /events for old clients). */
export interface JSONMessage {
  stream?: string;
  status?: string;
  progressDetail?: JSONProgress;
  progress?: string;
  id?: string;
  from?: string;
  time?: number;
  timeNano?: number;
  errorDetail?: { code?: number; message: string };
  error?: string;
  aux?: unknown;
}

// ---- Berth's own: POST /berth/system/check (engine/system-check) ----

export type SystemCheckKind =
  | 'blob-corrupt' | 'layer-unreferenced' | 'image-missing-layer' | 'image-missing-config'
  | 'container-missing-rootfs' | 'container-missing-layer' | 'mount-leftover' | 'netns-orphan'
  | 'veth-orphan' | 'cgroup-orphan' | 'iptables-rule-stale' | 'temp-leftover';

/** One problem `berth system check` found. */
export interface SystemCheckFinding {
  Kind: SystemCheckKind;
  /** The object: a digest, chain ID, image or container ID, interface or namespace name, rule. */
  Object: string;
  /** Where it is (a path under the data root, a host path, or the iptables table and chain). */
  Path: string;
  /** What is wrong, in plain words. */
  Problem: string;
  /** What --repair does about it (or why it leaves it). */
  Repair: string;
  /** After a --repair run: whether the problem is gone. */
  Repaired?: boolean;
  /** Why a repair could not be done. */
  Error?: string;
}

export interface SystemCheckReport {
  /** Whether --repair was asked for. */
  Repair: boolean;
  /** Everything found (with --repair: in every pass, each with its outcome). */
  Findings: SystemCheckFinding[];
  /** Problems still there at the end (`berth system check` exits 1 when there are any). */
  Remaining: number;
}
