/**
 * A file that a layer extraction reads as it is written (extract-worker.ts): a blob being
 * downloaded, or a stored one. Main-thread side; its own module so that importing it does not
 * pull the worker's module into the daemon's bundle.
 */
import { closeSync, openSync } from 'node:fs';

/**
 * A file the worker reads as it grows: `grow(n)` says the first n bytes are written, `end()` that
 * no more will come, `fail(e)` that the writer gave up (the extraction then fails with `e`).
 * The descriptor is opened now, by the main thread, and closed when the extraction settles.
 */
export class FileFeed {
  readonly fd: number;
  private length = 0;
  private ended = false;
  private error: { e: unknown } | undefined;
  private listener: (() => void) | undefined;
  /** `onRead(n)`: the worker has read the first n bytes (progress); called every few MiB. */
  constructor(path: string, readonly onRead?: (n: number) => void) {
    this.fd = openSync(path, 'r');
  }
  static complete(path: string, size: number, onRead?: (n: number) => void): FileFeed {
    const f = new FileFeed(path, onRead);
    f.grow(size);
    f.end();
    return f;
  }
  get avail(): number { return this.length; }
  get done(): boolean { return this.ended; }
  get failure(): { e: unknown } | undefined { return this.error; }
  grow(n: number): void { if (n > this.length) { this.length = n; this.listener?.(); } }
  end(): void { this.ended = true; this.listener?.(); }
  fail(e: unknown): void { this.error ??= { e }; this.listener?.(); }
  /** extractInWorker's hook: called on every change. */
  watch(l: (() => void) | undefined): void { this.listener = l; }
  close(): void { try { closeSync(this.fd); } catch { /* closed already */ } }
}
