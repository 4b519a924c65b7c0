import { open, rename, mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { outOfSpaceError } from './errno.js';

/**
 * Write a file atomically: temp file in the same directory, fsync, rename, fsync the directory.
 * A crash leaves either the old content or the new, never a torn file.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
  const fh = await open(tmp, 'w', 0o600).catch((e) => Promise.reject(outOfSpaceError(e, tmp)));
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    // Never renamed into place: the old content stays (a full disk leaves no empty record).
    await fh.close();
    await rm(tmp, { force: true });
    throw outOfSpaceError(e, tmp);
  }
  await fh.close();
  await rename(tmp, path);
  await fsyncDir(dir);
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value));
}

export async function fsyncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try { await dh.sync(); } finally { await dh.close(); }
}
