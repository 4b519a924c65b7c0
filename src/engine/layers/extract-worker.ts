/**
 * Layer extraction in a worker thread: the tar stream (optionally still compressed) goes in by
 * messages, the worker decompresses it, hashes it for the diffID, parses it and makes the files
 * with synchronous calls (apply.ts), and answers with the result or the error.
 *
 * Why: a pull's CPU is gunzip, sha256, tar parsing and ~8,000 file creations; on the daemon's
 * main thread all of it queued behind (and held up) the API, and only one core did the JS. One
 * worker per layer puts each layer on its own thread, so the layers of a pull extract on all
 * cores while the main thread only receives the blob and stores it.
 *
 * This file is both sides: the daemon imports it (dynamically, so the bundle keeps it as a chunk
 * of its own, whose URL is the worker's script) and the worker runs it with `workerData` set.
 *
 * Two ways in. A stream: its chunks go by message, and the main thread keeps at most IN_FLIGHT
 * bytes posted and not yet consumed (the worker acknowledges each chunk as the extraction takes
 * it). A file (FileFeed: a download being written, or a stored blob): only its length goes by
 * message and the worker reads the bytes itself, in 1 MiB reads from the page cache, on a
 * descriptor the main thread opened (so a rename or removal of the file does not matter). A pull
 * writes every byte to its blob file anyway; copying each 64 KiB chunk through a message as well
 * cost ~1 s of CPU per 190 MB (serialize, deserialize, fresh pages) and the per-chunk stream
 * machinery on both threads. Errors come back as their class
 * name and fields and are rebuilt as the same classes (status codes and messages unchanged). The
 * main thread settles only after the worker has stopped, so nothing still writes into the
 * staging directory when a caller removes it.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { readSync } from 'node:fs';
import { Readable } from 'node:stream';
import { BerthError, HostCommandError, InvalidParameterError, SystemError } from '../errors.js';
import { extractLayer, LayerTooLargeError, type ExtractOptions, type ExtractResult } from './apply.js';
import { decompress } from './decompress.js';
import { FileFeed } from './file-feed.js';
import { UnsafeLayerError } from './safe-path.js';
import { TarFormatError } from './tar-reader.js';

export interface WorkerExtractOptions extends ExtractOptions {
  /** The stream may be gzip or zstd compressed: sniff and decompress it in the worker. */
  decompress?: boolean;
}

interface Job { dest: string; opts: WorkerExtractOptions; /** read this descriptor instead of chunks */ fd?: number }
type ToWorker = { job: Job } | { chunk: Uint8Array } | { end: true } | { avail: number; end?: boolean };
interface SerializedError { ctor: string; message: string; stack?: string; props: Record<string, unknown> }
type FromWorker = { ack: number } | { read: number } | { done: ExtractResult } | { error: SerializedError };

/** Bytes read per readSync by a worker fed from a file. */
const FILE_READ = 1 << 20;
/** A growing file's new length is posted once it is this much ahead of the last one posted. */
const AVAIL_STEP = 1 << 20;

/** Bytes posted to the worker and not yet taken by the extraction. */
const IN_FLIGHT = 8 << 20;
const POOL_KEY = 'berthExtractLayer';
/**
 * Workers kept after a successful job for the next one: starting a worker costs 30-150 ms here,
 * which a build step's small layer (or each layer of a pull) paid every time.
 */
const MAX_IDLE = 4;
const idle: Worker[] = [];

/** Error classes an extraction throws, rebuilt on the main thread by name. */
const CLASSES: Record<string, { prototype: object }> = {
  LayerTooLargeError, UnsafeLayerError, TarFormatError, InvalidParameterError, SystemError, HostCommandError, BerthError,
};

/** The key in CLASSES of the nearest class of `e` (by identity: the bundle minifies class names). */
function classOf(e: Error): string {
  for (let p = Object.getPrototypeOf(e) as object | null; p; p = Object.getPrototypeOf(p) as object | null) {
    for (const [name, c] of Object.entries(CLASSES)) if (c.prototype === p) return name;
  }
  return 'Error';
}

function serialize(e: unknown): SerializedError {
  if (!(e instanceof Error)) return { ctor: 'Error', message: String(e), props: {} };
  const props: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) props[k] = v;
  }
  return { ctor: classOf(e), message: e.message, stack: e.stack, props };
}

