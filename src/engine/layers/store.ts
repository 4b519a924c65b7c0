/**
 * Layer snapshots keyed by chain ID:
 *
 *   <root>/layers/<chainID hex>/diff/        the layer's own files (an overlay lowerdir)
 *   <root>/layers/<chainID hex>/meta.json    {chainID, diffID, parent, size, link, created}
 *   <root>/layers/l/<link>  →  ../<chainID hex>/diff   short names for overlay option strings
 *   <root>/layers/tmp-<random>/              extraction in progress (removed by init())
 *
 * A snapshot becomes visible only by the final rename of a complete directory (files synced,
 * meta.json written), so a crash leaves either nothing or a whole layer.
 *
 * A deferred apply (the build's step layers) skips those syncs and leaves an empty `pending`
 * file in the snapshot, created before the rename (so a journalled file system that kept the
 * rename kept the marker too); seal() makes every pending snapshot durable with one syncfs, then
 * drops the markers. init() removes a snapshot that still has its marker: its files may not have
 * reached the disk. A durable apply that finds a pending snapshot of the same chain ID seals it.
 *
 * An operation that stands on layers no image references yet (a pull in progress) holds them:
 * remove() refuses a held layer, so no image removal or layer GC takes it away meanwhile.
 */
import { runCommand } from '../host/command.js';
import { spreadChildDirs } from '../host/spread-dirs.js';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, symlink, unlink, writeFile, open } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fsyncDir } from '../../util/atomic.js';
import { Holds } from '../../util/holds.js';
import { PRIVATE_DIR_MODE } from '../data-root.js';
import { ConflictError, DigestMismatchError, InvalidParameterError, NotFoundError } from '../errors.js';
import type { WorkerExtractOptions } from './extract-worker.js';
import { FileFeed } from './file-feed.js';
import { chainID as computeChainID } from './chain.js';

export interface LayerMeta {
  chainID: string;
  diffID: string;
  parent: string | null;
  /** Bytes of file content in this layer alone. */
  size: number;
  /** Short name under layers/l/. */
  link: string;
  /** ms epoch. */
  created: number;
}

/** Unpacked layers ("snapshots") keyed by chain ID, each a directory usable as an overlay lowerdir. */
export interface LayerStoreApi {
  has(chainID: string): boolean;
  /** The directory holding this layer's files (overlay lowerdir). */
  diffDir(chainID: string): string;
  /**
   * Extract an uncompressed layer tar into a fresh snapshot on top of `parentChainID`
   * (null for the base layer). Computes the diffID while reading; if `expectedDiffID` is given and
   * differs, throws and removes the partial snapshot. Converts OCI whiteouts to overlay whiteouts,
   * rejects entries escaping the snapshot, and a stream longer than `opts.maxBytes`
   * (LayerTooLargeError). Idempotent: an existing chainID is reused (the stream is drained).
   */
  apply(parentChainID: string | null, tar: Readable, expectedDiffID?: string, opts?: WorkerExtractOptions, defer?: boolean): Promise<{ chainID: string; diffID: string; size: number }>;
  /**
   * The first half of apply, which needs no parent: extract into a staging directory (verifying
   * `expectedDiffID`). A pull stages its layers at once, in parallel, then commits them in order.
   * Exactly one of commit(parent) or discard() must follow.
   */
  stage(tar: Readable | FileFeed, expectedDiffID?: string, opts?: WorkerExtractOptions): Promise<StagedLayer>;
  /** Remove a snapshot nobody references any more (LayerHeldError while an operation holds it). */
  remove(chainID: string): Promise<void>;
  size(chainID: string): number;
  /**
   * Hold layers (present or still to come) until the returned release is called: remove() refuses
   * them meanwhile. Holds count, so two operations may hold the same layer.
   */
  hold(chainIDs: Iterable<string>): () => void;
}

