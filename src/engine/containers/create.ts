import { validateRestartPolicy } from './restart-policy.js';
import { existsSync } from 'node:fs';
import { hostname as hostHostname } from 'node:os';
import { logConfigOf, validateLogConfig } from './log-config.js';
import { mergeHealthcheck, validateHealth, type HealthConfig } from './health.js';
import { InvalidParameterError } from '../errors.js';
import { checkCreatePolicy } from './host-config-policy.js';
import { checkHostOptions } from './host-options.js';
import type { ImageRecord } from '../images/types.js';
import { rfc3339NanoFromNs, nowNs, ZERO_TIME } from '../../util/time.js';
import type { ContainerConfig, ContainerRecord, HostConfig } from './types.js';

/** The body of POST /containers/create as clients send it (Config fields at the top level). */
export interface CreateBody extends Partial<Omit<ContainerConfig, 'Labels'>> {
  Image: string;
  Labels?: Record<string, string> | null;
  HostConfig?: Partial<HostConfig> | null;
  NetworkingConfig?: unknown;
}

/** Log rotation is on by default (20 MB × 5 files, like Docker's `local` driver); --log-opt changes it. */
export const DEFAULT_LOG_MAX_SIZE = 20 * 1000 * 1000;
export const DEFAULT_LOG_MAX_FILES = 5;

/** `max-size` ("10m", "512k", "1g", bytes) and `max-file` from HostConfig.LogConfig.Config. */
export function logRotation(hc: Partial<HostConfig>): { maxSize: number; maxFiles: number } {
  const cfg = ((hc.LogConfig as { Config?: Record<string, string> } | undefined)?.Config) ?? {};
  let maxSize = DEFAULT_LOG_MAX_SIZE;
  let maxFiles = DEFAULT_LOG_MAX_FILES;
  if (cfg['max-size'] !== undefined) {
    const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)b?$/i.exec(cfg['max-size'].trim());
    if (!m) throw new InvalidParameterError(`invalid max-size: ${cfg['max-size']}`);
    const mult = { '': 1, k: 1000, m: 1000 ** 2, g: 1000 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
    maxSize = Math.floor(Number(m[1]) * mult);
    if (maxSize <= 0) throw new InvalidParameterError(`invalid max-size: ${cfg['max-size']}`);
  }
  if (cfg['max-file'] !== undefined) {
    maxFiles = Number(cfg['max-file']);
    if (!Number.isInteger(maxFiles) || maxFiles < 1) throw new InvalidParameterError(`invalid max-file: ${cfg['max-file']}`);
  }
  return { maxSize, maxFiles };
}

const CGROUP_V2 = existsSync('/sys/fs/cgroup/cgroup.controllers');

const STRING_FIELDS = ['Image', 'Hostname', 'Domainname', 'User', 'WorkingDir', 'StopSignal'] as const;
const BOOL_FIELDS = ['AttachStdin', 'AttachStdout', 'AttachStderr', 'Tty', 'OpenStdin', 'StdinOnce', 'NetworkDisabled'] as const;

/**
 * The JSON types of the create body, checked up front so a wrong type is a 400 naming the field
 * (dockerd answers such bodies with its JSON decoder's 400), never a 500 from deep inside.
 */
export function validateCreateBody(body: unknown): asserts body is CreateBody {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidParameterError('config cannot be empty in order to create a container');
  }
  const b = body as Record<string, unknown>;
  const bad = (field: string, want: string) => {
    throw new InvalidParameterError(`invalid JSON: field ${field} must be ${want}`);
  };
  const isStringList = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
  const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  for (const f of STRING_FIELDS) if (b[f] !== undefined && b[f] !== null && typeof b[f] !== 'string') bad(f, 'a string');
  for (const f of BOOL_FIELDS) if (b[f] !== undefined && b[f] !== null && typeof b[f] !== 'boolean') bad(f, 'a boolean');
  if (b.Env !== undefined && b.Env !== null && !isStringList(b.Env)) bad('Env', 'a list of strings');
  // Cmd and Entrypoint may be a string or a list (Docker's StrSlice).
  for (const f of ['Cmd', 'Entrypoint']) {
    const v = b[f];
    if (v !== undefined && v !== null && typeof v !== 'string' && !isStringList(v)) bad(f, 'a string or a list of strings');
  }
  if (b.Labels !== undefined && b.Labels !== null
    && (!isObject(b.Labels) || Object.values(b.Labels as object).some((v) => typeof v !== 'string'))) bad('Labels', 'an object of strings');
  for (const f of ['ExposedPorts', 'Volumes', 'HostConfig', 'NetworkingConfig']) {
    if (b[f] !== undefined && b[f] !== null && !isObject(b[f])) bad(f, 'an object');
  }
  if (b.StopTimeout !== undefined && b.StopTimeout !== null && !Number.isInteger(b.StopTimeout)) bad('StopTimeout', 'an integer');
  if (!b.Image) throw new InvalidParameterError('config cannot be empty in order to create a container');
  // every option is applied or refused, never accepted and ignored (host-config-policy.ts)
  checkCreatePolicy(b);
  checkHostOptions((b.HostConfig ?? {}) as Partial<HostConfig>, b as Partial<ContainerConfig>);
}

/**
 * Build a container record from a create request and its image, with Docker's merge rules:
 * user values win; the image supplies Env entries the user did not set, Cmd/Entrypoint when the
 * user gave none, WorkingDir, User, Labels, StopSignal.
 */
