/**
 * ImageTransfer: images in and out of the daemon without a registry — save (save.ts), load
 * (load.ts) and import (import.ts) — over the image stores of one data root, with their events
 * (`save`, `load`, `import`, `tag`) as dockerd publishes them.
 */
import type { Readable } from 'node:stream';
import type { EventBus } from '../../events/bus.js';
import { InvalidParameterError } from '../../errors.js';
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

export class ImageTransfer {
  private readonly deps: TransferDeps;

  constructor(local: LocalImages, private readonly cfg: TransferConfig) {
    this.deps = local.deps();
  }

  private get maxBytes(): number {
    return this.cfg.maxImageLoadSize ?? DEFAULT_MAX_IMAGE_LOAD_SIZE;
  }

  /** GET /images/get: the archive's chunks; lookups and sizes are done before it is returned. */
  async save(names: string[]): Promise<AsyncGenerator<Buffer>> {
    checkNames(names);
    const images = resolveNames(this.deps, names);
    const archive = await saveArchive(this.deps, images);
    for (const { record } of images) this.cfg.events.publish('image', 'save', record.id, { name: record.id });
    return archive;
  }

  /** POST /images/load: `Loaded image: …` messages (and progress unless quiet) go to `out`. */
  async load(body: Readable, quiet: boolean, out: ProgressSink): Promise<void> {
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
