// A service's container as the Engine API's create body, with Compose v2's labels and its
// config hash (the reconciler recreates a container only when that hash, or its image, changed).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { ContainerCreateBody } from '../../../client/index.js';
import { parseGoDuration } from '../common.js';
import { ramInBytes } from '../resource-flags.js';
import { ComposeError } from './errors.js';
import { parseEnvFile } from './interpolate.js';
import type { Project, ServiceConfig } from './model.js';

export const LABEL = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  number: 'com.docker.compose.container-number',
  oneoff: 'com.docker.compose.oneoff',
  hash: 'com.docker.compose.config-hash',
  workingDir: 'com.docker.compose.project.working_dir',
  configFiles: 'com.docker.compose.project.config_files',
  version: 'com.docker.compose.version',
  image: 'com.docker.compose.image',
  dependsOn: 'com.docker.compose.depends_on',
  network: 'com.docker.compose.network',
  volume: 'com.docker.compose.volume',
  replace: 'com.docker.compose.replace',
} as const;

/** The Compose version Berth's compose reports in labels and `version` (the v2 it follows). */
export const COMPOSE_VERSION = '2.29.7';

/** The image a service runs: its own, else `<project>-<service>` when it builds one. */
export function imageName(p: Project, s: ServiceConfig): string {
  if (s.image) return s.image;
  if (!s.build) throw new ComposeError(`service "${s.name}" has neither an image nor a build context specified: invalid compose project`);
  return [p.name, s.name].join(sepOf(p));
}

/** The separator of generated names: "-", "_" under --compatibility (docker-compose v1 names). */
export const sepOf = (p: Project): string => p.separator ?? '-';

/** Desired number of containers: --scale, else deploy.replicas, else scale, else 1. */
export function replicas(s: ServiceConfig, scale: Record<string, number>): number {
  return scale[s.name] ?? s.deploy?.replicas ?? s.scale ?? 1;
}

export function containerName(p: Project, s: ServiceConfig, n: number): string {
  return s.container_name ?? [p.name, s.name, n].join(sepOf(p));
}

/** Hash of what defines the container (not the scale, not the build): Compose's config-hash idea. */
export function configHash(s: ServiceConfig): string {
  const { deploy, scale: _s, build: _b, pull_policy: _pp, profiles: _p, ...rest } = s;
  const d = deploy ? { ...deploy, replicas: undefined } : undefined;
  return createHash('sha256').update(JSON.stringify(sortKeys({ ...rest, deploy: d }))).digest('hex');
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined).map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  }
  return v;
}

/** Duration (compose string like "1m30s", or seconds as a number) → nanoseconds. */
export function durationNs(v: string | number | undefined, key: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return Math.round(v * 1e9);
  const ms = parseGoDuration(v);
  if (ms === null) throw new ComposeError(`${key}: invalid duration "${v}"`);
  return Math.round(ms * 1e6);
}

/** The service's environment: env_file(s) first, then `environment`; null values from the shell. */
export function serviceEnv(p: Project, s: ServiceConfig): string[] {
  const out: Record<string, string> = {};
  for (const f of s.env_file ?? []) {
    if (!existsSync(f.path)) {
      if (f.required) throw new ComposeError(`env file ${f.path} not found: stat ${f.path}: no such file or directory`);
      continue;
    }
    Object.assign(out, parseEnvFile(readFileSync(f.path, 'utf8'), p.environment));
  }
  for (const [k, v] of Object.entries(s.environment ?? {})) {
    if (v !== null) out[k] = v;
    else if (p.environment[k] !== undefined) out[k] = p.environment[k]!;
  }
  return Object.entries(out).map(([k, v]) => `${k}=${v}`);
}

interface CreateArgs {
  number: number;
  oneoff?: boolean;
  /** The first network's endpoint goes in the create; others are connected after. */
  primaryNetwork?: string;
  imageId?: string;
  hash: string;
}

