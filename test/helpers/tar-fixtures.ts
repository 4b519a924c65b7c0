/** Small tars for archive tests, hostile ones included, made with the engine's own tar writer. */
import { request } from 'node:http';
import { dataPadding, encodeHeader, END_OF_ARCHIVE, type WriteHeader } from '../../src/engine/layers/tar-writer.js';

export type FixtureEntry = Partial<WriteHeader> & { name: string; body?: string };

export function makeTar(entries: FixtureEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const type = e.type ?? 'file';
    parts.push(encodeHeader({ mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000, ...e, type, size: type === 'file' ? body.length : 0 }));
    if (type === 'file' && body.length) parts.push(body, dataPadding(body.length));
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

/** A raw request with a binary body on the daemon's socket; the answer's body as text. */
export function rawRequest(socket: string, method: string, path: string, body?: Buffer): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path, method, headers: body ? { 'Content-Type': 'application/x-tar', 'Content-Length': String(body.length) } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The names in a tar (ustar names, prefix joined; pax paths not needed here). */
export function tarNames(buf: Buffer): string[] {
  const out: string[] = [];
  let off = 0;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const prefix = h.subarray(345, 500).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(h.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
    const flag = String.fromCharCode(h[156]!);
    if (flag !== 'x' && flag !== 'g') out.push(prefix ? `${prefix}/${name}` : name);
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

/** The content of the entry `name` in a tar. */
export function tarFile(buf: Buffer, name: string): string | undefined {
  let off = 0;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const n = h.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(h.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
    if (n === name) return buf.subarray(off + 512, off + 512 + size).toString('utf8');
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return undefined;
}
