/**
 * Paths inside a container's root are hostile ground: the container chose every component. This
 * module walks them component by component with openat2 `RESOLVE_IN_ROOT` semantics — `..` stops
 * at the root, an absolute symlink restarts at the root, a relative one is followed inside it, at
 * most MAX_LINKS links — over either one directory (a mounted rootfs) or a stack of overlay layers
 * (upper first, then the lower dirs, as the kernel would merge them: whiteouts hide, opaque
 * directories stop the lookup). Nothing here follows a symlink with the host's own resolution.
 */
import { constants, type Stats } from 'node:fs';
import { chmod, lchown, lstat, mkdir, open, readlink, realpath, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setAttribute } from '@napi-rs/xattr';
import { SystemError } from '../errors.js';
import { isOpaque, isWhiteout, OVERLAY_OPAQUE_XATTR } from './overlay.js';

/** Linux's MAXSYMLINKS. */
export const MAX_LINKS = 40;
/** What the daemon reads of a container's /etc/passwd or /etc/group at most. */
export const ETC_FILE_CAP = 1 << 20;


/** The merged entry a path names: where it lives and what it is (`st` undefined when absent). */
export interface InRootEntry {
  /** its components from the root, links resolved */
  path: string[];
  /** the host path of the entry in the topmost layer that holds it (of the parent when absent) */
  host: string;
  /** the index of that layer */
  layer: number;
  st?: Stats;
  /** set when a component on the way is not a directory: that component */
  notDir?: string;
}

interface Dir { path: string[]; layers: number[] }

async function lstatOrUndefined(p: string): Promise<Stats | undefined> {
  try { return await lstat(p); } catch { return undefined; }
}

/** Look `name` up in the merged directory `dir`, as overlayfs does. */
async function lookup(layers: string[], dir: Dir, name: string): Promise<{ st?: Stats; layer: number; dir?: Dir }> {
  const path = [...dir.path, name];
  for (let k = 0; k < dir.layers.length; k++) {
    const i = dir.layers[k]!;
    const st = await lstatOrUndefined(join(layers[i]!, ...path));
    if (!st) continue;
    if (isWhiteout(st)) return { layer: i };
    if (!st.isDirectory()) return { st, layer: i };
    // A directory: it merges with the same directory below until a non-directory or an opaque one.
    const merged = [i];
    let opaque = await isOpaque(join(layers[i]!, ...path));
    for (const j of dir.layers.slice(k + 1)) {
      if (opaque) break;
      const below = await lstatOrUndefined(join(layers[j]!, ...path));
      if (!below) continue;
      if (!below.isDirectory()) break;
      merged.push(j);
      opaque = await isOpaque(join(layers[j]!, ...path));
    }
    return { st, layer: i, dir: { path, layers: merged } };
  }
  return { layer: dir.layers[0] ?? 0 };
}

/**
 * Resolve `rel` inside the root made of `layers` (one directory, or upper then lowers). A missing
 * component ends the walk: the entry has no `st`, and `path` is where it would be.
 * `followLast` false leaves a final symlink unresolved (as O_NOFOLLOW).
 */
export async function resolveEntry(layers: string | string[], rel: string, followLast = true): Promise<InRootEntry> {
  const stack = typeof layers === 'string' ? [layers] : layers;
  const root: Dir = { path: [], layers: stack.map((_, i) => i) };
  let dir = root;
  let parts = rel.split('/').filter((p) => p && p !== '.');
  const parents: Dir[] = [];
  let links = 0;
  while (parts.length) {
    const name = parts.shift()!;
    if (name === '..') { dir = parents.pop() ?? root; continue; }
    const found = await lookup(stack, dir, name);
    const host = join(stack[found.layer]!, ...dir.path, name);
    if (!found.st) {
      // Absent: the rest cannot exist either; report where it would be.
      return { path: [...dir.path, name, ...parts.filter((p) => p !== '..')], host, layer: found.layer };
    }
    if (found.st.isSymbolicLink() && (parts.length || followLast)) {
      if (++links > MAX_LINKS) throw new SystemError(`too many levels of symbolic links resolving ${rel} in the container`);
      const target = await readlink(host);
      if (target.startsWith('/')) { dir = root; parents.length = 0; }
      parts = [...target.split('/').filter((p) => p && p !== '.'), ...parts];
      continue;
    }
    if (found.dir) { parents.push(dir); dir = found.dir; continue; }
    if (parts.length) {
      // A file where a directory is needed: nothing below it exists.
      return { path: [...dir.path, name, ...parts.filter((p) => p !== '..')], host: join(host, ...parts), layer: found.layer, notDir: '/' + [...dir.path, name].join('/') };
    }
    return { path: [...dir.path, name], host, layer: found.layer, st: found.st };
  }
  if (dir === root) return { path: [], host: stack[0]!, layer: 0, st: await lstat(stack[0]!) };
  return { path: dir.path, host: join(stack[dir.layers[0]!]!, ...dir.path), layer: dir.layers[0]!, st: await lstat(join(stack[dir.layers[0]!]!, ...dir.path)) };
}

