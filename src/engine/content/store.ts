/**
 * Content-addressed blob store: <root>/content/blobs/sha256/<hex>.
 *
 * Writes go to <root>/content/ingest/<random>, hashed while written, verified (digest and size),
 * fsynced, then renamed into place (and the directory fsynced). A blob path therefore only ever
 * exists with complete, verified content. init() removes ingests left by a crash.
 *
 * Downloads (pull) write to <root>/content/ingest/<hex>.partial instead (`resumable`): a download
 * cut short (network, daemon killed) leaves it, and the next download of that digest re-hashes
 * the bytes already there and continues after them (an HTTP Range request). init() keeps
 * partials younger than PARTIAL_MAX_AGE_MS. One writer per partial at a time.
 */
import { sha256Digest } from '../../util/digest.js';
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { constants, createReadStream, writeSync } from 'node:fs';
import { lstat, mkdir, open, readFile, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fsyncDir } from '../../util/atomic.js';
import { outOfSpaceError } from '../../util/errno.js';
import { Holds } from '../../util/holds.js';
import { DigestMismatchError, InvalidParameterError, NotFoundError, SystemError } from '../errors.js';

export { DigestMismatchError };

/** Content-addressed blob store: content/blobs/sha256/<hex>. */
export interface ContentStoreApi {
  has(digest: string): Promise<boolean>;
  path(digest: string): string;
  read(digest: string): Promise<Buffer>;
  /** Store bytes; verifies against `expected` when given. Returns the digest. Atomic. */
  put(data: Uint8Array, expected?: string): Promise<string>;
  /**
   * Stream a blob in; verifies the sha256 (and size when given) while writing; commits with an
   * atomic rename only if it matches, else throws and leaves nothing behind.
   */
  ingest(src: Readable, expected: { digest: string; size?: number }): Promise<void>;
  /** Delete a blob; a held one (see hold) is kept. */
  delete(digest: string): Promise<void>;
  /** Keep blobs from delete() until the returned release is called (a pull in progress). */
  hold(digests: Iterable<string>): () => void;
  /**
   * A download of `expected.digest` that continues a partial one (IngestWriter.resumedFrom bytes
   * are already there, re-hashed). While another writer has that partial open, a private one.
   */
  resumable(expected: { digest: string; size?: number }): Promise<IngestWriter>;
}

/** Partial downloads older than this are removed at start-up (nobody is going to resume them). */
export const PARTIAL_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
const PARTIAL_RE = /^[a-f0-9]{64}\.partial$/;

const SHA256_RE = /^sha256:([a-f0-9]{64})$/;

function hexOf(digest: string): string {
  const m = SHA256_RE.exec(digest);
  if (!m) throw new InvalidParameterError(`unsupported or invalid digest: ${JSON.stringify(digest)}`);
  return m[1]!;
}

/**
 * An in-progress write. Feed it chunks (e.g. while also decompressing them elsewhere), then
 * commit() to verify and publish, or abort() to discard. Exactly one of them must be called.
 */
export class IngestWriter {
  private closed = false;
  /** Bytes that were already in a resumed partial when this writer opened. */
  readonly resumedFrom: number;

  constructor(
    private readonly store: ContentStore,
    private readonly fh: FileHandle,
    readonly tmpPath: string,
    private readonly expected: { digest?: string; size?: number },
    private readonly hash: Hash = createHash('sha256'),
    private written = 0,
    private readonly onClose: () => void = () => {},
    /** false: no fsyncs (the caller syncs the file system before it acknowledges the blob) */
    private readonly sync = true,
  ) {
    this.resumedFrom = written;
  }