/** An extracted layer waiting for its parent (LayerStoreApi.stage). */
export interface StagedLayer {
  diffID: string;
  size: number;
  /** `defer`: without syncs, pending until seal() (see the file's comment) */
  commit(parentChainID: string | null, defer?: boolean): Promise<{ chainID: string; diffID: string; size: number }>;
  discard(): Promise<void>;
}

/** remove() of a layer an operation in progress (a pull) holds. */
export class LayerHeldError extends ConflictError {
  constructor(chainID: string) {
    super(`layer ${chainID} is in use by an operation in progress`);
    this.name = 'LayerHeldError';
  }
}

/** Thrown when the extracted stream's sha256 differs from the expected diffID. */
export class DiffIDMismatchError extends DigestMismatchError {
  constructor(expected: string, actual: string) {
    super(`layer diffID mismatch: expected ${expected}, got ${actual}`, expected, actual);
    this.name = 'DiffIDMismatchError';
  }
}

function hexOf(id: string): string {
  const m = /^sha256:([a-f0-9]{64})$/.exec(id);
  if (!m) throw new InvalidParameterError(`invalid layer ID ${JSON.stringify(id)}`);
  return m[1]!;
}

const LINK_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function newLinkName(): string {
  const b = randomBytes(20);
  let s = '';
  for (let i = 0; i < 20; i++) s += LINK_ALPHABET[b[i]! & 31];
  return s;
}

const PENDING = 'pending';

function syncfs(dir: string): Promise<void> {
  // One syncfs(2) for the whole extracted tree; cheaper than an fsync per file.
  // Best effort: a failed sync leaves the data to the kernel's own writeback.
  return runCommand('sync', ['-f', dir], { timeoutMs: 120_000 }).then(() => undefined, () => undefined);
}

export class LayerStore implements LayerStoreApi {
  readonly dir: string;
  readonly linkDir: string;
  private readonly layers = new Map<string, LayerMeta>();
  private readonly holds = new Holds();
  /** snapshots applied with `defer` and not sealed yet */
  private readonly pending = new Set<string>();
  private sealing: Promise<void> = Promise.resolve();

  constructor(readonly root: string) {
    this.dir = join(root, 'layers');
    this.linkDir = join(this.dir, 'l');
  }

