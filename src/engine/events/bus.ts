import { EventEmitter } from 'node:events';
import { appendFile, readFile } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** One engine event, in the Engine API's /events shape. */
export interface EngineEvent {
  Type: 'container' | 'image' | 'network' | 'volume' | 'daemon';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
}

export interface EventFilter {
  since?: number;
  until?: number;
  match?: (e: EngineEvent) => boolean;
}

/**
 * The event bus behind GET /events. Events are appended to a JSON-lines file so that
 * `events --since` reaches back across daemon restarts (rotation comes with hardening).
 */
export class EventBus {
  private readonly emitter = new EventEmitter();
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly file: string) {
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
    this.writing = this.writing.then(() => appendFile(this.file, line)).catch(() => undefined);
    this.emitter.emit('event', ev);
  }

  subscribe(fn: (e: EngineEvent) => void): () => void {
    this.emitter.on('event', fn);
    return () => this.emitter.off('event', fn);
  }

  /** Past events between since and until (seconds), oldest first. */
  async history(since: number, until = Infinity): Promise<EngineEvent[]> {
    await this.writing;
    let text = '';
    try { text = await readFile(this.file, 'utf8'); } catch { return []; }
    const out: EngineEvent[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const ev = JSON.parse(line) as EngineEvent;
        const t = ev.timeNano / 1e9;
        if (t >= since && t <= until) out.push(ev);
      } catch { /* a torn last line after a crash: skip it */ }
    }
    return out;
  }

  async flush(): Promise<void> { await this.writing; }
}
