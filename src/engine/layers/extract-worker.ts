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
 * Flow control: the main thread keeps at most IN_FLIGHT bytes posted and not yet consumed (the
 * worker acknowledges each chunk as the extraction takes it). Errors come back as their class
 * name and fields and are rebuilt as the same classes (status codes and messages unchanged). The
 * main thread settles only after the worker has stopped, so nothing still writes into the
 * staging directory when a caller removes it.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Readable } from 'node:stream';
import { BerthError, HostCommandError, InvalidParameterError, SystemError } from '../errors.js';
import { extractLayer, LayerTooLargeError, type ExtractOptions, type ExtractResult } from './apply.js';
import { decompress } from './decompress.js';
import { UnsafeLayerError } from './safe-path.js';
import { TarFormatError } from './tar-reader.js';

export interface WorkerExtractOptions extends ExtractOptions {
  /** The stream may be gzip or zstd compressed: sniff and decompress it in the worker. */
  decompress?: boolean;
}

interface Job { dest: string; opts: WorkerExtractOptions }
type ToWorker = { job: Job } | { chunk: Uint8Array } | { end: true };
interface SerializedError { ctor: string; message: string; stack?: string; props: Record<string, unknown> }
type FromWorker = { ack: number } | { done: ExtractResult } | { error: SerializedError };

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

/** Extract `src` into `dest` on a worker thread (see extractLayer for what extraction does). */
export function extractInWorker(dest: string, src: AsyncIterable<Uint8Array>, opts: WorkerExtractOptions = {}): Promise<ExtractResult> {
  const job: Job = { dest, opts };
  const worker = acquire();
  let outcome: { ok: ExtractResult } | { err: unknown } | undefined;
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const poke = () => {
    // A failed extraction stops the source at once, even while it waits for bytes (a stalled download).
    if (outcome && 'err' in outcome && src instanceof Readable && !src.destroyed) src.destroy();
    const w = wake; wake = undefined; w?.();
  };
  let onExit!: () => void;
  const exited = new Promise<void>((resolve) => {
    onExit = () => {
      outcome ??= { err: new SystemError('layer extraction worker exited before it finished') };
      poke();
      resolve();
    };
    worker.once('exit', onExit);
  });
  const onMessage = (m: FromWorker) => {
    if ('ack' in m) inFlight -= m.ack;
    else if ('done' in m) outcome ??= { ok: m.done };
    else outcome ??= { err: revive(m.error) };
    poke();
  };
  const onError = (e: Error) => { outcome ??= { err: e }; poke(); };
  worker.on('message', onMessage);
  worker.on('error', onError);
  worker.postMessage({ job } satisfies ToWorker);

  const pump = async (): Promise<void> => {
    for await (const c of src) {
      if (outcome) return; // the worker failed: stop reading (breaking out destroys a stream source)
      if (c.length === 0) continue;
      worker.postMessage({ chunk: c } satisfies ToWorker); // a copy: the source may reuse its buffer
      inFlight += c.length;
      while (inFlight > IN_FLIGHT && !outcome) await new Promise<void>((r) => { wake = r; });
    }
    if (!outcome) worker.postMessage({ end: true } satisfies ToWorker);
  };

  return (async () => {
    try {
      await pump();
      while (!outcome) await new Promise<void>((r) => { wake = r; });
    } catch (e) {
      outcome ??= { err: e }; // the source failed (a cut download, a digest error upstream)
    }
    if ('ok' in outcome!) {
      // done: the worker consumed every chunk and wrote its last file; it is free for the next job
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      await release(worker);
      return outcome.ok;
    }
    // a failure: the worker may still be mid-job, so it ends (nothing writes into dest afterwards)
    await worker.terminate();
    await exited;
    throw outcome!.err;
  })();
}

/** The worker side: a job, then its chunks, by message; acknowledged as the extraction takes them. */
interface JobInput { queue: Uint8Array[]; ended: boolean; wake?: () => void }

function serve(): void {
  const port = parentPort!;
  let current: JobInput | undefined;
  port.on('message', (m: ToWorker) => {
    if ('job' in m) {
      const input: JobInput = { queue: [], ended: false };
      current = input;
      void runJob(m.job, input).finally(() => { if (current === input) current = undefined; });
      return;
    }
    const c = current;
    if (!c) return;
    if ('chunk' in m) c.queue.push(m.chunk);
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
  try {
    const { decompress: compressed, ...opts } = job.opts;
    const src: AsyncIterable<Uint8Array> = compressed ? decompress(Readable.from(input(), { objectMode: false })) : input();
    const res = await extractLayer(job.dest, src, opts);
    port.postMessage({ done: res } satisfies FromWorker);
  } catch (e) {
    // The main thread terminates a worker whose job failed.
    port.postMessage({ error: serialize(e) } satisfies FromWorker);
  }
}

if (!isMainThread && (workerData as Record<string, unknown> | null)?.[POOL_KEY]) serve();
