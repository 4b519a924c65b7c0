/**
 * The engine's error vocabulary: the typed, coded errors of ../wire/errors.ts (shared with the
 * reference parser, which sits below the engine), plus the errors only the engine raises.
 * The API maps each `code` to an HTTP status in one place (api/errors.ts).
 */
export * from '../wire/errors.js';

import { SystemError } from '../wire/errors.js';

/** A host tool (ip, mount, crun…) that failed: a 500, with the tool's own message. */
export class HostCommandError extends SystemError {
  constructor(message: string, readonly exitCode: number, readonly stderr: string) {
    super(message);
    this.name = 'HostCommandError';
  }
}

// ---- the image side: content, layers, distribution ----
// (its own import, so that this block merges apart from the imports above)
import * as wire from '../wire/errors.js';

/**
 * Bytes that do not match their digest (or size): a blob ingested, a layer, config or manifest
 * pulled. Bad input, so a 400 where it reaches a client directly; a pull reports it in its
 * JSON stream (dockerd's `filesystem layer verification failed for digest …`).
 */
export class DigestMismatchError extends wire.InvalidParameterError {
  constructor(message: string, readonly expected?: string, readonly actual?: string) {
    super(message);
    this.name = 'DigestMismatchError';
  }

  /** `<what> mismatch: expected <expected>, got <actual>`. */
  static of(expected: string, actual: string, what = 'digest'): DigestMismatchError {
    return new DigestMismatchError(`${what} mismatch: expected ${expected}, got ${actual}`, expected, actual);
  }
}

/** A registry answered something unusable (a manifest that is not one, an upload without a Location): a 500, as dockerd. */
export class RegistryProtocolError extends wire.SystemError {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryProtocolError';
  }
}
