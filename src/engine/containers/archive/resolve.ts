/**
 * A container's files as the container sees them, for cp: its root (the mounted overlay) with the
 * volumes and bind mounts it has mounted on top (dockerd resolves through them too; tmpfs mounts
 * live only in the container's namespace, and dockerd's cp does not see them either), resolved
 * one component at a time through directory descriptors (layers/fd-path.ts), openat2
 * RESOLVE_IN_ROOT style: `..` stops at the root, an absolute symlink restarts at the container's
 * root, a relative one is followed from where it is, at most 40 links. Nothing is ever looked up
 * by the host's own resolution below the root, so a container that turned /etc into a symlink to
 * `/` gets the container's own `/`, never the host's.
 */
import type { Stats } from 'node:fs';
import { lstat, open, readlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { SystemError } from '../../errors.js';
import { MAX_LINKS } from '../../host/in-root.js';
import { at, closeAll, lstatAt, O_DIR, openDirAt, openRoot } from '../../layers/fd-path.js';

/** A mount the resolution crosses: a host folder (or file) seen at `dest` in the container. */
export interface FsMount {
  dest: string[];
  source: string;
  rw: boolean;
  /** a volume or bind mount (true), or one of the runtime's files (/etc/hosts…) */
  user: boolean;
}

export interface ContainerFs {
  /** The host directory of the container's root (its mounted overlay). */
  root: string;
  mounts: FsMount[];
}

/** Where a container path ends up: the entry `name` in the open directory `parent` ('.': the directory itself). */
export interface Resolved {
  /** Its components from the container's root, links resolved. */
  path: string[];
  parent: FileHandle;
  name: string;
  /** Undefined when the entry does not exist. */
  st?: Stats;
  /** The innermost mount holding the entry (undefined: the root filesystem). */
  mount?: FsMount;
  /** Close every descriptor the resolution holds. */
  close(): Promise<void>;
}

export function splitPath(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

interface Level { name: string; fh: FileHandle; mount?: FsMount; owned: boolean }

/** Resolve `path` inside `fs`; `followLast` false leaves a final symlink as it is (lstat). */
export async function resolveInContainer(fs: ContainerFs, path: string, followLast: boolean): Promise<Resolved> {
  const root = await openRoot(fs.root);
  const levels: Level[] = [];
  const extra: FileHandle[] = [];
  const close = async (): Promise<void> => { await closeAll([root, ...levels.map((l) => l.fh), ...extra]); };
  const cur = (): FileHandle => levels.length ? levels[levels.length - 1]!.fh : root;
  const curMount = (): FsMount | undefined => { for (let i = levels.length - 1; i >= 0; i--) if (levels[i]!.mount) return levels[i]!.mount; return undefined; };
  const curPath = (): string[] => levels.map((l) => l.name);
  const mountAt = (comps: string[]): FsMount | undefined =>
    fs.mounts.find((m) => m.dest.length === comps.length && m.dest.every((c, i) => c === comps[i]));
  try {
    let parts = splitPath(path);
    let links = 0;
    while (parts.length) {
      const name = parts.shift()!;
      if (name === '..') {
        const gone = levels.pop();
        if (gone) await gone.fh.close();
        continue;
      }
      const last = parts.length === 0;
      const childPath = [...curPath(), name];
      const m = mountAt(childPath);
      if (m) {
        const st = await lstat(m.source).catch(() => undefined);
        if (st && !st.isDirectory()) {
          // A file mounted over a file (/etc/hosts, -v /host/file:/x): nothing can be below it.
          if (!last) return { path: [...childPath, ...parts], parent: cur(), name, mount: curMount(), close };
          const dir = await open(dirname(m.source), O_DIR);
          extra.push(dir);
          return { path: childPath, parent: dir, name: basename(m.source), st: await lstatAt(dir, basename(m.source)), mount: m, close };
        }
        const fh = await openRoot(m.source);
        levels.push({ name, fh, mount: m, owned: true });
        continue;
      }
      const st = await lstatAt(cur(), name);
      if (!st) return { path: [...childPath, ...parts], parent: cur(), name, mount: curMount(), close };
      if (st.isSymbolicLink() && (!last || followLast)) {
        if (++links > MAX_LINKS) throw new SystemError(`too many levels of symbolic links resolving ${path} in the container`);
        const target = await readlink(at(cur(), name));
        if (target.startsWith('/')) {
          await closeAll(levels.splice(0).map((l) => l.fh));
        }
        parts = [...target.split('/').filter((c) => c !== '' && c !== '.'), ...parts];
        continue;
      }
      if (last) return { path: childPath, parent: cur(), name, st, mount: curMount(), close };
      if (!st.isDirectory()) return { path: [...childPath, ...parts], parent: cur(), name: parts.join('/'), mount: curMount(), close };
      let fh: FileHandle;
      try {
        fh = await openDirAt(cur(), name);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ELOOP' || code === 'ENOTDIR') throw new SystemError(`${path}: /${childPath.join('/')} changed while being resolved`);
        throw e;
      }
      levels.push({ name, fh, owned: true });
    }
    // Ended on a directory: the entry is that directory itself.
    return { path: curPath(), parent: cur(), name: '.', st: await lstat(at(cur(), '.')), mount: curMount(), close };
  } catch (e) {
    await close();
    throw e;
  }
}
