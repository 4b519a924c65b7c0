/**
 * Unpacking a tar a client sent into a tree someone else may hold (a container's root, running or
 * not; a volume a container uses): `docker cp` into a container, `berth volume import`. The rules,
 * each a 400 naming the entry:
 *  - names are relative and stay below the extraction point (no absolute names, no `..` escape);
 *  - nothing is written through a symlink: every parent is opened with O_NOFOLLOW, one component
 *    at a time, from the extraction point's descriptor (fd-path.ts), so a link planted by the
 *    archive itself or by the container (even one swapped in while we work) is refused, never followed;
 *  - a hardlink's target must be a non-directory already inside the extraction point, found the
 *    same way;
 *  - device nodes only when the caller allows them (a container's root may hold them, a volume
 *    import refuses them);
 *  - the uncompressed stream is capped (`maxBytes`).
 * Entries replace what is there (a directory over a directory keeps its content), as moby's Untar;
 * with `noOverwriteDirNonDir` replacing a directory by a non-directory or the reverse is refused.
 * OCI whiteouts mean nothing here: `.wh.x` is an ordinary file name.
 */
import { constants } from 'node:fs';
import { lchown, link, lutimes, mkdir, open, readdir, rmdir, symlink, unlink, type FileHandle } from 'node:fs/promises';
import { setAttribute } from '@napi-rs/xattr';
import { InvalidParameterError, SystemError } from '../errors.js';
import { outOfSpaceError } from '../../util/errno.js';
import { at, closeAll, lstatAt, openDirAt } from './fd-path.js';
import { mknod } from './mknod.js';
import { entryComponents, UnsafeLayerError } from './safe-path.js';
import { readTar, type TarHeader } from './tar-reader.js';
import { DEFAULT_MAX_LAYER_BYTES, LayerTooLargeError } from './apply.js';

/** An archive entry that would leave the extraction point or write through a link: a 400. */
export class UnsafeArchiveError extends InvalidParameterError {
  constructor(message: string) {
    super(`refused archive entry: ${message}`);
    this.name = 'UnsafeArchiveError';
  }
}

export interface SafeExtractOptions {
  /** dockerd's noOverwriteDirNonDir. */
  noOverwriteDirNonDir?: boolean;
  /** One owner for every entry (copyUIDGID with a container user); default: the archive's. */
  owner?: { uid: number; gid: number };
  /** Allow character and block devices (a container's root); refused otherwise. */
  devices?: boolean;
  /** Cap on the tar stream's bytes (default DEFAULT_MAX_LAYER_BYTES). */
  maxBytes?: number;
  /** How entry names are shown in messages: the container path of the extraction point, say. */
  display?: (rel: string) => string;
}

export interface SafeExtractResult { entries: number; bytes: number }

const O_NEW_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

function components(name: string, what: string): string[] {
  try {
    return entryComponents(name, what);
  } catch (e) {
    if (e instanceof UnsafeLayerError) throw new UnsafeArchiveError(e.message.replace(/^unsafe layer: /, '').replace('the layer root', 'the extraction point'));
    throw e;
  }
}

/**
 * The chain of open directories from the extraction point to the current entry's parent. Tar
 * entries come parent first, so most entries reuse the chain; at most its depth is open at once.
 */
class DirChain {
  private readonly names: string[] = [];
  private readonly handles: FileHandle[] = [];

  constructor(private readonly root: FileHandle, private readonly show: (rel: string) => string) {}

