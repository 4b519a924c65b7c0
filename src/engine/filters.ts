/**
 * List and prune filters as dockerd reads them (api/types/filters): a key maps to a list of
 * values. Every resource's own filters (containers/filters.ts, images/filters.ts, …) are built from
 * these pieces so that the rules are the same everywhere:
 * - a key nobody knows is refused: 400 `invalid filter 'key'`;
 * - `label` values must all match (dockerd's MatchKVList), `label!` values must all miss;
 * - the values of any other key are alternatives: one match is enough.
 */
import { InvalidParameterError } from './errors.js';
import { compilePattern } from './filter-pattern.js';

export { compilePattern, type PatternMatcher } from './filter-pattern.js';

export type FilterArgs = ReadonlyMap<string, readonly string[]>;

export const NO_FILTERS: FilterArgs = new Map();

/** 400 `invalid filter 'key'` for a key outside `accepted`, as dockerd's filters.Validate. */
export function checkFilterKeys(filters: FilterArgs, accepted: Iterable<string>): void {
  const ok = new Set(accepted);
  for (const key of filters.keys()) {
    if (!ok.has(key)) throw new InvalidParameterError(`invalid filter '${key}'`);
  }
}

/** Whether one `k` or `k=v` spec holds for these labels. */
export function labelHolds(spec: string, labels: Readonly<Record<string, string>> | null | undefined): boolean {
  const l = labels ?? {};
  const i = spec.indexOf('=');
  if (i < 0) return Object.prototype.hasOwnProperty.call(l, spec);
  const key = spec.slice(0, i);
  return Object.prototype.hasOwnProperty.call(l, key) && l[key] === spec.slice(i + 1);
}

/** `label` filters: every spec must hold (no specs: true). */
export function matchLabels(specs: readonly string[] | undefined, labels: Readonly<Record<string, string>> | null | undefined): boolean {
  return (specs ?? []).every((s) => labelHolds(s, labels));
}

/** `label!` filters: no spec may hold. */
export function missLabels(specs: readonly string[] | undefined, labels: Readonly<Record<string, string>> | null | undefined): boolean {
  return !(specs ?? []).some((s) => labelHolds(s, labels));
}

/** A non-label key: true when the key is absent or empty, else when any value passes. */
export function matchAny<T>(values: readonly T[] | undefined, pass: (value: T) => boolean): boolean {
  return !values || values.length === 0 || values.some(pass);
}

/**
 * A boolean filter (`dangling`): undefined when absent; true/1 and false/0 (any case) otherwise;
 * anything else is refused, as dockerd's GetBoolOrDefault.
 */
export function boolFilter(filters: FilterArgs, key: string): boolean | undefined {
  let out: boolean | undefined;
  for (const v of filters.get(key) ?? []) {
    if (/^(true|1)$/i.test(v)) out = true;
    else if (/^(false|0)$/i.test(v)) out = false;
    else throw new InvalidParameterError(`invalid filter '${key}=${v}'`);
  }
  return out;
}

/** timetypes.GetTimestamp as the daemon applies it: unix seconds, RFC3339 (or a date), or a Go duration ago → ms epoch. */
export function parseTimestamp(value: string, now = Date.now()): number {
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const dur = goDuration(v);
  if (dur !== undefined) return now - dur;
  let s = v;
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) s += 'T00:00:00';
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(s)) s += 'Z';
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new InvalidParameterError(`failed to parse value as time or duration: "${value}"`);
  return t;
}

/** time.ParseDuration → milliseconds, or undefined when it is not one. */
export function goDuration(s: string): number | undefined {
  if (!/^-?(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(s)) return undefined;
  const mult: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * mult[m[2]!]!;
  return s.startsWith('-') ? -total : total;
}

/**
 * dockerd's filters.Match for `name`-like keys: the value equals the field, or is a regular
 * expression matching part of it (an invalid expression matches only itself). The expression is
 * bounded (filter-pattern.ts): a 400 naming `key` when it is refused. To match one value against
 * many fields, compile it once with compilePattern (its time budget is then shared).
 */
export function matchPattern(pattern: string, value: string, key = 'name'): boolean {
  return compilePattern(key, pattern)(value);
}
