import { randomBytes } from 'node:crypto';
import { InvalidParameterError } from '../errors.js';

/** The local driver's volume names (moby's RestrictedNamePattern: at least two characters). */
export const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** The local driver's check; `op` prefixes the message as dockerd's OpErr does ("create x: …"). */
export function validateVolumeName(name: string, op = 'create'): void {
  // The name is a folder under volumes/: past a path component's 255 bytes mkdir fails, which is
  // the client's input at fault (a 400), not the daemon (it was a 500 ENAMETOOLONG).
  if (Buffer.byteLength(name) > 255) throw new InvalidParameterError(`${op} ${name.slice(0, 64)}…: file name too long (a local volume name is at most 255 bytes)`);
  if (!VOLUME_NAME.test(name)) {
    throw new InvalidParameterError(`${op} ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
}

/** Anonymous volumes get a random 64-hex name, as dockerd's. */
export function generateVolumeName(): string {
  return randomBytes(32).toString('hex');
}
