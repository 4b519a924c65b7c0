import { inspectDistribution } from '../../engine/distribution/inspect.js';
import { searchImages } from '../../engine/distribution/search.js';
import { InvalidParameterError } from '../../engine/errors.js';
import { parseNormalizedNamed } from '../../wire/reference.js';
import { filtersParam, sendJson, type Router } from '../router.js';
import { decodeAuth } from './images.js';

/** `limit=`: dockerd's strconv.Atoi (empty: the default). */
function limitParam(q: URLSearchParams): number {
  const v = q.get('limit');
  if (v === null || v === '') return 0;
  if (!/^[+-]?\d+$/.test(v)) throw new InvalidParameterError(`strconv.Atoi: parsing "${v}": invalid syntax`);
  return Number(v);
}

/** What a registry holds, without pulling: GET /images/search and GET /distribution/{name}/json. */
export function registerRegistryRoutes(router: Router): void {
  router.add('GET', '/images/search', async (ctx) => {
    const term = ctx.query.get('term') ?? '';
    const results = await searchImages(term, limitParam(ctx.query), filtersParam(ctx.query), decodeAuth(ctx.req.headers['x-registry-auth']), ctx.engine.distribution.opts);
    sendJson(ctx.res, 200, results);
  });

  router.add('GET', '/distribution/{name*}/json', async (ctx) => {
    let ref;
    try {
      ref = parseNormalizedNamed(ctx.params[0]!);
    } catch (e) {
      throw new InvalidParameterError((e as Error).message);
    }
    sendJson(ctx.res, 200, await inspectDistribution(ref, decodeAuth(ctx.req.headers['x-registry-auth']), ctx.engine.distribution.opts));
  });
}
