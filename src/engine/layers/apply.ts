/**
 * Extracts one uncompressed layer tar into a directory (an overlay "diff" dir), in one pass,
 * hashing the stream for its diffID while extracting.
 *
 * - OCI whiteouts become overlay whiteouts: `.wh.name` → char device 0:0 at `name`;
 *   `.wh..wh..opq` → xattr trusted.overlay.opaque=y on the directory. Other `.wh..wh.*` (AUFS
 *   metadata) are skipped.
 * - Regular files, dirs, symlinks, hardlinks (inside the layer), char/block devices, fifos;
 *   ownership (lchown), modes (incl. setuid/setgid/sticky), mtimes (dirs last), xattrs from pax
 *   records as raw bytes (security.capability survives). trusted.overlay.* xattrs from the
 *   archive are dropped: a layer must not steer overlayfs (redirects, metacopy).
 * - Path safety: see safe-path.ts. Directory times are set last, and only on directories that
 *   are still the ones we made (re-resolved without following any link, set with lutimes): a
 *   later entry may have replaced one by a symlink to a host path.
 * - Size: the uncompressed stream may not exceed `maxBytes` (LayerTooLargeError, checked as the
 *   bytes arrive, so a decompression bomb stops at the limit).
 * - Speed: every file system call is synchronous (microseconds each; an async call costs a
 *   thread-pool round trip, a futex wake and a promise, which for the ~8,000 entries of a minbase
 *   layer was most of the extraction's CPU). A file's owner, mode and times are set on its open
 *   descriptor. A pull runs this in a worker thread (extract-worker.ts), so the daemon's event
 *   loop is not held up by it.
 */
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, constants, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, openSync, rmSync, symlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setAttributeSync } from '@napi-rs/xattr';
import { InvalidParameterError, SystemError } from '../errors.js';
import { bytesSize } from '../../util/units.js';
import { outOfSpaceError } from '../../util/errno.js';
import { mknodAll, type NodeSpec } from './mknod.js';
import { entryComponents, SafeDirs, UnsafeLayerError } from './safe-path.js';
import { readTar, type TarHeader } from './tar-reader.js';
import { OVERLAY_OPAQUE_XATTR } from '../host/overlay.js';

export const WHITEOUT_PREFIX = '.wh.';
export const WHITEOUT_META_PREFIX = '.wh..wh.';
export const WHITEOUT_OPAQUE = '.wh..wh..opq';
export { OVERLAY_OPAQUE_XATTR };

export interface ExtractResult {
  /** sha256 of the whole uncompressed stream. */
  diffID: string;
  /** Bytes of regular file content (hardlinks counted once). */
  size: number;
}

/**
 * Default cap on one layer's uncompressed tar stream when the caller gives none (a local load or
 * commit). A pull passes a tighter one from the compressed size: see `expansionLimit`.
 */
export const DEFAULT_MAX_LAYER_BYTES = 256 * 2 ** 30;
/** Allowed expansion of a compressed layer: 100 × its size, plus 1 GiB so small layers never trip. */
export const MAX_EXPANSION_RATIO = 100;
export const EXPANSION_ALLOWANCE = 2 ** 30;

/** The cap on the uncompressed bytes of a layer whose blob is `compressedSize` bytes. */
export function expansionLimit(compressedSize: number): number {
  if (!Number.isFinite(compressedSize) || compressedSize < 0) return DEFAULT_MAX_LAYER_BYTES;
  return Math.min(DEFAULT_MAX_LAYER_BYTES, compressedSize * MAX_EXPANSION_RATIO + EXPANSION_ALLOWANCE);
}

/** A layer whose uncompressed stream passed the cap: bad input (a 400, reported in a pull's stream). */
export class LayerTooLargeError extends InvalidParameterError {
  constructor(readonly limit: number) {
    super(`layer too large: its uncompressed content exceeds the limit of ${bytesSize(limit)} (${limit} bytes)`);
    this.name = 'LayerTooLargeError';
  }
}

export interface ExtractOptions {
  /** Cap on the uncompressed tar stream in bytes (default DEFAULT_MAX_LAYER_BYTES). */
  maxBytes?: number;
}

const O_CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;


function lstatOrNull(p: string) {
  return lstatSync(p, { throwIfNoEntry: false }) ?? null;
}

