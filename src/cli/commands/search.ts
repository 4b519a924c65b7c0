// berth search: GET /images/search, shown as docker/cli's search formatter shows it.
import type { CommandDef, Ctx } from '../context.js';
import type { ParsedFlags } from '../flags.js';
import { encodeFilters } from '../../client/index.js';
import { registryAuthHeader } from '../../client/credentials.js';
import { ellipsis, filterFlag, FORMAT_FLAG, parseFilters, writeFormatted } from './common.js';
import { SUMMARY } from '../summaries.js';

interface SearchResult {
  name: string;
  description: string;
  star_count: number;
  is_official: boolean;
  is_automated: boolean;
}

/** The fields `search --format` offers (docker/cli's searchContext). */
class SearchRow {
  constructor(private readonly r: SearchResult, private readonly trunc: boolean, private readonly json = false) {}
  get Name(): string { return this.r.name; }
  get Description(): string {
    const d = (this.r.description ?? '').replace(/\n/g, ' ').replace(/\r/g, ' ');
    return this.trunc ? ellipsis(d, 45) : d;
  }
  get StarCount(): string { return String(this.r.star_count ?? 0); }
  get IsOfficial(): string {
    if (this.json) return this.r.is_official ? 'true' : 'false';
    return this.r.is_official ? '[OK]' : '';
  }
  toJSON() {
    const j = new SearchRow(this.r, this.trunc, true);
    return { Description: j.Description, IsOfficial: j.IsOfficial, Name: j.Name, StarCount: j.StarCount };
  }
}

/** The registry domain of a search term (dockerd's splitReposSearchTerm), for its credentials. */
function termDomain(term: string): string {
  const i = term.indexOf('/');
  const first = i < 0 ? '' : term.slice(0, i);
  return first && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : 'docker.io';
}

async function runSearch(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  const term = p.args[0]!;
  const filters = parseFilters(f.filter as string[]);
  const client = await ctx.client();
  const query: Record<string, string> = { term };
  if (f.limit) query.limit = String(f.limit);
  const encoded = encodeFilters(filters);
  if (encoded) query.filters = encoded;
  const results = await client.json<SearchResult[]>('GET', '/images/search', {
    query,
    headers: { 'X-Registry-Auth': await registryAuthHeader(termDomain(term), ctx.configDir) },
  });
  // Most stars first, as docker/cli sorts them (stable: the registry's order among equals).
  const sorted = [...results].sort((a, b) => (b.star_count ?? 0) - (a.star_count ?? 0));
  const trunc = !f['no-trunc'];
  const format = (f.format as string) || 'table';
  if (format === 'json') {
    for (const r of sorted) ctx.out.write(JSON.stringify(new SearchRow(r, trunc).toJSON()) + '\n');
    return 0;
  }
  writeFormatted(ctx.out, format, '{{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}', sorted.map((r) => new SearchRow(r, trunc)), {
    Name: 'NAME', Description: 'DESCRIPTION', StarCount: 'STARS', IsOfficial: 'OFFICIAL',
  });
  return 0;
}

export const commands: Record<string, CommandDef> = {
  search: {
    spec: {
      use: '[OPTIONS] TERM',
      short: SUMMARY.search,
      flags: [
        filterFlag(),
        FORMAT_FLAG,
        { name: 'limit', type: 'int', usage: 'Most results to show' },
        { name: 'no-trunc', type: 'bool', usage: 'Print values in full, without shortening them' },
      ],
      minArgs: 1,
      maxArgs: 1,
    },
    run: runSearch,
  },
};
