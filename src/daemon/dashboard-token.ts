import { randomBytes } from 'node:crypto';
import { chmod, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';

/** The dashboard's per-install secret: `<data root>/dashboard-token`, root-only (0600). */
export const TOKEN_FILE = 'dashboard-token';

const TOKEN = /^[0-9a-f]{64}$/;

/** Read the token, or make one (32 random bytes, hex) on first use; the file is kept 0600. */
export async function loadOrCreateToken(dataRoot: string): Promise<string> {
  const path = join(dataRoot, TOKEN_FILE);
  try {
    const text = (await readFile(path, 'utf8')).trim();
    if (TOKEN.test(text)) {
      if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600);
      return text;
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const token = randomBytes(32).toString('hex');
  await writeFileAtomic(path, `${token}\n`); // 0600: writeFileAtomic creates files root-only
  return token;
}