/**
 * Resolve `rel` inside `root` as if `root` were `/`; returns the host path (which need not exist).
 * Used where a path is handed on to the kernel at once (a mount source inside a stopped rootfs).
 */
export async function resolveInRoot(root: string, rel: string): Promise<string> {
  const e = await resolveEntry(root, rel);
  return join(root, ...e.path);
}

/**
 * Read a regular file inside the root, at most `maxBytes`: anything else (a FIFO, a device, a
 * socket, a directory, a file over the cap, a path that leaves the root) is refused with a
 * SystemError. The open never blocks (O_NONBLOCK) nor follows a last-moment symlink (O_NOFOLLOW),
 * and the opened file is checked to lie under the layer it was resolved in.
 */
export async function readRegularFileInRoot(layers: string | string[], rel: string, maxBytes: number): Promise<string> {
  const e = await resolveEntry(layers, rel);
  if (!e.st) throw new SystemError(`${rel}: no such file in the container`);
  if (!e.st.isFile()) throw new SystemError(`${rel} in the container is not a regular file`);
  const fh = await open(e.host, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new SystemError(`${rel} in the container is not a regular file`);
    if (st.size > maxBytes) throw new SystemError(`${rel} in the container is larger than ${maxBytes} bytes`);
    // A parent swapped for a symlink between the walk and the open would show here.
    const stack = typeof layers === 'string' ? [layers] : layers;
    const real = await readlink(`/proc/self/fd/${fh.fd}`);
    const base = await realBase(stack[e.layer]!);
    if (!real.startsWith(base + '/')) throw new SystemError(`${rel} left the container's root while being opened`);
    // not zero-filled: only the n bytes read are used (a 16 MiB cap was 16 MiB zeroed per read)
    const buf = Buffer.allocUnsafe(maxBytes + 1);
    let n = 0;
    while (n < buf.length) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    if (n > maxBytes) throw new SystemError(`${rel} in the container is larger than ${maxBytes} bytes`);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    await fh.close();
  }
}

/**
 * The container's /etc/`name` (passwd, group) for user lookup, or undefined when it is missing or
 * refused: a FIFO, a device or an oversized file there reads as "no such file", so a lookup by
 * name fails with dockerd's "no matching entries" instead of blocking or filling the daemon.
 */
export async function readEtcFile(layers: string | string[], name: 'passwd' | 'group'): Promise<string | undefined> {
  try {
    return await readRegularFileInRoot(layers, `etc/${name}`, ETC_FILE_CAP);
  } catch {
    return undefined; // absent or refused: numeric users still work, names fail with "no matching entries"
  }
}

async function realBase(p: string): Promise<string> {
  return (await realpath(p)).replace(/\/+$/, '');
}

/**
 * Make directory `rel` exist in the merged view of `layers` by creating what is missing in
 * `layers[0]` (the upper dir), one component at a time, each checked with lstat: a symlinked
 * component is resolved in the root, never by the host. A directory that exists only in a lower
 * layer is recreated in the upper with its mode and owner; a whiteout is replaced by an opaque
 * directory (what the kernel does on mkdir over a deleted directory).
 * Only for a stopped container: the upper dir must not change meanwhile.
 */
export async function mkdirInLayers(layers: string[], rel: string): Promise<void> {
  const e = await resolveEntry(layers, rel);
  if (e.notDir) throw new SystemError(`Cannot mkdir: ${e.notDir} is not a directory`);
  if (e.st) {
    if (e.st.isDirectory()) return;
    throw new SystemError(`Cannot mkdir: /${rel.replace(/^\/+/, '')} is not a directory`);
  }
  const upper = layers[0]!;
  for (let k = 1; k <= e.path.length; k++) {
    const sub = e.path.slice(0, k);
    const host = join(upper, ...sub);
    const st = await lstatOrUndefined(host);
    if (st?.isDirectory()) continue;
    if (st && !isWhiteout(st)) throw new SystemError(`Cannot mkdir: /${sub.join('/')} is not a directory`);
    // The merged view's directory here (from a lower layer), to copy its mode and owner.
    const below = st ? undefined : await resolveEntry(layers.slice(1), sub.join('/'), false).catch(() => undefined);
    const like = below?.st?.isDirectory() && below.path.join('/') === sub.join('/') ? below.st : undefined;
    if (st) await unlink(host);
    await mkdir(host, { mode: 0o755 });
    if (st) await setAttribute(host, OVERLAY_OPAQUE_XATTR, 'y');
    if (like) {
      await lchown(host, like.uid, like.gid);
      await chmod(host, like.mode & 0o7777); // a directory we just made: chmod cannot be redirected
    }
  }
}

