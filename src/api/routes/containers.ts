import { InvalidParameterError } from '../../engine/errors.js';
import type { CreateBody } from '../../engine/containers/create.js';
import type { WaitCondition } from '../../engine/containers/service.js';
import { rfc3339NanoFromNs } from '../../util/time.js';
import { boolParam, filtersParam, intParam, sendJson, type HijackContext, type Router } from '../router.js';
import { frame, STDERR, STDOUT } from '../../util/stdcopy.js';
import { pumpSession, streamContentType, writeHijackHead } from '../hijack.js';
import { containerInspect, containerSummary } from '../views/containers.js';

export function registerContainerRoutes(router: Router): void {
  router.add('POST', '/containers/create', async (ctx) => {
    const body = await ctx.json<CreateBody>();
    if (!body) throw new InvalidParameterError('config cannot be empty in order to create a container');
    const name = ctx.query.get('name') ?? undefined;
    const result = await ctx.engine.containers.create(body, name || undefined);
    sendJson(ctx.res, 201, result);
  });

  router.add('GET', '/containers/json', (ctx) => {
    const list = ctx.engine.containers.list({
      all: boolParam(ctx.query, 'all'),
      limit: intParam(ctx.query, 'limit'),
      filters: filtersParam(ctx.query),
      before: ctx.query.get('before') || undefined,
      since: ctx.query.get('since') || undefined,
    });
    sendJson(ctx.res, 200, list.map((c) => containerSummary(c, ctx.engine.imageDisplayName(c))));
  });

  router.add('GET', '/containers/{id}/json', (ctx) => {
    const rec = ctx.engine.containers.get(ctx.params[0]);
    sendJson(ctx.res, 200, containerInspect(rec, ctx.engine.containers.dir(rec.Id), ctx.engine.exec.idsFor(rec.Id)));
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
    const condition = (ctx.query.get('condition') || 'not-running') as WaitCondition;
    if (!['not-running', 'next-exit', 'removed'].includes(condition)) {
      throw new InvalidParameterError(`invalid condition: "${condition}"`);
    }
    const waiting = ctx.engine.containers.wait(ctx.params[0], condition);
    // From API 1.30 the client reads the headers before starting the container: send them now.
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    ctx.res.flushHeaders();
    let result;
    try {
      result = await waiting;
    } catch (e) {
      result = { StatusCode: -1, Error: { Message: (e as Error).message } };
    }
    ctx.res.end(JSON.stringify(result) + '\n');
  });

  router.add('DELETE', '/containers/{id}', async (ctx) => {
    await ctx.engine.containers.remove(ctx.params[0], { force: boolParam(ctx.query, 'force'), volumes: boolParam(ctx.query, 'v') });
    ctx.res.writeHead(204).end();
  });

  router.add('GET', '/containers/{id}/logs', async (ctx) => {
    const q = ctx.query;
    const stdout = boolParam(q, 'stdout');
    const stderr = boolParam(q, 'stderr');
    if (!stdout && !stderr) throw new InvalidParameterError('Bad parameters: you must choose at least one stream');
    const rec = ctx.engine.containers.get(ctx.params[0]);
    const tailRaw = q.get('tail');
    const tail = tailRaw === null || tailRaw === '' || tailRaw === 'all' ? undefined : Number(tailRaw);
    if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) {
      throw new InvalidParameterError(`invalid value for "tail": "${tailRaw}"`);
    }
    const timestamps = boolParam(q, 'timestamps');
    const records = ctx.engine.containers.logs(rec.Id, {
      stdout, stderr, tail, follow: boolParam(q, 'follow'),
      since: parseTime(q.get('since')), until: parseTime(q.get('until')),
    });
    const mux = !rec.Config.Tty;
    ctx.res.writeHead(200, { 'Content-Type': streamContentType(rec.Config.Tty, ctx.version) });
    ctx.res.flushHeaders();
    let closed = false;
    ctx.res.on('close', () => { closed = true; void records.return(undefined); });
    for await (const r of records) {
      if (closed) break;
      const payload = timestamps ? Buffer.concat([Buffer.from(rfc3339NanoFromNs(r.timeNs) + ' '), r.data]) : r.data;
      if (!ctx.res.write(mux ? frame(r.stream === 'stdout' ? STDOUT : STDERR, payload) : payload)) {
        await new Promise((res) => ctx.res.once('drain', res));
      }
    }
    ctx.res.end();
  });

  router.add('POST', '/containers/{id}/resize', (ctx) => {
    ctx.engine.containers.resize(ctx.params[0], intParam(ctx.query, 'h') ?? 0, intParam(ctx.query, 'w') ?? 0);
    ctx.res.writeHead(200, { 'Content-Length': '0' }).end();
  });

  router.hijack('POST', '/containers/{id}/attach', attach);
}

async function attach(ctx: HijackContext): Promise<void> {
  const q = ctx.query;
  const rec = ctx.engine.containers.get(ctx.params[0]);
  const session = ctx.engine.containers.attach(rec.Id, {
    stdin: boolParam(q, 'stdin'), stdout: boolParam(q, 'stdout'), stderr: boolParam(q, 'stderr'),
    logs: boolParam(q, 'logs'), stream: boolParam(q, 'stream'),
  });
  writeHijackHead(ctx, streamContentType(rec.Config.Tty, ctx.version));
  await pumpSession(ctx, session, {
    stdin: boolParam(q, 'stdin'), tty: rec.Config.Tty, detachKeys: q.get('detachKeys'), framed: !rec.Config.Tty,
  });
}

/** since/until: unix seconds with optional fraction, or RFC3339. */
function parseTime(v: string | null): number | undefined {
  if (v === null || v === '' || v === '0') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidParameterError(`invalid time value: ${v}`);
  return t / 1000;
}
