/**
 * The repository reference index: full reference string → image ID, persisted as
 *
 *   <root>/images/repositories.json    {"Repositories": {"docker.io/library/busybox":
 *                                          {"docker.io/library/busybox:latest": "sha256:…"}}}
 *
 * Keys are normalized full references: `name:tag` (a tag) or `name@digest` (a canonical
 * reference), never both. Records' repoTags/repoDigests are derived from this index.
 */
import { readFile } from 'node:fs/promises';
import { writeJsonAtomic } from '../../util/atomic.js';
import { InvalidParameterError } from '../errors.js';
import { isPlainObject, parseJsonOrUndefined, setAsideCorrupt } from '../corrupt-file.js';
import { familiarString, parseNormalizedNamed, referenceString, validateDigest, withDefaultTag } from '../../wire/reference.js';
import type { ImageRecord, Reference } from './types.js';

interface RepositoriesFile {
  Repositories: Record<string, Record<string, string>>;
}

/** Reference-store lookup form: tag+digest → digest only; bare name → :latest. */
export function lookupKey(ref: Reference): string {
  if (ref.digest !== undefined) return referenceString({ domain: ref.domain, path: ref.path, digest: ref.digest });
  return referenceString(withDefaultTag(ref));
}

/** The key of a tag to add ('busybox' → 'docker.io/library/busybox:latest'); digests refused. */
export function tagKey(s: string): string {
  const ref = parseNormalizedNamed(s);
  if (ref.digest !== undefined) throw new InvalidParameterError('refusing to create a tag with a digest reference');
  return referenceString(withDefaultTag(ref));
}

/** The key of a digest reference to add ('busybox@sha256:…'). */
export function digestKey(s: string): string {
  const ref = parseNormalizedNamed(s);
  if (ref.digest === undefined) throw new InvalidParameterError(`${s} is not a digest reference`);
  return referenceString({ domain: ref.domain, path: ref.path, digest: validateDigest(ref.digest) });
}

/** A `name@digest` key (else `name:tag`). */
export function isCanonical(fullRef: string): boolean {
  return fullRef.includes('@');
}

/** The repository name of a key ('docker.io/library/busybox'). */
export function nameOf(fullRef: string): string {
  const at = fullRef.indexOf('@');
  const noDigest = at >= 0 ? fullRef.slice(0, at) : fullRef;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

/** The familiar form of a key ('busybox:latest'), as moby reports untag events and responses. */
export function familiarizeFull(full: string): string {
  try { return familiarString(parseNormalizedNamed(full)); } catch { return full; } // keys were valid when stored
}

/** moby sorts references by their familiar string. */
function sortRefs(refs: string[]): string[] {
  return refs.sort((a, b) => {
    const fa = familiarizeFull(a);
    const fb = familiarizeFull(b);
    return fa < fb ? -1 : fa > fb ? 1 : 0;
  });
}

export class ReferenceIndex {
  private readonly refs = new Map<string, string>();

  constructor(private readonly file: string) {}

  /** Reads the index, keeping only references to images `known` reports. */
  async load(known: (id: string) => boolean): Promise<void> {
    this.refs.clear();
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    const repos = parseJsonOrUndefined(text);
    if (!isPlainObject(repos) || !isPlainObject(repos['Repositories'])) {
      // Images still load, untagged; the next save writes a fresh index.
      await setAsideCorrupt(this.file, 'not a valid repositories index');
      return;
    }
    for (const byRef of Object.values(repos['Repositories'])) {
      if (!isPlainObject(byRef)) continue; // a damaged entry: skip it, keep the rest
      for (const [ref, id] of Object.entries(byRef)) {
        if (typeof id === 'string' && known(id)) this.refs.set(ref, id);
      }
    }
  }

  /** Writes the index atomically. */
  async save(): Promise<void> {
    const out: RepositoriesFile = { Repositories: {} };
    for (const [ref, id] of [...this.refs].sort(([a], [b]) => (a < b ? -1 : 1))) {
      (out.Repositories[nameOf(ref)] ??= {})[ref] = id;
    }
    await writeJsonAtomic(this.file, out);
  }

  get(key: string): string | undefined { return this.refs.get(key); }
  has(key: string): boolean { return this.refs.has(key); }
  set(key: string, id: string): void { this.refs.set(key, id); }
  delete(key: string): void { this.refs.delete(key); }

  /** All keys pointing at the image, sorted as moby lists them. */
  of(id: string): string[] {
    return sortRefs([...this.refs].filter(([, v]) => v === id).map(([k]) => k));
  }

  /** Rewrites each record's repoTags/repoDigests from the index. */
  applyTo(records: ReadonlyMap<string, ImageRecord>): void {
    for (const rec of records.values()) { rec.repoTags = []; rec.repoDigests = []; }
    for (const [ref, id] of this.refs) {
      const rec = records.get(id);
      if (rec) (isCanonical(ref) ? rec.repoDigests : rec.repoTags).push(ref);
    }
    for (const rec of records.values()) { sortRefs(rec.repoTags); sortRefs(rec.repoDigests); }
  }
}
