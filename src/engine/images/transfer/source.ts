/**
 * The byte stream of an archive sent to load or import: decompressed by sniffing its first bytes
 * (gzip, zstd, or plain; bzip2 and xz refused by name), counted as the
 * bytes arrive and cut off past the daemon's `max-image-load-size`, so a decompression bomb stops
 * at the cap and never reaches the disk beyond it.
 */
import { Readable } from 'node:stream';
import { decompress } from '../../distribution/decompress.js';
import { ArchiveTooLargeError, InvalidArchiveError } from './errors.js';

const BZIP2 = Buffer.from('BZh');
const XZ = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

/**
 * Decompressed, size-capped chunks of `body`. A request body is never destroyed here when reading
 * stops early (the API still answers on its connection; the server drops the rest).
 */
export async function* archiveStream(body: Readable, maxBytes: number): AsyncGenerator<Buffer> {
  const plain = decompress(Readable.from(refuseUnsupported(body), { objectMode: false }));
  let total = 0;
  try {
    for await (const chunk of plain) {
      const c = chunk as Buffer;
      total += c.length;
      if (total > maxBytes) throw new ArchiveTooLargeError(maxBytes);
      yield c;
    }
  } finally {
    plain.destroy();
  }
}

/** `body`'s chunks, refusing bzip2 and xz (which dockerd reads) with a clear message. */
async function* refuseUnsupported(body: Readable): AsyncGenerator<Buffer> {
  let first = true;
  for await (const chunk of clientBody(body)) {
    const c = chunk as Buffer;
    if (first) {
      first = false;
      if (c.subarray(0, 3).equals(BZIP2)) throw new InvalidArchiveError('bzip2-compressed archives are not supported by this daemon (use gzip or none)');
      if (c.subarray(0, 6).equals(XZ)) throw new InvalidArchiveError('xz-compressed archives are not supported by this daemon (use gzip or none)');
    }
    yield c;
  }
}

/** The body's chunks; a client that leaves mid-body is bad input (a 400), not a daemon fault. */
async function* clientBody(body: Readable): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of body.iterator({ destroyOnReturn: false })) yield chunk as Buffer;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if ((e as Error).message === 'aborted' || code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE') {
      throw new InvalidArchiveError('the connection ended before the end of the archive');
    }
    throw e;
  }
}
