/**
 * Times as Docker writes them. Go's time.RFC3339Nano trims trailing zeros of the fraction; the
 * function names say which unit they take, because both units are in use (ns in logs and records,
 * ms from Date).
 */

/** RFC3339Nano from a nanosecond epoch. */
export function rfc3339NanoFromNs(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const base = new Date(ms).toISOString().slice(0, 19);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${base}${frac ? '.' + frac : ''}Z`;
}

/** RFC3339Nano from a millisecond epoch (a JS Date's precision). */
export function rfc3339NanoFromMs(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2024-01-02T03:04:05.678Z
  return iso.replace(/\.(\d*?)0*Z$/, (_m, f: string) => (f ? `.${f}Z` : 'Z'));
}

/** RFC3339 to the second, from a millisecond epoch (dockerd's CreatedAt of volumes). */
export function rfc3339Seconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Now, as a nanosecond epoch (ms from the clock, the rest from the monotonic counter). */
export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n + process.hrtime.bigint() % 1_000_000n;
}

/** The zero time as Docker prints it for "never". */
export const ZERO_TIME = '0001-01-01T00:00:00Z';
