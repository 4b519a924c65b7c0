import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidParameterError } from '../../engine/errors.js';
import type { AuthConfig, JSONMessage, ProgressSink } from '../../engine/images/types.js';
import { checkBody } from '../body.js';
import { CONTAINER_CONFIG } from '../schemas.js';
import { boolParam, filtersParam, sendJson, type Router } from '../router.js';
import { afterUpload } from './archive.js';
import { imageHistory, imageInspect, imageSummary } from '../views/images.js';

/**
 * Image routes: each parses its request, calls one ImageService method (engine/images/service.ts)
 * and renders through api/views/images.ts.
 */
export function registerImageRoutes(router: Router): void {
  router.add('GET', '/images/json', (ctx) => {
    const list = ctx.engine.images.list({ all: boolParam(ctx.query, 'all'), filters: filtersParam(ctx.query) });
    sendJson(ctx.res, 200, list.map((e) => imageSummary(e, ctx.version)));
  });

  router.add('POST', '/images/create', async (ctx) => {
    const q = ctx.query;
    const fromImage = q.get('fromImage');
    if (!fromImage) {
      const src = q.get('fromSrc');
      if (!src) throw new InvalidParameterError('fromImage or fromSrc is required');
      // docker import: the body (fromSrc=-) or a URL the daemon fetches (images/transfer/import.ts).
      await progressStream(ctx.res, (progress) => afterUpload(ctx.req, () => ctx.engine.images.transfer.import({
        src, body: ctx.req, repo: q.get('repo') || undefined, tag: q.get('tag') || undefined,
        message: q.get('message') || undefined, changes: q.getAll('changes').filter((c) => c !== ''),
        platform: q.get('platform') || undefined,
      }, progress)));
      return;
    }
    const tag = q.get('tag') ?? '';
    const ref = !tag ? fromImage : tag.includes(':') ? `${fromImage}@${tag}` : `${fromImage}:${tag}`;
    const opts = { auth: decodeAuth(ctx.req.headers['x-registry-auth']), platform: q.get('platform') || undefined };
    await progressStream(ctx.res, (progress) => ctx.engine.images.pull(ref, opts, progress));
  });

  // docker save: one image (GET /images/{name}/get) or several (names=…), as a tar stream.
  router.add('GET', '/images/get', async (ctx) => {
    await sendTar(ctx.res, await ctx.engine.images.transfer.save(ctx.query.getAll('names'), ctx.query.get('platform') || undefined));
  });

  router.add('GET', '/images/{name*}/get', async (ctx) => {
    await sendTar(ctx.res, await ctx.engine.images.transfer.save([ctx.params[0]], ctx.query.get('platform') || undefined));
  });

  // docker load: the archive is the body; `Loaded image: …` as JSON stream messages.
  router.add('POST', '/images/load', async (ctx) => {
    const quiet = boolParam(ctx.query, 'quiet');
    await progressStream(ctx.res, (progress) => afterUpload(ctx.req, () => ctx.engine.images.transfer.load(ctx.req, quiet, progress, ctx.query.get('platform') || undefined)));
  });

  router.add('GET', '/images/{name*}/json', (ctx) => {
    sendJson(ctx.res, 200, imageInspect(ctx.engine.images.inspect(ctx.params[0]), ctx.version));
  });

  router.add('GET', '/images/{name*}/history', (ctx) => {
    sendJson(ctx.res, 200, imageHistory(ctx.engine.images.history(ctx.params[0])));
  });

  router.add('POST', '/images/{name*}/tag', async (ctx) => {
    const repo = ctx.query.get('repo');
    if (!repo) throw new InvalidParameterError('repository name must have at least one component');
    await ctx.engine.images.tag(ctx.params[0], repo, ctx.query.get('tag') || undefined);
    ctx.res.writeHead(201).end();
  });

  router.add('POST', '/images/{name*}/push', async (ctx) => {
    const auth = decodeAuth(ctx.req.headers['x-registry-auth']);
    await progressStream(ctx.res, (progress) => ctx.engine.images.push(ctx.params[0], ctx.query.get('tag') || undefined, auth, progress));
  });

  router.add('POST', '/images/prune', async (ctx) => {
    sendJson(ctx.res, 200, await ctx.engine.images.prune(filtersParam(ctx.query)));
  });

  router.add('POST', '/commit', async (ctx) => {
    const q = ctx.query;
    const container = q.get('container');
    if (!container) throw new InvalidParameterError('container is required');
    const config = await ctx.json<Record<string, unknown> | null>();
    if (config !== undefined && config !== null && (typeof config !== 'object' || Array.isArray(config))) {
      throw new InvalidParameterError('invalid JSON: the body must be a container Config object');
    }
    checkBody(config, CONTAINER_CONFIG);
    const id = await ctx.engine.images.commit(container, {
      repo: q.get('repo') || undefined, tag: q.get('tag') || undefined,
      comment: q.get('comment') || undefined, author: q.get('author') || undefined,
      changes: q.getAll('changes').filter((c) => c !== ''),
      // Default true (API >= 1.13), as dockerd.
      pause: q.get('pause') === null || q.get('pause') === '' ? true : boolParam(q, 'pause'),
      config: config ?? undefined,
    });
    sendJson(ctx.res, 201, { Id: id });
  });

  router.add('DELETE', '/images/{name*}', async (ctx) => {
    const result = await ctx.engine.images.remove(ctx.params[0], {
      force: boolParam(ctx.query, 'force'), noprune: boolParam(ctx.query, 'noprune'),
    });
    sendJson(ctx.res, 200, result);
  });
}

/**
 * Runs a pull or push whose progress is a JSON-message stream: an error before the first message
 * keeps its HTTP status; after it, the error is the stream's last message, as dockerd does.
 */
async function progressStream(res: ServerResponse, work: (progress: ProgressSink) => Promise<unknown>): Promise<void> {
  const out = lazyJsonStream(res);
  try {
    await work(out.write);
  } catch (e) {
    if (!out.started()) throw e;
    const message = (e as Error).message;
    out.write({ errorDetail: { message }, error: message });
  }
  out.end();
}

/** Streams an archive as application/x-tar; a failure mid-way cuts the response (as dockerd). */
async function sendTar(res: ServerResponse, chunks: AsyncIterable<Buffer>): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  try {
    await pipeline(Readable.from(chunks, { objectMode: false }), res);
  } catch (e) {
    // The client went away: nobody to answer, nothing for the daemon's log.
    if ((e as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE' && !res.writableFinished) return;
    throw e;
  }
}

/** X-Registry-Auth: base64url JSON; absent or "e30=" ({}) means anonymous. */
export function decodeAuth(header: string | string[] | undefined): AuthConfig | undefined {
  const raw = Array.isArray(header) ? header[0] : header;
  if (!raw) return undefined;
  try {
    const json = Buffer.from(raw.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
    const auth = JSON.parse(json) as AuthConfig;
    return Object.keys(auth).length ? auth : undefined;
  } catch {
    // As dockerd: an undecodable X-Registry-Auth is treated as no credentials (the registry then says 401).
    return undefined;
  }
}

/**
 * A JSON-message stream whose 200 headers go out with the first message, so an error before
 * any progress (unknown repository, bad reference) still gets its proper HTTP status.
 */
export function lazyJsonStream(res: ServerResponse) {
  let started = false;
  return {
    started: () => started,
    write: (msg: JSONMessage) => {
      if (!started) {
        started = true;
        res.writeHead(200, { 'Content-Type': 'application/json' });
      }
      res.write(JSON.stringify(msg) + '\r\n');
    },
    end: () => {
      if (!started) res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end();
    },
  };
}
