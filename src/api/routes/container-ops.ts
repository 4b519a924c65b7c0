/**
 * Container operations beyond the lifecycle: rename, pause/unpause, top, stats, and the prune
 * endpoints (`/containers/prune`, `/images/prune`, plus an empty `/build/prune` answer so
 * `docker system prune` works before a build cache exists).
 */
import { InvalidParameterError } from '../../engine/errors.js';
import { boolParam, filtersParam, sendJson, type Router } from '../router.js';

export function registerContainerOpsRoutes(router: Router): void {
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
    const stream = boolParam(ctx.query, 'stream', true);
    const oneShot = boolParam(ctx.query, 'one-shot');
    if (oneShot && stream) throw new InvalidParameterError('cannot have stream=true and one-shot=true');
    const samples = ctx.engine.containers.stats(ctx.params[0], { stream, oneShot });
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    ctx.res.flushHeaders();
    let closed = false;
    ctx.res.on('close', () => { closed = true; void samples.return(undefined); });
    for await (const s of samples) {
      if (closed) break;
      ctx.res.write(JSON.stringify(s) + '\n');
    }
    ctx.res.end();
  });

  router.add('POST', '/containers/prune', async (ctx) => {
    sendJson(ctx.res, 200, await ctx.engine.containers.prune(filtersParam(ctx.query)));
  });

  // No build cache yet: nothing to prune. (/networks/prune: routes/networks.ts)
  router.add('POST', '/build/prune', (ctx) => sendJson(ctx.res, 200, { CachesDeleted: [], SpaceReclaimed: 0 }));
}
