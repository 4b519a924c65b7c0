/**
 * A streaming tar reader that keeps pax values as bytes.
 *
 * Why not tar-stream's extractor: it decodes pax values as UTF-8, which corrupts binary xattrs
 * (security.capability), and ignores pax mtime/uid/gid. This reader handles ustar, POSIX pax
 * (per-entry and global), GNU long names/links (L/K), base-256 numbers and V7 directories.
 *
 * Every byte pulled from the source goes through `onData` (used to compute the diffID over the
 * whole stream, trailing padding included: call `drain()` after the last entry).
 */
import { InvalidParameterError, SystemError } from '../errors.js';

export type EntryType =
  | 'file' | 'link' | 'symlink' | 'character-device' | 'block-device' | 'directory' | 'fifo' | 'unsupported';

export interface TarHeader {
  name: string;
  linkname: string;
  type: EntryType;
  /** The raw typeflag character, for error messages. */
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch, possibly fractional (pax). */
  mtime: number;
  atime?: number;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes from SCHILY.xattr.* (and LIBARCHIVE.xattr.*), values as raw bytes. */
  xattrs: Map<string, Buffer>;
  /** All pax records of this entry (global ones merged in), raw values. */
  pax: Map<string, Buffer>;
}

/** A malformed tar stream: bad input, a 400 (a pull reports it in its stream). */
export class TarFormatError extends InvalidParameterError {
  constructor(message: string) {
    super(`invalid tar stream: ${message}`);
    this.name = 'TarFormatError';
  }
}

const BLOCK = 512;
const EMPTY = Buffer.alloc(0);

/**
 * Bound on pax and GNU long-name data, as Go's archive/tar (maxSpecialFileSize, 1 MiB): one
 * extended header may not exceed it, and neither may the records in force at once — the global
 * set (which 'g' headers only ever add to) and the per-entry set (several 'x' headers may precede
 * one entry). Without it a layer made of many small global headers grows the daemon's memory.
 */
export const MAX_PAX_BYTES = 1 << 20;
/**
 * And at most this many records per set: the global set is copied into every entry's header, so
 * a megabyte of tiny global records would cost a pass over ~100k keys per entry.
 */
export const MAX_PAX_RECORDS = 1024;

class ByteReader {
  private readonly it: AsyncIterator<Uint8Array>;
  private buf: Buffer = EMPTY;
  private eof = false;

  constructor(src: AsyncIterable<Uint8Array>, private readonly onData?: (chunk: Buffer) => void) {
    this.it = src[Symbol.asyncIterator]();
  }

  private async pull(): Promise<boolean> {
    if (this.eof) return false;
    const r = await this.it.next();
    if (r.done) { this.eof = true; return false; }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    if (chunk.length === 0) return true;
    this.onData?.(chunk);
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    return true;
  }

  /** Exactly n bytes; null if the stream ended before the first byte; throws on a short read. */
  async readExact(n: number): Promise<Buffer | null> {
    while (this.buf.length < n) {
      if (!(await this.pull())) {
        if (this.buf.length === 0) return null;
        throw new TarFormatError('unexpected end of stream');
      }
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Yields n bytes as they arrive, in slices. */
  async *chunks(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.buf.length === 0 && !(await this.pull())) throw new TarFormatError('unexpected end of stream in entry data');
      const take = Math.min(left, this.buf.length);
      const out = this.buf.subarray(0, take);
      this.buf = this.buf.subarray(take);
      left -= take;
      yield out;
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.chunks(n)) { /* discard */ }
  }

  async drain(): Promise<void> {
    this.buf = EMPTY;
    while (await this.pull()) this.buf = EMPTY;
  }

  async close(): Promise<void> {
    await this.it.return?.();
  }
}

function cstr(b: Buffer, start: number, len: number): string {
  const s = b.subarray(start, start + len);
  const z = s.indexOf(0);
  return (z === -1 ? s : s.subarray(0, z)).toString('utf8');
}

