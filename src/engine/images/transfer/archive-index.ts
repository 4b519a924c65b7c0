/**
 * Reads an image archive (docker save's layouts) in one streaming pass and remembers where each
 * file went, so the manifest, which may come last (Docker writes it after the blobs), can be
 * resolved afterwards without reading the archive again:
 *
 *  - `blobs/sha256/<hex>` files go into the content store as they arrive, their digest verified
 *    against the name (a mismatch is a 400 before the entry is done);
 *  - other files up to 1 MiB (JSON metadata, small legacy layers) are kept in memory, within a
 *    budget; larger ones (legacy `<id>/layer.tar`) go into the content store by their own digest;
 *  - symlinks and hardlinks become aliases inside the archive (docker 20.10 links repeated
 *    layer.tar files); one that points outside it is remembered as such and refused if used;
 *  - an entry with an absolute name or one climbing out of the archive (`../`) is refused.
 *
 * Only what must be reread is spooled: blobs, which become the image's layer blobs anyway.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { DigestMismatchError, type ContentStore, type IngestWriter } from '../../content/store.js';
import { readTar } from '../../layers/tar-reader.js';
import { coalesce } from '../../../util/coalesce.js';
import { InvalidArchiveError } from './errors.js';

export type ArchiveFile =
  | { kind: 'memory'; data: Buffer }
  | { kind: 'blob'; digest: string; size: number }
  | { kind: 'alias'; target: string }
  | { kind: 'outside'; target: string };

const SMALL_FILE = 1 << 20;
const MEMORY_BUDGET = 64 << 20;
const BLOB_NAME = /^blobs\/sha256\/([a-f0-9]{64})$/;

/** A clean archive-relative path, or an InvalidArchiveError for an absolute or escaping one. */
export function archivePath(name: string, what = 'entry'): string {
  if (name.startsWith('/')) throw new InvalidArchiveError(`${what} ${JSON.stringify(name)} is an absolute path`);
  if (name.includes('\0')) throw new InvalidArchiveError(`${what} ${JSON.stringify(name)} contains a NUL byte`);
  const norm = posix.normalize(name).replace(/\/+$/, '');
  if (norm === '..' || norm.startsWith('../')) throw new InvalidArchiveError(`${what} ${JSON.stringify(name)} points outside the archive`);
  return norm === '.' ? '' : norm;
}

export class ArchiveIndex {
  private readonly files = new Map<string, ArchiveFile>();
  /** Blobs this archive added to the content store (not there before): dropped if the load fails. */
  readonly newBlobs = new Set<string>();
  private memory = 0;
  /** Holds on every blob the archive names, so a concurrent load's clean-up keeps them. */
  private readonly holds: Array<() => void> = [];

  constructor(private readonly content: ContentStore) {}

  /** Ends the holds (before this load's own clean-up, which may then delete what it added). */
  releaseBlobs(): void {
    for (const r of this.holds.splice(0)) r();
  }

  has(name: string): boolean {
    return this.lookup(name) !== undefined;
  }

  /** The file at `name`, aliases followed (at most 40); undefined when the archive has none. */
  lookup(name: string): Exclude<ArchiveFile, { kind: 'alias' }> | undefined {
    let cur = name;
    for (let i = 0; i < 40; i++) {
      const f = this.files.get(cur);
      if (!f || f.kind !== 'alias') return f;
      cur = f.target;
    }
    throw new InvalidArchiveError(`too many links resolving ${JSON.stringify(name)}`);
  }

  /** Reads every entry of the (decompressed) archive stream. */
  async read(src: AsyncIterable<Buffer>): Promise<void> {
    for await (const { header: h, body } of readTar(src)) {
      const name = archivePath(h.name);
      if (name === '') continue;
      this.checkParents(name);
      switch (h.type) {
        case 'file':
          this.files.set(name, await this.store(name, h.size, body));
          break;
        case 'symlink': {
          const target = posix.normalize(posix.join(posix.dirname(name), h.linkname));
          this.files.set(name, h.linkname.startsWith('/') || target === '..' || target.startsWith('../')
            ? { kind: 'outside', target: h.linkname } : { kind: 'alias', target });
          break;
        }
        case 'link': {
          const target = posix.normalize(h.linkname);
          this.files.set(name, h.linkname.startsWith('/') || target === '..' || target.startsWith('../')
            ? { kind: 'outside', target: h.linkname } : { kind: 'alias', target });
          break;
        }
        default:
          break; // directories, devices, fifos: nothing an image is made of
      }
    }
  }

  /** An entry below a link of the archive would be written through it: refused, as dockerd's untar refuses a breakout. */
  private checkParents(name: string): void {
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      const f = this.files.get(prefix);
      if (f && (f.kind === 'alias' || f.kind === 'outside')) {
        throw new InvalidArchiveError(`entry ${JSON.stringify(name)} would be written through the link ${JSON.stringify(prefix)}`);
      }
    }
  }

  private async store(name: string, size: number, entryBody: AsyncIterable<Buffer>): Promise<ArchiveFile> {
    const body = coalesce(entryBody);
    const m = BLOB_NAME.exec(name);
    if (!m && size <= SMALL_FILE && this.memory + size <= MEMORY_BUDGET) {
      const chunks: Buffer[] = [];
      for await (const c of body) chunks.push(c);
      this.memory += size;
      return { kind: 'memory', data: Buffer.concat(chunks) };
    }
    const expected = m ? `sha256:${m[1]}` : undefined;
    if (expected) this.holds.push(this.content.hold([expected]));
    if (expected && await this.content.has(expected)) {
      // Already stored: verify the archive's copy all the same (it may be someone else's bytes).
      const hash = createHash('sha256');
      for await (const c of body) hash.update(c);
      if (`sha256:${hash.digest('hex')}` !== expected) throw new InvalidArchiveError(`${name} does not match its digest`);
      return { kind: 'blob', digest: expected, size };
    }
    if (expected) {
      // The store's writer verifies the named digest: a mismatch is never renamed into place.
      const w: IngestWriter = await this.content.writer({ digest: expected, size });
      try {
        for await (const c of body) await w.write(c);
        await w.commit();
      } catch (e) {
        await w.abort();
        if (e instanceof DigestMismatchError) throw new InvalidArchiveError(`${name} does not match its digest`);
        throw e;
      }
      this.newBlobs.add(expected);
      return { kind: 'blob', digest: expected, size };
    }
    // Hashed here too, so the digest is known before the commit: a blob already present is
    // never replaced.
    const hash = createHash('sha256');
    const w: IngestWriter = await this.content.writer({ size });
    try {
      for await (const c of body) {
        hash.update(c);
        await w.write(c);
      }
    } catch (e) {
      await w.abort();
      throw e;
    }
    const digest = `sha256:${hash.digest('hex')}`;
    this.holds.push(this.content.hold([digest]));
    if (await this.content.has(digest)) {
      await w.abort();
      return { kind: 'blob', digest, size };
    }
    await w.commit();
    this.newBlobs.add(digest);
    return { kind: 'blob', digest, size };
  }
}

