// Minimal HTTP transport for the Docker Engine API over a unix socket (or TCP).
// No work at module load; node:http is imported by the caller's module graph only.
import { request as httpRequest, type IncomingMessage, type ClientRequest } from 'node:http';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { createRequire } from 'node:module';
import type { ClientTls } from './tls.js';

// node:tls is loaded only for a TLS endpoint: importing it costs every CLI command ~10 ms of start-up.
const loadBuiltin = createRequire(import.meta.url);

export { MAX_API_VERSION as DEFAULT_API_VERSION } from '../wire/api-version.js';
export { DEFAULT_HOST } from './resolve.js';

/** An error answered by the daemon: status code plus the `{"message":…}` text. */
export class ApiError extends Error {
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super(message);
    this.name = 'ApiError';
    this.statusCode = statusCode;
  }
}

/** The daemon could not be reached at all. */
export class ConnectionError extends Error {
  readonly host: string;
  override readonly cause?: unknown;
  constructor(host: string, cause?: unknown) {
    super(`Cannot connect to the Berth daemon at ${host}. Is the berth daemon running?`);
    this.name = 'ConnectionError';
    this.host = host;
    this.cause = cause;
  }
}

export interface Endpoint {
  socketPath?: string;
  hostname?: string;
  port?: number;
  /** TLS on a tcp:// endpoint (docker/cli's --tls/--tlsverify); unix sockets are plain. */
  tls?: ClientTls;
}

export function parseHost(host: string): Endpoint {
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  if (host.startsWith('/')) return { socketPath: host };
  const m = /^(?:tcp|http):\/\/([^:/]+|\[[^\]]+\])(?::(\d+))?\/?$/.exec(host);
  if (m) return { hostname: m[1].replace(/^\[|\]$/g, ''), port: m[2] ? Number(m[2]) : 2375 };
  throw new Error(`unsupported host: ${host}`);
}

/**
 * Connect directly (no http.Agent): one connection per request, and none of the Agent's
 * per-request work (servername/isIP checks cost ~3 ms at start-up). Over TLS the daemon's
 * certificate is checked against the CA and the host name (unless only --tls was asked for), and
 * ours is presented.
 */
export function connectFn(ep: Endpoint): () => Socket {
  if (ep.socketPath !== undefined) return () => netConnect({ path: ep.socketPath! });
  const host = ep.hostname ?? 'localhost';
  const port = ep.port ?? 2375;
  const tls = ep.tls;
  if (!tls) return () => netConnect({ host, port });
  const { connect: tlsConnect } = loadBuiltin('node:tls') as typeof import('node:tls');
  return () => tlsConnect({
    host, port, ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: tls.verify,
    servername: isIP(host) ? undefined : host, minVersion: 'TLSv1.2',
  });
}

export type Query = Record<string, string | number | boolean | undefined | null | string[]>;

export function encodeQuery(q?: Query): string {
  if (!q) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) {
      for (const x of v) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(x)}`);
    } else {
      const s = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
      parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(s)}`);
    }
  }
  return parts.length ? '?' + parts.join('&') : '';
}

export interface RequestOptions {
  method: string;
  path: string; // already versioned, with query
  headers?: Record<string, string>;
  body?: unknown; // object → JSON; Buffer/string → as is; Readable → piped
  signal?: AbortSignal;
}

export function readBody(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('response aborted')));
  });
}

/** Turn an error response into an ApiError, reading `{"message":…}`. */
export async function errorFromResponse(res: IncomingMessage): Promise<ApiError> {
  const buf = await readBody(res).catch(() => Buffer.alloc(0));
  return new ApiError(res.statusCode ?? 500, errorMessage(buf, res.statusCode ?? 500));
}

export function errorMessage(buf: Buffer, status: number): string {
  const text = buf.toString('utf8').trim();
  if (text.startsWith('{')) {
    try {
      const j = JSON.parse(text);
      if (j && typeof j.message === 'string') return j.message;
    } catch {
      /* fall through */
    }
  }
  if (text) return text;
  return `request returned ${status} with no body`;
}

/** Send a request; resolves with the response once headers arrive (any status). */
export function send(ep: Endpoint, host: string, opts: RequestOptions, extra?: (req: ClientRequest) => void): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'User-Agent': 'Berth-Client/0.1.0 (linux)', ...opts.headers };
    let payload: Buffer | string | undefined;
    let stream: NodeJS.ReadableStream | undefined;
    const b = opts.body;
    if (b !== undefined) {
      if (typeof b === 'string' || Buffer.isBuffer(b)) payload = b;
      else if (b && typeof (b as NodeJS.ReadableStream).pipe === 'function') stream = b as NodeJS.ReadableStream;
      else {
        payload = JSON.stringify(b);
        headers['Content-Type'] ??= 'application/json';
      }
      if (payload !== undefined) headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const req = httpRequest({
      socketPath: ep.socketPath,
      port: ep.port,
      host: ep.hostname ?? 'localhost',
      method: opts.method,
      path: opts.path,
      headers,
      createConnection: connectFn(ep),
      signal: opts.signal,
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'EACCES') reject(new ConnectionError(host, err));
      else reject(err);
    });
    req.on('response', resolve);
    if (extra) extra(req);
    if (stream) stream.pipe(req);
    else req.end(payload);
  });
}
