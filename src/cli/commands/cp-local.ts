// The local side of `berth cp`: a host path as a tar (docker's TarResource, with its entry names
// rebased as PrepareArchiveCopy does), and a tar unpacked into a host directory (CopyTo's
// Untar: no ownership change, a directory never replaced by a file or the reverse).
import { createReadStream, createWriteStream, type Stats } from 'node:fs';
import { lstat, link, mkdir, readdir, readlink, rm, symlink, utimes, lutimes, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { StatusError } from '../context.js';

/** Replace a leading `from` component of `name` by `to` (docker's RebaseArchiveEntries). */
export function rebaseName(name: string, from: string, to: string): string {
  if (!from || from === to) return name;
  if (name === from || name === from + '/') return to + name.slice(from.length);
  if (name.startsWith(from + '/')) return to + name.slice(from.length);
  return name;
}

function kind(st: Stats): 'file' | 'directory' | 'symlink' | 'fifo' | null {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  return null; // devices and sockets: left out
}

/** A tar of `source` (a file or a directory, its entries named from `name`), rebased `from` → `to`. */
export function packLocal(source: string, name: string, rebase?: { from: string; to: string }): Readable {
  const pack = tar.pack();
  const nameOf = (n: string): string => (rebase ? rebaseName(n, rebase.from, rebase.to) : n);
  const add = async (path: string, entry: string): Promise<void> => {
    const st = await lstat(path);
    const type = kind(st);
    if (!type) return;
    const header = { name: nameOf(type === 'directory' ? entry.replace(/\/?$/, '/') : entry), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: new Date(Math.floor(st.mtimeMs / 1000) * 1000), type };
    if (type === 'file') {
      const w = pack.entry({ ...header, size: st.size });
      await pipeline(createReadStream(path, { start: 0, end: Math.max(0, st.size - 1) }), w);
      return;
    }
    if (type === 'symlink') {
      const linkname = await readlink(path);
      await new Promise<void>((res, rej) => pack.entry({ ...header, linkname }, '', (e) => (e ? rej(e) : res())));
      return;
    }
    await new Promise<void>((res, rej) => pack.entry(header, '', (e) => (e ? rej(e) : res())));
    if (type === 'directory') {
      const names = (await readdir(path)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      for (const n of names) await add(join(path, n), entry === '.' ? `./${n}` : `${entry.replace(/\/$/, '')}/${n}`);
    }
  };
  void (async () => {
    try {
      await add(source, name);
      pack.finalize();
    } catch (e) {
      pack.destroy(e as Error);
    }
  })();
  return Readable.from(pack);
}

/** The components of a tar entry name below the extraction folder; refuses names that leave it. */
function safeParts(name: string): string[] {
  const out: string[] = [];
  for (const p of name.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (!out.length) throw new StatusError(1, `invalid archive entry ${JSON.stringify(name)}: it points outside the destination`);
      out.pop();
      continue;
    }
    out.push(p);
  }
  return out;
}

/** Unpack `src` into the existing directory `dir`, entry names rebased `from` → `to`. */
export async function unpackLocal(src: Readable, dir: string, rebase?: { from: string; to: string }): Promise<void> {
  const ex = tar.extract();
  src.on('error', (e) => ex.destroy(e));
  src.pipe(ex);
  const dirTimes: Array<[string, Date]> = [];
  for await (const entry of ex) {
    const h = entry.header;
    const name = rebase ? rebaseName(h.name, rebase.from, rebase.to) : h.name;
    const parts = safeParts(name);
    const path = parts.length ? join(dir, ...parts) : dir;
    const existing = await lstat(path).catch(() => undefined);
    if (existing && parts.length) {
      if (existing.isDirectory() && h.type !== 'directory') throw new StatusError(1, `cannot overwrite directory ${JSON.stringify(path)} with non-directory ${JSON.stringify(name)}`);
      if (!existing.isDirectory() && h.type === 'directory') throw new StatusError(1, `cannot overwrite non-directory ${JSON.stringify(path)} with directory ${JSON.stringify(name)}`);
      if (!existing.isDirectory()) await rm(path, { force: true });
    }
    const mtime = h.mtime ?? new Date();
    switch (h.type) {
      case 'directory':
        if (!existing) await mkdir(path, { mode: 0o755 });
        if (h.mode !== undefined) await chmod(path, h.mode & 0o7777);
        dirTimes.push([path, mtime]);
        entry.resume();
        break;
      case 'file':
      case 'contiguous-file':
        await pipeline(entry, createWriteStream(path, { mode: (h.mode ?? 0o644) & 0o7777 }));
        await chmod(path, (h.mode ?? 0o644) & 0o7777);
        await utimes(path, mtime, mtime);
        break;
      case 'symlink':
        await symlink(h.linkname ?? '', path);
        await lutimes(path, mtime, mtime).catch(() => undefined);
        entry.resume();
        break;
      case 'link': {
        const target = join(dir, ...safeParts(rebase ? rebaseName(h.linkname ?? '', rebase.from, rebase.to) : h.linkname ?? ''));
        await link(target, path);
        entry.resume();
        break;
      }
      default:
        entry.resume(); // devices, fifos: not made on the client, as docker's CopyTo without privileges
    }
  }
  for (const [p, t] of dirTimes.reverse()) await utimes(p, t, t).catch(() => undefined);
}
