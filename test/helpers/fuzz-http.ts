/**
 * A raw HTTP/1.1 client on a unix socket for the fuzzing harness: it sends exactly the bytes it is
 * given (broken escapes, NUL, wrong Content-Length, half a body), in one go or trickled, and reads
 * back one response head and body, however the server chooses to end it.
 */
import net from 'node:net';

export interface RawResponse {
  /** Undefined when the connection ended (or the wait ran out) before a full response head. */
  status?: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The response's body was cut (a stream we stopped reading, or a connection closed early). */
  partial: boolean;
}

export interface SendOptions {
  /** Give up after this long (the response so far is returned). */
  timeoutMs: number;
  /** Half-close our side once everything is written (a client that stops sending). */
  halfClose?: boolean;
  /** Send in pieces of this many bytes, pausing `trickleDelayMs` between them (a slow client). */
  trickleBytes?: number;
  trickleDelayMs?: number;
  /** Stop reading after the head: let the server's writes back up for `stallMs`, then leave. */
  stallMs?: number;
  /** A 2xx body that does not end on its own (a stream) is read at most this long. */
  streamMs?: number;
}

export function sendRaw(socketPath: string, data: Buffer, opts: SendOptions): Promise<RawResponse> {
  return new Promise((resolve) => {
    const sock = net.connect(socketPath);
    let buf = Buffer.alloc(0);
    let head: { status: number; headers: Record<string, string>; bodyStart: number } | undefined;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (partial: boolean) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      sock.destroy();
      if (!head) { resolve({ headers: {}, body: buf, partial: true }); return; }
      resolve({ status: head.status, headers: head.headers, body: decodeBody(head.headers, buf.subarray(head.bodyStart)), partial });
    };
    timers.push(setTimeout(() => finish(true), opts.timeoutMs));
    sock.on('error', () => finish(true));
    sock.on('close', () => finish(!head || !bodyComplete()));
    sock.on('connect', () => { void write(); });

    async function write(): Promise<void> {
      if (opts.trickleBytes) {
        for (let i = 0; i < data.length && !settled; i += opts.trickleBytes) {
          sock.write(data.subarray(i, i + opts.trickleBytes));
          await new Promise((r) => timers.push(setTimeout(r, opts.trickleDelayMs ?? 10)));
        }
      } else {
        sock.write(data);
      }
      if (opts.halfClose && !settled) sock.end();
    }

    function bodyComplete(): boolean {
      if (!head) return false;
      const body = buf.subarray(head.bodyStart);
      if (noBody(head.status)) return true;
      const len = head.headers['content-length'];
      if (len !== undefined) return body.length >= Number(len);
      if (/chunked/i.test(head.headers['transfer-encoding'] ?? '')) return /(^|\r\n)0\r\n\r\n$/.test(body.subarray(-7).toString('latin1'));
      return false;
    }

    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!head) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
        const headers: Record<string, string> = {};
        for (const l of lines.slice(1)) {
          const i = l.indexOf(':');
          if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
        }
        head = { status: m ? Number(m[1]) : 0, headers, bodyStart: end + 4 };
        if (head.status === 101) { finish(false); return; }
        if (opts.stallMs !== undefined && head.status < 300) {
          sock.pause();
          timers.push(setTimeout(() => finish(true), opts.stallMs));
          return;
        }
        if (head.status < 300 && !bodyComplete() && opts.streamMs !== undefined) {
          timers.push(setTimeout(() => finish(true), opts.streamMs));
        }
      }
      if (bodyComplete()) finish(false);
    });
  });
}

function noBody(status: number): boolean {
  return status === 204 || status === 304 || (status >= 100 && status < 200);
}

/** The payload of a chunked body (as much as arrived); other bodies as they are. */
function decodeBody(headers: Record<string, string>, raw: Buffer): Buffer {
  if (!/chunked/i.test(headers['transfer-encoding'] ?? '')) return raw;
  const parts: Buffer[] = [];
  let at = 0;
  while (at < raw.length) {
    const eol = raw.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(raw.subarray(at, eol).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(raw.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** A request's bytes: request line, headers (Content-Length from the body unless given), body. */
export function buildRequest(method: string, target: string, headers: Array<[string, string]>, body?: Buffer): Buffer {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: berth'];
  const hasLength = headers.some(([k]) => /^(content-length|transfer-encoding)$/i.test(k));
  for (const [k, v] of headers) lines.push(`${k}: ${v}`);
  if (body && !hasLength) lines.push(`Content-Length: ${body.length}`);
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), body ?? Buffer.alloc(0)]);
}
