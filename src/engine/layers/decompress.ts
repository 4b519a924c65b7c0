/**
 * Layer decompression by content sniffing (as Docker's archive.DecompressStream): gzip by its
 * magic bytes, plain tar passes through, zstd by node:zlib where this Node has it (22.15+) and
 * else by fzstd (a pure-JS streaming decoder: Node 20's zlib has no zstd).
 */
import { Readable, Transform } from 'node:stream';
import zlib from 'node:zlib';
import { Decompress as ZstdDecoder } from 'fzstd';
import { InvalidParameterError } from '../errors.js';
import { peekBytes } from '../../util/peek.js';

const GZIP = [0x1f, 0x8b];
const ZSTD = [0x28, 0xb5, 0x2f, 0xfd];

function startsWith(b: Buffer, magic: number[]): boolean {
  return b.length >= magic.length && magic.every((m, i) => b[i] === m);
}

/**
 * Output chunk of gunzip: each chunk is one thread-pool round trip and one pass through the
 * stream and tar machinery downstream, so 1 MiB rather than zlib's 16 KiB default.
 */
const INFLATE_CHUNK = 1 << 20;
/** Inflated bytes kept ready ahead of the consumer: zlib (on the thread pool) runs while the tar is parsed. */
const INFLATE_AHEAD = 4 << 20;

type ZstdFactory = () => Transform;

/** zstd decompression as a Transform: node:zlib's when present, else fzstd's streaming decoder. */
export function zstdDecompressor(): Transform {
  const native = (zlib as unknown as { createZstdDecompress?: ZstdFactory }).createZstdDecompress;
  if (typeof native === 'function') return native();
  let dec: ZstdDecoder | undefined;
  const fail = (e: unknown) => new InvalidParameterError(`invalid zstd stream: ${(e as Error)?.message ?? e}`);
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      try { dec!.push(chunk); } catch (e) { cb(fail(e)); return; }
      cb();
    },
    flush(cb) {
      try { dec!.push(new Uint8Array(0), true); } catch (e) { cb(fail(e)); return; }
      cb();
    },
  });
  // The decoder may reuse its window: copy what it hands out.
  dec = new ZstdDecoder((data) => { if (data.length) t.push(Buffer.from(data)); });
  return t;
}

/** A Readable of the decompressed bytes of `src`. Errors of `src` surface on the result. */
export function decompress(src: Readable): Readable {
  async function* run(): AsyncGenerator<Uint8Array> {
    const { head, all: rest } = await peekBytes(src, 4);
    let inflater: Transform | undefined;
    if (startsWith(head, GZIP)) inflater = zlib.createGunzip({ chunkSize: INFLATE_CHUNK, readableHighWaterMark: INFLATE_AHEAD } as zlib.ZlibOptions); // stream options pass through
    else if (startsWith(head, ZSTD)) inflater = zstdDecompressor();
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