  /** The open directory `comps` (created 0755 when missing and `create`), never through a link. */
  async dir(comps: readonly string[], entry: string, create: boolean): Promise<FileHandle> {
    let keep = 0;
    while (keep < this.names.length && keep < comps.length && this.names[keep] === comps[keep]) keep++;
    await this.truncate(keep);
    for (let i = keep; i < comps.length; i++) {
      const parent = i === 0 ? this.root : this.handles[i - 1]!;
      const name = comps[i]!;
      const rel = comps.slice(0, i + 1).join('/');
      let st = await lstatAt(parent, name);
      if (!st) {
        if (!create) throw new UnsafeArchiveError(`${JSON.stringify(entry)}: ${this.show(rel)} does not exist`);
        await mkdir(at(parent, name), { mode: 0o755 }).catch((e) => { if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; });
        st = await lstatAt(parent, name);
      }
      if (st?.isSymbolicLink()) throw new UnsafeArchiveError(`${JSON.stringify(entry)} would be written through the symlink ${this.show(rel)}`);
      if (!st?.isDirectory()) throw new UnsafeArchiveError(`${JSON.stringify(entry)}: ${this.show(rel)} is not a directory`);
      let h: FileHandle;
      try {
        h = await openDirAt(parent, name);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ELOOP' || code === 'ENOTDIR') throw new UnsafeArchiveError(`${JSON.stringify(entry)}: ${this.show(rel)} changed into a link while being opened`);
        throw e;
      }
      this.names.push(name);
      this.handles.push(h);
    }
    return comps.length === 0 ? this.root : this.handles[comps.length - 1]!;
  }

  /** Forget everything from depth `n` on (an entry replaced a directory of the chain). */
  async truncate(n: number): Promise<void> {
    const gone = this.handles.splice(n);
    this.names.splice(n);
    await closeAll(gone);
  }

  /** The depth at which `comps` leaves the chain's path (the chain is valid up to there). */
  sharedDepth(comps: readonly string[]): number {
    let k = 0;
    while (k < this.names.length && k < comps.length && this.names[k] === comps[k]) k++;
    return k;
  }

  close(): Promise<void> { return this.truncate(0); }
}

/** Remove `name` from the open directory `dir`, a directory with all it holds, never following a link. */
export async function removeAt(dir: FileHandle, name: string): Promise<void> {
  const st = await lstatAt(dir, name);
  if (!st) return;
  if (!st.isDirectory()) { await unlink(at(dir, name)); return; }
  const sub = await openDirAt(dir, name);
  try {
    for (const child of await readdir(at(sub))) await removeAt(sub, child);
  } finally {
    await sub.close();
  }
  await rmdir(at(dir, name));
}

async function setXattrs(path: string, h: TarHeader): Promise<void> {
  for (const [name, value] of h.xattrs) {
    if (name.startsWith('trusted.overlay.')) continue;
    try {
      await setAttribute(path, name, value);
    } catch (e) {
      const msg = String((e as Error).message ?? e);
      if (/not supported|ENOTSUP|EOPNOTSUPP|EPERM|not permitted/i.test(msg)) continue; // best effort, as moby's Untar
      throw new SystemError(`setxattr ${name}: ${msg}`);
    }
  }
}