function revive(s: SerializedError): Error {
  const e = Object.create(CLASSES[s.ctor]?.prototype ?? Error.prototype) as Error;
  Object.defineProperty(e, 'message', { value: s.message, writable: true, configurable: true });
  Object.defineProperty(e, 'stack', { value: s.stack, writable: true, configurable: true });
  Object.assign(e, s.props);
  return e;
}

/**
 * A worker running this module, serving jobs one after another. From the sources (tests run them
 * through tsx, whose loader a worker does not inherit) the worker registers tsx first.
 */
function spawn(): Worker {
  const self = import.meta.url;
  const data = { [POOL_KEY]: true };
  const w = self.endsWith('.ts')
    ? new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(self)}); })`, { eval: true, workerData: data })
    : new Worker(new URL(self), { workerData: data });
  w.once('exit', () => { const i = idle.indexOf(w); if (i >= 0) idle.splice(i, 1); });
  return w;
}

/** An idle worker, or a new one. */
function acquire(): Worker {
  const w = idle.pop();
  if (!w) return spawn();
  w.ref();
  return w;
}

/** After a job that succeeded: keep the worker for the next job (it holds no state), or end it. */
async function release(w: Worker): Promise<void> {
  if (idle.length >= MAX_IDLE) { await w.terminate(); return; }
  w.unref(); // an idle worker never keeps the daemon alive
  idle.push(w);
}

/**
 * One job on a pooled worker, main-thread side: the outcome (the worker's result or error, or a
 * failure of the input), and the end: a worker that succeeded goes back to the pool, any other
 * is terminated, because it may be mid-job (nothing writes into dest after a failure settles).
 */
class JobRun {
  private readonly worker = acquire();
  outcome: { ok: ExtractResult } | { err: unknown } | undefined;
  private wake: (() => void) | undefined;
  private resolveExited!: () => void;
  private readonly exited = new Promise<void>((resolve) => { this.resolveExited = resolve; });
  private readonly onExit = () => {
    this.fail(new SystemError('layer extraction worker exited before it finished'));
    this.resolveExited();
  };
  private readonly onError = (e: Error) => this.fail(e);
  private readonly onMessage = (m: FromWorker) => {
    if ('done' in m) this.outcome ??= { ok: m.done };
    else if ('error' in m) this.outcome ??= { err: revive(m.error) };
    else this.progress(m);
    this.poke();
  };

  /** `progress`: the worker's acks and read counts; `onChange`: after every change of state. */
  constructor(job: Job, private readonly progress: (m: { ack: number } | { read: number }) => void, private readonly onChange = () => {}) {
    this.worker.once('exit', this.onExit);
    this.worker.on('message', this.onMessage);
    this.worker.on('error', this.onError);
    this.post({ job });
  }

  post(m: ToWorker): void { this.worker.postMessage(m); }
  fail(e: unknown): void { this.outcome ??= { err: e }; this.poke(); }
  /** Resolves at the next change (a message, an exit, a failure). */
  changed(): Promise<void> { return new Promise((r) => { this.wake = r; }); }
  private poke(): void { this.onChange(); const w = this.wake; this.wake = undefined; w?.(); }

  async finish(): Promise<ExtractResult> {
    while (!this.outcome) await this.changed();
    if ('ok' in this.outcome) {
      // done: the worker took every byte and wrote its last file; it is free for the next job
      this.worker.off('message', this.onMessage);
      this.worker.off('error', this.onError);
      this.worker.off('exit', this.onExit);
      await release(this.worker);
      return this.outcome.ok;
    }
    await this.worker.terminate();
    await this.exited;
    throw this.outcome.err;
  }
}

/**
 * Extract `src` into `dest` on a worker thread (see extractLayer for what extraction does). A
 * FileFeed is closed when the extraction settles.
 */
export function extractInWorker(dest: string, src: AsyncIterable<Uint8Array> | FileFeed, opts: WorkerExtractOptions = {}): Promise<ExtractResult> {
  if (src instanceof FileFeed) {
    return extractFileInWorker(dest, src, opts).finally(() => { src.watch(undefined); src.close(); });
  }
  let inFlight = 0;
  const run: JobRun = new JobRun({ dest, opts }, (m) => { if ('ack' in m) inFlight -= m.ack; }, () => {
    // A failed extraction stops the source at once, even while it waits for bytes (a stalled download).
    if (run.outcome && 'err' in run.outcome && src instanceof Readable && !src.destroyed) src.destroy();
  });
  const pump = async (): Promise<void> => {
    for await (const c of src) {
      if (run.outcome) return; // the worker failed: stop reading (breaking out destroys a stream source)
      if (c.length === 0) continue;
      run.post({ chunk: c }); // a copy: the source may reuse its buffer
      inFlight += c.length;
      while (inFlight > IN_FLIGHT && !run.outcome) await run.changed();
    }
    if (!run.outcome) run.post({ end: true });
  };
  return (async () => {
    try {
      await pump();
    } catch (e) {
      run.fail(e); // the source failed (a cut download, a digest error upstream)
    }
    return run.finish();
  })();
}

/** extractInWorker for a file: lengths by message, the bytes read by the worker. */
function extractFileInWorker(dest: string, feed: FileFeed, opts: WorkerExtractOptions): Promise<ExtractResult> {
  const run = new JobRun({ dest, opts, fd: feed.fd }, (m) => { if ('read' in m) feed.onRead?.(m.read); });
  let posted = 0;
  let endPosted = false;
  const sync = () => {
    if (run.outcome) return;
    // A failure stops the worker even after the end was posted (a download whose digest check
    // failed once all its bytes were written): nothing is extracted from a blob known bad.
    const f = feed.failure;
    if (f) { run.fail(f.e); return; }
    if (endPosted) return;
    if (feed.done) {
      endPosted = true;
      run.post({ avail: feed.avail, end: true });
    } else if (feed.avail - posted >= AVAIL_STEP) {
      posted = feed.avail;
      run.post({ avail: posted });
    }
  };
  feed.watch(sync);
  sync();
  return run.finish();
}

/** The worker side: a job, then its chunks, by message; acknowledged as the extraction takes them. */
interface JobInput { queue: Uint8Array[]; ended: boolean; wake?: () => void; /** a file job: bytes readable */ avail: number }

function serve(): void {
  const port = parentPort!;
  let current: JobInput | undefined;
  port.on('message', (m: ToWorker) => {
    if ('job' in m) {
      const input: JobInput = { queue: [], ended: false, avail: 0 };
      current = input;
      void runJob(m.job, input).finally(() => { if (current === input) current = undefined; });
      return;
    }
    const c = current;
    if (!c) return;
    if ('chunk' in m) c.queue.push(m.chunk);
    else if ('avail' in m) { c.avail = Math.max(c.avail, m.avail); if (m.end) c.ended = true; }
    else c.ended = true;
    const w = c.wake; c.wake = undefined; w?.();
  });
}

async function runJob(job: Job, state: JobInput): Promise<void> {
  const port = parentPort!;
  async function* input(): AsyncGenerator<Buffer> {
    for (;;) {
      const c = state.queue.shift();
      if (c) {
        port.postMessage({ ack: c.length } satisfies FromWorker);
        yield Buffer.from(c.buffer, c.byteOffset, c.length);
        continue;
      }
      if (state.ended) return;
      await new Promise<void>((r) => { state.wake = r; });
    }
  }
  /** A file job's bytes: read as they become available, in FILE_READ pieces (fresh buffers: downstream keeps them). */
  async function* fileInput(fd: number): AsyncGenerator<Buffer> {
    let pos = 0;
    let reported = 0;
    for (;;) {
      if (pos < state.avail) {
        const buf = Buffer.allocUnsafe(Math.min(FILE_READ, state.avail - pos));
        const n = readSync(fd, buf, 0, buf.length, pos);
        if (n === 0) throw new SystemError(`layer file ended at ${pos} of ${state.avail} bytes`);
        pos += n;
        if (pos - reported >= 4 * FILE_READ || (state.ended && pos >= state.avail)) {
          reported = pos;
          port.postMessage({ read: pos } satisfies FromWorker);
        }
        yield n === buf.length ? buf : buf.subarray(0, n);
        continue;
      }
      if (state.ended) return;
      await new Promise<void>((r) => { state.wake = r; });
    }
  }
  try {
    const { decompress: compressed, ...opts } = job.opts;
    const raw: AsyncIterable<Buffer> = job.fd === undefined ? input() : fileInput(job.fd);
    const src: AsyncIterable<Uint8Array> = compressed ? decompress(Readable.from(raw, { objectMode: false })) : raw;
    const res = await extractLayer(job.dest, src, opts);
    port.postMessage({ done: res } satisfies FromWorker);
  } catch (e) {
    // The main thread terminates a worker whose job failed.
    port.postMessage({ error: serialize(e) } satisfies FromWorker);
  }
}

if (!isMainThread && (workerData as Record<string, unknown> | null)?.[POOL_KEY]) serve();