  /** Loads every complete layer, removes interrupted extractions, repairs short links. */
  async init(): Promise<void> {
    // Private as dockerd's overlay2 (data-root.ts; Engine.open also fixes an existing one).
    const made = await mkdir(this.dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    await mkdir(this.linkDir, { recursive: true });
    // Each layer in a block group of its own (spread-dirs.ts: file creation after an rmi). The
    // attribute stays on the directory: waited for when it is new, else (a data root from before
    // the attribute was set, or set already) renewed in the background, off the start-up path.
    if (made !== undefined) await spreadChildDirs(this.dir);
    else void spreadChildDirs(this.dir);
    this.layers.clear();
    for (const name of await readdir(this.dir)) {
      if (name.startsWith('tmp-')) {
        await rm(join(this.dir, name), { recursive: true, force: true });
        continue;
      }
      if (!/^[a-f0-9]{64}$/.test(name)) continue;
      if (existsSync(join(this.dir, name, PENDING))) {
        // never sealed (a deferred apply the daemon did not live to seal)
        await rm(join(this.dir, name), { recursive: true, force: true });
        continue;
      }
      let meta: LayerMeta;
      try {
        meta = JSON.parse(await readFile(join(this.dir, name, 'meta.json'), 'utf8')) as LayerMeta;
      } catch {
        // Not ours or damaged (should not happen: meta.json is written before the rename).
        await rm(join(this.dir, name), { recursive: true, force: true });
        continue;
      }
      this.layers.set(meta.chainID, meta);
    }
    // Short links: drop dangling ones, recreate missing ones.
    const links = new Set(await readdir(this.linkDir));
    const wanted = new Set<string>();
    for (const m of this.layers.values()) {
      wanted.add(m.link);
      if (!links.has(m.link)) await symlink(`../${hexOf(m.chainID)}/diff`, join(this.linkDir, m.link));
    }
    for (const l of links) if (!wanted.has(l)) await unlink(join(this.linkDir, l)).catch(() => {});
  }

  has(chainID: string): boolean {
    return this.layers.has(chainID);
  }

  get(chainID: string): LayerMeta | undefined {
    return this.layers.get(chainID);
  }

  list(): LayerMeta[] {
    return [...this.layers.values()];
  }

  hold(chainIDs: Iterable<string>): () => void {
    return this.holds.hold(chainIDs);
  }

  /** The layers operations hold now (with their ancestors kept by whoever keeps them). */
  held(): string[] {
    return this.holds.keys();
  }

  /** <root>/layers/<hex>/diff */
  diffDir(chainID: string): string {
    return join(this.dir, hexOf(chainID), 'diff');
  }

  /** The short lowerdir form, relative to `this.dir` ('l/ABC…'); mount with cwd = this.dir. */
  shortDir(chainID: string): string {
    const m = this.layers.get(chainID);
    if (!m) throw new NotFoundError(`layer ${chainID} not found`);
    return `l/${m.link}`;
  }

  size(chainID: string): number {
    const m = this.layers.get(chainID);
    if (!m) throw new NotFoundError(`layer ${chainID} not found`);
    return m.size;
  }

  /** Chain IDs from this layer down to the base (top first). */
  ancestry(chainID: string): string[] {
    const out: string[] = [];
    let cur: string | null = chainID;
    while (cur) {
      const m = this.layers.get(cur);
      if (!m) throw new NotFoundError(`layer ${cur} not found`);
      out.push(cur);
      cur = m.parent;
    }
    return out;
  }

  async apply(parentChainID: string | null, tar: Readable, expectedDiffID?: string, opts?: WorkerExtractOptions, defer = false): Promise<{ chainID: string; diffID: string; size: number }> {
    if (parentChainID && !this.layers.has(parentChainID)) {
      tar.destroy();
      throw new NotFoundError(`parent layer ${parentChainID} not found`);
    }
    if (expectedDiffID !== undefined) {
      hexOf(expectedDiffID);
      const cid = computeChainID(parentChainID, expectedDiffID);
      const existing = this.layers.get(cid);
      if (existing) {
        for await (const _ of tar) { /* drain: the caller expects the stream consumed */ }
        if (!defer && this.pending.has(cid)) await this.seal();
        return { chainID: cid, diffID: existing.diffID, size: existing.size };
      }
    }

    const staged = await this.stage(tar, expectedDiffID, opts);
    return staged.commit(parentChainID, defer);
  }

  async stage(tar: Readable | FileFeed, expectedDiffID?: string, opts?: WorkerExtractOptions): Promise<StagedLayer> {
    if (expectedDiffID !== undefined) hexOf(expectedDiffID);
    const tmp = join(this.dir, `tmp-${randomBytes(8).toString('hex')}`);
    await mkdir(join(tmp, 'diff'), { recursive: true, mode: 0o755 });
    let diffID: string;
    let size: number;
    try {
      // On a worker thread (extract-worker.ts), imported when first needed: a chunk of its own.
      const { extractInWorker } = await import('./extract-worker.js');
      ({ diffID, size } = await extractInWorker(join(tmp, 'diff'), tar, opts));
      if (expectedDiffID !== undefined && diffID !== expectedDiffID) throw new DiffIDMismatchError(expectedDiffID, diffID);
    } catch (e) {
      if (tar instanceof FileFeed) tar.close();
      else tar.destroy();
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
    let open_ = true;
    const discard = async () => {
      open_ = false;
      await rm(tmp, { recursive: true, force: true });
    };
    const commit = async (parentChainID: string | null, defer = false) => {
      if (!open_) throw new InvalidParameterError('staged layer already committed or discarded');
      open_ = false;
      try {
        return await this.commitStaged(tmp, parentChainID, diffID, size, defer);
      } catch (e) {
        await rm(tmp, { recursive: true, force: true });
        throw e;
      }
    };
    return { diffID, size, discard, commit };
  }

  /**
   * Makes every pending snapshot durable: one syncfs for all their files (and whatever else the
   * caller wrote unsynced on this file system), then the markers go, each directory synced.
   * `always`: the syncfs also when no snapshot is pending (the caller's own unsynced writes).
   */
  seal(opts: { always?: boolean } = {}): Promise<void> {
    const next = this.sealing.catch(() => undefined).then(async () => {
      if (this.pending.size === 0 && !opts.always) return;
      const cids = [...this.pending];
      await syncfs(this.dir);
      for (const cid of cids) {
        if (!this.pending.has(cid)) continue; // removed meanwhile
        const dir = join(this.dir, hexOf(cid));
        await unlink(join(dir, PENDING)).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'ENOENT') throw e; });
        await fsyncDir(dir).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'ENOENT') throw e; });
        this.pending.delete(cid);
      }
    });
    this.sealing = next;
    return next;
  }

  private async commitStaged(tmp: string, parentChainID: string | null, diffID: string, size: number, defer = false): Promise<{ chainID: string; diffID: string; size: number }> {
    if (parentChainID && !this.layers.has(parentChainID)) throw new NotFoundError(`parent layer ${parentChainID} not found`);
    const cid = computeChainID(parentChainID, diffID);
    const existing = this.layers.get(cid);
    if (existing) {
      await rm(tmp, { recursive: true, force: true });
      if (!defer && this.pending.has(cid)) await this.seal();
      return { chainID: cid, diffID, size: existing.size };
    }
    const meta: LayerMeta = { chainID: cid, diffID, parent: parentChainID, size, link: newLinkName(), created: Date.now() };
    const metaPath = join(tmp, 'meta.json');
    if (defer) await writeFile(join(tmp, PENDING), '');
    await writeFile(metaPath, JSON.stringify(meta));
    if (!defer) {
      await syncfs(tmp);
      const fh = await open(metaPath, 'r');
      try { await fh.sync(); } finally { await fh.close(); }
    }
    const final = join(this.dir, hexOf(cid));
    try {
      await rename(tmp, final);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') {
        // Someone (a concurrent pull) finished the same layer first.
        await rm(tmp, { recursive: true, force: true });
        const theirs = JSON.parse(await readFile(join(final, 'meta.json'), 'utf8')) as LayerMeta;
        this.layers.set(cid, theirs);
        if (!defer && this.pending.has(cid)) await this.seal();
        return { chainID: cid, diffID, size: theirs.size };
      }
      throw e;
    }
    if (defer) this.pending.add(cid);
    else await fsyncDir(this.dir);
    await symlink(`../${hexOf(cid)}/diff`, join(this.linkDir, meta.link)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
    this.layers.set(cid, meta);
    return { chainID: cid, diffID, size };
  }

  /**
   * Removes a snapshot. The caller (the image store) decides that nobody references it; a layer
   * that still has child layers is refused.
   */
  async remove(chainID: string): Promise<void> {
    const m = this.layers.get(chainID);
    if (!m) return;
    if (this.holds.has(chainID)) throw new LayerHeldError(chainID);
    for (const other of this.layers.values()) {
      if (other.parent === chainID) throw new InvalidParameterError(`layer ${chainID} has child layer ${other.chainID}`);
    }
    this.layers.delete(chainID);
    this.pending.delete(chainID);
    await unlink(join(this.linkDir, m.link)).catch(() => {});
    // Rename first so a crash mid-delete leaves a tmp- dir that init() cleans, never half a layer.
    const doomed = join(this.dir, `tmp-rm-${randomBytes(6).toString('hex')}`);
    await rename(join(this.dir, hexOf(chainID)), doomed);
    await rm(doomed, { recursive: true, force: true });
  }
}
