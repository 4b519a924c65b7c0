/**
 * `GET /images/search`: dockerd's filter and limit rules over a registry's repository list. A
 * Distribution v2 registry has no search API, so the term is matched (a substring, case-insensitive)
 * against its `/v2/_catalog` (paged by its `Link` header, with the `registry:catalog:*` token scope);
 * Docker Hub is asked through its v1 search API, as dockerd does.
 */
import type { AuthConfig } from '../images/types.js';
import { InvalidParameterError, SystemError, UnauthorizedError } from '../errors.js';
import { boolFilter, checkFilterKeys, type FilterArgs } from '../filters.js';
import { RegistryClient } from './client.js';
import { RegistryHttpError } from './errors.js';
import { DOCKER_HUB_DOMAIN, resolveEndpoints, type EndpointConfig } from './endpoints.js';
import { httpRequest, readBody, NetworkError } from './http.js';

/** One result, with dockerd's field names (api/types/registry SearchResult). */
export interface SearchResult {
  star_count: number;
  is_official: boolean;
  name: string;
  is_automated: boolean;
  description: string;
}

export interface SearchOptions extends EndpointConfig {
  timeoutMs?: number;
  /** Docker Hub's v1 search endpoint; default: the overridden Hub endpoint (tests), else Docker Hub's index. */
  hubSearchEndpoint?: string;
}

const DEFAULT_LIMIT = 25;
/** Docker Hub's index (v1 search API). */
const HUB_INDEX = 'https://index.docker.io';
/** At most this many repository names are read from a catalog (pages of 1000). */
const CATALOG_CAP = 100_000;

/** dockerd's splitReposSearchTerm: a first component with '.' or ':' (or localhost) names a registry. */
export function splitSearchTerm(term: string): { index: string; remote: string } {
  const i = term.indexOf('/');
  const first = i < 0 ? term : term.slice(0, i);
  if (i < 0 || (!first.includes('.') && !first.includes(':') && first !== 'localhost')) return { index: DOCKER_HUB_DOMAIN, remote: term };
  return { index: first === 'index.docker.io' ? DOCKER_HUB_DOMAIN : first, remote: term.slice(i + 1) };
}

function starsFilter(filters: FilterArgs): number {
  let min = 0;
  for (const v of filters.get('stars') ?? []) {
    if (!/^[+-]?\d+$/.test(v)) throw new InvalidParameterError(`invalid filter 'stars=${v}': strconv.Atoi: parsing "${v}": invalid syntax`);
    min = Math.max(min, Number(v));
  }
  return min;
}

export async function searchImages(term: string, limit: number, filters: FilterArgs, auth: AuthConfig | undefined, opts: SearchOptions = {}): Promise<SearchResult[]> {
  checkFilterKeys(filters, ['is-automated', 'is-official', 'stars']);
  // "is-automated" is deprecated: Docker Hub's value is untrustworthy; filtering for true finds nothing.
  if (boolFilter(filters, 'is-automated')) return [];
  const official = boolFilter(filters, 'is-official');
  const stars = starsFilter(filters);
  if (term.includes('://')) throw new InvalidParameterError(`invalid repository name: repository name (${term}) should not have a scheme`);
  const n = limit === 0 ? DEFAULT_LIMIT : limit;
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new InvalidParameterError(`limit ${limit} is outside the range of [1, 100]`);
  const { index, remote } = splitSearchTerm(term);
  const found = index === DOCKER_HUB_DOMAIN
    ? await searchHub(remote.replace(/^library\//, ''), n, opts)
    : await searchCatalog(index, remote, n, auth, opts);
  return found
    .filter((r) => official === undefined || r.is_official === official)
    .filter((r) => r.star_count >= stars)
    .map((r) => ({ ...r, is_automated: false }));
}

/** Docker Hub's v1 search (`/v1/search?q=&n=`). */
async function searchHub(term: string, n: number, opts: SearchOptions): Promise<SearchResult[]> {
  // Where Docker Hub's registry endpoint is overridden (tests: a closed loopback port), search goes there too.
  const base = (opts.hubSearchEndpoint ?? opts.hubEndpoint ?? process.env.BERTH_HUB_ENDPOINT ?? HUB_INDEX).replace(/\/+$/, '');
  const url = `${base}/v1/search?q=${encodeURIComponent(term)}&n=${n}`;
  const res = await httpRequest(url, { headers: { 'X-Docker-Token': 'true' }, timeoutMs: opts.timeoutMs ?? 15_000 });
  const body = await readBody(res.body, 8 * 1024 * 1024);
  if (res.status !== 200) throw new SystemError(`unexpected status code ${res.status}`);
  try {
    const v = JSON.parse(body.toString('utf8')) as { results?: Array<Partial<SearchResult>> };
    return (v.results ?? []).map((r) => ({
      star_count: Number(r.star_count) || 0,
      is_official: r.is_official === true,
      name: String(r.name ?? ''),
      is_automated: false,
      description: String(r.description ?? ''),
    }));
  } catch (e) {
    throw new SystemError(`error decoding registry search results: ${(e as Error).message}`);
  }
}

/** The `next` URL of a `Link: </v2/_catalog?last=x&n=1000>; rel="next"` header. */
function nextLink(header: string | string[] | undefined, base: string): string | undefined {
  const value = Array.isArray(header) ? header.join(', ') : header;
  const m = value?.match(/<([^>]+)>\s*;\s*rel="?next"?/);
  return m ? new URL(m[1]!, base + '/').href : undefined;
}

async function searchCatalog(host: string, term: string, n: number, auth: AuthConfig | undefined, opts: SearchOptions): Promise<SearchResult[]> {
  const endpoints = resolveEndpoints(host, opts).filter((e) => !e.mirror);
  let last: unknown;
  for (const ep of endpoints) {
    try {
      const client = new RegistryClient(ep, '', { auth, scope: 'registry:catalog:*', timeoutMs: opts.timeoutMs });
      const needle = term.toLowerCase();
      const out: SearchResult[] = [];
      let url: string | undefined = `${ep.url}/v2/_catalog?n=1000`;
      let seen = 0;
      while (url && out.length < n && seen < CATALOG_CAP) {
        const res = await client.request('GET', url);
        if (res.status !== 200) await client.fail(res, 'GET');
        const body = await readBody(res.body, 16 * 1024 * 1024);
        let repos: unknown;
        try {
          repos = (JSON.parse(body.toString('utf8')) as { repositories?: unknown }).repositories;
        } catch {
          throw new SystemError('error decoding registry search results: the catalog is not JSON');
        }
        if (!Array.isArray(repos)) throw new SystemError('error decoding registry search results: no repositories in the catalog');
        seen += repos.length;
        for (const r of repos) {
          if (typeof r === 'string' && r.toLowerCase().includes(needle) && out.length < n) {
            out.push({ star_count: 0, is_official: false, name: `${host}/${r}`, is_automated: false, description: '' });
          }
        }
        url = repos.length ? nextLink(res.headers.link, ep.url) : undefined;
      }
      return out;
    } catch (e) {
      if (e instanceof NetworkError && ep.fallbackOnNetworkError) {
        last = e;
        continue;
      }
      // Refused credentials are the registry's answer, not a 401 of ours: clients take a 401 as
      // "log in and retry" (the docker CLI prompts). dockerd answers them as a 500 too.
      if (e instanceof UnauthorizedError || (e instanceof RegistryHttpError && (e.status === 401 || e.status === 403))) throw new SystemError(e.message, e);
      throw e;
    }
  }
  throw last;
}