/** Extract `src` into the open directory `root`. */
export async function safeExtract(root: FileHandle, src: AsyncIterable<Uint8Array>, opts: SafeExtractOptions = {}): Promise<SafeExtractResult> {
  const show = opts.display ?? ((rel: string) => rel);
  const chain = new DirChain(root, show);
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_LAYER_BYTES;
  let bytes = 0;
  let entries = 0;
  let current = '';
  const dirTimes: Array<{ comps: string[]; atime: number; mtime: number }> = [];
  try {
    for await (const { header: h, body } of readTar(src, (c) => {
      bytes += c.length;
      if (bytes > maxBytes) throw new LayerTooLargeError(maxBytes);
    })) {
      current = h.name;
      const comps = components(h.name, 'entry');
      if (comps.length === 0) continue; // the extraction point itself ('./'): left as it is, as moby
      entries++;
      const base = comps[comps.length - 1]!;
      const parentComps = comps.slice(0, -1);
      const parent = await chain.dir(parentComps, h.name, true);
      const rel = comps.join('/');
      const uid = opts.owner?.uid ?? h.uid;
      const gid = opts.owner?.gid ?? h.gid;

      if ((h.type === 'character-device' || h.type === 'block-device') && !opts.devices) {
        throw new UnsafeArchiveError(`${JSON.stringify(h.name)} is a device node; device nodes are not accepted here`);
      }
      if (h.type === 'unsupported') throw new InvalidParameterError(`unhandled tar header type ${JSON.stringify(h.typeflag)} for ${JSON.stringify(h.name)}`);

      const existing = await lstatAt(parent, base);
      if (existing) {
        const wantDir = h.type === 'directory';
        if (opts.noOverwriteDirNonDir && existing.isDirectory() && !wantDir) {
          throw new InvalidParameterError(`cannot overwrite directory ${JSON.stringify(show(rel))} with non-directory ${JSON.stringify(h.name)}`);
        }
        if (opts.noOverwriteDirNonDir && !existing.isDirectory() && wantDir) {
          throw new InvalidParameterError(`cannot overwrite non-directory ${JSON.stringify(show(rel))} with directory ${JSON.stringify(h.name)}`);
        }
        if (!(existing.isDirectory() && wantDir)) {
          // The chain may hold this very directory (an earlier entry's parent): drop it first.
          if (chain.sharedDepth(comps) === comps.length) await chain.truncate(comps.length - 1);
          await removeAt(parent, base);
        }
      }

      switch (h.type) {
        case 'directory': {
          if (!existing?.isDirectory()) await mkdir(at(parent, base), { mode: 0o700 });
          const d = await openDirAt(parent, base);
          try {
            await d.chown(uid, gid);
            await d.chmod(h.mode & 0o7777);
            await setXattrs(at(d), h);
          } finally {
            await d.close();
          }
          dirTimes.push({ comps, atime: h.atime ?? h.mtime, mtime: h.mtime });
          break;
        }
        case 'file': {
          const fh = await open(at(parent, base), O_NEW_FILE, 0o600);
          try {
            for await (const chunk of body) {
              let off = 0;
              while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
            }
            await fh.chown(uid, gid);
            await fh.chmod(h.mode & 0o7777);
            await setXattrs(at(fh), h);
            await fh.utimes(h.atime ?? h.mtime, h.mtime);
          } finally {
            await fh.close();
          }
          break;
        }
        case 'symlink': {
          // Any target: a link is only ever read inside the container, and nothing here follows one.
          await symlink(h.linkname, at(parent, base));
          await lchown(at(parent, base), uid, gid);
          await lutimes(at(parent, base), h.atime ?? h.mtime, h.mtime);
          break;
        }
        case 'link': {
          const tcomps = components(h.linkname, `hardlink ${JSON.stringify(h.name)} target`);
          if (tcomps.length === 0) throw new UnsafeArchiveError(`hardlink ${JSON.stringify(h.name)} points at the extraction point`);
          const links = new DirChain(root, show);
          try {
            const tdir = await links.dir(tcomps.slice(0, -1), h.linkname, false);
            const tname = tcomps[tcomps.length - 1]!;
            const tst = await lstatAt(tdir, tname);
            if (!tst) throw new UnsafeArchiveError(`hardlink ${JSON.stringify(h.name)} -> ${JSON.stringify(h.linkname)}: the target is not in the archive`);
            if (tst.isDirectory()) throw new UnsafeArchiveError(`hardlink ${JSON.stringify(h.name)} -> ${JSON.stringify(h.linkname)}: the target is a directory`);
            await link(at(tdir, tname), at(parent, base)); // link(2) does not follow a symlink target
          } finally {
            await links.close();
          }
          break;
        }
        case 'character-device':
        case 'block-device':
        case 'fifo': {
          const kind = h.type === 'fifo' ? 'p' : h.type === 'character-device' ? 'c' : 'b';
          await mknod(at(parent, base), kind, h.mode, h.devmajor, h.devminor); // -m sets the mode: no chmod through a path
          await lchown(at(parent, base), uid, gid);
          await lutimes(at(parent, base), h.atime ?? h.mtime, h.mtime);
          break;
        }
      }
    }
    // Directory times last (their content is in), each reopened without following links.
    for (const t of dirTimes) {
      const d = await chain.dir(t.comps, t.comps.join('/'), false).catch(() => undefined);
      if (d) await d.utimes(t.atime, t.mtime);
    }
    return { entries, bytes };
  } catch (e) {
    throw outOfSpaceError(e, show(current));
  } finally {
    await chain.close();
  }
}
