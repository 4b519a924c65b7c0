/**
 * A record file that cannot be parsed (empty or torn after a full disk or a crash, or edited by
 * hand) must not stop the daemon from starting. The loader skips it; this moves it aside as
 * `<file>.corrupt` (kept for inspection, out of the loader's way) and says so in the daemon log.
 */
import { existsSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { logFailure } from './log-failure.js';

export async function setAsideCorrupt(path: string, why: string): Promise<void> {
  let dest = `${path}.corrupt`;
  if (existsSync(dest)) dest = `${dest}.${Date.now()}`; // an earlier one stays too
  try {
    await rename(path, dest);
    logFailure(`skipping ${path}`)(new Error(`${why}; kept as ${dest}`));
  } catch (e) {
    logFailure(`skipping ${path} (${why}); cannot move it aside`)(e);
  }
}

/** JSON.parse that reports failure as undefined (the caller sets the file aside). */
export function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // judged by the caller: a corrupt record
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
