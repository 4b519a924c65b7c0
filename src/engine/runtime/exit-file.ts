/**
 * The exit file the shim writes when a container (or exec) process ends: `exit.json`, one JSON
 * object `{exitCode, finishedAt, oomKilled}`. The shim writes it atomically, but an older shim (or
 * a disk that lies) can leave it empty or torn; such a file must never stop the daemon, so it reads
 * as "no exit known" and the caller records its fallback status, as for a missing file.
 */
import { readFile } from 'node:fs/promises';
import { logFailure } from '../log-failure.js';
import { isPlainObject, parseJsonOrUndefined } from '../corrupt-file.js';
import type { ExitStatus } from './types.js';

export const EXIT_FILE = 'exit.json';

/** Parse the text of an exit file; undefined if it is not a well-formed exit record. */
export function parseExitStatus(text: string): ExitStatus | undefined {
  const r = parseJsonOrUndefined(text);
  if (!isPlainObject(r)) return undefined;
  const code = r['exitCode'];
  if (typeof code !== 'number' || !Number.isInteger(code)) return undefined;
  return {
    exitCode: code,
    finishedAt: typeof r['finishedAt'] === 'string' ? r['finishedAt'] : '',
    oomKilled: r['oomKilled'] === true,
  };
}

/**
 * Read an exit file. Missing → undefined; unreadable or malformed → undefined with a warning in
 * the daemon log (the file stays for inspection).
 */
export async function readExitStatus(path: string): Promise<ExitStatus | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    logFailure(`reading ${path}`)(e);
    return undefined;
  }
  const status = parseExitStatus(text);
  if (!status) logFailure(`reading ${path}`)(new Error('malformed exit record; using a fallback exit status'));
  return status;
}
