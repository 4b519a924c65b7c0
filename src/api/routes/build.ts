/**
 * POST /build (the legacy builder: every query parameter dockerd's build router reads, honoured
 * or refused with a 400 naming it) and POST /build/prune. The body is the context tar, plain or
 * compressed, or gzip per Content-Encoding; the answer is the JSON message stream the docker CLI
 * prints (`stream`, `aux.ID`, `errorDetail` with a failed RUN's exit code).
 */
import type { IncomingMessage } from 'node:http';
import { createGunzip } from 'node:zlib';
import { InvalidParameterError } from '../../engine/errors.js';
import { RunFailedError, type BuildOptions } from '../../engine/build/builder.js';
import { parseDockerRef } from '../../wire/reference.js';
import { boolParam, sendJson, type Router } from '../router.js';
import { lazyJsonStream } from './images.js';

function jsonParam<T>(q: URLSearchParams, name: string, check: (v: unknown) => boolean, what: string): T | undefined {
  const raw = q.get(name);
  if (!raw) return undefined;
  let v: unknown;
  try { v = JSON.parse(raw); } catch { throw new InvalidParameterError(`invalid ${name}: ${raw}`); }
  if (v === null) return undefined;
  if (!check(v)) throw new InvalidParameterError(`invalid ${name}: expected ${what}`);
  return v as T;
}

const isStringMap = (nullable: boolean) => (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v)
  && Object.values(v).every((x) => typeof x === 'string' || (nullable && x === null));

function intOf(q: URLSearchParams, name: string): number | undefined {
  const raw = q.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^-?\d+$/.test(raw)) throw new InvalidParameterError(`invalid ${name}: ${raw}`);
  return Number(raw);
}

/** The request's options; what Berth cannot do is a 400 naming the parameter. */
export function buildOptions(q: URLSearchParams): BuildOptions {
  const version = q.get('version');
  if (version && version !== '1') throw new InvalidParameterError(`build version ${version} (BuildKit) is not supported by Berth: it serves the legacy builder (version=1) only`);
  for (const name of ['session', 'buildid', 'outputs', 'cgroupparent']) {
    if (q.get(name)) throw new InvalidParameterError(`${name} is not supported by Berth's builder`);
  }
  if (boolParam(q, 'squash')) throw new InvalidParameterError('squash is not supported by Berth (an experimental dockerd feature)');
  const isolation = q.get('isolation');
  if (isolation && isolation !== 'default') throw new InvalidParameterError(`Unsupported isolation: ${JSON.stringify(isolation)}`);
  const tags = q.getAll('t').filter((t) => t !== '');
  for (const t of tags) parseDockerRef(t); // invalid reference format: before anything runs
  const resources: Record<string, unknown> = {};
  const ints: Array<[string, string]> = [['memory', 'Memory'], ['memswap', 'MemorySwap'], ['cpushares', 'CpuShares'], ['cpuquota', 'CpuQuota'], ['cpuperiod', 'CpuPeriod']];
  for (const [param, field] of ints) {
    const v = intOf(q, param);
    if (v) resources[field] = v;
  }
  for (const [param, field] of [['cpusetcpus', 'CpusetCpus'], ['cpusetmems', 'CpusetMems']] as const) {
    const v = q.get(param);
    if (v) resources[field] = v;
  }
  const ulimits = jsonParam<unknown[]>(q, 'ulimits', Array.isArray, 'a list');
  if (ulimits?.length) resources.Ulimits = ulimits;
  const shm = intOf(q, 'shmsize');
  if (shm !== undefined && shm < 0) throw new InvalidParameterError('shmsize: SHM size can not be less than 0');
  const extraHosts = q.getAll('extrahosts').flatMap((h) => h.split(',')).filter(Boolean);
  return {
    dockerfile: q.get('dockerfile') || 'Dockerfile',
    tags,
    buildArgs: jsonParam<Record<string, string | null>>(q, 'buildargs', isStringMap(true), 'a map of strings') ?? {},
    labels: jsonParam<Record<string, string>>(q, 'labels', isStringMap(false), 'a map of strings') ?? {},
    target: q.get('target') || undefined,
    noCache: boolParam(q, 'nocache'),
    quiet: boolParam(q, 'q'),
    rm: boolParam(q, 'rm', true) || boolParam(q, 'forcerm'),
    pull: boolParam(q, 'pull'),
    networkMode: q.get('networkmode') || undefined,
    extraHosts,
    shmSize: shm || undefined,
    cacheFrom: jsonParam<string[]>(q, 'cachefrom', (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'), 'a list of strings') ?? [],
    platform: q.get('platform') || undefined,
    resources,
  };
}

/** The body as the context stream (gunzipped first when Content-Encoding says gzip). */
function contextBody(req: IncomingMessage): AsyncIterable<Uint8Array> {
  const enc = (req.headers['content-encoding'] ?? '').toLowerCase();
  if (enc === 'gzip') {
    const gz = createGunzip();
    req.on('error', (e) => gz.destroy(e));
    return req.pipe(gz);
  }
  if (enc && enc !== 'identity') throw new InvalidParameterError(`unsupported Content-Encoding: ${enc}`);
  return req;
}

export function registerBuildRoutes(router: Router): void {
  router.add('POST', '/build', async (ctx) => {
    const opts = buildOptions(ctx.query);
    const remote = ctx.query.get('remote');
    const gone = new AbortController();
    ctx.res.on('close', () => { if (!ctx.res.writableFinished) gone.abort(); });
    const out = lazyJsonStream(ctx.res);
    try {
      const source = remote ? { remote } : { body: contextBody(ctx.req) };
      await ctx.engine.builder.build(source, opts, (m) => { if (!gone.signal.aborted) out.write(m); }, gone.signal);
    } catch (e) {
      if (gone.signal.aborted) return;
      if (!out.started()) throw e;
      const message = (e as Error).message;
      const code = e instanceof RunFailedError ? e.exitCode : undefined;
      out.write({ errorDetail: { ...(code !== undefined ? { code } : {}), message }, error: message });
    }
    if (!gone.signal.aborted) out.end();
  });

  router.add('POST', '/build/prune', async (ctx) => {
    sendJson(ctx.res, 200, await ctx.engine.pruneBuildCache());
  });
}
