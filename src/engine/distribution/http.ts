/**
 * A small HTTP(S) client for registries on node:http/https: keep-alive agents, redirects followed
 * by hand (Authorization dropped when the origin changes, as Go's client does), TLS verification
 * optional for insecure registries, inactivity timeouts, and network errors turned into clear
 * messages in Go's style (`Get "http://…/v2/": connect ECONNREFUSED 127.0.0.1:5000`).
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { RegistryProtocolError, UnavailableError } from '../errors.js';
import { outboundRefusal } from '../../util/outbound.js';

const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 16 });
const httpsInsecureAgent = new https.Agent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: false });

export const USER_AGENT = 'berth/0.1 (linux)';

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** A streamed body (blob uploads): made afresh for each attempt; needs `contentLength`. */
  bodyStream?: () => Readable;
  contentLength?: number;
  /** Skip TLS certificate verification (insecure-registries). */
  insecureTLS?: boolean;
  maxRedirects?: number;
  /** Socket inactivity timeout in ms (connect, headers and each body chunk). */
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
  /** Final URL after redirects. */
  url: string;
}

/** A transport-level failure (connection refused, DNS, TLS, timeout): the request got no HTTP answer. */
export class NetworkError extends UnavailableError {
  constructor(message: string, readonly url: string, options?: { cause?: unknown }) {
    super(message);
    if (options?.cause !== undefined) this.cause = options.cause;
    this.name = 'NetworkError';
  }
}

function goMethod(m: string): string {
  return m.charAt(0).toUpperCase() + m.slice(1).toLowerCase();
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { hostname?: string };
  if (e?.code === 'ENOTFOUND' || e?.code === 'EAI_AGAIN') return `dial tcp: lookup ${e.hostname ?? '?'}: no such host`;
  return e?.message ?? String(err);
}

function once(url: URL, opts: HttpOptions): Promise<IncomingMessage> {
  const isHttps = url.protocol === 'https:';
  const mod = isHttps ? https : http;
  const agent = isHttps ? (opts.insecureTLS ? httpsInsecureAgent : httpsAgent) : httpAgent;
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = { 'User-Agent': USER_AGENT, ...(opts.headers ?? {}) };
  if (opts.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(opts.body));
  else if (opts.bodyStream) headers['Content-Length'] = String(opts.contentLength ?? 0);
  const refused = outboundRefusal(url.href);
  if (refused) return Promise.reject(new NetworkError(`${goMethod(method)} "${url.href}": ${refused}`, url.href));
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { method, headers, agent }, (res) => {
      // From here the caller owns the body; keep an inactivity timeout on it.
      res.socket?.setTimeout(opts.timeoutMs ?? 60_000);
      resolve(res);
    });
    req.setTimeout(opts.timeoutMs ?? 60_000, () => {
      req.destroy(new Error(`net/http: timeout awaiting response (${Math.round((opts.timeoutMs ?? 60_000) / 1000)}s)`));
    });
    req.on('error', (err) => {
      reject(new NetworkError(`${goMethod(method)} "${url.href}": ${describe(err)}`, url.href, { cause: err }));
    });
    if (opts.body !== undefined) req.end(opts.body);
    else if (opts.bodyStream) {
      const src = opts.bodyStream();
      src.on('error', (e) => req.destroy(e));
      src.pipe(req);
    } else req.end();
  });
}

/** Drain and discard a response body (so the keep-alive socket can be reused). */
export function discard(res: IncomingMessage): void {
  res.resume();
  res.on('error', () => {});
}

export async function readBody(res: IncomingMessage, limit = 16 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res) {
    const b = c as Buffer;
    n += b.length;
    if (n > limit) {
      res.destroy();
      throw new RegistryProtocolError(`response body larger than ${limit} bytes`);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

export async function httpRequest(rawUrl: string, opts: HttpOptions = {}): Promise<HttpResponse> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    // Go's parser takes what WHATWG's refuses (an all-digit host past IPv4's range, as a fuzzed
    // `fromImage=9223372036854775807:80/x` made): its dial then finds no such host. Was a 500.
    const host = /^[a-z]+:\/\/([^/:]*)/i.exec(rawUrl)?.[1] ?? '?';
    throw new NetworkError(`${goMethod(opts.method ?? 'GET')} "${rawUrl}": dial tcp: lookup ${host}: no such host`, rawUrl);
  }
  let headers = { ...(opts.headers ?? {}) };
  let method = opts.method ?? 'GET';
  let body = opts.body;
  let bodyStream = opts.bodyStream;
  const max = opts.maxRedirects ?? 10;
  for (let i = 0; ; i++) {
    const res = await once(url, { ...opts, method, headers, body, bodyStream });
    const status = res.statusCode ?? 0;
    const loc = res.headers.location;
    if ([301, 302, 303, 307, 308].includes(status) && loc) {
      discard(res);
      if (i >= max) throw new NetworkError(`${goMethod(method)} "${url.href}": stopped after ${max} redirects`, url.href);
      const next = new URL(loc, url);
      if (next.origin !== url.origin) {
        // Credentials for the registry are not for the storage backend it redirects to.
        const { Authorization: _a, authorization: _b, ...rest } = headers;
        headers = rest;
      }
      if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
        bodyStream = undefined;
      }
      url = next;
      continue;
    }
    return { status, headers: res.headers, body: res, url: url.href };
  }
}
