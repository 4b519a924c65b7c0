import { filtersParam, sendJson, writeChunk, type Router } from '../router.js';
import { eventMessage, infoView, versionView } from '../views/system.js';
import { containerSummary } from '../views/containers.js';
import { imageSummary } from '../views/images.js';
import { volumeUsageView } from '../views/volumes.js';

export function registerSystemRoutes(router: Router): void {
  const ping = (ctx: Parameters<Parameters<Router['add']>[2]>[0]) => {
    ctx.res.writeHead(200, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Builder-Version': '1',
      'Swarm': 'inactive',
      'Cache-Control': 'no-cache, no-store, must-revalidate',
      'Pragma': 'no-cache',
      'Content-Length': ctx.req.method === 'HEAD' ? '0' : '2',
    });
    ctx.res.end(ctx.req.method === 'HEAD' ? undefined : 'OK');
  };
  router.add('GET', '/_ping', ping);
  router.add('HEAD', '/_ping', ping);

  router.add('GET', '/version', (ctx) => sendJson(ctx.res, 200, versionView(ctx.engine.system.versionFacts())));
  router.add('GET', '/info', (ctx) => sendJson(ctx.res, 200, infoView(ctx.engine.system.facts())));

  router.add('GET', '/events', async (ctx) => {
    const gone = new AbortController();
    const events = ctx.engine.events.stream({
      since: ctx.query.get('since') || undefined,
      until: ctx.query.get('until') || undefined,
      filters: filtersParam(ctx.query),
      signal: gone.signal,
    });
    ctx.res.on('close', () => gone.abort());
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    ctx.res.flushHeaders();
    for await (const e of events) await writeChunk(ctx.res, JSON.stringify(eventMessage(e, ctx.version)) + '\n');
    ctx.res.end();
  });

  router.add('GET', '/system/df', async (ctx) => {
    const du = await ctx.engine.diskUsage();
    sendJson(ctx.res, 200, {
      LayersSize: du.LayersSize,
      Images: du.Images.map((e) => imageSummary(e, ctx.version)),
      Containers: du.Containers.map((c) => containerSummary(c.record, c.imageName, c.sizes)),
      Volumes: du.Volumes.map(volumeUsageView),
      BuildCache: du.BuildCache,
    });
  });

  router.add('GET', '/plugins', (ctx) => sendJson(ctx.res, 200, []));

  router.add('POST', '/swarm/leave', (ctx) => sendJson(ctx.res, 503, { message: 'This node is not part of a swarm' }));
  for (const path of ['/swarm', '/nodes', '/services', '/tasks', '/secrets', '/configs']) {
    router.add('GET', path, (ctx) => sendJson(ctx.res, 503, {
      message: 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.',
    }));
  }
}
