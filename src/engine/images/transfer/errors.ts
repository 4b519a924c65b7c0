/**
 * The errors of image archives (load, import): each a 400 with the reason in words, raised before
 * anything of the archive becomes visible.
 */
import { InvalidParameterError } from '../../errors.js';
import { bytesSize } from '../../../util/units.js';

/** An archive that is malformed, incomplete or names something outside itself. */
export class InvalidArchiveError extends InvalidParameterError {
  constructor(message: string) {
    super(`invalid image archive: ${message}`);
    this.name = 'InvalidArchiveError';
  }
}

/** The (decompressed) archive passed the daemon's `max-image-load-size`. */
export class ArchiveTooLargeError extends InvalidParameterError {
  constructor(readonly limit: number) {
    super(`image archive too large: its uncompressed content exceeds the daemon's max-image-load-size of ${bytesSize(limit)} (${limit} bytes)`);
    this.name = 'ArchiveTooLargeError';
  }
}
