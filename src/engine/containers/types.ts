/** Container records as the engine keeps them; shapes follow the Engine API's where they overlap. */
import type { MountPoint } from '../volumes/types.js';

/** Docker's container Config (the create body's top level, minus HostConfig/NetworkingConfig). */
export interface ContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, object>;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[];
  Cmd: string[] | null;
  Healthcheck?: unknown;
  Image: string;
  Volumes: Record<string, object> | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  OnBuild: string[] | null;
  Labels: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
}

export interface RestartPolicy {
  Name: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure';
  MaximumRetryCount: number;
}

/** The subset of HostConfig this engine acts on; everything the client sent is kept and echoed back. */
export interface HostConfig {
  AutoRemove: boolean;
  RestartPolicy: RestartPolicy;
  NetworkMode: string;
  Privileged: boolean;
  ReadonlyRootfs: boolean;
  Runtime: string;
  ShmSize: number;
  [key: string]: unknown;
}

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerState {
  Status: ContainerStatus;
  Pid: number;
  /** PID of the berth-shim supervising the container while it runs. */
  ShimPid: number;
  ExitCode: number;
  Error: string;
  OOMKilled: boolean;
  StartedAt: string;
  FinishedAt: string;
  /** With a healthcheck, from the first start on (health.ts). */
  Health?: import('./health.js').HealthState;
}

export interface ContainerRecord {
  Id: string;
  /** Without the leading slash. */
  Name: string;
  Created: string;
  /** The image ID (sha256:…) the container was created from. */
  ImageID: string;
  Path: string;
  Args: string[];
  Config: ContainerConfig;
  HostConfig: HostConfig;
  NetworkingConfig?: unknown;
  /** Endpoints, addresses and published ports (engine/network). */
  NetworkSettings?: import('../network/types.js').ContainerNetworkSettings;
  State: ContainerState;
  RestartCount: number;
  /** Set by `docker stop`/`kill` so restart policies and unless-stopped know the user stopped it. */
  StoppedByUser?: boolean;
  /** Top-first lowerdirs of the image, fixed at create. */
  LowerDirs: string[];
  /** Volumes, binds and tmpfs mounts, fixed at create (engine/volumes/mounts.ts). */
  MountPoints?: MountPoint[];
  /** Chain IDs of the image's layers (bottom first): they stay while the container exists. */
  Layers: string[];
}

/** The attributes of a container's events (`docker events`): its labels, image and name. */
export function containerEventAttributes(rec: ContainerRecord): Record<string, string> {
  return { ...(rec.Config.Labels ?? {}), image: rec.Config.Image, name: rec.Name };
}