  /** Bytes written so far (including those of a resumed partial). */
  get offset(): number { return this.written; }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.closed) throw new SystemError('ingest already closed');
    if (this.expected.size !== undefined && this.written + chunk.length > this.expected.size) {
      await this.abort();
      throw DigestMismatchError.of(String(this.expected.size), `more than ${this.expected.size} bytes`, 'size');
    }
    this.hash.update(chunk);
    const at = this.written;
    this.written += chunk.length;
    let off = 0;
    try {
      // Synchronous: a pwrite of one network chunk into the page cache takes microseconds, where
      // an async write costs a thread-pool round trip per chunk (thousands per pull).
      while (off < chunk.length) off += writeSync(this.fh.fd, chunk, off, chunk.length - off, at + off);
    } catch (e) {
      throw outOfSpaceError(e, this.tmpPath); // dockerd's words on a full disk
    }
  }

  /** Verifies and publishes; returns the digest. On mismatch removes the temp file and throws. */
  async commit(): Promise<string> {
    if (this.closed) throw new SystemError('ingest already closed');
    const digest = 'sha256:' + this.hash.digest('hex');
    try {
      if (this.expected.size !== undefined && this.written !== this.expected.size) {
        throw DigestMismatchError.of(String(this.expected.size), String(this.written), 'size');
      }
      if (this.expected.digest !== undefined && digest !== this.expected.digest) {
        throw DigestMismatchError.of(this.expected.digest, digest);
      }
      if (this.sync) await this.fh.sync();
    } catch (e) {
      await this.abort();
      throw outOfSpaceError(e, this.tmpPath);
    }
    this.closed = true;
    try {
      await this.fh.close();
      const dest = this.store.path(digest);
      await rename(this.tmpPath, dest);
      if (this.sync) await fsyncDir(this.store.blobDir);
    } finally {
      this.onClose();
    }
    return digest;
  }

  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close().catch(() => {});
    await rm(this.tmpPath, { force: true });
    this.onClose();
  }

  /** Close, keeping what was written for a later resumable() of the same digest (a partial only). */
  async suspend(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close().catch(() => {});
    this.onClose();
  }
}

export class ContentStore implements ContentStoreApi {
  readonly blobDir: string;
  readonly ingestDir: string;
  private readonly holds = new Holds();
  /** Digests (hex) whose partial has an open writer. */
  private readonly partialLocks = new Set<string>();

  constructor(readonly root: string) {
    this.blobDir = join(root, 'content', 'blobs', 'sha256');
    this.ingestDir = join(root, 'content', 'ingest');
  }

  /**
   * Creates the directories and removes stale ingests (crash leftovers), except partial downloads
   * younger than PARTIAL_MAX_AGE_MS (a pull resumes them).
   */
  async init(): Promise<void> {
    await mkdir(this.blobDir, { recursive: true });
    await mkdir(this.ingestDir, { recursive: true });
    for (const name of await readdir(this.ingestDir)) {
      const p = join(this.ingestDir, name);
      if (PARTIAL_RE.test(name)) {
        const st = await lstat(p).catch(() => null);
        if (st?.isFile() && Date.now() - st.mtimeMs < PARTIAL_MAX_AGE_MS) continue;
      }
      await rm(p, { recursive: true, force: true });
    }
  }

  path(digest: string): string {
    return join(this.blobDir, hexOf(digest));
  }

  async has(digest: string): Promise<boolean> {
    try {
      const st = await stat(this.path(digest));
      return st.isFile();
    } catch (e) {
      if (isNoent(e)) return false;
      throw e;
    }
  }

  /** Size in bytes; NotFoundError when absent. */
  async size(digest: string): Promise<number> {
    try {
      return (await stat(this.path(digest))).size;
    } catch (e) {
      if (isNoent(e)) throw new NotFoundError(`blob ${digest} not found`);
      throw e;
    }
  }

