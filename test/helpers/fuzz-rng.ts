/** A small seeded PRNG (mulberry32) for the fuzzing harness: the same seed, the same requests. */
export class Rng {
  private state: number;
  constructor(readonly seed: number) { this.state = seed >>> 0; }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number { return min + Math.floor(this.next() * (max - min + 1)); }

  chance(p: number): boolean { return this.next() < p; }

  pick<T>(items: readonly T[]): T { return items[Math.floor(this.next() * items.length)]; }

  /** One of the entries, by weight. */
  weighted<T>(items: ReadonlyArray<readonly [number, T]>): T {
    const total = items.reduce((s, [w]) => s + w, 0);
    let r = this.next() * total;
    for (const [w, v] of items) { if ((r -= w) < 0) return v; }
    return items[items.length - 1][1];
  }
}

/** The run's seed: BERTH_FUZZ_SEED when set (to rerun a failure), else a fresh one. */
export function fuzzSeed(): number {
  const env = process.env.BERTH_FUZZ_SEED;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`BERTH_FUZZ_SEED must be an integer in [0, 2^32): ${env}`);
    return n;
  }
  return Math.floor(Math.random() * 0x100000000);
}
