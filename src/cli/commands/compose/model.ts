// The resolved compose model: what `compose config` prints and what the commands act on. Every
// short syntax is turned into its long form here (canonical.ts), every relative path made absolute.

export type Condition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface PortConfig {
  target: number;
  published?: string;
  host_ip?: string;
  protocol: string;
  mode?: string;
}

export interface MountConfig {
  type: 'bind' | 'volume' | 'tmpfs';
  source?: string;
  target: string;
  read_only?: boolean;
  bind?: { propagation?: string; create_host_path?: boolean; selinux?: string };
  volume?: { nocopy?: boolean; subpath?: string };
  tmpfs?: { size?: string | number; mode?: string | number };
}

export interface BuildConfig {
  context: string;
  dockerfile?: string;
  args?: Record<string, string | null>;
  target?: string;
  labels?: Record<string, string>;
  network?: string;
  no_cache?: boolean;
  pull?: boolean;
}

export interface HealthcheckConfig {
  disable?: boolean;
  test?: string[];
  interval?: string | number;
  timeout?: string | number;
  start_period?: string | number;
  start_interval?: string | number;
  retries?: number;
}

export interface FileRef {
  source: string;
  target?: string;
  uid?: string;
  gid?: string;
  mode?: string | number;
}

export interface ServiceConfig {
  name: string;
  image?: string;
  build?: BuildConfig;
  command?: string[] | null;
  entrypoint?: string[] | null;
  environment?: Record<string, string | null>;
  env_file?: Array<{ path: string; required: boolean }>;
  ports?: PortConfig[];
  expose?: string[];
  volumes?: MountConfig[];
  networks?: Record<string, { aliases?: string[]; ipv4_address?: string; ipv6_address?: string; priority?: number } | null>;
  depends_on?: Record<string, { condition: Condition; restart?: boolean; required?: boolean }>;
  healthcheck?: HealthcheckConfig;
  restart?: string;
  deploy?: { replicas?: number; resources?: { limits?: { cpus?: string | number; memory?: string; pids?: number } } };
  labels?: Record<string, string>;
  profiles?: string[];
  user?: string;
  working_dir?: string;
  hostname?: string;
  domainname?: string;
  tmpfs?: string[];
  extra_hosts?: string[];
  init?: boolean;
  stop_grace_period?: string | number;
  stop_signal?: string;
  container_name?: string;
  privileged?: boolean;
  read_only?: boolean;
  cap_add?: string[];
  cap_drop?: string[];
  tty?: boolean;
  stdin_open?: boolean;
  dns?: string[];
  shm_size?: string | number;
  mem_limit?: string | number;
  cpus?: string | number;
  pull_policy?: string;
  scale?: number;
  configs?: FileRef[];
  secrets?: FileRef[];
  [k: `x-${string}`]: unknown;
}

export interface NetworkConfig {
  name: string;
  driver?: string;
  external?: boolean;
  internal?: boolean;
  attachable?: boolean;
  enable_ipv6?: boolean;
  labels?: Record<string, string>;
  driver_opts?: Record<string, string | number>;
  ipam?: { driver?: string; config?: Array<{ subnet?: string; ip_range?: string; gateway?: string }> };
}

export interface VolumeConfig {
  name: string;
  driver?: string;
  driver_opts?: Record<string, string | number>;
  external?: boolean;
  labels?: Record<string, string>;
}

export interface FileObjectConfig {
  name: string;
  file?: string;
  environment?: string;
  content?: string;
  external?: boolean;
}

export interface Project {
  name: string;
  workingDir: string;
  configFiles: string[];
  /** The variables interpolation used (.env + environment): `config --environment`, env values. */
  environment: Record<string, string | undefined>;
  services: Record<string, ServiceConfig>;
  /** Services left out by their profiles (still known, so `--profile`-less commands can name them). */
  disabled: Record<string, ServiceConfig>;
  networks: Record<string, NetworkConfig>;
  volumes: Record<string, VolumeConfig>;
  configs: Record<string, FileObjectConfig>;
  secrets: Record<string, FileObjectConfig>;
  /** What joins project, service and number in generated names: "-", or "_" in --compatibility mode. */
  separator?: '-' | '_';
}
