/**
 * Path safety for layer extraction. Three rules:
 *  1. entry names are relative and never climb above the root (no absolute paths, no `..` escape);
 *  2. writing never goes through a symlink: every parent component of an entry is checked with
 *     lstat inside the snapshot, and anything but a real directory is refused;
 *  3. hardlink targets are resolved by the same rules and must already exist inside the snapshot.
 */
import { lstat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidParameterError } from '../errors.js';

export class UnsafeLayerError extends InvalidParameterError {
  constructor(message: string) {
    super(`unsafe layer: ${message}`);
  }
}

/**
 * Splits an archive path into components, dropping '.' and empty parts and resolving '..'
 * lexically. Throws for absolute paths and for any path that climbs above the root.
 * Returns [] for the root itself ('.', './').
 */
export function entryComponents(name: string, what = 'entry'): string[] {
  if (name.startsWith('/')) throw new UnsafeLayerError(`${what} ${JSON.stringify(name)} is an absolute path`);
  if (name.includes('\0')) throw new UnsafeLayerError(`${what} ${JSON.stringify(name)} contains a NUL byte`);
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) throw new UnsafeLayerError(`${what} ${JSON.stringify(name)} escapes the layer root`);
      out.pop();
      continue;
    }
    out.push(part);
  }
  return out;
}

/**
 * Resolves directories inside `root` without ever following a symlink, creating missing ones.
 * Remembers verified directories; call forget() when the tree under a path is replaced.
 */
export class SafeDirs {
  private readonly known = new Set<string>();

  constructor(readonly root: string, private readonly dirMode = 0o755) {
    this.known.add('');
  }

  /**
   * The absolute path of the directory made of `components` (relative to root). Each component
   * must be a real directory (not a symlink); missing ones are created when `create` is true,
   * else a NotFound-style UnsafeLayerError is thrown.
   */
  async dir(components: readonly string[], entryName: string, create = true): Promise<string> {
    let rel = '';
    for (const c of components) {
      rel = rel ? `${rel}/${c}` : c;
      if (this.known.has(rel)) continue;
      const abs = join(this.root, rel);
      let st;
      try {
        st = await lstat(abs);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        if (!create) throw new UnsafeLayerError(`${JSON.stringify(entryName)}: ${JSON.stringify(rel)} does not exist in the layer`);
        await mkdir(abs, { mode: this.dirMode });
        this.known.add(rel);
        continue;
      }
      if (st.isSymbolicLink()) {
        throw new UnsafeLayerError(`${JSON.stringify(entryName)} would be written through symlink ${JSON.stringify(rel)}`);
      }
      if (!st.isDirectory()) {
        throw new UnsafeLayerError(`${JSON.stringify(entryName)}: parent ${JSON.stringify(rel)} is not a directory`);
      }
      this.known.add(rel);
    }
    return rel ? join(this.root, rel) : this.root;
  }

  /** Marks `rel` as verified (a directory the extractor just made). */
  remember(rel: string): void {
    this.known.add(rel);
  }

  /** Forgets `rel` and everything under it (it was removed or replaced). */
  forget(rel: string): void {
    const prefix = rel + '/';
    for (const k of this.known) if (k === rel || k.startsWith(prefix)) this.known.delete(k);
  }
}
