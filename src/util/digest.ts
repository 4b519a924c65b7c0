import { createHash } from 'node:crypto';

/** The OCI digest of some bytes: 'sha256:' + the hex of their sha256. */
export function sha256Digest(data: Uint8Array | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}
