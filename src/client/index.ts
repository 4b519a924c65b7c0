// Typed Docker Engine API client used by the berth CLI, the tests and the dashboard.
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { compareVersions } from '../util/version.js';
import {
  ApiError,
  ConnectionError,
  DEFAULT_API_VERSION,
  DEFAULT_HOST,
  encodeQuery,
  errorFromResponse,
  parseHost,
  readBody,
  send,
  type Endpoint,
  type Query,
} from './http.js';
import { hijack, type HijackedStream } from './hijack.js';
import { iterateJSON, type JSONMessage } from './jsonstream.js';
import { resolveHost } from './resolve.js';
import type { ClientTls } from './tls.js';

export { resolveHost };

export { ApiError, ConnectionError, DEFAULT_API_VERSION, DEFAULT_HOST };
export type { HijackedStream, JSONMessage, Query };

import type { ContainerSummary, ContainerCreateBody, ContainerCreateResponse, ContainerInspect, ImageHistoryItem, ImageSummary, ImageInspect, ImageDeleteItem, WaitResponse, VersionResponse, PingResponse, SystemInfo, EventMessage, Filters, ContainerStats, ContainerConfig } from '../wire/types.js';
import type { SystemCheckReport } from '../wire/types.js';
export type { SystemCheckFinding, SystemCheckReport } from '../wire/types.js';
import type { ExecCreateBody, ExecInspect, NetworkConnectBody, NetworkCreateBody, NetworkCreateResponse, NetworkSummary, Volume, VolumeCreateBody, VolumeListResponse, VolumePruneResponse } from '../wire/types.js';

export type { ExecCreateBody, ExecInspect, IPAMConfig, Mount, NetworkConnectBody, NetworkCreateBody, NetworkCreateResponse, NetworkSummary, PortBinding, PortMap, Volume, VolumeCreateBody, VolumeListResponse, VolumePruneResponse } from '../wire/types.js';
export type { Labels, Port, ContainerSummary, ContainerConfig, HostConfig, ContainerCreateBody, ContainerCreateResponse, ContainerState, ContainerInspect, ImageHistoryItem, ImageSummary, ImageInspect, ImageDeleteItem, WaitResponse, VersionResponse, PingResponse, SystemInfo, EventMessage, Filters, ContainerStats } from '../wire/types.js';

/** GET /system/df as the daemon answers it. */
export interface SystemDiskUsage {
  LayersSize?: number;
  Images?: ImageSummary[] | null;
  Containers?: Array<ContainerSummary & { SizeRw?: number; SizeRootFs?: number }> | null;
  Volumes?: Volume[] | null;
  BuildCache?: unknown[] | null;
}

/* ------------------------------------------------------------- options */

export interface CommitOptions {
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  changes?: string[];
  pause?: boolean;
  config?: ContainerConfig;
}

export interface ClientOptions {
  /** unix:///path, /path, tcp://host:port */
  host?: string;
  /** API version to prefix paths with (default 1.50). Lowered automatically if the daemon says it is too new. */
  version?: string;
  /** TLS for a tcp:// host (files already read: see client/tls.ts). */
  tls?: ClientTls;
}

export interface LogsOptions {
  follow?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  since?: string;
  until?: string;
  timestamps?: boolean;
  tail?: string;
  details?: boolean;
}

export interface AttachOptions {
  stream?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  logs?: boolean;
  detachKeys?: string;
}

/** Filters in the Go client's wire form: {"key":{"value":true}}. */
export function encodeFilters(f?: Filters): string | undefined {
  if (!f) return undefined;
  const keys = Object.keys(f);
  if (!keys.length) return undefined;
  const o: Record<string, Record<string, boolean>> = {};
  for (const k of keys) {
    o[k] = {};
    for (const v of f[k]) o[k][v] = true;
  }
  return JSON.stringify(o);
}

const TOO_NEW = /client version [\d.]+ is too new\. Maximum supported API version is ([\d.]+)/;

/* ----------------------------------------------------------------- client */

export class EngineClient {
  readonly host: string;
  readonly endpoint: Endpoint;
  apiVersion: string;
  /** The version this client would use if the daemon allowed it. */
  readonly clientVersion: string;

