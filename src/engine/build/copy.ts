/**
 * COPY and ADD: sources are read from a stack of layer folders (the context, one folder; or an
 * image or a stage, its layers top first) with in-root resolution, so a symlink among them never
 * leads the daemon out; they are written into a fresh staging folder that becomes the step's
 * layer (images/commit.ts commitLayer), with missing parents made by mkdirInLayers over the
 * image's layers. Every source is hashed first (paths, types, modes, link targets, contents; not
 * times, as BuildKit) for the cache key, and copied only on a miss.
 */
import { createHash } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { lchown, lstat, mkdir, open, readdir, readlink, rm, symlink, utimes, chmod } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { InvalidParameterError } from '../errors.js';
import { resolveEntry } from '../host/in-root.js';
import { isOpaque, isWhiteout } from '../host/overlay.js';

export interface SourceEntry {
  /** path relative to the copied source ('' for the source itself) */
  rel: string;
  host: string;
  st: Stats;
  link?: string;
}

export interface CopySource {
  /** the name in the instruction, for messages and the destination's base name */
  name: string;
  entries: SourceEntry[];
}

export interface Owner { uid: number; gid: number }

export class CopyNotFoundError extends InvalidParameterError {}

const WILDCARD = /[*?[]/;

function globRe(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) { re += '\\['; continue; }
      const cls = pattern.slice(i + 1, end);
      re += '[' + (cls.startsWith('!') || cls.startsWith('^') ? '^' + cls.slice(1) : cls) + ']';
      i = end;
    } else if (c === '\\' && i + 1 < pattern.length) re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(re + '$', 's');
}

/** The names in a merged directory (upper layers hide lower ones; whiteouts and opaque dirs as overlayfs). */
async function mergedNames(stack: string[], dirPath: string[]): Promise<string[]> {
  const names = new Set<string>();
  for (const layer of stack) {
    const p = join(layer, ...dirPath);
    const st = await lstat(p).catch(() => undefined);
    if (!st) continue;
    if (!st.isDirectory()) break;
    for (const n of await readdir(p)) names.add(n);
    if (await isOpaque(p)) break;
  }
  return [...names].sort();
}

/** Everything under the resolved entry at `path` (components), the entry itself first. */
async function walk(stack: string[], path: string[], rel: string, out: SourceEntry[], exclude?: (rel: string) => boolean): Promise<void> {
  const e = await resolveEntry(stack, path.join('/'), false);
  if (!e.st || isWhiteout(e.st)) return;
  if (rel && exclude?.(rel)) return;
  const entry: SourceEntry = { rel, host: e.host, st: e.st };
  if (e.st.isSymbolicLink()) entry.link = await readlink(e.host);
  if (!e.st.isFile() && !e.st.isDirectory() && !e.st.isSymbolicLink()) return; // no devices, FIFOs, sockets
  out.push(entry);
  if (!e.st.isDirectory()) return;
  for (const n of await mergedNames(stack, e.path)) {
    await walk(stack, [...e.path, n], rel ? `${rel}/${n}` : n, out, exclude);
  }
}

/**
 * The sources named by `src` (a path or a pattern in its last component) inside the stack,
 * following symlinks in-root as Docker does for a COPY source.
 */
export async function collectSources(stack: string[], src: string, exclude?: (rel: string) => boolean): Promise<CopySource[]> {
  const clean = posix.normalize('/' + src).replace(/\/+$/, '') || '/';
  const base = posix.basename(clean);
  const names: string[] = [];
  if (WILDCARD.test(base)) {
    const parent = await resolveEntry(stack, posix.dirname(clean));
    if (parent.st?.isDirectory()) {
      const re = globRe(base);
      for (const n of await mergedNames(stack, parent.path)) if (re.test(n)) names.push(posix.join(posix.dirname(clean), n));
    }
  } else {
    names.push(clean);
  }
  const out: CopySource[] = [];
  for (const name of names) {
    const e = await resolveEntry(stack, name);
    if (!e.st || isWhiteout(e.st)) continue;
    const top = name === '/' ? '' : name.slice(1);
    const entries: SourceEntry[] = [];
    await walk(stack, e.path, '', entries, exclude && ((rel) => exclude(top ? `${top}/${rel}` : rel)));
    if (entries.length) out.push({ name, entries });
  }
  return out;
}

/** A content hash of the sources (for the cache key). */
export async function hashSources(sources: CopySource[]): Promise<string> {
  const h = createHash('sha256');
  for (const s of sources) {
    h.update(`src ${s.name}\0`);
    for (const e of s.entries) {
      const kind = e.st.isDirectory() ? 'd' : e.st.isSymbolicLink() ? 'l' : 'f';
      h.update(`${kind} ${e.rel} ${(e.st.mode & 0o7777).toString(8)} ${e.st.uid}:${e.st.gid} ${e.link ?? ''}\0`);
      if (kind === 'f') {
        const fh = await open(e.host, constants.O_RDONLY | constants.O_NOFOLLOW);
        try {
          for await (const c of fh.createReadStream({ autoClose: false })) h.update(c as Buffer);
        } finally {
          await fh.close();
        }
      }
    }
  }
  return 'sha256:' + h.digest('hex');
}

export interface CopyOptions {
  /** where the files go: the staging folder, then the image's layers (top first) */
  layers: string[];
  /** absolute destination as written (a trailing / says "a directory") */
  dest: string;
  owner?: Owner;
  /** keep the sources' owners (COPY --from) when no --chown */
  keepOwner: boolean;
  chmod?: number;
}

