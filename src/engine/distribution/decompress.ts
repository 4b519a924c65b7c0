/**
 * Layer decompression by content sniffing (as Docker's archive.DecompressStream): gzip by its
 * magic bytes, plain tar passes through, zstd is refused clearly unless this Node has zstd.
 */
import { Readable, Transform } from 'node:stream';
import zlib from 'node:zlib';
import { NotImplementedError } from '../errors.js';

const GZIP = [0x1f, 0x8b];
const ZSTD = [0x28, 0xb5, 0x2f, 0xfd];

function startsWith(b: Buffer, magic: number[]): boolean {
  return b.length >= magic.length && magic.every((m, i) => b[i] === m);
}

type ZstdFactory = () => Transform;

function zstdFactory(): ZstdFactory | undefined {
  const f = (zlib as unknown as { createZstdDecompress?: ZstdFactory }).createZstdDecompress;
  return typeof f === 'function' ? f : undefined;
}

export function zstdSupported(): boolean {
  return zstdFactory() !== undefined;
}

export function zstdUnsupportedError(digest: string): NotImplementedError {
  return new NotImplementedError(
    `layer ${digest} is zstd-compressed, which this Berth build cannot decompress yet (needs a Node.js with zlib zstd support)`,
  );
}

/** A Readable of the decompressed bytes of `src`. Errors of `src` surface on the result. */
export function decompress(src: Readable, digest = 'layer'): Readable {
  async function* run(): AsyncGenerator<Buffer> {
    const it = src[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    let head = Buffer.alloc(0);
    let ended = false;
    while (head.length < 4) {
      const r = await it.next();
      if (r.done) { ended = true; break; }
      head = head.length ? Buffer.concat([head, r.value]) : Buffer.from(r.value);
    }
    async function* rest(): AsyncGenerator<Buffer> {
      if (head.length) yield head;
      if (ended) return;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    }
    let inflater: Transform | undefined;
    if (startsWith(head, GZIP)) inflater = zlib.createGunzip();
    else if (startsWith(head, ZSTD)) {
      const f = zstdFactory();
      if (!f) throw zstdUnsupportedError(digest);
      inflater = f();
    }
    if (!inflater) {
      yield* rest();
      return;
    }
    const input = Readable.from(rest(), { objectMode: false });
    input.on('error', (e) => inflater!.destroy(e));
    input.pipe(inflater);
    try {
      for await (const c of inflater) yield c as Buffer;
    } finally {
      input.destroy();
      inflater.destroy();
    }
  }
  const out = Readable.from(run(), { objectMode: false });
  out.on('close', () => { if (!src.destroyed && !src.readableEnded) src.destroy(); });
  return out;
}

/** A pass-through that reports every chunk (byte counting, hashing, progress). */
export function meter(onChunk: (chunk: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      try {
        onChunk(chunk);
      } catch (e) {
        cb(e as Error);
        return;
      }
      cb(null, chunk);
    },
  });
}