function num(b: Buffer, start: number, len: number): number {
  const s = b.subarray(start, start + len);
  if (s[0]! & 0x80) {
    // base-256 (GNU): big-endian two's complement, first byte's high bit is the marker
    let v = BigInt(s[0]! & 0x7f);
    for (let i = 1; i < s.length; i++) v = (v << 8n) | BigInt(s[i]!);
    if (s[0]! & 0x40) v -= 1n << BigInt(s.length * 8 - 1); // negative
    return Number(v);
  }
  const t = s.toString('latin1').replace(/\0.*$/s, '').trim();
  if (t === '') return 0;
  if (!/^[0-7]+$/.test(t)) throw new TarFormatError(`bad numeric field ${JSON.stringify(t)}`);
  return parseInt(t, 8);
}

function checksumOk(b: Buffer): boolean {
  const stored = num(b, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 32 : b[i]!;
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  return stored === unsigned || stored === signed;
}

function isZeroBlock(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** Bytes held by a pax record set (keys and values), checked against MAX_PAX_BYTES. */
function paxBytes(m: ReadonlyMap<string, Buffer>): number {
  let n = 0;
  for (const [k, v] of m) n += Buffer.byteLength(k) + v.length;
  return n;
}

/**
 * Parses pax records ("<len> <key>=<value>\n"), values kept as bytes. `held` is what `into`
 * holds on entry (bytes of keys + values); the new total is returned, and passing `limit` makes
 * the parse fail as soon as the set would exceed it.
 */
export function parsePax(buf: Buffer, into: Map<string, Buffer>, held = paxBytes(into), limit = Infinity, what = 'pax'): number {
  let off = 0;
  while (off < buf.length) {
    if (buf[off] === 0) break; // NUL padding
    const sp = buf.indexOf(0x20, off);
    if (sp === -1) throw new TarFormatError('bad pax record');
    const len = parseInt(buf.subarray(off, sp).toString('latin1'), 10);
    if (!Number.isFinite(len) || len <= sp - off + 1 || off + len > buf.length) throw new TarFormatError('bad pax record length');
    const rec = buf.subarray(sp + 1, off + len - 1); // without trailing '\n'
    const eq = rec.indexOf(0x3d);
    if (eq === -1) throw new TarFormatError('bad pax record');
    const key = rec.subarray(0, eq).toString('utf8');
    const value = Buffer.from(rec.subarray(eq + 1)); // copy: the source chunk may be reused
    const old = into.get(key);
    if (old) held -= Buffer.byteLength(key) + old.length;
    if (value.length === 0) into.delete(key); // an empty value deletes (POSIX)
    else {
      into.set(key, value);
      held += Buffer.byteLength(key) + value.length;
      if (held > limit) throw new TarFormatError(`${what} records exceed ${limit} bytes`);
      if (into.size > MAX_PAX_RECORDS) throw new TarFormatError(`more than ${MAX_PAX_RECORDS} ${what} records`);
    }
    off += len;
  }
  return held;
}

const TYPES: Record<string, EntryType> = {
  '0': 'file', '\0': 'file', '7': 'file', '1': 'link', '2': 'symlink', '3': 'character-device',
  '4': 'block-device', '5': 'directory', '6': 'fifo',
};

export interface TarEntry {
  header: TarHeader;
  /** The entry's data (regular files only; empty for others). Unread data is skipped automatically. */
  body: AsyncIterable<Buffer>;
}

/**
 * Iterates entries. The consumer may read `body` or not; the reader skips what is left before the
 * next header. After the end-of-archive marker it drains the rest of the stream through onData.
 */
export async function* readTar(src: AsyncIterable<Uint8Array>, onData?: (chunk: Buffer) => void): AsyncGenerator<TarEntry> {
  const r = new ByteReader(src, onData);
  const globalPax = new Map<string, Buffer>();
  let globalHeld = 0;
  let pax: Map<string, Buffer> | null = null;
  let paxHeld = 0;
  let longName: string | null = null;
  let longLink: string | null = null;
  try {
    for (;;) {
      const h = await r.readExact(BLOCK);
      if (h === null) break; // EOF without end marker: accepted, as Go's archive/tar does
      if (isZeroBlock(h)) break;
      if (!checksumOk(h)) throw new TarFormatError('header checksum mismatch');
      const flag = String.fromCharCode(h[156]!);
      const size = num(h, 124, 12);
      const padded = Math.ceil(size / BLOCK) * BLOCK;
      if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
        if (size > MAX_PAX_BYTES) throw new TarFormatError(`extended header of ${size} bytes exceeds ${MAX_PAX_BYTES}`);
        const data = size > 0 ? await r.readExact(padded) : EMPTY;
        if (data === null) throw new TarFormatError('unexpected end of stream');
        const body = data.subarray(0, size);
        if (flag === 'x') { pax ??= new Map(); paxHeld = parsePax(body, pax, paxHeld, MAX_PAX_BYTES, 'pax'); }
        else if (flag === 'g') globalHeld = parsePax(body, globalPax, globalHeld, MAX_PAX_BYTES, 'global pax');
        else if (flag === 'L') longName = cstr(body, 0, body.length);
        else longLink = cstr(body, 0, body.length);
        continue;
      }
      const magic = h.subarray(257, 263).toString('latin1');
      let name = cstr(h, 0, 100);
      if (magic === 'ustar\0') {
        const prefix = cstr(h, 345, 155);
        if (prefix) name = `${prefix}/${name}`;
      }
      const merged = new Map(globalPax);
      if (pax) for (const [k, v] of pax) merged.set(k, v);
      const header: TarHeader = {
        name: longName ?? name,
        linkname: longLink ?? cstr(h, 157, 100),
        type: TYPES[flag] ?? 'unsupported',
        typeflag: flag,
        mode: num(h, 100, 8) & 0o7777,
        uid: num(h, 108, 8),
        gid: num(h, 116, 8),
        size,
        mtime: num(h, 136, 12),
        uname: cstr(h, 265, 32),
        gname: cstr(h, 297, 32),
        devmajor: num(h, 329, 8),
        devminor: num(h, 337, 8),
        xattrs: new Map(),
        pax: merged,
      };
      applyPax(header, merged);
      if (header.type === 'file' && header.name.endsWith('/') && (flag === '\0' || flag === '0')) header.type = 'directory'; // V7
      pax = null; paxHeld = 0; longName = null; longLink = null;
      const dataLen = header.type === 'file' ? header.size : 0;
      // Non-file entries may still carry data (rare); it is skipped below.
      let consumed = 0;
      const body: AsyncIterable<Buffer> = {
        [Symbol.asyncIterator]: async function* () {
          if (consumed !== 0) throw new SystemError('entry body can be read only once');
          for await (const c of r.chunks(dataLen)) { consumed += c.length; yield c; }
        },
      };
      yield { header, body };
      const total = header.type === 'file' ? header.size : size;
      const remaining = total - consumed;
      const pad = Math.ceil(total / BLOCK) * BLOCK - total;
      await r.skip(remaining + pad);
    }
    await r.drain();
  } finally {
    await r.close();
  }
}

function applyPax(h: TarHeader, pax: Map<string, Buffer>): void {
  for (const [k, v] of pax) {
    switch (k) {
      case 'path': h.name = v.toString('utf8'); break;
      case 'linkpath': h.linkname = v.toString('utf8'); break;
      case 'size': h.size = paxInt(k, v); break;
      case 'uid': h.uid = paxInt(k, v); break;
      case 'gid': h.gid = paxInt(k, v); break;
      case 'uname': h.uname = v.toString('utf8'); break;
      case 'gname': h.gname = v.toString('utf8'); break;
      case 'mtime': h.mtime = paxTime(k, v); break;
      case 'atime': h.atime = paxTime(k, v); break;
      default:
        if (k.startsWith('SCHILY.xattr.')) h.xattrs.set(k.slice('SCHILY.xattr.'.length), v);
        else if (k.startsWith('LIBARCHIVE.xattr.')) {
          h.xattrs.set(decodeURIComponent(k.slice('LIBARCHIVE.xattr.'.length)), Buffer.from(v.toString('latin1'), 'base64'));
        }
    }
  }
}

function paxInt(k: string, v: Buffer): number {
  const s = v.toString('latin1');
  if (!/^[0-9]+$/.test(s)) throw new TarFormatError(`bad pax ${k}`);
  return Number(s);
}

function paxTime(k: string, v: Buffer): number {
  const s = v.toString('latin1');
  if (!/^-?[0-9]+(\.[0-9]+)?$/.test(s)) throw new TarFormatError(`bad pax ${k}`);
  return Number(s);
}
