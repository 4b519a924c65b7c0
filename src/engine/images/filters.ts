/**
 * GET /images/json filters with dockerd's semantics (moby daemon/images/images.go):
 * - `reference`: glob patterns (Go's path.Match) against each reference's familiar string
 *   (`busybox:latest`, `busybox@sha256:…`) and, failing that, its familiar name (`busybox`); only the
 *   matching references are listed, and an image none of whose references match is left out;
 * - `dangling`: true lists untagged images without children only; false leaves untagged ones out;
 * - `label`: `k` or `k=v`, all must hold;
 * - `before` / `since`: an image (reference or ID) — images created strictly before / after it
 *   (several values: the oldest `before`, the newest `since`); `until`: a timestamp or duration,
 *   combined with `before` (the earliest bound wins);
 * - any other key: 400 `invalid filter 'key'`.
 */
import { InvalidParameterError } from '../errors.js';
import { boolFilter, checkFilterKeys, matchLabels, parseTimestamp, type FilterArgs } from '../filters.js';
import { familiarName, familiarString, parseNormalizedNamed } from '../../wire/reference.js';
import type { ImageRecord } from './types.js';

export const IMAGE_LIST_FILTERS = ['dangling', 'label', 'before', 'since', 'reference', 'until'] as const;

/** Parsed image list filters; times are ms since the epoch (fractional: sub-ms precision kept). */
export interface ImageFilter {
  /** `dangling=true`: only untagged images without children. */
  danglingOnly: boolean;
  /** `dangling=false`: untagged images are left out. */
  excludeDangling: boolean;
  /** Compiled `reference` patterns; undefined when the key is absent. */
  references?: RegExp[];
  labels?: string[];
  /** Listed images were created strictly before this instant. */
  before?: number;
  /** Listed images were created strictly after this instant. */
  since?: number;
}

/**
 * Reads the filters of one request. `lookup` resolves the images named by `before` and `since`
 * (throwing NotFoundError `No such image: x` as dockerd when absent).
 */
export function parseImageFilters(filters: FilterArgs, lookup: (ref: string) => ImageRecord, now = Date.now()): ImageFilter {
  checkFilterKeys(filters, IMAGE_LIST_FILTERS);
  const dangling = boolFilter(filters, 'dangling');
  const out: ImageFilter = { danglingOnly: dangling === true, excludeDangling: dangling === false };
  if (filters.has('reference')) out.references = (filters.get('reference') ?? []).map(globToRegExp);
  if (filters.has('label')) out.labels = [...filters.get('label') ?? []];
  const earliest = (a: number | undefined, b: number): number => (a === undefined || b < a ? b : a);
  for (const v of filters.get('before') ?? []) {
    const t = createdTime(lookup(v));
    if (t !== undefined) out.before = earliest(out.before, t);
  }
  for (const v of filters.get('until') ?? []) out.before = earliest(out.before, parseTimestamp(v, now));
  for (const v of filters.get('since') ?? []) {
    const t = createdTime(lookup(v));
    if (t !== undefined && (out.since === undefined || t > out.since)) out.since = t;
  }
  return out;
}

/**
 * The images a listing shows, newest first, each with its references narrowed to those the
 * `reference` filter matched. `all` includes intermediate images (untagged, with children);
 * `hasChildren(id)` says whether an image is the parent of another.
 */
export function selectImages(
  images: readonly ImageRecord[], f: ImageFilter, opts: { all: boolean; hasChildren: (id: string) => boolean },
): ImageRecord[] {
  const out: ImageRecord[] = [];
  for (const img of images) {
    // As dockerd, dangling=true starts from the heads (images nobody builds on).
    if (f.danglingOnly && opts.hasChildren(img.id)) continue;
    const created = createdTime(img);
    if (f.before !== undefined && (created === undefined || !(created < f.before))) continue;
    if (f.since !== undefined && (created === undefined || !(created > f.since))) continue;
    if (f.labels && (!img.config.config || !matchLabels(f.labels, img.config.config.Labels))) continue;
    const repoTags = img.repoTags.filter((r) => referenceMatches(f, r));
    const repoDigests = img.repoDigests.filter((r) => referenceMatches(f, r));
    if (repoTags.length === 0 && repoDigests.length === 0) {
      if (!opts.all && opts.hasChildren(img.id)) continue;
      if (f.excludeDangling || f.references) continue;
    } else if (f.danglingOnly && repoTags.length > 0) {
      continue;
    }
    out.push(repoTags.length === img.repoTags.length && repoDigests.length === img.repoDigests.length
      ? img : { ...img, repoTags, repoDigests });
  }
  return out.sort((a, b) => (createdTime(b) ?? 0) - (createdTime(a) ?? 0));
}

/** distribution/reference's FamiliarMatch over the `reference` patterns (none given: true). */
function referenceMatches(f: ImageFilter, fullRef: string): boolean {
  if (!f.references) return true;
  let familiar: string;
  let name: string;
  try {
    const ref = parseNormalizedNamed(fullRef);
    familiar = familiarString(ref);
    name = familiarName(ref);
  } catch {
    // Stored references were validated when written; an unparsable one cannot match a pattern.
    return false;
  }
  return f.references.some((re) => re.test(familiar) || re.test(name));
}

/** The config's `created` as ms since the epoch with its sub-millisecond digits; undefined if absent. */
export function createdTime(img: ImageRecord): number | undefined {
  const c = img.config.created;
  if (!c) return undefined;
  const ms = Date.parse(c);
  if (!Number.isFinite(ms)) return undefined;
  const frac = /\.(\d+)/.exec(c)?.[1] ?? '';
  return frac.length > 3 ? ms + Number(`0.${frac.slice(3)}`) : ms;
}

/**
 * Go's path.Match pattern as an anchored RegExp: `*` any run of non-`/` characters, `?` one
 * non-`/` character, `[…]` / `[^…]` classes with ranges, `\` escapes. A malformed pattern is
 * refused with Go's message (dockerd answers it with a 500; it is the request that is wrong).
 */
export function globToRegExp(pattern: string): RegExp {
  const bad = (): never => { throw new InvalidParameterError('syntax error in pattern'); };
  const esc = (ch: string): string => ch.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
  let re = '^';
  let i = 0;
  const classChar = (): string => {
    let ch = pattern[i];
    if (ch === undefined || ch === '-' || ch === ']') bad();
    if (ch === '\\') { i++; ch = pattern[i]; if (ch === undefined) bad(); }
    i++;
    return ch!;
  };
  while (i < pattern.length) {
    const ch = pattern[i]!;
    if (ch === '*') { re += '[^/]*'; i++; continue; }
    if (ch === '?') { re += '[^/]'; i++; continue; }
    if (ch === '\\') {
      if (i + 1 >= pattern.length) bad();
      re += esc(pattern[i + 1]!);
      i += 2;
      continue;
    }
    if (ch === '[') {
      i++;
      let negate = false;
      if (pattern[i] === '^') { negate = true; i++; }
      let cls = '';
      let n = 0;
      for (;;) {
        if (pattern[i] === ']' && n > 0) { i++; break; }
        const lo = classChar();
        if (pattern[i] === '-') {
          i++;
          const hi = classChar();
          if (hi < lo) bad();
          cls += `${esc(lo)}-${esc(hi)}`;
        } else {
          cls += esc(lo);
        }
        n++;
      }
      re += negate ? `[^${cls}]` : `[${cls}]`;
      continue;
    }
    re += esc(ch);
    i++;
  }
  return new RegExp(re + '$');
}