export function normalizeCreate(body: CreateBody, ctx: { id: string; name: string; image: ImageRecord; lowerDirs: string[] }): ContainerRecord {
  validateCreateBody(body);
  const img = ctx.image.config.config ?? {};
  const asList = (v: unknown, what: string): string[] | null => {
    if (v === undefined || v === null) return null;
    if (typeof v === 'string') return [v];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new InvalidParameterError(`${what} must be a list of strings`);
    return v as string[];
  };
  let entrypoint = asList(body.Entrypoint, 'Entrypoint');
  let cmd = asList(body.Cmd, 'Cmd');
  if (!entrypoint || entrypoint.length === 0) {
    if (!cmd || cmd.length === 0) cmd = img.Cmd ?? null;
    if (!entrypoint) entrypoint = img.Entrypoint ?? null;
  }
  // `--entrypoint ""` clears the image's entrypoint.
  if (entrypoint && entrypoint.length === 1 && entrypoint[0] === '') entrypoint = null;
  const argv = [...(entrypoint ?? []), ...(cmd ?? [])];
  if (argv.length === 0) throw new InvalidParameterError('no command specified');

  const env = [...(asList(body.Env, 'Env') ?? [])];
  for (const e of env) if (!e.includes('=') && e.length === 0) throw new InvalidParameterError(`invalid environment variable: ${e}`);
  const keys = new Set(env.map((e) => e.split('=')[0]));
  for (const e of img.Env ?? []) if (!keys.has(e.split('=')[0])) env.push(e);
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');

  const hc = body.HostConfig ?? {};
  const restart = (hc.RestartPolicy ?? { Name: '', MaximumRetryCount: 0 }) as HostConfig['RestartPolicy'];
  validateRestartPolicy(restart);
  if (hc.AutoRemove && restart.Name && restart.Name !== 'no') {
    throw new InvalidParameterError('can\'t create \'AutoRemove\' container with restart policy');
  }
  const hostConfig: HostConfig = {
    ...hc,
    AutoRemove: !!hc.AutoRemove,
    RestartPolicy: { Name: restart.Name ?? '', MaximumRetryCount: restart.MaximumRetryCount ?? 0 },
    NetworkMode: hc.NetworkMode || 'default',
    Privileged: !!hc.Privileged,
    ReadonlyRootfs: !!hc.ReadonlyRootfs,
    Runtime: hc.Runtime || 'crun',
    ShmSize: hc.ShmSize || 64 * 1024 * 1024,
    // dockerd records the daemon's default IPC mode ("private") and cgroup namespace mode
    // ("host" on cgroup v1, "private" on v2)
    IpcMode: hc.IpcMode || 'private',
    CgroupnsMode: hc.CgroupnsMode || (CGROUP_V2 ? 'private' : 'host'),
  };
  validateLogConfig(hostConfig);
  hostConfig.LogConfig = logConfigOf(hostConfig); // inspect shows the driver in effect, as dockerd
  logRotation(hostConfig); // validates --log-opt now rather than at start
  if (hostConfig.Runtime !== 'crun' && hostConfig.Runtime !== 'runc') {
    throw new InvalidParameterError(`unknown or invalid runtime name: ${hostConfig.Runtime}`);
  }

  validateHealth(body.Healthcheck as HealthConfig | undefined, hc.HealthOnFailure);
  const healthcheck = mergeHealthcheck(body.Healthcheck as HealthConfig | undefined, img.Healthcheck as HealthConfig | undefined);

  const config: ContainerConfig = {
    // with the host's UTS namespace the container has the host's name, as dockerd
    Hostname: body.Hostname || (hc.UTSMode === 'host' ? hostHostname() : ctx.id.slice(0, 12)),
    Domainname: body.Domainname ?? '',
    User: body.User || img.User || '',
    AttachStdin: !!body.AttachStdin,
    AttachStdout: !!body.AttachStdout,
    AttachStderr: !!body.AttachStderr,
    ExposedPorts: { ...(img.ExposedPorts ?? {}), ...(body.ExposedPorts ?? {}) },
    Tty: !!body.Tty,
    OpenStdin: !!body.OpenStdin,
    StdinOnce: !!body.StdinOnce,
    Env: env,
    Cmd: cmd,
    Image: body.Image,
    Volumes: body.Volumes || img.Volumes ? { ...(img.Volumes ?? {}), ...(body.Volumes ?? {}) } : null,
    WorkingDir: body.WorkingDir || img.WorkingDir || '',
    Entrypoint: entrypoint,
    OnBuild: null,
    Labels: { ...(img.Labels ?? {}), ...(body.Labels ?? {}) },
    StopSignal: body.StopSignal || img.StopSignal || undefined,
    StopTimeout: body.StopTimeout,
  };
  if (healthcheck) config.Healthcheck = healthcheck;
  if (config.ExposedPorts && Object.keys(config.ExposedPorts).length === 0) delete config.ExposedPorts;
  if (config.WorkingDir && !config.WorkingDir.startsWith('/')) {
    throw new InvalidParameterError(`the working directory '${config.WorkingDir}' is invalid, it needs to be an absolute path`);
  }

  return {
    Id: ctx.id,
    Name: ctx.name,
    Created: rfc3339NanoFromNs(nowNs()),
    ImageID: ctx.image.id,
    Path: argv[0],
    Args: argv.slice(1),
    Config: config,
    HostConfig: hostConfig,
    NetworkingConfig: body.NetworkingConfig,
    State: {
      Status: 'created', Pid: 0, ShimPid: 0, ExitCode: 0, Error: '', OOMKilled: false,
      StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME,
    },
    RestartCount: 0,
    LowerDirs: ctx.lowerDirs,
    Layers: [...ctx.image.chainIDs],
  };
}
