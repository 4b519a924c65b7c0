// Demultiplexer for Docker's stdcopy framing: 8-byte header [stream,0,0,0,len(u32 BE)] + payload.
// Pure and incremental: feed arbitrary chunks, frames may span chunk boundaries.

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const SYSTEMERR = 3;

export type FrameSink = (stream: number, payload: Buffer) => void;

export class StdDemuxer {
  private buf: Buffer = Buffer.alloc(0);
  private readonly sink: FrameSink;
  constructor(sink: FrameSink) {
    this.sink = sink;
  }

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    let off = 0;
    while (this.buf.length - off >= 8) {
      const stream = this.buf[off];
      const len = this.buf.readUInt32BE(off + 4);
      if (this.buf.length - off - 8 < len) break;
      const payload = this.buf.subarray(off + 8, off + 8 + len);
      off += 8 + len;
      this.sink(stream, payload);
    }
    this.buf = off === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(off);
  }

  /** Bytes left over that do not form a complete frame. */
  get pending(): number {
    return this.buf.length;
  }
}

/** Build one frame (used by tests and fake servers). */
export function frame(stream: number, payload: Buffer | string): Buffer {
  const p = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(p.length, 4);
  return Buffer.concat([h, p]);
}

/** Demultiplex a whole buffer at once. */
export function demuxAll(data: Buffer): { stdout: Buffer; stderr: Buffer; systemerr: Buffer } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const sys: Buffer[] = [];
  const d = new StdDemuxer((s, p) => (s === STDERR ? err : s === SYSTEMERR ? sys : out).push(p));
  d.push(data);
  return { stdout: Buffer.concat(out), stderr: Buffer.concat(err), systemerr: Buffer.concat(sys) };
}