  async read(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.path(digest));
    } catch (e) {
      if (isNoent(e)) throw new NotFoundError(`blob ${digest} not found`);
      throw e;
    }
  }

  /** A stream of the blob (throws NotFoundError synchronously-ish through has()). */
  async openRead(digest: string): Promise<Readable> {
    if (!(await this.has(digest))) throw new NotFoundError(`blob ${digest} not found`);
    return createReadStream(this.path(digest));
  }

  /** Starts a write; see IngestWriter. `expected.digest` is optional (then the result names it). */
  /** `sync: false` skips the fsyncs: for a caller that syncs the file system itself (a build). */
  async writer(expected: { digest?: string; size?: number } = {}, opts: { sync?: boolean } = {}): Promise<IngestWriter> {
    if (expected.digest !== undefined) hexOf(expected.digest);
    await mkdir(this.ingestDir, { recursive: true });
    await mkdir(this.blobDir, { recursive: true });
    const tmp = join(this.ingestDir, randomBytes(8).toString('hex'));
    const fh = await open(tmp, 'wx', 0o644);
    return new IngestWriter(this, fh, tmp, expected, undefined, undefined, undefined, opts.sync ?? true);
  }

  async resumable(expected: { digest: string; size?: number }): Promise<IngestWriter> {
    const hex = hexOf(expected.digest);
    // One writer per partial: a second download of the same digest meanwhile (another image
    // naming the same blob) writes a private ingest of its own, as any other write does.
    if (this.partialLocks.has(hex)) return this.writer(expected);
    this.partialLocks.add(hex);
    const release = () => { this.partialLocks.delete(hex); };
    try {
      await mkdir(this.ingestDir, { recursive: true });
      await mkdir(this.blobDir, { recursive: true });
      const tmp = join(this.ingestDir, `${hex}.partial`);
      const fh = await open(tmp, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
      try {
        // Re-hash what is there (the hash state is not kept: the bytes are the state).
        const hash = createHash('sha256');
        let n = (await fh.stat()).size;
        if (expected.size !== undefined && n > expected.size) {
          await fh.truncate(0);
          n = 0;
        }
        if (n > 0) {
          const buf = Buffer.allocUnsafe(1 << 20);
          for (let pos = 0; pos < n;) {
            const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, n - pos), pos);
            if (bytesRead === 0) { n = pos; await fh.truncate(n); break; }
            hash.update(buf.subarray(0, bytesRead));
            pos += bytesRead;
          }
        }
        return new IngestWriter(this, fh, tmp, expected, hash, n, release);
      } catch (e) {
        await fh.close().catch(() => {});
        throw e;
      }
    } catch (e) {
      release();
      throw e;
    }
  }

  async put(data: Uint8Array, expected?: string, opts: { sync?: boolean } = {}): Promise<string> {
    const digest = sha256Digest(data);
    if (expected !== undefined) {
      hexOf(expected);
      if (digest !== expected) throw DigestMismatchError.of(expected, digest);
    }
    if (await this.has(digest)) return digest;
    const w = await this.writer({ digest, size: data.length }, opts);
    await w.write(data);
    return w.commit();
  }

  async ingest(src: Readable, expected: { digest: string; size?: number }): Promise<void> {
    hexOf(expected.digest);
    if (await this.has(expected.digest)) {
      // Already present: consume the stream (the caller expects it read) and keep what we have.
      for await (const _ of src) { /* drain */ }
      return;
    }
    const w = await this.writer(expected);
    try {
      for await (const chunk of src) await w.write(chunk as Buffer);
    } catch (e) {
      await w.abort();
      src.destroy();
      throw e;
    }
    await w.commit();
  }

  hold(digests: Iterable<string>): () => void {
    return this.holds.hold(digests);
  }

  async delete(digest: string): Promise<void> {
    if (this.holds.has(digest)) return;
    try {
      await unlink(this.path(digest));
    } catch (e) {
      if (!isNoent(e)) throw e;
    }
  }

  /** Every stored digest (for garbage collection). */
  async list(): Promise<string[]> {
    const names = await readdir(this.blobDir).catch((e) => (isNoent(e) ? [] : Promise.reject(e)));
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => 'sha256:' + n);
  }
}

function isNoent(e: unknown): boolean {
  return (e as NodeJS.ErrnoException)?.code === 'ENOENT';
}