/** Set an entry's xattrs from its pax records (trusted.overlay.* never; unsupported ones skipped). */
export function setXattrs(path: string, h: TarHeader): void {
  for (const [name, value] of h.xattrs) {
    if (name.startsWith('trusted.overlay.')) continue;
    try {
      setAttributeSync(path, name, value);
    } catch (e) {
      const msg = String((e as Error).message ?? e);
      if (/not supported|ENOTSUP|EOPNOTSUPP/i.test(msg)) continue; // best effort on filesystems without xattrs
      throw new SystemError(`setxattr ${name} on ${path}: ${msg}`);
    }
  }
}

/** Nodes made by one mknodAll at most: the paths go on one command line. */
const MAX_PENDING_NODES = 256;

/**
 * Device nodes, fifos and whiteouts of a layer, made together by one helper process (mknodAll)
 * rather than one process each, each followed by what its entry sets after making it (owner,
 * mode, times). They are made before anything that could see their paths: an entry at, under or
 * through one, a hardlink to one, a removal, and the directories' times at the end.
 */
class PendingNodes {
  private specs: NodeSpec[] = [];
  private thens: (() => void)[] = [];
  private readonly rels = new Set<string>();

  /** Whether the path of `comps` is a pending node or passes through one. */
  touches(comps: readonly string[]): boolean {
    if (this.rels.size === 0) return false;
    let rel = '';
    for (const c of comps) {
      rel = rel ? `${rel}/${c}` : c;
      if (this.rels.has(rel)) return true;
    }
    return false;
  }

  async add(rel: string, node: NodeSpec, then: () => void): Promise<void> {
    this.specs.push(node);
    this.thens.push(then);
    this.rels.add(rel);
    if (this.specs.length >= MAX_PENDING_NODES) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.specs.length === 0) return;
    const specs = this.specs;
    const thens = this.thens;
    this.specs = [];
    this.thens = [];
    this.rels.clear();
    await mknodAll(specs);
    for (const then of thens) then();
  }
}

function atimeOf(h: TarHeader): number {
  return h.atime ?? h.mtime;
}

/** Extracts `src` into `dest` (which must exist and be empty or a fresh snapshot). */
export async function extractLayer(dest: string, src: AsyncIterable<Uint8Array>, opts: ExtractOptions = {}): Promise<ExtractResult> {
  const at = { path: dest }; // the entry being written
  try {
    return await extractEntries(dest, src, opts, at);
  } catch (e) {
    throw outOfSpaceError(e, at.path); // a full disk in dockerd's words: write <path>: no space left on device
  }
}

