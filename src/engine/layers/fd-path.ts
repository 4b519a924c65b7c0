/**
 * Directory descriptors as path roots. Node 20 has no openat(2), but a path under
 * `/proc/<our pid>/fd/<n>/` is looked up from the directory that descriptor holds, whatever
 * happened to its name since: once a directory is opened with O_NOFOLLOW, `at(dir, name)` names
 * `name` in that very directory. A hostile tree (a running container's, a volume's) that swaps a
 * component for a symlink between a check and a use cannot steer such a path out of the tree.
 * The pid (not `self`) is used so that a spawned helper (mknod) resolves the same descriptor.
 */
import { constants, type Stats } from 'node:fs';
import { lstat, open, type FileHandle } from 'node:fs/promises';

export const O_DIR = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/** The path of an open descriptor, or of `name` inside the directory it holds. */
export function at(dir: FileHandle, name?: string): string {
  const base = `/proc/${process.pid}/fd/${dir.fd}`;
  return name === undefined ? base : `${base}/${name}`;
}

/** Open `name` in `dir` as a directory, never through a symlink (ELOOP/ENOTDIR otherwise). */
export function openDirAt(dir: FileHandle, name: string): Promise<FileHandle> {
  return open(at(dir, name), O_DIR);
}

/** Open a trusted host directory (a volume's folder, a mounted rootfs) as a root. */
export function openRoot(path: string): Promise<FileHandle> {
  return open(path, O_DIR);
}

export async function lstatAt(dir: FileHandle, name: string): Promise<Stats | undefined> {
  try {
    return await lstat(at(dir, name));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}

/** Close a set of handles, ignoring failures (they are read-only directory descriptors). */
export async function closeAll(handles: Iterable<FileHandle | undefined>): Promise<void> {
  for (const h of handles) await h?.close().catch(() => undefined);
}
