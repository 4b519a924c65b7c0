/**
 * Chunks of at least `min` bytes (but the last): one write or hash call per MiB instead of one per
 * socket read, which on a loaded machine costs more than the bytes themselves.
 */
export async function* coalesce(src: AsyncIterable<Buffer>, min = 1 << 20): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let n = 0;
  for await (const c of src) {
    parts.push(c);
    n += c.length;
    if (n >= min) {
      yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
      parts = [];
      n = 0;
    }
  }
  if (n) yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
}
