/** The /containers endpoints: lifecycle, list and inspect, logs, attach, and rename, pause, top, stats, prune. */
import { InvalidParameterError, NotFoundError } from '../../wire/errors.js';
import type { CreateBody } from '../../engine/containers/create.js';
import { rfc3339NanoFromNs } from '../../util/time.js';
import { boolParam, filtersParam, intParam, sendJson, tailParam, writeChunk, type HijackContext, type Router } from '../router.js';
import { frame, STDERR, STDOUT } from '../../util/stdcopy.js';
import { pumpSession, streamContentType, writeHijackHead } from '../hijack.js';
import { containerInspect, containerSummary } from '../views/containers.js';
import { checkBody } from '../body.js';
import { CONTAINER_CREATE } from '../schemas.js';
import { logServerError, messageOf, requestLine, statusOf } from '../errors.js';

export function registerContainerRoutes(router: Router): void {
  router.add('POST', '/containers/create', async (ctx) => {
    const body = await ctx.json<CreateBody>();
    if (!body) throw new InvalidParameterError('config cannot be empty in order to create a container');
    if (typeof body === 'object' && !Array.isArray(body)) checkBody(body, CONTAINER_CREATE);
    const name = ctx.query.get('name') ?? undefined;
    const result = await ctx.engine.containers.create(body, name || undefined);
    sendJson(ctx.res, 201, result);
  });

  router.add('GET', '/containers/json', async (ctx) => {
    const list = ctx.engine.containers.list({
      all: boolParam(ctx.query, 'all'),
      limit: intParam(ctx.query, 'limit'),
      filters: filtersParam(ctx.query),
      before: ctx.query.get('before') || undefined,
      since: ctx.query.get('since') || undefined,
    });
    const containers = ctx.engine.containers;
    const size = boolParam(ctx.query, 'size');
    sendJson(ctx.res, 200, await Promise.all(list.map(async (c) => containerSummary(c, containers.imageName(c), size ? await containers.sizes(c) : undefined))));
  });

  router.add('GET', '/containers/{id}/json', (ctx) => {
    sendJson(ctx.res, 200, containerInspect(ctx.engine.containers.inspect(ctx.params[0])));
  });

  router.add('POST', '/containers/{id}/start', async (ctx) => {
    await ctx.engine.containers.start(ctx.params[0]);
    ctx.res.writeHead(204).end();
  });

  router.add('POST', '/containers/{id}/stop', async (ctx) => {
    await ctx.engine.containers.stop(ctx.params[0], {
      timeout: intParam(ctx.query, 't') ?? intParam(ctx.query, 'timeout'),
      signal: ctx.query.get('signal') || undefined,
    });
    ctx.res.writeHead(204).end();
  });

  router.add('POST', '/containers/{id}/restart', async (ctx) => {
    await ctx.engine.containers.restart(ctx.params[0], {
      timeout: intParam(ctx.query, 't') ?? intParam(ctx.query, 'timeout'),
      signal: ctx.query.get('signal') || undefined,
    });
    ctx.res.writeHead(204).end();
  });

  router.add('POST', '/containers/{id}/kill', async (ctx) => {
    await ctx.engine.containers.kill(ctx.params[0], ctx.query.get('signal') || 'SIGKILL');
    ctx.res.writeHead(204).end();
  });

  router.add('POST', '/containers/{id}/wait', async (ctx) => {
    const waiting = ctx.engine.containers.wait(ctx.params[0], ctx.query.get('condition') || undefined);
    // From API 1.30 the client reads the headers before starting the container: send them now.
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    ctx.res.flushHeaders();
    let result;
    try {
      result = await waiting;
    } catch (e) {
      // The headers are out: the error goes into the body, as dockerd does; a 5xx is still logged.
      logServerError(statusOf(e), requestLine(ctx.req), e);
      result = { StatusCode: -1, Error: { Message: messageOf(e) } };
    }
    ctx.res.end(JSON.stringify(result) + '\n');
  });

  router.add('DELETE', '/containers/{id}', async (ctx) => {
    if (boolParam(ctx.query, 'link')) await ctx.engine.containers.removeLink(ctx.params[0]);
    else await ctx.engine.containers.remove(ctx.params[0], { force: boolParam(ctx.query, 'force'), volumes: boolParam(ctx.query, 'v') });
    ctx.res.writeHead(204).end();
  });

  // `docker rm --link /parent/alias`: a link name holds a slash (the docker CLI sends it after
  // the path's own slash, hence the double one).
  for (const path of ['/containers//{parent}/{alias}', '/containers/{parent}/{alias}']) {
    router.add('DELETE', path, async (ctx) => {
      const name = `/${ctx.params[0]}/${ctx.params[1]}`;
      if (!boolParam(ctx.query, 'link')) throw new NotFoundError(`No such container: ${name}`);
      await ctx.engine.containers.removeLink(name);
      ctx.res.writeHead(204).end();
    });
  }

  router.add('GET', '/containers/{id}/logs', async (ctx) => {
    const q = ctx.query;
    const { tty, records } = ctx.engine.containers.logs(ctx.params[0], {
      stdout: boolParam(q, 'stdout'), stderr: boolParam(q, 'stderr'), follow: boolParam(q, 'follow'),
      tail: tailParam(q), since: q.get('since') || undefined, until: q.get('until') || undefined,
    });
    const timestamps = boolParam(q, 'timestamps');
    ctx.res.writeHead(200, { 'Content-Type': streamContentType(tty, ctx.version) });
    ctx.res.flushHeaders();
    ctx.res.on('close', () => { void records.return(undefined); });
    for await (const r of records) {
      if (ctx.res.destroyed) break;
      const payload = timestamps ? Buffer.concat([Buffer.from(rfc3339NanoFromNs(r.timeNs) + ' '), r.data]) : r.data;
      await writeChunk(ctx.res, tty ? payload : frame(r.stream === 'stdout' ? STDOUT : STDERR, payload));
    }
    ctx.res.end();
  });

  router.add('POST', '/containers/{id}/resize', (ctx) => {
    ctx.engine.containers.resize(ctx.params[0], intParam(ctx.query, 'h') ?? 0, intParam(ctx.query, 'w') ?? 0);
    ctx.res.writeHead(200, { 'Content-Length': '0' }).end();
  });

  router.add('POST', '/containers/{id}/rename', async (ctx) => {
    await ctx.engine.containers.rename(ctx.params[0], ctx.query.get('name') ?? '');
    ctx.res.writeHead(204).end();
  });

  router.add('POST', '/containers/{id}/pause', async (ctx) => {
    await ctx.engine.containers.pause(ctx.params[0]);
    ctx.res.writeHead(204).end();
  });

  router.add('POST', '/containers/{id}/unpause', async (ctx) => {
    await ctx.engine.containers.unpause(ctx.params[0]);
    ctx.res.writeHead(204).end();
  });

  router.add('GET', '/containers/{id}/top', async (ctx) => {
    sendJson(ctx.res, 200, await ctx.engine.containers.top(ctx.params[0], ctx.query.get('ps_args') ?? ''));
  });

  router.add('GET', '/containers/{id}/stats', async (ctx) => {
    const samples = ctx.engine.containers.stats(ctx.params[0], { stream: boolParam(ctx.query, 'stream', true), oneShot: boolParam(ctx.query, 'one-shot') });
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    ctx.res.flushHeaders();
    ctx.res.on('close', () => { void samples.return(undefined); });
    for await (const s of samples) {
      if (ctx.res.destroyed) break;
      await writeChunk(ctx.res, JSON.stringify(s) + '\n');
    }
    ctx.res.end();
  });

  router.add('POST', '/containers/prune', async (ctx) => {
    sendJson(ctx.res, 200, await ctx.engine.containers.prune(filtersParam(ctx.query)));
  });

  router.hijack('POST', '/containers/{id}/attach', attach);
}

async function attach(ctx: HijackContext): Promise<void> {
  const q = ctx.query;
  const stdin = boolParam(q, 'stdin');
  const session = ctx.engine.containers.attach(ctx.params[0], {
    stdin, stdout: boolParam(q, 'stdout'), stderr: boolParam(q, 'stderr'),
    logs: boolParam(q, 'logs'), stream: boolParam(q, 'stream'), detachKeys: q.get('detachKeys') || undefined,
  });
  writeHijackHead(ctx, streamContentType(session.tty, ctx.version));
  await pumpSession(ctx, session, { stdin, framed: !session.tty });
}
