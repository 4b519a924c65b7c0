/** POST /containers/{id}/update: resources and restart policy of a container (engine/containers/update.ts). */
import type { UpdateBody } from '../../engine/containers/update.js';
import { sendJson, type Router } from '../router.js';

export function registerContainerUpdateRoute(router: Router): void {
  router.add('POST', '/containers/{id}/update', async (ctx) => {
    const body = (await ctx.json<UpdateBody>()) ?? {};
    sendJson(ctx.res, 200, await ctx.engine.containers.update(ctx.params[0], body));
  });
}
