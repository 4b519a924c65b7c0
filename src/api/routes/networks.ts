/** /networks: create, list, inspect, remove, connect, disconnect, prune (engine/network/manager.ts). */
import { InvalidParameterError, NotFoundError } from '../../engine/errors.js';
import type { NetworkManager } from '../../engine/network/manager.js';
import type { NetworkRecord } from '../../engine/network/types.js';
import { parsePruneFilters, pruneMatches } from '../../engine/prune.js';
import { boolParam, filtersParam, sendJson, type RequestContext, type Router } from '../router.js';

function manager(ctx: RequestContext): NetworkManager {
  const m = ctx.engine.network;
  if (!m) throw new NotFoundError('networking is disabled on this daemon');
  return m;
}

const LIST_FILTERS = new Set(['name', 'id', 'driver', 'label', 'type', 'scope', 'dangling']);

function matches(m: NetworkManager, n: NetworkRecord, filters: Map<string, string[]>): boolean {
  for (const [key, values] of filters) {
    if (!LIST_FILTERS.has(key)) throw new InvalidParameterError(`invalid filter '${key}'`);
    // Labels must all match (dockerd's MatchKVList); other keys' values are alternatives.
    const ok = (key === 'label' ? values.every.bind(values) : values.some.bind(values))((v: string) => {
      switch (key) {
        case 'name': return n.Name.includes(v);
        case 'id': return n.Id.startsWith(v);
        case 'driver': return n.Driver === v;
        case 'scope': return v === 'local';
        case 'type': {
          const builtin = n.Name === 'bridge' || n.Name === 'host' || n.Name === 'none';
          if (v !== 'custom' && v !== 'builtin') throw new InvalidParameterError(`invalid filter: 'type'='${v}'`);
          return v === 'builtin' ? builtin : !builtin;
        }
        case 'dangling': {
          const used = Object.keys(m.view(n, true).Containers).length > 0;
          return (v === 'true' || v === '1') ? !used : used;
        }
        default: {
          const [k, val] = v.split('=', 2);
          const have = n.Labels?.[k];
          return have !== undefined && (val === undefined || have === val);
        }
      }
    });
    if (!ok) return false;
  }
  return true;
}

export function registerNetworkRoutes(router: Router): void {
  router.add('GET', '/networks', (ctx) => {
    const m = ctx.engine.network;
    if (!m) { sendJson(ctx.res, 200, []); return; }
    const filters = filtersParam(ctx.query);
    sendJson(ctx.res, 200, m.all().filter((n) => matches(m, n, filters)).map((n) => m.view(n, false)));
  });

  router.add('POST', '/networks/create', async (ctx) => {
    const body = await ctx.json<Parameters<NetworkManager['create']>[0]>();
    if (!body || typeof body !== 'object') throw new InvalidParameterError('invalid JSON: the request body must be an object');
    sendJson(ctx.res, 201, await manager(ctx).create(body));
  });

  router.add('POST', '/networks/prune', async (ctx) => {
    const m = ctx.engine.network;
    if (!m) { sendJson(ctx.res, 200, { NetworksDeleted: [] }); return; }
    const f = parsePruneFilters(filtersParam(ctx.query), ['until', 'label', 'label!']);
    sendJson(ctx.res, 200, await m.prune(filtersParam(ctx.query), (created, labels) => pruneMatches(f, created, labels)));
  });

  router.add('GET', '/networks/{id}', (ctx) => {
    const m = manager(ctx);
    void boolParam(ctx.query, 'verbose');
    sendJson(ctx.res, 200, m.view(m.get(ctx.params[0]), true));
  });

  router.add('DELETE', '/networks/{id}', async (ctx) => {
    await manager(ctx).remove(ctx.params[0]);
    ctx.res.writeHead(204).end();
  });

  router.add('POST', '/networks/{id}/connect', async (ctx) => {
    const body = await ctx.json<{ Container?: string; EndpointConfig?: { Aliases?: string[] | null; IPAMConfig?: { IPv4Address?: string } | null } }>();
    if (!body?.Container) throw new InvalidParameterError('no container specified');
    await ctx.engine.containers.connectNetwork(body.Container, ctx.params[0], body.EndpointConfig ?? {});
    ctx.res.writeHead(200).end();
  });

  router.add('POST', '/networks/{id}/disconnect', async (ctx) => {
    const body = await ctx.json<{ Container?: string; Force?: boolean }>();
    if (!body?.Container) throw new InvalidParameterError('no container specified');
    // dockerd's Force deletes a stale endpoint of a container that no longer exists; endpoints live
    // in the container records here, so there is never a stale one to force.
    await ctx.engine.containers.disconnectNetwork(body.Container, ctx.params[0]);
    ctx.res.writeHead(200).end();
  });
}
