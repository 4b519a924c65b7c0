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
