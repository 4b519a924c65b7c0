import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidParameterError } from '../../engine/errors.js';
import { encodePathStat, type ContainerPathStat } from '../../wire/path-stat.js';
import { logServerError, requestLine, statusOf } from '../errors.js';
import { boolParam, sendJson, type RequestContext, type Router } from '../router.js';

/**
 * Stream `body` to the client as the response, a chunk at a time, waiting for each write to drain.
 * A client that goes away stops the generator (its finally releases what it holds); an error once
 * the head is out can only cut the stream (logged when it is the daemon's fault).
 */
export async function streamTar(ctx: RequestContext, headers: Record<string, string>, body: AsyncGenerator<Buffer>): Promise<void> {
  const res: ServerResponse = ctx.res;
  let closed = false;
  res.on('close', () => { closed = true; });
  res.writeHead(200, { 'Content-Type': 'application/x-tar', ...headers });
  try {
    for await (const chunk of body) {
      if (closed) break;
      if (!res.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = (): void => { res.off('drain', done); res.off('close', done); resolve(); };
          res.on('drain', done);
          res.on('close', done);
        });
      }
    }
    res.end();
  } catch (e) {
    logServerError(statusOf(e), requestLine(ctx.req), e);
    res.destroy();
  } finally {
    await body.return(undefined);
  }
}

/**
 * A request body as a stream of chunks; a client that leaves mid-body made a bad request (a 400,
 * as router.ts's readBody says it), not a daemon failure. A consumer that stops early does not
 * destroy the request (see withUpload).
 */
async function* requestBody(req: IncomingMessage): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of req.iterator({ destroyOnReturn: false })) yield chunk as Buffer;
  } catch {
    throw new InvalidParameterError('the connection ended before the request body');
  }
  if (!req.complete) throw new InvalidParameterError('the connection ended before the request body');
}

/** How much of a refused upload is read and dropped before the answer; past it, the connection is cut. */
const DRAIN_LIMIT = 1 << 30;

/**
 * Runs `fn` on the request's body, then reads and drops what `fn` left of it (an archive refused
 * at its first entry) before the answer goes out. Closing the connection under a client still
 * sending made the berth CLI print `write EPIPE` instead of the refusal; Go's client (docker's)
 * reads the answer anyway, Node's cannot.
 */
export function withUpload<T>(req: IncomingMessage, fn: (body: AsyncGenerator<Buffer>) => Promise<T>): Promise<T> {
  return afterUpload(req, () => fn(requestBody(req)));
}

/**
 * Runs `fn`, which reads the request's body itself without destroying it (load and import read
 * it through their archive stream), then drops what it left, as withUpload: refused before any
 * progress, they answer with an error status as cp does (the berth CLI met `write EPIPE` in CI).
 */
export async function afterUpload<T>(req: IncomingMessage, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    await drainRequest(req);
  }
}

function drainRequest(req: IncomingMessage): Promise<void> {
  if (req.complete || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let n = 0;
    const done = () => { req.off('data', onData); req.off('end', done); req.off('close', done); req.off('error', done); resolve(); };
    const onData = (c: Buffer) => {
      n += c.length;
      if (n > DRAIN_LIMIT) { done(); req.destroy(); }
    };
    req.on('data', onData);
    req.once('end', done);
    req.once('close', done);
    req.once('error', done);
    req.resume();
  });
}

/** dockerd's ArchiveFormValues: `path` is required. */
function pathParam(ctx: RequestContext): string {
  const path = ctx.query.get('path') ?? '';
  if (path === '') throw new InvalidParameterError('bad parameter: path cannot be empty');
  return path;
}

function statHeader(stat: ContainerPathStat): Record<string, string> {
  return { 'X-Docker-Container-Path-Stat': encodePathStat(stat) };
}

/** docker cp, diff, export: /containers/{id}/archive, /changes, /export (dockerd's router/container/copy.go). */
export function registerArchiveRoutes(router: Router): void {
  router.add('HEAD', '/containers/{id}/archive', async (ctx) => {
    const stat = await ctx.engine.archive.stat(ctx.params[0], pathParam(ctx));
    ctx.res.writeHead(200, { ...statHeader(stat), 'Content-Length': '0' }).end();
  });

  router.add('GET', '/containers/{id}/archive', async (ctx) => {
    const a = await ctx.engine.archive.get(ctx.params[0], pathParam(ctx));
    await streamTar(ctx, statHeader(a.stat), a.body);
  });

  router.add('PUT', '/containers/{id}/archive', async (ctx) => {
    const path = pathParam(ctx);
    await withUpload(ctx.req, (body) => ctx.engine.archive.put(ctx.params[0], path, {
      noOverwriteDirNonDir: boolParam(ctx.query, 'noOverwriteDirNonDir'),
      copyUIDGID: boolParam(ctx.query, 'copyUIDGID'),
    }, body));
    ctx.res.writeHead(200, { 'Content-Length': '0' }).end();
  });

  router.add('GET', '/containers/{id}/export', async (ctx) => {
    await streamTar(ctx, {}, await ctx.engine.archive.export(ctx.params[0]));
  });

  router.add('GET', '/containers/{id}/changes', async (ctx) => {
    const changes = await ctx.engine.archive.changes(ctx.params[0]);
    sendJson(ctx.res, 200, changes.length ? changes : null); // dockerd's nil slice
  });
}