  constructor(opts: ClientOptions = {}) {
    this.host = opts.host ?? resolveHost();
    this.endpoint = parseHost(this.host);
    if (opts.tls && this.endpoint.socketPath === undefined) this.endpoint.tls = opts.tls;
    this.apiVersion = opts.version ?? DEFAULT_API_VERSION;
    this.clientVersion = this.apiVersion;
  }

  private url(path: string, query?: Query): string {
    return `/v${this.apiVersion}${path}${encodeQuery(query)}`;
  }

  /** Adopt the daemon's maximum if it rejected ours as too new; returns true to retry. */
  private downgrade(err: unknown, sent: string): boolean {
    if (!(err instanceof ApiError) || err.statusCode !== 400) return false;
    const m = TOO_NEW.exec(err.message);
    // Compared with the version this request went with: a concurrent request may have lowered ours already.
    if (!m || m[1] === sent) return false;
    this.apiVersion = m[1];
    return true;
  }

  /** Raw request: resolves with the response for 1xx–3xx, rejects with ApiError for >= 400. */
  async request(method: string, path: string, opts: { query?: Query; body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<IncomingMessage> {
    for (let attempt = 0; ; attempt++) {
      const sent = this.apiVersion;
      const res = await send(this.endpoint, this.host, {
        method,
        path: this.url(path, opts.query),
        body: opts.body,
        headers: opts.headers,
        signal: opts.signal,
      });
      if ((res.statusCode ?? 500) < 400) return res;
      const err = await errorFromResponse(res);
      const streamed = opts.body && typeof (opts.body as Readable).pipe === 'function';
      if (attempt === 0 && !streamed && this.downgrade(err, sent)) continue;
      throw err;
    }
  }

  async json<T>(method: string, path: string, opts: { query?: Query; body?: unknown; headers?: Record<string, string> } = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    const buf = await readBody(res);
    if (!buf.length) return undefined as T;
    return JSON.parse(buf.toString('utf8')) as T;
  }

  async empty(method: string, path: string, opts: { query?: Query; body?: unknown } = {}): Promise<number> {
    const res = await this.request(method, path, opts);
    await readBody(res);
    return res.statusCode ?? 0;
  }

  /** HEAD /_ping (falls back to GET) and adopt min(client, daemon) API version. */
  async ping(negotiate = true): Promise<PingResponse> {
    let res: IncomingMessage;
    try {
      res = await send(this.endpoint, this.host, { method: 'HEAD', path: '/_ping' });
      await readBody(res);
      if ((res.statusCode ?? 500) >= 400) throw new Error('HEAD failed');
    } catch (e) {
      if (e instanceof ConnectionError) throw e;
      res = await send(this.endpoint, this.host, { method: 'GET', path: '/_ping' });
      await readBody(res);
    }
    const h = res.headers;
    const p: PingResponse = {
      apiVersion: h['api-version'] as string | undefined,
      osType: h['ostype'] as string | undefined,
      experimental: h['docker-experimental'] === 'true',
      builderVersion: h['builder-version'] as string | undefined,
      swarm: h['swarm'] as string | undefined,
    };
    if (negotiate) {
      const daemon = p.apiVersion ?? '1.24';
      if (compareVersions(daemon, this.clientVersion) < 0) this.apiVersion = daemon;
    }
    return p;
  }

  /** GET /version */
  version(): Promise<VersionResponse> {
    return this.json('GET', '/version');
  }
  info(): Promise<SystemInfo> {
    return this.json('GET', '/info');
  }
  /** GET /system/df (verbose or not, the daemon answers the same document) */
  systemDf(): Promise<SystemDiskUsage> {
    return this.json('GET', '/system/df');
  }
  /** POST /berth/system/check: Berth's own route (`berth system check [--repair]`). */
  systemCheck(opts: { repair?: boolean } = {}): Promise<SystemCheckReport> {
    return this.json('POST', '/berth/system/check', { query: { repair: opts.repair ? '1' : undefined } });
  }

  /* containers */
  containerCreate(body: ContainerCreateBody, opts: { name?: string; platform?: string } = {}): Promise<ContainerCreateResponse> {
    return this.json('POST', '/containers/create', { query: { name: opts.name || undefined, platform: opts.platform || undefined }, body });
  }
  /** Resolves to the status code (204 started, 304 already started). */
  containerStart(id: string, opts: { detachKeys?: string } = {}): Promise<number> {
    return this.empty('POST', `/containers/${encodeURIComponent(id)}/start`, { query: { detachKeys: opts.detachKeys } });
  }
  containerStop(id: string, opts: { timeout?: number; signal?: string } = {}): Promise<number> {
    return this.empty('POST', `/containers/${encodeURIComponent(id)}/stop`, { query: { t: opts.timeout, signal: opts.signal } });
  }
  containerRestart(id: string, opts: { timeout?: number; signal?: string } = {}): Promise<number> {
    return this.empty('POST', `/containers/${encodeURIComponent(id)}/restart`, { query: { t: opts.timeout, signal: opts.signal } });
  }
  containerKill(id: string, signal?: string): Promise<number> {
    return this.empty('POST', `/containers/${encodeURIComponent(id)}/kill`, { query: { signal } });
  }
  containerRemove(id: string, opts: { force?: boolean; volumes?: boolean; link?: boolean } = {}): Promise<number> {
    return this.empty('DELETE', `/containers/${encodeURIComponent(id)}`, {
      query: { force: opts.force || undefined, v: opts.volumes || undefined, link: opts.link || undefined },
    });
  }
  containerInspect(id: string, opts: { size?: boolean } = {}): Promise<ContainerInspect> {
    return this.json('GET', `/containers/${encodeURIComponent(id)}/json`, { query: { size: opts.size || undefined } });
  }
  containerList(opts: { all?: boolean; limit?: number; size?: boolean; filters?: Filters } = {}): Promise<ContainerSummary[]> {
    return this.json('GET', '/containers/json', {
      query: {
        all: opts.all || undefined,
        limit: opts.limit !== undefined && opts.limit > 0 ? opts.limit : undefined,
        size: opts.size || undefined,
        filters: encodeFilters(opts.filters),
      },
    });
  }
  containerResize(id: string, h: number, w: number): Promise<number> {
    return this.empty('POST', `/containers/${encodeURIComponent(id)}/resize`, { query: { h, w } });
  }

  /**
   * POST /containers/{id}/wait. The returned promise `headers` settles once the daemon has
   * registered the wait (API >= 1.30 flushes headers at once); `result` settles with the exit.
   */
  containerWait(id: string, condition: 'not-running' | 'next-exit' | 'removed' = 'not-running'): { headers: Promise<void>; result: Promise<WaitResponse> } {
    let resolveHeaders!: () => void;
    let rejectHeaders!: (e: unknown) => void;
    const headers = new Promise<void>((res, rej) => {
      resolveHeaders = res;
      rejectHeaders = rej;
    });
    const result = (async () => {
      let res: IncomingMessage;
      try {
        res = await this.request('POST', `/containers/${encodeURIComponent(id)}/wait`, { query: { condition } });
      } catch (e) {
        rejectHeaders(e);
        throw e;
      }
      resolveHeaders();
      const buf = await readBody(res);
      const text = buf.toString('utf8').trim();
      if (!text) throw new Error('wait: empty response from daemon');
      return JSON.parse(text) as WaitResponse;
    })();
    headers.catch(() => {});
    result.catch(() => {});
    return { headers, result };
  }

  /** Streams the raw logs body (stdcopy-framed unless the container has a TTY). */
  async containerLogs(id: string, opts: LogsOptions = {}, signal?: AbortSignal): Promise<IncomingMessage> {
    return this.request('GET', `/containers/${encodeURIComponent(id)}/logs`, {
      query: {
        follow: opts.follow || undefined,
        stdout: opts.stdout ?? true,
        stderr: opts.stderr ?? true,
        since: opts.since || undefined,
        until: opts.until || undefined,
        timestamps: opts.timestamps || undefined,
        details: opts.details || undefined,
        tail: opts.tail ?? 'all',
      },
      signal,
    });
  }

  /** Hijacked attach. */
  async containerAttach(id: string, opts: AttachOptions = {}): Promise<HijackedStream> {
    const q: Query = {
      stream: opts.stream ?? true,
      stdin: opts.stdin || undefined,
      stdout: opts.stdout ?? true,
      stderr: opts.stderr ?? true,
      logs: opts.logs || undefined,
      detachKeys: opts.detachKeys,
    };
    for (let attempt = 0; ; attempt++) {
      const sent = this.apiVersion;
      try {
        return await hijack(this.endpoint, this.host, 'POST', this.url(`/containers/${encodeURIComponent(id)}/attach`, q));
      } catch (e) {
        if (attempt === 0 && this.downgrade(e, sent)) continue;
        throw e;
      }
    }
  }

  /* exec */
  execCreate(id: string, body: ExecCreateBody): Promise<{ Id: string }> {
    return this.json('POST', `/containers/${encodeURIComponent(id)}/exec`, { body });
  }
  execStart(execId: string, body: { Detach?: boolean; Tty?: boolean; ConsoleSize?: [number, number] }): Promise<HijackedStream> {
    return hijack(this.endpoint, this.host, 'POST', this.url(`/exec/${encodeURIComponent(execId)}/start`), body);
  }
  execInspect(execId: string): Promise<ExecInspect> {
    return this.json('GET', `/exec/${encodeURIComponent(execId)}/json`);
  }

  /* container operations: rename, pause, top, stats, prune */
  containerRename(id: string, name: string): Promise<number> {
    return this.empty('POST', `/containers/${encodeURIComponent(id)}/rename`, { query: { name } });
  }
  containerPause(id: string): Promise<number> {
    return this.empty('POST', `/containers/${encodeURIComponent(id)}/pause`);
  }
  /** POST /containers/{id}/update: resources and restart policy; dockerd's warnings come back. */
  containerUpdate(id: string, body: Record<string, unknown>): Promise<{ Warnings: string[] | null }> {
    return this.json('POST', `/containers/${encodeURIComponent(id)}/update`, { body });
  }
  containerUnpause(id: string): Promise<number> {
    return this.empty('POST', `/containers/${encodeURIComponent(id)}/unpause`);
  }
  containerTop(id: string, psArgs: string[] = []): Promise<{ Titles: string[]; Processes: string[][] | null }> {
    return this.json('GET', `/containers/${encodeURIComponent(id)}/top`, { query: { ps_args: psArgs.length ? psArgs.join(' ') : undefined } });
  }
  /** GET /containers/{id}/stats: newline-delimited JSON objects, one a second with `stream`. */
  async *containerStats(id: string, opts: { stream?: boolean; oneShot?: boolean; signal?: AbortSignal } = {}): AsyncGenerator<ContainerStats> {
    const res = await this.request('GET', `/containers/${encodeURIComponent(id)}/stats`, {
      query: { stream: opts.stream ? '1' : '0', 'one-shot': opts.oneShot ? '1' : undefined },
      signal: opts.signal,
    });
    yield* iterateJSON<ContainerStats>(res);
  }
  containersPrune(filters?: Filters): Promise<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }> {
    return this.json('POST', '/containers/prune', { query: { filters: encodeFilters(filters) } });
  }
  imagesPrune(filters?: Filters): Promise<{ ImagesDeleted: ImageDeleteItem[] | null; SpaceReclaimed: number }> {
    return this.json('POST', '/images/prune', { query: { filters: encodeFilters(filters) } });
  }
  networksPrune(filters?: Filters): Promise<{ NetworksDeleted: string[] | null }> {
    return this.json('POST', '/networks/prune', { query: { filters: encodeFilters(filters) } });
  }
  buildPrune(filters?: Filters, opts: { all?: boolean } = {}): Promise<{ CachesDeleted: string[] | null; SpaceReclaimed: number }> {
    return this.json('POST', '/build/prune', { query: { all: opts.all || undefined, filters: encodeFilters(filters) } });
  }

  /* images */
  imageList(opts: { all?: boolean; digests?: boolean; filters?: Filters } = {}): Promise<ImageSummary[]> {
    return this.json('GET', '/images/json', {
      query: { all: opts.all || undefined, digests: opts.digests || undefined, filters: encodeFilters(opts.filters) },
    });
  }
  imageInspect(name: string): Promise<ImageInspect> {
    return this.json('GET', `/images/${encodePath(name)}/json`);
  }
  /** POST /images/create?fromImage=&tag= — the raw progress stream. */
  async imagePullStream(fromImage: string, tag?: string, opts: { platform?: string; registryAuth?: string } = {}): Promise<IncomingMessage> {
    return this.request('POST', '/images/create', {
      query: { fromImage, tag: tag || undefined, platform: opts.platform || undefined },
      headers: { 'X-Registry-Auth': opts.registryAuth ?? 'e30=' },
    });
  }
  /** Pull as an async stream of JSONMessage. */
  async *imagePull(fromImage: string, tag?: string, opts: { platform?: string; registryAuth?: string } = {}): AsyncGenerator<JSONMessage> {
    const res = await this.imagePullStream(fromImage, tag, opts);
    yield* iterateJSON<JSONMessage>(res);
  }
  imageTag(source: string, repo: string, tag?: string): Promise<number> {
    return this.empty('POST', `/images/${encodePath(source)}/tag`, { query: { repo, tag: tag || undefined } });
  }
  imageRemove(name: string, opts: { force?: boolean; noprune?: boolean } = {}): Promise<ImageDeleteItem[]> {
    return this.json('DELETE', `/images/${encodePath(name)}`, {
      query: { force: opts.force || undefined, noprune: opts.noprune || undefined },
    });
  }

  imageHistory(name: string): Promise<ImageHistoryItem[]> {
    return this.json('GET', `/images/${encodePath(name)}/history`);
  }
  /** POST /images/{name}/push?tag= — the raw progress stream. */
  async imagePushStream(name: string, tag?: string, opts: { registryAuth?: string } = {}): Promise<IncomingMessage> {
    return this.request('POST', `/images/${encodePath(name)}/push`, {
      query: { tag: tag || undefined },
      headers: { 'X-Registry-Auth': opts.registryAuth ?? 'e30=' },
    });
  }
  /** POST /commit: the container's changes as an image. */
  containerCommit(container: string, opts: CommitOptions = {}): Promise<{ Id: string }> {
    return this.json('POST', '/commit', {
      query: {
        container, repo: opts.repo || undefined, tag: opts.tag || undefined, comment: opts.comment || undefined,
        author: opts.author || undefined, changes: opts.changes?.length ? opts.changes : undefined,
        pause: opts.pause === undefined ? undefined : opts.pause,
      },
      body: opts.config,
    });
  }

  /* networks */
  networkCreate(body: NetworkCreateBody): Promise<NetworkCreateResponse> {
    return this.json('POST', '/networks/create', { body });
  }
  networkList(filters?: Filters): Promise<NetworkSummary[]> {
    return this.json('GET', '/networks', { query: { filters: encodeFilters(filters) } });
  }
  /** `verbose` adds swarm service details in dockerd; local networks answer the same either way. */
  networkInspect(id: string, opts: { verbose?: boolean } = {}): Promise<NetworkSummary> {
    return this.json('GET', `/networks/${encodeURIComponent(id)}`, { query: { verbose: opts.verbose ? 'true' : undefined } });
  }
  networkRemove(id: string): Promise<number> {
    return this.empty('DELETE', `/networks/${encodeURIComponent(id)}`);
  }
  networkConnect(id: string, body: NetworkConnectBody): Promise<number> {
    return this.empty('POST', `/networks/${encodeURIComponent(id)}/connect`, { body });
  }
  networkDisconnect(id: string, container: string, force = false): Promise<number> {
    return this.empty('POST', `/networks/${encodeURIComponent(id)}/disconnect`, { body: { Container: container, Force: force } });
  }

  /* volumes */
  volumeCreate(body: VolumeCreateBody): Promise<Volume> {
    return this.json('POST', '/volumes/create', { body });
  }
  volumeList(filters?: Filters): Promise<VolumeListResponse> {
    return this.json('GET', '/volumes', { query: { filters: encodeFilters(filters) } });
  }
  volumeInspect(name: string): Promise<Volume> {
    return this.json('GET', `/volumes/${encodeURIComponent(name)}`);
  }
  volumeRemove(name: string, opts: { force?: boolean } = {}): Promise<number> {
    return this.empty('DELETE', `/volumes/${encodeURIComponent(name)}`, { query: { force: opts.force || undefined } });
  }
  volumesPrune(filters?: Filters): Promise<VolumePruneResponse> {
    return this.json('POST', '/volumes/prune', { query: { filters: encodeFilters(filters) } });
  }

  /* events */
  async *events(opts: { since?: string; until?: string; filters?: Filters; signal?: AbortSignal } = {}): AsyncGenerator<EventMessage> {
    const res = await this.request('GET', '/events', {
      query: { since: opts.since, until: opts.until, filters: encodeFilters(opts.filters) },
      signal: opts.signal,
    });
    yield* iterateJSON<EventMessage>(res);
  }
}

/** Image names keep their slashes in the path, as the Go client does. */
function encodePath(name: string): string {
  return name
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}

