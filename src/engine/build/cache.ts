/**
 * The build cache: step key → the image that step made. A key is the sha256 of the parent image
 * ID, the instruction as it ran (expanded), the build arguments in effect for a RUN and the
 * content hash of what a COPY/ADD copies, so a step is reused exactly when all of those are
 * unchanged. Kept in `<data root>/build/cache.json` (atomic writes), so it survives a restart;
 * an entry whose image is gone is dropped when met. `POST /build/prune` empties it.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../../util/atomic.js';

export interface CacheRecord {
  /** the image the step produced */
  image: string;
  /** the step, for `system df -v` */
  description: string;
  /** bytes the step's layer added (0 for a config-only step) */
  size: number;
  created: string;
  lastUsed: string;
  usageCount: number;
}

export function cacheKey(parts: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

export class BuildCache {
  private records = new Map<string, CacheRecord>();
  private saving: Promise<void> = Promise.resolve();
  private readonly file: string;

  constructor(dir: string) {
    this.file = join(dir, 'cache.json');
  }

  async init(): Promise<void> {
    try {
      const data = JSON.parse(await readFile(this.file, 'utf8')) as Record<string, CacheRecord>;
      this.records = new Map(Object.entries(data));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }

  get(key: string): CacheRecord | undefined { return this.records.get(key); }

  entries(): Array<[string, CacheRecord]> { return [...this.records]; }

  /** Notes a hit (kept in memory; written with the next change). */
  used(key: string): void {
    const r = this.records.get(key);
    if (!r) return;
    r.lastUsed = new Date().toISOString();
    r.usageCount++;
  }

  /**
   * Notes a step's image in memory; a build saves once it has sealed its images (save()), so the
   * file never names an image that a crash could take back.
   */
  record(key: string, rec: Omit<CacheRecord, 'created' | 'lastUsed' | 'usageCount'>): void {
    const now = new Date().toISOString();
    this.records.set(key, { ...rec, created: now, lastUsed: now, usageCount: 1 });
  }

  delete(keys: Iterable<string>): Promise<void> {
    let changed = false;
    for (const k of keys) changed = this.records.delete(k) || changed;
    return changed ? this.save() : Promise.resolve();
  }

  /** Writes are serialized, each one the whole map as it is then. */
  save(): Promise<void> {
    const next = this.saving.catch(() => undefined).then(() => writeJsonAtomic(this.file, Object.fromEntries(this.records)));
    this.saving = next;
    return next;
  }
}
