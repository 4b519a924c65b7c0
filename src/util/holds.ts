/**
 * Counted holds on keys (layer chain IDs, blob digests): an operation in progress holds what it
 * stands on, and garbage collection leaves held keys alone. Two holders of one key both count.
 */
export class Holds {
  private readonly counts = new Map<string, number>();

  /** Hold `keys` until the returned function is called (calling it again does nothing). */
  hold(keys: Iterable<string>): () => void {
    const held = [...new Set(keys)];
    for (const k of held) this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const k of held) {
        const n = (this.counts.get(k) ?? 1) - 1;
        if (n > 0) this.counts.set(k, n);
        else this.counts.delete(k);
      }
    };
  }

  has(key: string): boolean {
    return this.counts.has(key);
  }

  keys(): string[] {
    return [...this.counts.keys()];
  }
}
