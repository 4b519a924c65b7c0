/**
 * Overlay directory → OCI layer tar (uncompressed), the reverse of apply.ts. Used by commit on a
 * container's upper dir (and works on any snapshot's diff dir, which has the same format).
 *
 * - Overlay whiteouts become OCI whiteouts: a char device 0:0 at `x` → an empty regular file
 *   `.wh.x` (mode and owner of the device, as moby does); a directory with
 *   trusted.overlay.opaque=y → its own entry, then `.wh..wh..opq` inside it.
 * - trusted.overlay.* xattrs are never exported; other xattrs go out as SCHILY.xattr.* pax records.
 * - Hardlinks inside the tree become link entries to the first name seen (overlay's shared
 *   whiteout inode is a whiteout first, never a link).
 * - Walk order: lexical per directory, parents before children, the root itself not included
 *   (as moby's TarWithOptions on a diff dir). An empty tree gives just the end marker (1024 zero
 *   bytes), whose sha256 is the "empty layer" digest.
 * - Security: the walk uses lstat only and never follows a symlink; regular files are opened with
 *   O_NOFOLLOW and read up to the size lstat reported (a file growing while a running container
 *   writes it is cut at that size; one shrinking is padded with zeros, so the tar stays well formed).
 */
import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, readlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { getAttribute, listAttributes } from '@napi-rs/xattr';
import { WHITEOUT_OPAQUE, WHITEOUT_PREFIX } from './apply.js';
import { isOpaque, isWhiteout } from '../host/overlay.js';
import { dataPadding, encodeHeader, END_OF_ARCHIVE, type WriteHeader } from './tar-writer.js';

export interface DiffOptions {
  /**
   * Paths (relative, no leading slash) to leave out when they are what the runtime made: mount
   * points for /etc/hosts and friends, /dev, /proc, /sys. Only leaves are skipped (an empty file,
   * an empty directory, or a symlink), never content the container wrote inside them.
   */
  skipMountpoints?: string[];
}

/** Mount points the runtime may create in a container's upper dir (Docker keeps these in its init layer). */
export const CONTAINER_MOUNTPOINTS = [
  'etc/hostname', 'etc/hosts', 'etc/resolv.conf', '.dockerenv', 'dev', 'proc', 'sys', 'dev/pts', 'dev/shm', 'dev/mqueue',
  'dev/console', 'sys/fs/cgroup',
];

const READ_CHUNK = 256 * 1024;

/** A file's or directory's xattrs for a tar header (overlay's own left out); none for other kinds. */
export async function readXattrs(path: string, st: Stats): Promise<Map<string, Buffer> | undefined> {
  // Only real files and directories: the xattr calls take a path and might follow a symlink.
  if (!st.isFile() && !st.isDirectory()) return undefined;
  let names: string[];
  try {
    names = await listAttributes(path);
  } catch {
    return undefined;
  }
  const out = new Map<string, Buffer>();
  for (const n of names) {
    if (n.startsWith('trusted.overlay.') || n.startsWith('user.overlay.')) continue;
    try {
      const v = await getAttribute(path, n);
      if (v) out.set(n, Buffer.from(v));
    } catch { /* vanished meanwhile */ }
  }
  return out.size ? out : undefined;
}

// glibc's gnu_dev_major/minor, on a number that may pass 2^32
export function major(rdev: number): number { return ((rdev >>> 8) & 0xfff) | ((Math.floor(rdev / 2 ** 32) >>> 0) & ~0xfff); }
export function minor(rdev: number): number { return (rdev & 0xff) | ((rdev >>> 12) & 0xfff00); }

async function* fileData(path: string, size: number): AsyncGenerator<Buffer> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    yield* fileDataFrom(fh, size);
  } finally {
    await fh.close();
  }
}

/** `size` bytes of an open file (cut at `size` if it grew, zero-padded if it shrank: the header promised `size`). */
export async function* fileDataFrom(fh: FileHandle, size: number): AsyncGenerator<Buffer> {
  let left = size;
  while (left > 0) {
    const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, left));
    const { bytesRead } = await fh.read(buf, 0, buf.length, null);
    if (bytesRead === 0) {
      yield Buffer.alloc(left); // shrank meanwhile: keep the header's promise
      return;
    }
    left -= bytesRead;
    yield buf.subarray(0, bytesRead);
  }
}

/** The tar stream of an overlay directory, as an async generator of chunks. */
export async function* diffTar(root: string, opts: DiffOptions = {}): AsyncGenerator<Buffer> {
  const skip = new Set(opts.skipMountpoints ?? []);
  const links = new Map<string, string>();

  async function* walk(relDir: string): AsyncGenerator<Buffer> {
    const absDir = relDir ? join(root, relDir) : root;
    let names: string[];
    try {
      names = await readdir(absDir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    names.sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
    for (const name of names) {
      const rel = relDir ? `${relDir}/${name}` : name;
      const abs = join(absDir, name);
      let st: Stats;
      try {
        st = await lstat(abs);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed while we walked
        throw e;
      }
      if (skip.has(rel) && (await isMountpointStub(abs, st))) continue;
      const base: Omit<WriteHeader, 'type' | 'name'> = {
        mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000),
      };
      if (isWhiteout(st)) {
        const woName = relDir ? `${relDir}/${WHITEOUT_PREFIX}${name}` : `${WHITEOUT_PREFIX}${name}`;
        yield encodeHeader({ ...base, name: woName, type: 'file', size: 0, mode: st.mode & 0o777 });
        continue;
      }
      if (st.isDirectory()) {
        yield encodeHeader({ ...base, name: rel + '/', type: 'directory', xattrs: await readXattrs(abs, st) });
        if (await isOpaque(abs)) {
          yield encodeHeader({ ...base, name: `${rel}/${WHITEOUT_OPAQUE}`, type: 'file', size: 0, mode: st.mode & 0o777 });
        }
        yield* walk(rel);
        continue;
      }
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = links.get(key);
        if (first !== undefined) {
          yield encodeHeader({ ...base, name: rel, type: 'link', linkname: first });
          continue;
        }
        links.set(key, rel);
      }
      if (st.isFile()) {
        const size = st.size;
        yield encodeHeader({ ...base, name: rel, type: 'file', size, xattrs: await readXattrs(abs, st) });
        yield* fileData(abs, size);
        const pad = dataPadding(size);
        if (pad.length) yield pad;
      } else if (st.isSymbolicLink()) {
        yield encodeHeader({ ...base, name: rel, type: 'symlink', linkname: await readlink(abs) });
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        yield encodeHeader({
          ...base, name: rel, type: st.isCharacterDevice() ? 'character-device' : 'block-device',
          devmajor: major(st.rdev), devminor: minor(st.rdev),
        });
      } else if (st.isFIFO()) {
        yield encodeHeader({ ...base, name: rel, type: 'fifo' });
      }
      // sockets are skipped, as archive/tar cannot hold them
    }
  }

  yield* walk('');
  yield END_OF_ARCHIVE;
}

async function isMountpointStub(abs: string, st: Stats): Promise<boolean> {
  if (st.isFile()) return st.size === 0;
  if (st.isSymbolicLink()) return true;
  if (st.isDirectory()) return (await readdir(abs)).length === 0;
  return false;
}

