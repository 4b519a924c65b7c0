// The Engine API through the dashboard's /api/ prefix (the HttpOnly cookie carries the token).

export class ApiError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

type Query = Record<string, string | number | boolean | undefined>;

export function url(path: string, query: Query = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return `/api${path}${s ? `?${s}` : ''}`;
}

async function fail(res: Response): Promise<never> {
  let message = `${res.status} ${res.statusText}`;
  try {
    const j = (await res.json()) as { message?: string };
    if (j.message) message = j.message;
  } catch { /* not JSON */ }
  throw new ApiError(res.status, message);
}

export async function call(method: string, path: string, opts: { query?: Query; body?: unknown; signal?: AbortSignal } = {}): Promise<Response> {
  const res = await fetch(url(path, opts.query), {
    method,
    credentials: 'same-origin',
    headers: opts.body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    signal: opts.signal,
  });
  if (!res.ok) await fail(res);
  return res;
}

export async function getJson<T>(path: string, query?: Query): Promise<T> {
  return (await call('GET', path, { query })).json() as Promise<T>;
}

export async function postJson<T>(path: string, body?: unknown, query?: Query): Promise<T> {
  const res = await call('POST', path, { body, query });
  const text = await res.text();
  return (text ? JSON.parse(text) : {}) as T;
}

export async function send(method: string, path: string, query?: Query): Promise<void> {
  await call(method, path, { query });
}

/** Read a streamed body chunk by chunk until it ends or `signal` aborts. */
export async function readStream(res: Response, onChunk: (b: Uint8Array) => void): Promise<void> {
  const reader = res.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    onChunk(value);
  }
}

/** A stream of JSON objects, one a line (events, pull progress, stats). */
export async function jsonLines<T>(path: string, query: Query, onValue: (v: T) => void, opts: { method?: string; signal?: AbortSignal } = {}): Promise<void> {
  const res = await call(opts.method ?? 'GET', path, { query, signal: opts.signal });
  const dec = new TextDecoder();
  let buf = '';
  await readStream(res, (chunk) => {
    buf += dec.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) onValue(JSON.parse(line) as T);
    }
  });
  if (buf.trim()) onValue(JSON.parse(buf) as T);
}

/**
 * Docker's multiplexed log stream (8-byte headers: stream, 0, 0, 0, big-endian length), or raw
 * bytes for a TTY container: calls onLine with each complete line.
 */
export function logDecoder(tty: boolean, onLine: (line: string, stream: 'stdout' | 'stderr') => void): (chunk: Uint8Array) => void {
  const dec = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  const partial = { stdout: '', stderr: '' };
  let pending = new Uint8Array(0);
  const emit = (stream: 'stdout' | 'stderr', bytes: Uint8Array) => {
    let text = partial[stream] + dec[stream].decode(bytes, { stream: true });
    let nl: number;
    while ((nl = text.indexOf('\n')) >= 0) {
      onLine(text.slice(0, nl).replace(/\r$/, ''), stream);
      text = text.slice(nl + 1);
    }
    partial[stream] = text;
  };
  return (chunk) => {
    if (tty) { emit('stdout', chunk); return; }
    const all = new Uint8Array(pending.length + chunk.length);
    all.set(pending);
    all.set(chunk, pending.length);
    let at = 0;
    while (all.length - at >= 8) {
      const len = new DataView(all.buffer, all.byteOffset + at + 4, 4).getUint32(0);
      if (all.length - at - 8 < len) break;
      emit(all[at] === 2 ? 'stderr' : 'stdout', all.subarray(at + 8, at + 8 + len));
      at += 8 + len;
    }
    pending = all.slice(at);
  };
}
