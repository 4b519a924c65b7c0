import { EventEmitter } from 'node:events';
import { appendFile, readFile, rename, stat } from 'node:fs/promises';
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
    this.writing = this.writing.then(() => this.append(line)).catch(() => undefined);
    this.emitter.emit('event', ev);
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

  /** Past events between since and until (seconds), oldest first. */
  async history(since: number, until = Infinity): Promise<EngineEvent[]> {
    await this.writing;
    let text = '';
    for (const f of [`${this.file}.1`, this.file]) {
      try { text += await readFile(f, 'utf8'); } catch { /* not there yet */ }
    }
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
