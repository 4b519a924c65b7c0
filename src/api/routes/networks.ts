/** /networks: create, list, inspect, remove, connect, disconnect, prune (engine/network). */
import { InvalidParameterError, NotFoundError } from '../../engine/errors.js';
import type { NetworkManager } from '../../engine/network/manager.js';
import type { NetworkCreateRequest } from '../../engine/network/networks.js';
import type { EndpointConfig } from '../../engine/network/types.js';
import type { NetworkPruneResponse } from '../../wire/types.js';
import { networkResource, networkSummary } from '../views/networks.js';
import { checkBody } from '../body.js';
import { NETWORK_CONNECT, NETWORK_CREATE, NETWORK_DISCONNECT } from '../schemas.js';
import { filtersParam, sendJson, type RequestContext, type Router } from '../router.js';

function manager(ctx: RequestContext): NetworkManager {
  const m = ctx.engine.network;
  if (!m) throw new NotFoundError('networking is disabled on this daemon');
  return m;
}

export function registerNetworkRoutes(router: Router): void {
  router.add('GET', '/networks', (ctx) => {
    const m = ctx.engine.network;
    const filters = filtersParam(ctx.query);
    sendJson(ctx.res, 200, m ? m.list(filters).map((n) => networkSummary(n, ctx.version)) : []);
  });

  router.add('POST', '/networks/create', async (ctx) => {
    const body = await ctx.json<NetworkCreateRequest>();
    if (!body || typeof body !== 'object') throw new InvalidParameterError('invalid JSON: the request body must be an object');
    checkBody(body, NETWORK_CREATE);
    sendJson(ctx.res, 201, await manager(ctx).create(body));
  });

  router.add('POST', '/networks/prune', async (ctx) => {
    const m = ctx.engine.network;
    const deleted = m ? await m.prune(filtersParam(ctx.query)) : [];
    sendJson(ctx.res, 200, { NetworksDeleted: deleted } satisfies NetworkPruneResponse);
  });

  router.add('GET', '/networks/{id}', (ctx) => {
    // `verbose` is not read: it adds the services of swarm-scoped networks, and local networks have none.
    const { network, attachments } = manager(ctx).inspect(ctx.params[0]);
    sendJson(ctx.res, 200, networkResource(network, attachments, ctx.version));
  });

  router.add('DELETE', '/networks/{id}', async (ctx) => {
    await manager(ctx).remove(ctx.params[0]);
    ctx.res.writeHead(204).end();
  });

  router.add('POST', '/networks/{id}/connect', async (ctx) => {
    const body = checkBody(await ctx.json(), NETWORK_CONNECT) as { Container?: string; EndpointConfig?: EndpointConfig | null };
    if (!body.Container) throw new InvalidParameterError('no container specified');
    await ctx.engine.containers.connectNetwork(body.Container, ctx.params[0], body.EndpointConfig ?? {});
    ctx.res.writeHead(200).end();
  });

  router.add('POST', '/networks/{id}/disconnect', async (ctx) => {
    const body = checkBody(await ctx.json(), NETWORK_DISCONNECT) as { Container?: string; Force?: boolean };
    if (!body.Container) throw new InvalidParameterError('no container specified');
    // dockerd's Force deletes a stale endpoint of a container that no longer exists; endpoints live
    // in the container records here, so there is never a stale one to force.
    await ctx.engine.containers.disconnectNetwork(body.Container, ctx.params[0]);
    ctx.res.writeHead(200).end();
  });
}