async function writeFileFrom(src: string, dst: string): Promise<void> {
  await rm(dst, { recursive: true, force: true });
  const inp = await open(src, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const out = await open(dst, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      for await (const c of inp.createReadStream({ autoClose: false })) await out.write(c as Buffer);
    } finally {
      await out.close();
    }
  } finally {
    await inp.close();
  }
}

/**
 * Makes `path` (components, already resolved in-root) a directory in the staging folder
 * (`layers[0]`): each missing component is made there, with the mode and owner of the image's
 * directory at that place when there is one (so the layer does not change them).
 */
export async function ensureDir(layers: string[], path: string[]): Promise<void> {
  const staging = layers[0]!;
  for (let k = 1; k <= path.length; k++) {
    const sub = path.slice(0, k);
    const host = join(staging, ...sub);
    const st = await lstat(host).catch(() => undefined);
    if (st?.isDirectory()) continue;
    if (st) throw new InvalidParameterError(`cannot copy to /${sub.join('/')}: not a directory`);
    const below = layers.length > 1 ? await resolveEntry(layers.slice(1), sub.join('/'), false).catch(() => undefined) : undefined;
    const like = below?.st?.isDirectory() && below.path.join('/') === sub.join('/') ? below.st : undefined;
    await mkdir(host, { mode: 0o755 });
    if (like) {
      await lchown(host, like.uid, like.gid);
      await chmod(host, like.mode & 0o7777);
      await utimes(host, like.atimeMs / 1000, like.mtimeMs / 1000);
    }
  }
}

/** Copies the sources into the staging folder (`opts.layers[0]`) as COPY does. */
export async function copySources(sources: CopySource[], opts: CopyOptions): Promise<void> {
  const staging = opts.layers[0]!;
  const destIsDir = opts.dest.endsWith('/') || sources.length > 1 || sources.some((s) => s.entries[0]!.st.isDirectory());
  const destResolved = await resolveEntry(opts.layers, opts.dest);
  if (destResolved.notDir) throw new InvalidParameterError(`${destResolved.notDir} is not a directory`);
  const intoDir = destIsDir || destResolved.st?.isDirectory() === true;
  for (const s of sources) {
    const top = s.entries[0]!;
    // The copy's root in the image: the destination directory itself (a directory source), or
    // dest/<name> (a file into a directory), or dest (a file to a file name).
    const root = intoDir && !top.st.isDirectory() ? [...destResolved.path, posix.basename(s.name)] : destResolved.path;
    if (intoDir) await ensureDir(opts.layers, destResolved.path);
    else await ensureDir(opts.layers, destResolved.path.slice(0, -1));
    const dirTimes: Array<[string, number]> = [];
    for (const e of s.entries) {
      const parts = e.rel ? [...root, ...e.rel.split('/')] : root;
      const host = join(staging, ...parts);
      if (e.rel) {
        // parents of an inner entry are directories this copy made in the staging folder
        const pst = await lstat(join(staging, ...parts.slice(0, -1)));
        if (!pst.isDirectory()) throw new InvalidParameterError(`cannot copy to ${parts.join('/')}: a parent is not a directory`);
      }
      const mode = opts.chmod ?? (e.st.mode & 0o7777);
      if (e.st.isDirectory()) {
        if (e.rel || intoDir) {
          const st = await lstat(host).catch(() => undefined);
          if (st && !st.isDirectory()) await rm(host, { force: true });
          if (!st?.isDirectory()) await mkdir(host, { mode: 0o755 });
        } else {
          await ensureDir(opts.layers, parts);
        }
        // the destination directory itself keeps its own mode when it existed
        if (e.rel) { await chmod(host, mode); dirTimes.push([host, e.st.mtimeMs / 1000]); }
      } else if (e.st.isSymbolicLink()) {
        await rm(host, { recursive: true, force: true });
        await symlink(e.link!, host);
      } else {
        await writeFileFrom(e.host, host);
        await chmod(host, mode);
        await utimes(host, e.st.atimeMs / 1000, e.st.mtimeMs / 1000);
      }
      if (e.rel || !e.st.isDirectory() || !intoDir) {
        const uid = opts.owner?.uid ?? (opts.keepOwner ? e.st.uid : 0);
        const gid = opts.owner?.gid ?? (opts.keepOwner ? e.st.gid : 0);
        await lchown(host, uid, gid);
      }
    }
    for (const [p, t] of dirTimes.reverse()) await utimes(p, t, t).catch(() => undefined);
  }
}

/** Writes one file (a heredoc, a downloaded URL) at `dest` in the staging folder. */
export async function writeOneFile(layers: string[], dest: string, name: string, data: Buffer, mode: number, owner: Owner, mtime?: number): Promise<void> {
  const destResolved = await resolveEntry(layers, dest);
  const intoDir = dest.endsWith('/') || destResolved.st?.isDirectory() === true;
  const path = intoDir ? [...destResolved.path, name] : destResolved.path;
  await ensureDir(layers, path.slice(0, -1));
  const host = join(layers[0]!, ...path);
  await rm(host, { recursive: true, force: true });
  const fh = await open(host, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try { await fh.write(data); await fh.chmod(mode); } finally { await fh.close(); }
  await lchown(host, owner.uid, owner.gid);
  if (mtime !== undefined) await utimes(host, mtime, mtime);
}
