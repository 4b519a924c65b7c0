/** Test helpers: build layer tars with tar-stream (in memory), and throw-away layer stores. */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LayerStore } from '../../src/engine/layers/store.js';
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

/** One raw tar entry (ustar header + padded body) with any typeflag, e.g. 'g' or 'x' pax headers. */
export function rawEntry(typeflag: string, name: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(body.length.toString(8).padStart(11, '0') + '\0', 124, 'latin1');
  h.write('00000000000\0', 136, 'latin1');
  h.write(typeflag, 156, 'latin1');
  h.write('ustar\0' + '00', 257, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return Buffer.concat([h, body, Buffer.alloc(Math.ceil(body.length / 512) * 512 - body.length)]);
}

/** Runs fn with a fresh temp directory, removed afterwards. */
export async function withRoot(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'berth-layers-'));
  try { await fn(root); } finally { await rm(root, { recursive: true, force: true }); }
}

/** An initialised layer store under root/data. */
export async function newStore(root: string): Promise<LayerStore> {
  const s = new LayerStore(join(root, 'data'));
  await mkdir(s.root, { recursive: true });
  await s.init();
  return s;
}

/** What is left in layers/ besides the short-link dir (snapshots and temp dirs). */
export async function layerDirs(s: LayerStore): Promise<string[]> {
  return (await readdir(s.dir)).filter((n) => n !== 'l').sort();
}
