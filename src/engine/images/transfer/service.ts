/**
 * ImageTransfer: images in and out of the daemon without a registry — save (save.ts), load
 * (load.ts) and import (import.ts) — over the image stores of one data root, with their events
 * (`save`, `load`, `import`, `tag`) as dockerd publishes them.
 */
import type { Readable } from 'node:stream';
import type { EventBus } from '../../events/bus.js';
import { InvalidParameterError } from '../../errors.js';
import { formatPlatform, hostPlatform, parsePlatform, type Platform } from '../../distribution/platform.js';
import { familiarString, parseDockerRef } from '../../../wire/reference.js';
import type { LocalImages } from '../local.js';
import type { ProgressSink } from '../types.js';
import { importImage } from './import.js';
import { loadImages, type TransferDeps } from './load.js';
import { checkNames, resolveNames, saveArchive } from './save.js';

/** Default max-image-load-size: the decompressed archive of one load or import. */
export const DEFAULT_MAX_IMAGE_LOAD_SIZE = 64 * 2 ** 30;

export interface TransferConfig {
  events: EventBus;
  engineVersion: string;
  /** max-image-load-size in bytes (DEFAULT_MAX_IMAGE_LOAD_SIZE when unset). */
  maxImageLoadSize?: number;
  /** Chain IDs containers stand on. */
  layersInUse: () => Iterable<string>;
}

export interface ImportOptions {
  src: string;
  body: Readable;
  repo?: string;
  tag?: string;
  message?: string;
  changes: string[];
  platform?: string;
}

/** `platform` of save/load: the image (or the host, for load) must be of that platform. */
function checkPlatform(actual: { os: string; architecture: string; variant?: string }, wanted: string, what: string): void {
  const w = wanted.trim().startsWith('{') ? jsonPlatform(wanted) : parsePlatform(wanted);
  if (w.os !== actual.os || w.architecture !== actual.architecture || (w.variant && w.variant !== (actual.variant ?? ''))) {
    throw new InvalidParameterError(`platform ${formatPlatform(w)} does not match ${what} (${formatPlatform(actual)}): this daemon keeps one platform per image`);
  }
}

/** API 1.48's form: a JSON-encoded OCI platform. */
function jsonPlatform(s: string): Platform {
  let j: { os?: unknown; architecture?: unknown; variant?: unknown };
  try {
    j = JSON.parse(s) as typeof j;
  } catch {
    throw new InvalidParameterError(`invalid platform ${JSON.stringify(s)}`);
  }
  if (typeof j?.os !== 'string' || typeof j.architecture !== 'string') throw new InvalidParameterError(`invalid platform ${JSON.stringify(s)}`);
  return { os: j.os, architecture: j.architecture, ...(typeof j.variant === 'string' && j.variant ? { variant: j.variant } : {}) };
}

export class ImageTransfer {
  private readonly deps: TransferDeps;

  constructor(local: LocalImages, private readonly cfg: TransferConfig) {
    this.deps = local.deps();
  }

  private get maxBytes(): number {
    return this.cfg.maxImageLoadSize ?? DEFAULT_MAX_IMAGE_LOAD_SIZE;
  }

  /** GET /images/get: the archive's chunks; lookups and sizes are done before it is returned. */
  async save(names: string[], platform?: string): Promise<AsyncGenerator<Buffer>> {
    checkNames(names);
    const images = resolveNames(this.deps, names);
    if (platform) for (const { record } of images) checkPlatform(record.config, platform, record.id);
    const archive = await saveArchive(this.deps, images);
    for (const { record } of images) this.cfg.events.publish('image', 'save', record.id, { name: record.id });
    return archive;
  }

  /** POST /images/load: `Loaded image: …` messages (and progress unless quiet) go to `out`. */
  async load(body: Readable, quiet: boolean, out: ProgressSink, platform?: string): Promise<void> {
    // One platform per image here: only the host's can be asked for.
    if (platform) checkPlatform(hostPlatform(), platform, 'the archive');
    const loaded = await loadImages(this.deps, body, { maxBytes: this.maxBytes, quiet, layersInUse: this.cfg.layersInUse }, out);
    for (const { record } of loaded) this.cfg.events.publish('image', 'load', record.id, { name: record.id });
  }

  /** POST /images/create?fromSrc=: the new image's ID goes to `out` as dockerd's last status. */
  async import(opts: ImportOptions, out: ProgressSink): Promise<string> {
    let reference: string | undefined;
    if (opts.repo) {
      const ref = parseDockerRef(opts.tag ? `${opts.repo}:${opts.tag}` : opts.repo);
      if (ref.digest) throw new InvalidParameterError('cannot import digest reference');
      reference = familiarString(ref);
    }
    const rec = await importImage(this.deps, {
      src: opts.src, body: opts.body, reference, message: opts.message, changes: opts.changes,
      platform: opts.platform, engineVersion: this.cfg.engineVersion, maxBytes: this.maxBytes,
    }, out);
    this.cfg.events.publish('image', 'import', rec.id, { name: rec.id });
    if (reference) this.cfg.events.publish('image', 'tag', rec.id, { name: reference });
    out({ status: rec.id });
    return rec.id;
  }
}
