import { InvalidParameterError } from '../../engine/errors.js';
import type { CreateVolumeRequest } from '../../engine/volumes/service.js';
import { boolParam, filtersParam, sendJson, type Router } from '../router.js';
import { compareVersions } from '../version.js';
import { checkBody } from '../body.js';
import { VOLUME_CREATE } from '../schemas.js';
import { volumeView } from '../views/volumes.js';
import type { VolumeListResponse } from '../../wire/types.js';
import { streamTar, withUpload } from './archive.js';

/** /volumes: create, list, inspect, remove, prune (dockerd's api/server/router/volume). */
export function registerVolumeRoutes(router: Router): void {
  router.add('POST', '/volumes/create', async (ctx) => {
    const body = (await ctx.json<CreateVolumeRequest>()) ?? {};
    if (typeof body !== 'object' || Array.isArray(body)) throw new InvalidParameterError('invalid JSON: volume create options must be an object');
    checkBody(body, VOLUME_CREATE);
    sendJson(ctx.res, 201, volumeView(await ctx.engine.volumes.create(body)));
  });

  router.add('GET', '/volumes', (ctx) => {
    sendJson(ctx.res, 200, { Volumes: ctx.engine.volumes.list(filtersParam(ctx.query)).map(volumeView), Warnings: [] } satisfies VolumeListResponse);
  });

  router.add('POST', '/volumes/prune', async (ctx) => {
    sendJson(ctx.res, 200, await ctx.engine.volumes.prune(filtersParam(ctx.query), compareVersions(ctx.version, '1.42') >= 0));
  });

  router.add('GET', '/volumes/{name}', (ctx) => sendJson(ctx.res, 200, volumeView(ctx.engine.volumes.get(ctx.params[0]))));

  // Berth's own (Docker has no volume export/import): a tar of the volume's content, and back.
  router.add('GET', '/volumes/{name}/archive', async (ctx) => {
    await streamTar(ctx, {}, await ctx.engine.volumeArchive.export(ctx.params[0]));
  });

  router.add('PUT', '/volumes/{name}/archive', async (ctx) => {
    const r = await withUpload(ctx.req, (body) => ctx.engine.volumeArchive.import(ctx.params[0], body));
    sendJson(ctx.res, 200, { Entries: r.entries, Size: r.bytes });
  });

  router.add('DELETE', '/volumes/{name}', async (ctx) => {
    await ctx.engine.volumes.remove(ctx.params[0], { force: boolParam(ctx.query, 'force') });
    ctx.res.writeHead(204).end();
  });
}
