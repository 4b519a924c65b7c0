/**
 * A tar stream of a tree that someone else may be changing under us (a running container's root,
 * a volume a container uses): every directory is opened with O_NOFOLLOW and read through its
 * descriptor, every child looked up inside that descriptor (fd-path.ts), every file opened with
 * O_NOFOLLOW from there. A directory swapped for a symlink mid-walk fails its open instead of
 * taking the walk to a host path; a symlink is archived as a link, never followed.
 *
 * Entries as moby's TarWithOptions writes them: lexical order per directory, parents first,
 * directories named with a trailing `/`, hardlinks (same inode seen twice) as link entries to the
 * first name, sockets left out, whole-second times, xattrs as SCHILY.xattr.* pax records.
 */
import { constants, type Stats } from 'node:fs';
import { open, readdir, readlink, type FileHandle } from 'node:fs/promises';
import { at, lstatAt, openDirAt } from './fd-path.js';
import { fileDataFrom, major, minor, readXattrs } from './diff.js';
import { dataPadding, encodeHeader, END_OF_ARCHIVE, type WriteHeader } from './tar-writer.js';

export interface TreeTarCounter {
  /** Bytes of regular file content archived so far. */
  files: number;
}

/** What a walk shares: hardlinks seen, by inode. */
interface WalkState { links: Map<string, string> }

function baseHeader(st: Stats): Omit<WriteHeader, 'type' | 'name'> {
  return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
}

/**
 * The entry `name` in the open directory `parent`, archived as `entryName` (a directory with
 * everything below it). `st` is its lstat, taken by the caller.
 */
async function* entry(parent: FileHandle, name: string, entryName: string, st: Stats, state: WalkState): AsyncGenerator<Buffer> {
  const base = baseHeader(st);
  if (st.isDirectory()) {
    const dir = await openDirAt(parent, name);
    try {
      const dst = await dir.stat(); // the directory actually opened
      yield encodeHeader({ ...baseHeader(dst), name: entryName.endsWith('/') ? entryName : entryName + '/', type: 'directory', xattrs: await readXattrs(at(dir), dst) });
      yield* children(dir, entryName.endsWith('/') ? entryName : entryName + '/', state);
    } finally {
      await dir.close();
    }
    return;
  }
  if (st.nlink > 1 && !st.isDirectory()) {
    const key = `${st.dev}:${st.ino}`;
    const first = state.links.get(key);
    if (first !== undefined) {
      yield encodeHeader({ ...base, name: entryName, type: 'link', linkname: first });
      return;
    }
    state.links.set(key, entryName);
  }
  if (st.isFile()) {
    const fh = await open(at(parent, name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
    try {
      const fst = await fh.stat();
      if (!fst.isFile()) return; // swapped for something else meanwhile: left out
      yield encodeHeader({ ...baseHeader(fst), name: entryName, type: 'file', size: fst.size, xattrs: await readXattrs(at(fh), fst) });
      yield* fileDataFrom(fh, fst.size);
      const pad = dataPadding(fst.size);
      if (pad.length) yield pad;
    } finally {
      await fh.close();
    }
  } else if (st.isSymbolicLink()) {
    yield encodeHeader({ ...base, name: entryName, type: 'symlink', linkname: await readlink(at(parent, name)) });
  } else if (st.isCharacterDevice() || st.isBlockDevice()) {
    yield encodeHeader({ ...base, name: entryName, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: major(st.rdev), devminor: minor(st.rdev) });
  } else if (st.isFIFO()) {
    yield encodeHeader({ ...base, name: entryName, type: 'fifo' });
  }
  // sockets: archive/tar cannot hold them
}

/** Everything below the open directory `dir`, names prefixed with `prefix` ('' or 'x/'). */
async function* children(dir: FileHandle, prefix: string, state: WalkState): AsyncGenerator<Buffer> {
  const names = (await readdir(at(dir))).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const n of names) {
    const st = await lstatAt(dir, n);
    if (!st) continue; // removed while we walked
    yield* entry(dir, n, prefix + n, st, state);
  }
}

/** The tar of `name` inside the open directory `parent`, its entries named from `entryName`. */
export async function* entryTar(parent: FileHandle, name: string, entryName: string, st: Stats): AsyncGenerator<Buffer> {
  yield* entry(parent, name, entryName, st, { links: new Map() });
  yield END_OF_ARCHIVE;
}

/** The tar of what the open directory `dir` holds (not the directory itself), as docker export writes a root. */
export async function* contentsTar(dir: FileHandle): AsyncGenerator<Buffer> {
  yield* children(dir, '', { links: new Map() });
  yield END_OF_ARCHIVE;
}
