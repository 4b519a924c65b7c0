/**
 * `docker diff`: what a container changed, as dockerd's overlay driver reports it (moby's
 * archive.changes over the upper dir): a whiteout is `D`; an entry that the image has is `C`
 * (a directory only when its size, mode or mtime differ), else `A`; the parent of an `A` or `D`
 * is reported `C` once, before it, when it was not reported already. Walk order: lexical, parents
 * first. The runtime's mount point stubs (/etc/hosts, /dev, /proc…; Docker keeps them in its init
 * layer) are left out, and so is a directory that only holds such stubs and kept its mode.
 * The upper dir is walked through descriptors (a running container may be changing it).
 */
import type { Stats } from 'node:fs';
import { readdir, type FileHandle } from 'node:fs/promises';
import { resolveEntry } from '../../host/in-root.js';
import { isWhiteout } from '../../host/overlay.js';
import { at, lstatAt, openDirAt, openRoot } from '../../layers/fd-path.js';
import { CONTAINER_MOUNTPOINTS } from '../../layers/diff.js';

/** 0 = modified, 1 = added, 2 = deleted (the API's Kind). */
export type ChangeKind = 0 | 1 | 2;
export interface Change { Path: string; Kind: ChangeKind }

const STUBS = new Set(CONTAINER_MOUNTPOINTS);

function sameTime(a: Stats, b: Stats): boolean {
  const sa = Math.floor(a.mtimeMs / 1000);
  const sb = Math.floor(b.mtimeMs / 1000);
  if (sa !== sb) return false;
  const na = a.mtimeMs % 1000;
  const nb = b.mtimeMs % 1000;
  return na === nb || na === 0 || nb === 0; // moby's sameFsTime: one side may lack sub-second times
}

async function isStub(dir: FileHandle, name: string, rel: string, st: Stats): Promise<boolean> {
  if (!STUBS.has(rel)) return false;
  if (st.isFile()) return st.size === 0;
  if (st.isSymbolicLink()) return true;
  if (st.isDirectory()) {
    const sub = await openDirAt(dir, name);
    try { return (await readdir(at(sub))).length === 0; } finally { await sub.close(); }
  }
  return false;
}

/** The changes of the upper dir `upper` over the image layers `lowers` (top first). */
export async function containerChanges(upper: string, lowers: string[]): Promise<Change[]> {
  const out: Change[] = [];
  const changedDirs = new Set<string>();
  const lower = async (rel: string): Promise<Stats | undefined> => {
    if (!lowers.length) return undefined;
    const e = await resolveEntry(lowers, rel, false);
    return e.st && e.path.join('/') === rel ? e.st : undefined;
  };

  /** Walk `dir` (at `rel`); returns whether anything below it besides stubs exists. */
  async function walk(dir: FileHandle, rel: string): Promise<boolean> {
    const names = (await readdir(at(dir))).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    let substantial = false;
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      const path = '/' + r;
      const st = await lstatAt(dir, name);
      if (!st) continue;
      if (await isStub(dir, name, r, st)) continue;
      const mark = out.length;
      let kind: ChangeKind | undefined;
      let below: Stats | undefined;
      if (isWhiteout(st)) kind = 2;
      else {
        below = await lower(r);
        if (!below) kind = 1;
        else if (!(below.isDirectory() && st.isDirectory() && below.size === st.size && below.mode === st.mode && sameTime(st, below))) kind = 0;
      }
      if (kind !== undefined && st.isDirectory()) changedDirs.add(path);
      if (kind === 1 || kind === 2) {
        const parent = '/' + rel;
        if (rel && !changedDirs.has(parent)) {
          out.push({ Path: parent, Kind: 0 });
          changedDirs.add(parent);
        }
      }
      if (kind !== undefined) out.push({ Path: path, Kind: kind });
      let childSubstantial = false;
      if (st.isDirectory() && !isWhiteout(st)) {
        const sub = await openDirAt(dir, name);
        try { childSubstantial = await walk(sub, r); } finally { await sub.close(); }
      }
      // A directory the runtime only copied up to put its stubs in (etc/ for etc/hosts): not a change.
      if (kind === 0 && st.isDirectory() && below && !childSubstantial && below.mode === st.mode && out.length === mark + 1) {
        out.pop();
        changedDirs.delete(path);
        continue;
      }
      substantial = true;
    }
    return substantial;
  }

  const root = await openRoot(upper);
  try {
    await walk(root, '');
  } finally {
    await root.close();
  }
  return out;
}
