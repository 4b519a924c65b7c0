/**
 * Helpers of the save/load/import tests: tar archives made by hand (hostile ones included), a
 * saved archive read back into memory, and raw Engine API requests with a binary body.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import { dataPadding, encodeHeader, END_OF_ARCHIVE } from '../../src/engine/layers/tar-writer.js';
import { readTar } from '../../src/engine/layers/tar-reader.js';

export interface TarEntrySpec {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  data?: Buffer | string;
  linkname?: string;
  mode?: number;
}

export function tarOf(entries: TarEntrySpec[], end = true): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? 'file';
    const data = type === 'file' ? Buffer.from(e.data ?? '') : Buffer.alloc(0);
    parts.push(encodeHeader({ name: e.name, type, mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644), uid: 0, gid: 0, size: data.length, mtime: 1_700_000_000, linkname: e.linkname }));
    if (data.length) parts.push(data, dataPadding(data.length));
  }
  if (end) parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

export function sha256(b: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(b).digest('hex');
}

/** Every regular file of a tar archive, by name. */
export async function filesOf(archive: Buffer): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for await (const { header, body } of readTar((async function* () { yield archive; })())) {
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c);
    if (header.type === 'file') out.set(header.name, Buffer.concat(chunks));
  }
  return out;
}

/** One request on the daemon's socket; the whole answer. */
export function api(socket: string, method: string, path: string, body?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method, path, headers: body ? { 'Content-Type': 'application/x-tar', 'Content-Length': body.length } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
