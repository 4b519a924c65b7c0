/** Test helpers: build layer tars with tar-stream (in memory). */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import tarStream from 'tar-stream';

export type TarSpec =
  | { name: string; type?: 'file'; content?: string | Buffer; mode?: number; uid?: number; gid?: number; mtime?: Date; xattrs?: Record<string, Buffer> }
  | { name: string; type: 'directory'; mode?: number; uid?: number; gid?: number; mtime?: Date }
  | { name: string; type: 'symlink' | 'link'; linkname: string; uid?: number; gid?: number }
  | { name: string; type: 'character-device' | 'block-device' | 'fifo'; devmajor?: number; devminor?: number; mode?: number };

/** A pax record "<len> key=value\n" with a binary-safe value. */
export function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

let paxSeq = 0;

export async function buildTar(entries: TarSpec[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const out: Buffer[] = [];
  pack.on('data', (c: unknown) => { out.push(c as Buffer); });
  const done = new Promise<void>((res, rej) => { pack.on('end', () => res()); pack.on('error', rej); });
  for (const e of entries) {
    const mtime = ('mtime' in e && e.mtime) || new Date(1_700_000_000_000);
    if ((e.type ?? 'file') === 'file') {
      const f = e as Extract<TarSpec, { type?: 'file' }>;
      if (f.xattrs) {
        const pax = Buffer.concat(Object.entries(f.xattrs).map(([k, v]) => paxRecord(`SCHILY.xattr.${k}`, v)));
        // tar-stream writes pax values as UTF-8 text; emit a placeholder file, patched into a raw
        // pax header ('x') below, so binary values reach the tar untouched.
        pack.entry({ name: `PaxHeaders.${paxSeq++}`, type: 'file', size: pax.length, mtime }, pax);
      }
      const content = typeof f.content === 'string' ? Buffer.from(f.content) : (f.content ?? Buffer.alloc(0));
      pack.entry({ name: f.name, type: 'file', mode: f.mode ?? 0o644, uid: f.uid ?? 0, gid: f.gid ?? 0, mtime, size: content.length }, content);
    } else if (e.type === 'directory') {
      pack.entry({ name: e.name, type: 'directory', mode: e.mode ?? 0o755, uid: e.uid ?? 0, gid: e.gid ?? 0, mtime });
    } else if (e.type === 'symlink' || e.type === 'link') {
      pack.entry({ name: e.name, type: e.type, linkname: e.linkname, uid: e.uid ?? 0, gid: e.gid ?? 0, mtime });
    } else {
      const dev = e as { name: string; type: 'character-device' | 'block-device' | 'fifo'; devmajor?: number; devminor?: number; mode?: number };
      pack.entry({ name: dev.name, type: dev.type, devmajor: dev.devmajor ?? 0, devminor: dev.devminor ?? 0, mode: dev.mode ?? 0o644, mtime });
    }
  }
  pack.finalize();
  await done;
  const tar = Buffer.concat(out);
  patchPaxPlaceholders(tar);
  return tar;
}

function patchPaxPlaceholders(tar: Buffer): void {
  let off = 0;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString('latin1').replace(/\0.*$/s, '');
    const size = parseInt(h.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
    if (/^PaxHeaders\.\d+$/.test(name)) {
      h[156] = 'x'.charCodeAt(0);
      h.fill(0x20, 148, 156);
      let sum = 0;
      for (const b of h) sum += b;
      h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    }
    off += 512 + Math.ceil(size / 512) * 512;
  }
}

export function sha(buf: Buffer): string {
  return 'sha256:' + createHash('sha256').update(buf).digest('hex');
}

/** A Readable that delivers `buf` in small chunks (exercises the reader's buffering). */
export function streamOf(buf: Buffer, chunk = 700): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunk) parts.push(buf.subarray(i, i + chunk));
  return Readable.from(parts);
}
