/**
 * GET /networks filters with dockerd's semantics (moby daemon/network/filter.go), built on
 * engine/filters.ts:
 * - `name`, `id`: a value matches when it equals the field or, as a regular expression, matches
 *   part of it (filters.Match); `driver`, `scope`: equal (ExactMatch); values of one key are
 *   alternatives;
 * - `label`: `k` or `k=v`, all must hold;
 * - `type`: `builtin` (bridge, host, none) or `custom`, alternatives; any other value is refused;
 * - `dangling`: one boolean; true lists user-defined networks without containers, false the
 *   predefined ones and those with containers;
 * - any other key: 400 `invalid filter 'key'`.
 * POST /networks/prune takes `until`, `label` and `label!` (engine/prune.ts).
 */
import { InvalidParameterError } from '../errors.js';
import { boolFilter, checkFilterKeys, matchAny, matchLabels, compilePattern, type FilterArgs, type PatternMatcher } from '../filters.js';
import { isPredefined } from './store.js';
import type { NetworkRecord } from './types.js';

export const NETWORK_LIST_FILTERS = ['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type'] as const;
export const NETWORK_PRUNE_FILTERS = ['until', 'label', 'label!'] as const;

export interface NetworkFilter {
  /** `name` and `id` values, checked and compiled (filter-pattern.ts). */
  names?: readonly PatternMatcher[];
  ids?: readonly PatternMatcher[];
  drivers?: readonly string[];
  scopes?: readonly string[];
  labels?: readonly string[];
  /** builtin: the predefined networks; custom: the others */
  types?: ReadonlyArray<'builtin' | 'custom'>;
  dangling?: boolean;
}

export function parseNetworkFilters(filters: FilterArgs): NetworkFilter {
  checkFilterKeys(filters, NETWORK_LIST_FILTERS);
  const types = filters.get('type');
  for (const t of types ?? []) {
    if (t !== 'builtin' && t !== 'custom') throw new InvalidParameterError(`invalid filter: 'type'='${t}'`);
  }
  if ((filters.get('dangling')?.length ?? 0) > 1) throw new InvalidParameterError(`got more than one value for filter key "dangling"`);
  return {
    names: filters.get('name')?.map((v) => compilePattern('name', v)),
    ids: filters.get('id')?.map((v) => compilePattern('id', v)), drivers: filters.get('driver'), scopes: filters.get('scope'),
    labels: filters.get('label'), types: types as NetworkFilter['types'], dangling: boolFilter(filters, 'dangling'),
  };
}

/** Whether a network is listed; `inUse` says whether containers have endpoints on it (asked only for `dangling`). */
export function networkMatches(f: NetworkFilter, n: NetworkRecord, inUse: () => boolean): boolean {
  const builtin = isPredefined(n.Name);
  return matchAny(f.names, (m) => m(n.Name))
    && matchAny(f.ids, (m) => m(n.Id))
    && matchAny(f.drivers, (v) => v === n.Driver)
    && matchAny(f.scopes, (v) => v === n.Scope)
    && matchLabels(f.labels, n.Labels)
    && matchAny(f.types, (t) => (t === 'builtin') === builtin)
    && (f.dangling === undefined || (f.dangling ? !builtin && !inUse() : builtin || inUse()));
}