/** The create body of one container of a service. */
export function createBody(p: Project, s: ServiceConfig, a: CreateArgs): ContainerCreateBody {
  const labels: Record<string, string> = {
    ...(s.labels ?? {}),
    [LABEL.project]: p.name,
    [LABEL.service]: s.name,
    [LABEL.number]: String(a.number),
    [LABEL.oneoff]: a.oneoff ? 'True' : 'False',
    [LABEL.hash]: a.hash,
    [LABEL.workingDir]: p.workingDir,
    [LABEL.configFiles]: p.configFiles.join(','),
    [LABEL.version]: COMPOSE_VERSION,
    [LABEL.dependsOn]: Object.entries(s.depends_on ?? {}).map(([d, c]) => `${d}:${c.condition}:${c.restart ?? false}`).join(','),
    ...(a.imageId ? { [LABEL.image]: a.imageId } : {}),
  };
  const exposed: Record<string, object> = {};
  for (const e of s.expose ?? []) exposed[e.includes('/') ? e : `${e}/tcp`] = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const port of s.ports ?? []) {
    const key = `${port.target}/${port.protocol}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: port.host_ip ?? '', HostPort: port.published ?? '' });
  }
  const binds: string[] = [];
  const mounts: Array<Record<string, unknown>> = [];
  for (const m of s.volumes ?? []) {
    if (m.type === 'bind' && m.source && m.bind?.create_host_path !== false && !m.bind?.propagation) binds.push(`${m.source}:${m.target}${m.read_only ? ':ro' : ''}${m.bind?.selinux ? (m.read_only ? ',' : ':') + m.bind.selinux : ''}`);
    else mounts.push(mountOf(p, m));
  }
  for (const k of ['configs', 'secrets'] as const) {
    for (const ref of s[k] ?? []) {
      const def = p[k][ref.source];
      if (!def.file) throw new ComposeError(`${k.slice(0, -1)} "${ref.source}": only file-based ${k} are supported by Berth`);
      const target = ref.target ? (ref.target.startsWith('/') ? ref.target : k === 'secrets' ? `/run/secrets/${ref.target}` : `/${ref.target}`) : k === 'secrets' ? `/run/secrets/${ref.source}` : `/${ref.source}`;
      mounts.push({ Type: 'bind', Source: def.file, Target: target, ReadOnly: true });
    }
  }
  const hc = s.healthcheck;
  const healthcheck = hc
    ? hc.disable
      ? { Test: ['NONE'] }
      : {
          ...(hc.test ? { Test: hc.test } : {}),
          ...(hc.interval !== undefined ? { Interval: durationNs(hc.interval, 'healthcheck.interval') } : {}),
          ...(hc.timeout !== undefined ? { Timeout: durationNs(hc.timeout, 'healthcheck.timeout') } : {}),
          ...(hc.start_period !== undefined ? { StartPeriod: durationNs(hc.start_period, 'healthcheck.start_period') } : {}),
          ...(hc.start_interval !== undefined ? { StartInterval: durationNs(hc.start_interval, 'healthcheck.start_interval') } : {}),
          ...(hc.retries !== undefined ? { Retries: hc.retries } : {}),
        }
    : undefined;
  const restart = s.restart ?? 'no';
  const [rname, rcount] = restart.split(':');
  const limits = s.deploy?.resources?.limits;
  const memory = limits?.memory ?? s.mem_limit;
  const cpus = limits?.cpus ?? s.cpus;
  const stopGrace = durationNs(s.stop_grace_period, 'stop_grace_period');
  const tmpfs: Record<string, string> = {};
  for (const t of s.tmpfs ?? []) {
    const i = t.indexOf(':');
    if (i < 0) tmpfs[t] = '';
    else tmpfs[t.slice(0, i)] = t.slice(i + 1);
  }
  const networkMode = a.primaryNetwork ?? 'none';
  const endpoint = a.primaryNetwork ? endpointOf(s, a.primaryNetwork, a.oneoff) : undefined;
  const body: ContainerCreateBody = {
    Image: imageName(p, s),
    Env: serviceEnv(p, s),
    Labels: labels,
    ...(s.command !== undefined ? { Cmd: s.command } : {}),
    ...(s.entrypoint !== undefined ? { Entrypoint: s.entrypoint } : {}),
    ...(Object.keys(exposed).length ? { ExposedPorts: exposed } : {}),
    ...(s.user !== undefined ? { User: s.user } : {}),
    ...(s.working_dir !== undefined ? { WorkingDir: s.working_dir } : {}),
    ...(s.hostname !== undefined ? { Hostname: s.hostname } : {}),
    ...(s.domainname !== undefined ? { Domainname: s.domainname } : {}),
    ...(s.tty !== undefined ? { Tty: s.tty } : {}),
    ...(s.stdin_open !== undefined ? { OpenStdin: s.stdin_open } : {}),
    ...(s.stop_signal !== undefined ? { StopSignal: s.stop_signal } : {}),
    ...(stopGrace !== undefined ? { StopTimeout: Math.round(stopGrace / 1e9) } : {}),
    ...(healthcheck ? { Healthcheck: healthcheck } : {}),
    HostConfig: {
      NetworkMode: a.primaryNetwork ? p.networks[a.primaryNetwork].name : 'none',
      PortBindings: bindings,
      RestartPolicy: { Name: rname, ...(rname === 'on-failure' ? { MaximumRetryCount: Number(rcount ?? 0) } : {}) },
      ...(binds.length ? { Binds: binds } : {}),
      ...(mounts.length ? { Mounts: mounts } : {}),
      ...(Object.keys(tmpfs).length ? { Tmpfs: tmpfs } : {}),
      ...(s.extra_hosts?.length ? { ExtraHosts: s.extra_hosts } : {}),
      ...(s.init !== undefined ? { Init: s.init } : {}),
      ...(s.privileged !== undefined ? { Privileged: s.privileged } : {}),
      ...(s.read_only !== undefined ? { ReadonlyRootfs: s.read_only } : {}),
      ...(s.cap_add ? { CapAdd: s.cap_add } : {}),
      ...(s.cap_drop ? { CapDrop: s.cap_drop } : {}),
      ...(s.dns ? { Dns: s.dns } : {}),
      ...(s.shm_size !== undefined ? { ShmSize: bytes(s.shm_size) } : {}),
      ...(memory !== undefined ? { Memory: bytes(memory) } : {}),
      ...(cpus !== undefined ? { NanoCpus: Math.round(Number(cpus) * 1e9) } : {}),
      ...(limits?.pids !== undefined ? { PidsLimit: limits.pids } : {}),
    },
    NetworkingConfig: endpoint ? { EndpointsConfig: { [p.networks[networkMode].name]: endpoint } } : undefined,
  };
  return body;
}

function bytes(v: string | number): number {
  return typeof v === 'number' ? v : ramInBytes(v);
}

/** A service's networks, in priority order (the default network when it names none). */
export function serviceNetworks(s: ServiceConfig): string[] {
  const nets = s.networks && Object.keys(s.networks).length ? Object.keys(s.networks) : ['default'];
  return nets.sort((a, b) => (s.networks?.[b]?.priority ?? 0) - (s.networks?.[a]?.priority ?? 0));
}

/** The endpoint of a container on one of its service's networks: aliases as Compose gives them. */
export function endpointOf(s: ServiceConfig, net: string, oneoff = false): Record<string, unknown> {
  const cfg = s.networks?.[net] ?? null;
  const aliases = [...(oneoff ? [] : [s.name]), ...(cfg?.aliases ?? [])];
  return {
    Aliases: aliases.length ? aliases : null,
    ...(cfg?.ipv4_address || cfg?.ipv6_address ? { IPAMConfig: { ...(cfg.ipv4_address ? { IPv4Address: cfg.ipv4_address } : {}), ...(cfg.ipv6_address ? { IPv6Address: cfg.ipv6_address } : {}) } } : {}),
  };
}

function mountOf(p: Project, m: NonNullable<ServiceConfig['volumes']>[number]): Record<string, unknown> {
  if (m.type === 'tmpfs') {
    return { Type: 'tmpfs', Target: m.target, ...(m.tmpfs?.size !== undefined ? { TmpfsOptions: { SizeBytes: bytes(m.tmpfs.size) } } : {}) };
  }
  if (m.type === 'bind') {
    if (!m.source) throw new ComposeError(`invalid mount config for type "bind": field Source must not be empty`);
    if (m.bind?.create_host_path === false && !existsSync(m.source)) throw new ComposeError(`invalid mount config for type "bind": bind source path does not exist: ${m.source}`);
    return {
      Type: 'bind', Source: m.source, Target: m.target,
      ...(m.read_only ? { ReadOnly: true } : {}),
      ...(m.bind?.propagation ? { BindOptions: { Propagation: m.bind.propagation } } : {}),
    };
  }
  const name = m.source ? p.volumes[m.source].name : undefined;
  return {
    Type: 'volume', Target: m.target, ...(name ? { Source: name } : {}),
    ...(m.read_only ? { ReadOnly: true } : {}),
    ...(m.volume?.nocopy || m.volume?.subpath ? { VolumeOptions: { ...(m.volume.nocopy ? { NoCopy: true } : {}), ...(m.volume.subpath ? { Subpath: m.volume.subpath } : {}) } } : {}),
  };
}
