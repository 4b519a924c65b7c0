/**
 * Docker's detach keys (`ctrl-p,ctrl-q`, `--detach-keys`): the byte sequence on a TTY's stdin that
 * detaches the client and leaves the process running. As dockerd, only a TTY session has them.
 */
import { InvalidParameterError } from './errors.js';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** "ctrl-p,ctrl-q" → bytes; an invalid spec is a 400. */
export function parseDetachKeys(spec: string): number[] {
  if (!spec) return [];
  return spec.split(',').map((k) => {
    const m = /^ctrl-([a-z@[\\\]^_])$/.exec(k);
    if (m) return m[1] === '@' ? 0 : m[1]!.charCodeAt(0) & 0x1f;
    if (k.length === 1) return k.charCodeAt(0);
    throw new InvalidParameterError(`Invalid escape keys (${spec}) provided`);
  });
}

/** The sequence a session watches for: the given keys or the default on a TTY, none without one. */
export function sessionDetachKeys(spec: string | null | undefined, tty: boolean): number[] {
  const keys = parseDetachKeys(spec || DEFAULT_DETACH_KEYS);
  return tty ? keys : [];
}
