/**
 * The container log file written by berth-shim (see native/shim/berth-shim.c for the writer).
 *
 *   record = header(16) | payload[len] | trailer(4)
 *     header : u8 magic 0xB7 | u8 stream (1 stdout, 2 stderr) | u8 flags (bit0 partial) | u8 0
 *              | u32 len (LE) | u64 timeNs (LE)
 *     trailer: u32 len (LE), so the file can be read backwards for --tail
 *
 * Forward reads stream the file in large chunks; `tail` walks backwards from the end over the
 * headers only to find where the last N records begin, then streams forward from there, so its
 * memory does not grow with N. A torn record (a crash or a failed write mid-record) is skipped and
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
 * Every record of the file from `from` up to `to` (EOF when undefined), in order, with its
 * offset. A torn record (a partial write, e.g. on a full disk, after which the shim went on
 * writing) is skipped: the reader resynchronises on the next byte that starts a valid record
 * (magic, stream, bounded length, matching trailer) and reads on, so one bad write never hides the
 * lines after it. Memory: one chunk and at most one unfinished record.
 */
async function* scan(fh: FileHandle, from = 0, to?: number): AsyncGenerator<{ rec: OutputRecord; off: number }> {
  let buf = Buffer.alloc(0);
  let bufStart = from; // file offset of buf[0]
  let pos = from;
  let eof = false;
  while (!eof) {
    const want = to === undefined ? CHUNK : Math.min(CHUNK, to - pos);
    const chunk = Buffer.allocUnsafe(Math.max(0, want));
    const { bytesRead } = want > 0 ? await fh.read(chunk, 0, want, pos) : { bytesRead: 0 };
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
      yield { rec: p.rec, off: bufStart + off };
      off += p.size;
    }
    buf = Buffer.from(buf.subarray(off)); // at most one unfinished record (< MAX_RECORD + 20 bytes)
    bufStart += off;
  }
}

async function* forward(fh: FileHandle, filter: Filter, from = 0, to?: number): AsyncGenerator<OutputRecord> {
  for await (const { rec } of scan(fh, from, to)) if (filter(rec)) yield rec;
}

/** Where the last `n` matching lines of a file begin, and how many there are (at most n). */
interface TailStart { from: number; found: number }

/*
 * `tail` counts lines, as dockerd does: the shim writes what it reads at once, so one line can be
 * several records (partial ones, then the one with the newline). A line is a run of partial
 * records and the record that ends it; an unfinished last line counts as one.
 */

/**
 * Walk back from `size` over the trailers, counting the lines that pass the filter, until `n`
 * are found: only headers are looked at and the window read stays a few chunks, whatever n is.
 * Undefined if the walk meets something malformed (a torn record): the caller then counts forward.
 */
async function tailStartBackward(fh: FileHandle, size: number, n: number, filter: Filter): Promise<TailStart | undefined> {
  let found = 0;
  let seen = false;
  let end = size; // start of the records walked so far
  let from = size;
  let win = Buffer.alloc(0); // bytes [winStart, winStart + win.length)
  let winStart = end;
  const ensure = async (at: number): Promise<boolean> => {
    if (at < 0) return false;
    if (at >= winStart) return true;
    const start = Math.max(0, Math.min(at, winStart - CHUNK));
    const len = winStart - start;
    const b = Buffer.allocUnsafe(len);
    const { bytesRead } = await fh.read(b, 0, len, start);
    if (bytesRead !== len) return false;
    // keep only what is still ahead of the walk: the window stays bounded
    win = Buffer.concat([b, win.subarray(0, Math.min(win.length, end - winStart))]);
    winStart = start;
    return true;
  };
  while (end > 0) {
    if (!(await ensure(end - LOG_TRAILER))) return undefined;
    const len = win.readUInt32LE(end - LOG_TRAILER - winStart);
    if (len > MAX_RECORD) return undefined;
    const start = end - LOG_TRAILER - len - LOG_HEADER;
    if (!(await ensure(start))) return undefined;
    const o = start - winStart;
    const stream = win[o + 1];
    if (win[o] !== LOG_MAGIC || (stream !== 1 && stream !== 2) || win.readUInt32LE(o + 4) !== len) return undefined;
    const head: OutputRecord = { stream: stream === 1 ? 'stdout' : 'stderr', partial: (win[o + 2]! & 1) === 1, timeNs: win.readBigUInt64LE(o + 8), data: EMPTY };
    if (filter(head)) {
      // Walking backwards, a line ends at a complete record (or at the unfinished last one).
      if (!head.partial || !seen) {
        if (found === n) break;
        found++;
      }
      seen = true;
      from = start;
    }
    end = start;
  }
  return { from, found };
}

const EMPTY = Buffer.alloc(0);

/** The same as tailStartBackward for a file with torn records: two forward passes, counting only. */
async function tailStartForward(fh: FileHandle, size: number, n: number, filter: Filter): Promise<TailStart> {
  // A matching record starts a line when the matching one before it ended one.
  async function* lineStarts(): AsyncGenerator<number> {
    let ended = true;
    for await (const { rec, off } of scan(fh, 0, size)) {
      if (!filter(rec)) continue;
      if (ended) yield off;
      ended = !rec.partial;
    }
  }
  let total = 0;
  for await (const _ of lineStarts()) total++;
  if (total <= n) return { from: 0, found: total };
  let skip = total - n;
  for await (const off of lineStarts()) if (skip-- === 0) return { from: off, found: n };
  return { from: size, found: 0 };
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

/**
 * Read records from a container log (and its rotated files), oldest first. Missing file = no
 * records. `tail` counts lines that pass the stream/since/until filters; it reads backwards.
 */
export async function* readLogs(logPath: string, opts: LogReadOptions): AsyncGenerator<OutputRecord> {
  const filter = makeFilter(opts);
  const files = logFiles(logPath);
  if (opts.tail !== undefined && opts.tail >= 0) {
    if (opts.tail === 0) return;
    // Find where the tail begins (newest file first, counting only), then stream from there:
    // memory stays a few chunks however large --tail is. The files are read up to the sizes seen
    // here, so records written meanwhile do not stretch the tail (a follower gets them live).
    const plan: Array<{ file: string; from: number; to: number }> = [];
    let need = opts.tail;
    for (let i = files.length - 1; i >= 0 && need > 0; i--) {
      const fh = await openOpt(files[i]!);
      if (!fh) continue;
      try {
        const { size } = await fh.stat();
        const t = (await tailStartBackward(fh, size, need, filter)) ?? (await tailStartForward(fh, size, need, filter));
        plan.unshift({ file: files[i]!, from: t.from, to: size });
        need -= t.found;
      } finally {
        await fh.close();
      }
    }
    for (const p of plan) {
      const fh = await openOpt(p.file);
      if (!fh) continue;
      try {
        yield* forward(fh, filter, p.from, p.to);
      } finally {
        await fh.close();
      }
    }
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
