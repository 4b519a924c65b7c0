import type { EngineEvent } from '../../engine/events/bus.js';
import { filtersParam, sendJson, type Router } from '../router.js';
import { compareVersions } from '../version.js';
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

  router.add('GET', '/version', (ctx) => sendJson(ctx.res, 200, ctx.engine.version()));
  router.add('GET', '/info', async (ctx) => sendJson(ctx.res, 200, await ctx.engine.info()));

  router.add('GET', '/events', async (ctx) => {
    const q = ctx.query;
    const since = parseEventTime(q.get('since'));
    const until = parseEventTime(q.get('until'));
    const filters = filtersParam(q);
    const match = (e: EngineEvent) => eventMatches(e, filters);
    const legacy = compareVersions(ctx.version, '1.51') <= 0;
    const out = (e: EngineEvent) => JSON.stringify(legacy && e.Type === 'container'
      ? { status: e.Action, id: e.Actor.ID, from: e.Actor.Attributes.image, ...e }
      : e) + '\n';
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    ctx.res.flushHeaders();
    const buffered: EngineEvent[] = [];
    let replaying = true;
    const write = (e: EngineEvent) => {
      if (until !== undefined && e.timeNano / 1e9 > until) return;
      ctx.res.write(out(e));
    };
    const unsubscribe = ctx.engine.events.subscribe((e) => {
      if (!match(e)) return;
      if (replaying) buffered.push(e);
      else write(e);
    });
    const nowSec = Date.now() / 1000;
    ctx.res.on('close', unsubscribe);
    if (since !== undefined) {
      for (const e of await ctx.engine.events.history(since, until ?? nowSec)) if (match(e)) ctx.res.write(out(e));
    }
    replaying = false;
    for (const e of buffered) write(e);
    if (until !== undefined) {
      const wait = until * 1000 - Date.now();
      setTimeout(() => { unsubscribe(); ctx.res.end(); }, Math.max(0, wait)).unref();
    }
  });

  router.add('GET', '/system/df', async (ctx) => {
    const containers = ctx.engine.containers.list().map((c) => ({
      ...containerSummary(c, ctx.engine.imageDisplayName(c)), SizeRw: 0, SizeRootFs: 0,
    }));
    const du = ctx.engine.diskUsage();
    const images = du.Images.map((e) => imageSummary(e, ctx.version));
    sendJson(ctx.res, 200, { LayersSize: du.LayersSize, Images: images, Containers: containers, Volumes: (await ctx.engine.volumes.usage()).map(volumeUsageView), BuildCache: [] });
  });

  router.add('GET', '/plugins', (ctx) => sendJson(ctx.res, 200, []));

  router.add('POST', '/swarm/leave', (ctx) => sendJson(ctx.res, 503, { message: 'This node is not part of a swarm' }));
  for (const path of ['/swarm', '/nodes', '/services', '/tasks', '/secrets', '/configs']) {
    router.add('GET', path, (ctx) => sendJson(ctx.res, 503, {
      message: 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.',
    }));
  }
}

function parseEventTime(v: string | null): number | undefined {
  if (v === null || v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t / 1000;
}

function eventMatches(e: EngineEvent, filters: Map<string, string[]>): boolean {
  for (const [key, values] of filters) {
    if (!values.length) continue;
    // Labels must all match (dockerd's MatchKVList); other keys' values are alternatives.
    const ok = (key === 'label' ? values.every.bind(values) : values.some.bind(values))((v: string) => {
      switch (key) {
        case 'type': return e.Type === v;
        case 'event': return e.Action === v || e.Action.startsWith(v + ':');
        case 'container': return e.Type === 'container' && (e.Actor.ID.startsWith(v) || e.Actor.Attributes.name === v);
        case 'image': return e.Actor.Attributes.image === v || e.Actor.ID === v;
        case 'label': {
          const [k, val] = v.split('=', 2);
          return e.Actor.Attributes[k] !== undefined && (val === undefined || e.Actor.Attributes[k] === val);
        }
        default: return true;
      }
    });
    if (!ok) return false;
  }
  return true;
}
