import { open, rename, mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { outOfSpaceError } from './errno.js';

/**
 * Write a file atomically: temp file in the same directory, fsync, rename, fsync the directory.
 * A crash leaves either the old content or the new, never a torn file. `sync: false` skips both
 * fsyncs (still atomic against a killed process; the caller syncs the file system later).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: { sync?: boolean } = {}): Promise<void> {
  const sync = opts.sync ?? true;
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
  const fh = await open(tmp, 'w', 0o600).catch((e) => Promise.reject(outOfSpaceError(e, tmp)));
  try {
    await fh.writeFile(data);
    if (sync) await fh.sync();
  } catch (e) {
    // Never renamed into place: the old content stays (a full disk leaves no empty record).
    await fh.close();
    await rm(tmp, { force: true });
    throw outOfSpaceError(e, tmp);
  }
  await fh.close();
  await rename(tmp, path);
  if (sync) await fsyncDir(dir);
}

export async function writeJsonAtomic(path: string, value: unknown, opts: { sync?: boolean } = {}): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value), opts);
}

export async function fsyncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try { await dh.sync(); } finally { await dh.close(); }
}
