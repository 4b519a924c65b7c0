/**
 * The container log file written by berth-shim (see native/shim/berth-shim.c for the writer).
 *
 *   record = header(16) | payload[len] | trailer(4)
 *     header : u8 magic 0xB7 | u8 stream (1 stdout, 2 stderr) | u8 flags (bit0 partial) | u8 0
 *              | u32 len (LE) | u64 timeNs (LE)
 *     trailer: u32 len (LE), so the file can be read backwards for --tail
 *
 * Forward reads stream the file in large chunks; `tail` reads backwards from the end and never
 * parses more than it needs. A torn record (a crash or a failed write mid-record) is skipped and
 * the reader resynchronises on the next valid record.
 */
import { existsSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { LogReadOptions, OutputRecord } from './types.js';

export const LOG_MAGIC = 0xb7;
export const LOG_HEADER = 16;
export const LOG_TRAILER = 4;
export const MAX_RECORD = 16 * 1024;

export function encodeRecord(rec: OutputRecord): Buffer {
  const n = rec.data.length;
  const b = Buffer.allocUnsafe(LOG_HEADER + n + LOG_TRAILER);
  b[0] = LOG_MAGIC;
  b[1] = rec.stream === 'stdout' ? 1 : 2;
  b[2] = rec.partial ? 1 : 0;
  b[3] = 0;
  b.writeUInt32LE(n, 4);
  b.writeBigUInt64LE(rec.timeNs, 8);
  rec.data.copy(b, LOG_HEADER);
  b.writeUInt32LE(n, LOG_HEADER + n);
  return b;
}

type Probe = { rec: OutputRecord; size: number } | 'more' | 'bad';

/**
 * Look at the bytes at `off`: a whole record, 'more' (a valid start that needs more bytes than
 * `buf` holds) or 'bad' (not a record: a torn write or garbage). Lengths above MAX_RECORD are
 * never valid (the shim splits there), which also bounds what a reader buffers.
 */
function probeRecord(buf: Buffer, off: number): Probe {
  const have = buf.length - off;
  if (have < 1) return 'more';
  if (buf[off] !== LOG_MAGIC) return 'bad';
  if (have < 2) return 'more';
  const s = buf[off + 1];
  if (s !== 1 && s !== 2) return 'bad';
  if (have < LOG_HEADER) return 'more';
  const n = buf.readUInt32LE(off + 4);
  if (n > MAX_RECORD) return 'bad';
  const size = LOG_HEADER + n + LOG_TRAILER;
  if (have < size) return 'more';
  if (buf.readUInt32LE(off + LOG_HEADER + n) !== n) return 'bad';
  return {
    rec: {
      stream: s === 1 ? 'stdout' : 'stderr',
      partial: (buf[off + 2]! & 1) === 1,
      timeNs: buf.readBigUInt64LE(off + 8),
      data: Buffer.from(buf.subarray(off + LOG_HEADER, off + LOG_HEADER + n)),
    },
    size,
  };
}

/** Decode one record at `off`; undefined if incomplete or malformed. */
export function decodeRecord(buf: Buffer, off = 0): { rec: OutputRecord; size: number } | undefined {
  const p = probeRecord(buf, off);
  return typeof p === 'string' ? undefined : p;
}

/** Split a chunk the way the shim does (for tests and for Node-side writers). */
export function splitRecords(stream: 'stdout' | 'stderr', data: Buffer, timeNs: bigint): OutputRecord[] {
  const out: OutputRecord[] = [];
  let off = 0;
  while (off < data.length) {
    const lim = Math.min(data.length, off + MAX_RECORD);
    const nl = data.indexOf(0x0a, off);
    if (nl >= 0 && nl < lim) {
      out.push({ stream, partial: false, timeNs, data: data.subarray(off, nl + 1) });
      off = nl + 1;
    } else {
      out.push({ stream, partial: true, timeNs, data: data.subarray(off, lim) });
      off = lim;
    }
  }
  return out;
}

interface Filter {
  (r: OutputRecord): boolean;
}

function makeFilter(opts: LogReadOptions): Filter {
  const since = opts.since !== undefined && opts.since > 0 ? BigInt(Math.round(opts.since * 1e9)) : undefined;
  const until = opts.until !== undefined && opts.until > 0 ? BigInt(Math.round(opts.until * 1e9)) : undefined;
  return (r) => {
    if (r.stream === 'stdout' ? !opts.stdout : !opts.stderr) return false;
    if (since !== undefined && r.timeNs < since) return false;
    if (until !== undefined && r.timeNs >= until) return false;
    return true;
  };
}

const CHUNK = 256 * 1024;

/**
 * Every record of the file, in order. A torn record (a partial write, e.g. on a full disk, after
 * which the shim went on writing) is skipped: the reader resynchronises on the next byte that
 * starts a valid record (magic, stream, bounded length, matching trailer) and reads on, so one bad
 * write never hides the lines after it.
 */
async function* forward(fh: FileHandle, filter: Filter): AsyncGenerator<OutputRecord> {
  let buf = Buffer.alloc(0);
  let pos = 0;
  let eof = false;
  while (!eof) {
    const chunk = Buffer.allocUnsafe(CHUNK);
    const { bytesRead } = await fh.read(chunk, 0, CHUNK, pos);
    pos += bytesRead;
    eof = bytesRead === 0;
    if (!eof) buf = buf.length ? Buffer.concat([buf, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
    let off = 0;
    while (off < buf.length) {
      const p = probeRecord(buf, off);
      if (p === 'more' && !eof) break; // at EOF an unfinished record is torn: resync past it
      if (typeof p === 'string') {
        const next = buf.indexOf(LOG_MAGIC, off + 1);
        off = next < 0 ? buf.length : next;
        continue;
      }
      off += p.size;
      if (filter(p.rec)) yield p.rec;
    }
    buf = Buffer.from(buf.subarray(off)); // at most one unfinished record (< MAX_RECORD + 20 bytes)
  }
}

/**
 * The last `n` matching records, read backwards from the end of the file (trailer lengths).
 * Returns undefined if the backward walk hits something malformed (caller falls back to forward).
 */
async function tailRecords(fh: FileHandle, size: number, n: number, filter: Filter): Promise<OutputRecord[] | undefined> {
  const out: OutputRecord[] = [];
  let end = size; // end of the not-yet-consumed region
  let win = Buffer.alloc(0); // bytes [winStart, end)
  let winStart = end;
  const ensure = async (from: number): Promise<boolean> => {
    if (from < 0) return false;
    if (from >= winStart) return true;
    const start = Math.max(0, Math.min(from, winStart - CHUNK));
    const len = winStart - start;
    const b = Buffer.allocUnsafe(len);
    const { bytesRead } = await fh.read(b, 0, len, start);
    if (bytesRead !== len) return false;
    win = Buffer.concat([b, win]);
    winStart = start;
    return true;
  };
  // skip a torn record at the end: the walk validates every record, so just try from the end
  while (end > 0 && out.length < n) {
    if (!(await ensure(end - LOG_TRAILER))) return undefined;
    const len = win.readUInt32LE(end - LOG_TRAILER - winStart);
    const start = end - LOG_TRAILER - len - LOG_HEADER;
    if (!(await ensure(start))) return undefined;
    const d = decodeRecord(win, start - winStart);
    if (!d || d.size !== end - start) return undefined;
    if (filter(d.rec)) out.push(d.rec);
    end = start;
    // keep the window bounded
    if (end - winStart < win.length / 2 && win.length > 4 * CHUNK) {
      win = Buffer.from(win.subarray(0, end - winStart));
    }
  }
  return out.reverse();
}

/** The log's files, oldest first: LOG.N … LOG.1, LOG (rotated ones that exist). */
export function logFiles(logPath: string): string[] {
  const out: string[] = [];
  for (let i = 1; i < 1000 && existsSync(`${logPath}.${i}`); i++) out.unshift(`${logPath}.${i}`);
  out.push(logPath);
  return out;
}

async function openOpt(p: string): Promise<FileHandle | undefined> {
  try {
    return await open(p, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function tailOne(fh: FileHandle, n: number, filter: Filter): Promise<OutputRecord[]> {
  const { size } = await fh.stat();
  const recs = await tailRecords(fh, size, n, filter);
  if (recs) return recs;
  // malformed end (e.g. a torn record): forward scan keeping the last n
  const ring: OutputRecord[] = [];
  for await (const r of forward(fh, filter)) {
    ring.push(r);
    if (ring.length > 2 * n + 1024) ring.splice(0, ring.length - n);
  }
  return ring.slice(Math.max(0, ring.length - n));
}

/**
 * Read records from a container log (and its rotated files), oldest first. Missing file = no
 * records. `tail` counts records that pass the stream/since/until filters; it reads backwards.
 */
export async function* readLogs(logPath: string, opts: LogReadOptions): AsyncGenerator<OutputRecord> {
  const filter = makeFilter(opts);
  const files = logFiles(logPath);
  if (opts.tail !== undefined && opts.tail >= 0) {
    if (opts.tail === 0) return;
    const parts: OutputRecord[][] = [];
    let need = opts.tail;
    for (let i = files.length - 1; i >= 0 && need > 0; i--) {
      const fh = await openOpt(files[i]!);
      if (!fh) continue;
      try {
        const recs = await tailOne(fh, need, filter);
        parts.unshift(recs);
        need -= recs.length;
      } finally {
        await fh.close();
      }
    }
    for (const p of parts) yield* p;
    return;
  }
  for (const f of files) {
    const fh = await openOpt(f);
    if (!fh) continue;
    try {
      yield* forward(fh, filter);
    } finally {
      await fh.close();
    }
  }
}
