// Incremental parser for streams of concatenated / newline-separated JSON values.
import type { JSONMessage } from '../wire/types.js';

export class JSONStreamParser<T = unknown> {
  private text = '';
  private readonly onValue: (v: T) => void;
  constructor(onValue: (v: T) => void) {
    this.onValue = onValue;
  }

  push(chunk: Buffer | string): void {
    this.text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let start = 0;
    for (;;) {
      // skip whitespace
      while (start < this.text.length && /\s/.test(this.text[start])) start++;
      if (start >= this.text.length) break;
      const end = scanValue(this.text, start);
      if (end < 0) break;
      const raw = this.text.slice(start, end);
      start = end;
      this.onValue(JSON.parse(raw) as T);
    }
    this.text = this.text.slice(start);
  }

  end(): void {
    const rest = this.text.trim();
    this.text = '';
    if (rest) this.onValue(JSON.parse(rest) as T);
  }
}

/** Returns the end index of the JSON value starting at `i`, or -1 if incomplete. */
function scanValue(s: string, i: number): number {
  const c = s[i];
  if (c !== '{' && c !== '[') {
    // scalar: up to whitespace; only complete if followed by whitespace
    let j = i;
    if (c === '"') {
      j++;
      while (j < s.length) {
        if (s[j] === '\\') j += 2;
        else if (s[j] === '"') return j + 1;
        else j++;
      }
      return -1;
    }
    while (j < s.length && !/\s/.test(s[j])) j++;
    return j < s.length ? j : -1;
  }
  let depth = 0;
  let inStr = false;
  for (let j = i; j < s.length; j++) {
    const ch = s[j];
    if (inStr) {
      if (ch === '\\') j++;
      else if (ch === '"') inStr = false;
      continue;
    }
    if (ch === '"') inStr = true;
    else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') {
      depth--;
      if (depth === 0) return j + 1;
    }
  }
  return -1;
}

export type { JSONMessage, JSONProgress } from '../wire/types.js';

/** Async-iterate JSON values from a readable byte stream. */
export async function* iterateJSON<T = JSONMessage>(src: AsyncIterable<Buffer | string>): AsyncGenerator<T> {
  const queue: T[] = [];
  const p = new JSONStreamParser<T>((v) => queue.push(v));
  for await (const chunk of src) {
    p.push(chunk);
    while (queue.length) yield queue.shift() as T;
  }
  p.end();
  while (queue.length) yield queue.shift() as T;
}