/** Write a regular file from its tar body: content, then owner, mode, xattrs, times on the new descriptor. */
async function writeFile(path: string, body: AsyncIterable<Buffer>, h: TarHeader): Promise<void> {
  const fd = openSync(path, O_CREATE_NEW, 0o600);
  try {
    for await (const chunk of body) writeAll(fd, chunk);
    fchownSync(fd, h.uid, h.gid);
    fchmodSync(fd, h.mode);
    if (h.xattrs.size) setXattrs(path, h);
    futimesSync(fd, atimeOf(h), h.mtime);
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, chunk: Buffer): void {
  let off = 0;
  while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
}

async function extractEntries(dest: string, src: AsyncIterable<Uint8Array>, opts: ExtractOptions, at: { path: string }): Promise<ExtractResult> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_LAYER_BYTES;
  const hash = createHash('sha256');
  const dirs = new SafeDirs(dest);
  const nodes = new PendingNodes();
  // Directory times to set at the end, by path relative to dest ('' is the root); dropped with
  // the tree under a path when an entry removes or replaces it.
  const dirTimes = new Map<string, { atime: number; mtime: number }>();
  const forget = (rel: string): void => {
    dirs.forget(rel);
    const prefix = rel + '/';
    for (const k of dirTimes.keys()) if (k === rel || k.startsWith(prefix)) dirTimes.delete(k);
  };
  let size = 0;
  let streamed = 0;
  const onData = (c: Buffer): void => {
    streamed += c.length;
    if (streamed > maxBytes) throw new LayerTooLargeError(maxBytes);
    hash.update(c);
  };

  for await (const { header: h, body } of readTar(src, onData)) {
    const comps = entryComponents(h.name);
    at.path = join(dest, ...comps);

    if (comps.length === 0) {
      // The root of the layer ('./'): take its metadata.
      if (h.type === 'directory') {
        lchownSync(dest, h.uid, h.gid);
        chmodSync(dest, h.mode);
        setXattrs(dest, h);
        dirTimes.set('', { atime: atimeOf(h), mtime: h.mtime });
      }
      continue;
    }

    if (nodes.touches(comps)) await nodes.flush();
    const base = comps[comps.length - 1]!;
    const parentComps = comps.slice(0, -1);
    const parentDir = await dirs.dir(parentComps, h.name);

    if (base.startsWith(WHITEOUT_PREFIX)) {
      if (base === WHITEOUT_OPAQUE) {
        setAttributeSync(parentDir, OVERLAY_OPAQUE_XATTR, 'y');
        continue;
      }
      if (base.startsWith(WHITEOUT_META_PREFIX)) continue;
      const victim = base.slice(WHITEOUT_PREFIX.length);
      if (victim === '' || victim === '.' || victim === '..') {
        throw new UnsafeLayerError(`invalid whiteout ${JSON.stringify(h.name)}`);
      }
      const vrel = [...parentComps, victim].join('/');
      const vpath = join(parentDir, victim);
      if (nodes.touches([...parentComps, victim])) await nodes.flush();
      if (lstatOrNull(vpath)) {
        await nodes.flush(); // the removal may take a directory with pending nodes in it
        rmSync(vpath, { recursive: true, force: true });
        forget(vrel);
      }
      await nodes.add(vrel, { path: vpath, kind: 'c', mode: 0, major: 0, minor: 0 }, () => lchownSync(vpath, h.uid, h.gid));
      continue;
    }

    const rel = comps.join('/');
    const path = join(parentDir, base);
    const existing = lstatOrNull(path);
    if (existing && !(existing.isDirectory() && h.type === 'directory')) {
      await nodes.flush(); // the removal may take a directory with pending nodes in it
      rmSync(path, { recursive: true, force: true });
      forget(rel);
    }

    switch (h.type) {
      case 'directory': {
        if (!existing || !existing.isDirectory()) mkdirSync(path, { mode: 0o700 });
        dirs.remember(rel);
        lchownSync(path, h.uid, h.gid);
        chmodSync(path, h.mode);
        setXattrs(path, h);
        dirTimes.delete(rel); // re-inserted last: a later entry's times win
        dirTimes.set(rel, { atime: atimeOf(h), mtime: h.mtime });
        break;
      }
      case 'file': {
        await writeFile(path, body, h);
        size += h.size;
        break;
      }
      case 'symlink': {
        symlinkSync(h.linkname, path);
        lchownSync(path, h.uid, h.gid);
        lutimesSync(path, atimeOf(h), h.mtime);
        break;
      }
      case 'link': {
        const tcomps = entryComponents(h.linkname, `hardlink ${JSON.stringify(h.name)} target`);
        if (tcomps.length === 0) throw new UnsafeLayerError(`hardlink ${JSON.stringify(h.name)} points at the layer root`);
        if (nodes.touches(tcomps)) await nodes.flush();
        const tdir = await dirs.dir(tcomps.slice(0, -1), h.linkname, false);
        const tpath = join(tdir, tcomps[tcomps.length - 1]!);
        const tst = lstatOrNull(tpath);
        if (!tst) throw new UnsafeLayerError(`hardlink ${JSON.stringify(h.name)} -> ${JSON.stringify(h.linkname)}: target is not in the layer`);
        if (tst.isDirectory()) throw new UnsafeLayerError(`hardlink ${JSON.stringify(h.name)} -> ${JSON.stringify(h.linkname)}: target is a directory`);
        linkSync(tpath, path);
        break;
      }
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        const kind = h.type === 'fifo' ? 'p' : h.type === 'character-device' ? 'c' : 'b';
        await nodes.add(rel, { path, kind, mode: h.mode, major: h.devmajor, minor: h.devminor }, () => {
          lchownSync(path, h.uid, h.gid);
          chmodSync(path, h.mode);
          setXattrs(path, h);
          lutimesSync(path, atimeOf(h), h.mtime);
        });
        break;
      }
      default:
        throw new InvalidParameterError(`unhandled tar header type ${JSON.stringify(h.typeflag)} for ${JSON.stringify(h.name)}`);
    }
  }

  await nodes.flush(); // before the directories' times: making a node changes its directory's mtime
  for (const [rel, t] of dirTimes) {
    // Re-resolved inside dest without following links (a no-op for the directories still known),
    // and lutimes: never move the times of whatever a symlink points at.
    const path = await dirs.dir(rel === '' ? [] : rel.split('/'), rel, false);
    lutimesSync(path, t.atime, t.mtime);
  }
  return { diffID: 'sha256:' + hash.digest('hex'), size };
}
