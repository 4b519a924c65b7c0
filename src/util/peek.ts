/** The first `n` bytes of `src` (fewer when it is shorter), and the whole stream again, head included. */
export async function peekBytes(src: AsyncIterable<Uint8Array>, n: number): Promise<{ head: Buffer; all: () => AsyncGenerator<Uint8Array> }> {
  const it = src[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  let done = false;
  while (head.length < n) {
    const r = await it.next();
    if (r.done) { done = true; break; }
    head = Buffer.concat([head, Buffer.from(r.value)]);
  }
  async function* all(): AsyncGenerator<Uint8Array> {
    if (head.length) yield head;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return { head, all };
}
