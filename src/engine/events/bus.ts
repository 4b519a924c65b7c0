import { EventEmitter } from 'node:events';
import { appendFile, readFile, rename, stat } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { NO_FILTERS, type FilterArgs } from '../filters.js';
import { compileEventFilters, parseEventWindow } from './filters.js';

/** One engine event, in the Engine API's /events shape. */
export interface EngineEvent {
  Type: 'container' | 'image' | 'network' | 'volume' | 'daemon';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
}

export interface EventStreamOptions {
  /** Docker timestamps (unix seconds, RFC 3339, a duration back); see filters.ts. */
  since?: string;
  until?: string;
  filters?: FilterArgs;
  /** Ends the stream (the client went away). */
  signal?: AbortSignal;
}

/**
 * A /events subscriber whose unsent events reach this size (as JSON) is dropped, its stream
 * ended: a client that stops reading costs at most this much (the route awaits each write's
 * drain, so nothing piles up beyond this queue and the socket's buffers).
 */
export const MAX_QUEUED_EVENT_BYTES = 1024 * 1024;

/**
 * The event bus behind GET /events. Events are appended to a JSON-lines file so that
 * `events --since` reaches back across daemon restarts; past `maxBytes` the file is rotated once
 * (file.1), so the history kept is between one and two files' worth.
 */
export class EventBus {
  private readonly emitter = new EventEmitter();
  private writing: Promise<void> = Promise.resolve();
  private appended = 0;

  constructor(private readonly file: string, private readonly maxBytes = 16 * 1024 * 1024) {
    mkdirSync(dirname(file), { recursive: true });
    this.emitter.setMaxListeners(0);
  }

  publish(type: EngineEvent['Type'], action: string, id: string, attributes: Record<string, string> = {}): void {
    const nowMs = Date.now();
    const ev: EngineEvent = {
      Type: type, Action: action, Actor: { ID: id, Attributes: attributes }, scope: 'local',
      time: Math.floor(nowMs / 1000), timeNano: nowMs * 1_000_000,
    };
    const line = JSON.stringify(ev) + '\n';
    // A failed append loses that line from the history only (a full disk): the live event still goes out.
    this.writing = this.writing.then(() => this.append(line)).catch(() => undefined);
    this.emitter.emit('event', ev, line.length);
  }

  private async append(line: string): Promise<void> {
    // Check the size now and then, not on every event.
    if (this.appended++ % 256 === 0) {
      const size = await stat(this.file).then((s) => s.size, () => 0);
      if (size > this.maxBytes) await rename(this.file, `${this.file}.1`);
    }
    await appendFile(this.file, line);
  }

  subscribe(fn: (e: EngineEvent) => void): () => void {
    this.emitter.on('event', fn);
    return () => this.emitter.off('event', fn);
  }

  /**
   * GET /events: past events in the window (when it has a bound), then live ones, ending at
   * `until` or when the signal fires. Filters and times are checked here, before anything is sent.
   */
  stream(opts: EventStreamOptions): AsyncIterable<EngineEvent> {
    const { sinceMs, untilMs } = parseEventWindow(opts.since, opts.until);
    const match = compileEventFilters(opts.filters ?? NO_FILTERS);
    const inWindow = (e: EngineEvent) => (sinceMs === undefined || e.timeNano / 1e6 >= sinceMs) && (untilMs === undefined || e.timeNano / 1e6 <= untilMs);
    const bus = this;
    async function* events(): AsyncGenerator<EngineEvent> {
      const queue: Array<{ e: EngineEvent; size: number }> = [];
      let queued = 0;
      let ended = false;
      let wake: (() => void) | undefined;
      const end = () => { ended = true; wake?.(); };
      // Subscribed in the same tick as the replay is queued behind the writes: every event is
      // either in the file read or in the queue, never in both.
      const onEvent = (e: EngineEvent, size: number) => {
        // Only what this client asked for is queued (and counted).
        if (ended || !match(e)) return;
        queued += size;
        if (queued > MAX_QUEUED_EVENT_BYTES) {
          queue.length = 0;
          queued = 0;
          end();
          return;
        }
        queue.push({ e, size });
        wake?.();
      };
      bus.emitter.on('event', onEvent);
      const off = () => bus.emitter.off('event', onEvent);
      const past = sinceMs !== undefined || untilMs !== undefined ? bus.readAfterWrites() : Promise.resolve([]);
      opts.signal?.addEventListener('abort', end);
      if (opts.signal?.aborted) end();
      const timer = untilMs === undefined ? undefined : setTimeout(end, Math.max(0, untilMs - Date.now()));
      try {
        for (const e of await past) {
          if (opts.signal?.aborted) return;
          if (inWindow(e) && match(e)) yield e;
        }
        for (;;) {
          while (queue.length) {
            const { e, size } = queue.shift()!;
            queued -= size;
            if (untilMs !== undefined && e.timeNano / 1e6 > untilMs) return;
            if (inWindow(e) && match(e)) yield e;
          }
          if (ended) return;
          await new Promise<void>((r) => { wake = r; });
          wake = undefined;
        }
      } finally {
        off();
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', end);
      }
    }
    return events();
  }

  /** Past events between since and until (seconds), oldest first. */
  async history(since: number, until = Infinity): Promise<EngineEvent[]> {
    return (await this.readAfterWrites()).filter((ev) => ev.timeNano / 1e9 >= since && ev.timeNano / 1e9 <= until);
  }

  /** Every persisted event, read in the write queue: after the events published so far, before later ones. */
  private readAfterWrites(): Promise<EngineEvent[]> {
    const read = this.writing.then(() => this.readAll());
    this.writing = read.then(() => undefined, () => undefined);
    return read;
  }

  private async readAll(): Promise<EngineEvent[]> {
    let text = '';
    for (const f of [`${this.file}.1`, this.file]) {
      try { text += await readFile(f, 'utf8'); } catch { /* not there yet */ }
    }
    const out: EngineEvent[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as EngineEvent);
      } catch { /* a torn last line after a crash: skip it */ }
    }
    return out;
  }

  async flush(): Promise<void> { await this.writing; }
}
