import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { InvalidParameterError } from '../wire/errors.js';
import { unescape } from './target.js';
import type { Engine } from '../engine/engine.js';

/** What a handler gets for one request. */
export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: string[];
  query: URLSearchParams;
  /** The API version the client asked for (prefix), or the daemon's maximum. */
  version: string;
  engine: Engine;
  /** The JSON body; undefined when empty. Malformed JSON → 400. */
  json<T = unknown>(): Promise<T | undefined>;
}

/** A hijacked connection (attach, exec start): raw socket after our 101 or 200 header. */
export interface HijackContext extends Omit<RequestContext, 'res'> {
  socket: Duplex;
  /** Bytes already read past the request head (start of the body or of stdin). */
  head: Buffer;
  /** True when the client asked for `Upgrade: tcp` (then we answer 101). */
  upgrade: boolean;
  /** Set once a response head went out on the socket: an error after it can only end the stream. */
  headSent: boolean;
}

export type Handler = (ctx: RequestContext) => Promise<void> | void;
export type HijackHandler = (ctx: HijackContext) => Promise<void> | void;

interface Route {
  method: string;
  /** The template as registered (`/containers/{id}/json`), for listings. */
  path: string;
  pattern: RegExp;
  handler?: Handler;
  hijack?: HijackHandler;
}

export class Router {
  private readonly routes: Route[] = [];

  /** `path` uses `{x}` for one segment and `{x*}` for a rest that may contain slashes (image names). */
  add(method: string, path: string, handler: Handler): this {
    this.routes.push({ method, path, pattern: compile(path), handler });
    return this;
  }

  hijack(method: string, path: string, handler: HijackHandler): this {
    this.routes.push({ method, path, pattern: compile(path), hijack: handler });
    return this;
  }

  /** Every registered route: method, template and whether it hijacks the connection. */
  list(): Array<{ method: string; path: string; hijack: boolean }> {
    return this.routes.map((r) => ({ method: r.method, path: r.path, hijack: !!r.hijack }));
  }

  /** `path` still percent-escaped: parameters are decoded after the match (a bad escape is a 400). */
  match(method: string, path: string): { route: Route; params: string[] } | 'method' | undefined {
    let pathMatched = false;
    for (const route of this.routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) {
        return { route, params: m.slice(1).map(unescape) };
      }
    }
    return pathMatched ? 'method' : undefined;
  }
}

function compile(path: string): RegExp {
  const src = path.replace(/[.+?^$()|[\]\\]/g, '\\$&')
    .replace(/\{\w+\*\}/g, '(.+)')
    .replace(/\{\w+\}/g, '([^/]+)');
  return new RegExp(`^${src}$`);
}

export function readBody(req: IncomingMessage, limit = 32 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new InvalidParameterError('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    // A client that leaves mid-body: its request was bad, not the daemon (no one reads the answer).
    const cut = () => reject(new InvalidParameterError('the connection ended before the request body'));
    req.on('aborted', cut);
    req.on('error', cut);
  });
}

/**
 * Nesting allowed in a request body. Go's decoder stops at 10,000; V8's recursive JSON.stringify
 * (records, events, logs of the body) overflows its stack well before that, so the bound is lower.
 */
export const MAX_JSON_DEPTH = 1000;

/** The deepest nesting of arrays and objects in a JSON text (strings skipped). */
function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) { if (++depth > max) max = depth; }
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

export function parseJson<T>(buf: Buffer): T | undefined {
  const text = buf.toString('utf8').trim();
  if (!text) return undefined;
  if (jsonDepth(text) > MAX_JSON_DEPTH) throw new InvalidParameterError(`invalid JSON: exceeded max depth (${MAX_JSON_DEPTH})`);
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new InvalidParameterError(`invalid JSON: ${(e as Error).message}`);
  }
}

/** Docker's boolean query values: 1/true/True (anything but "", 0, false, no). */
export function boolParam(q: URLSearchParams, name: string, dflt = false): boolean {
  const v = q.get(name);
  if (v === null) return dflt;
  return !['', '0', 'false', 'False', 'FALSE', 'no'].includes(v);
}

export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidParameterError(`invalid value for ${name}: ${v}`);
  return n;
}

/** `tail=`: a count of records; empty or `all`: every record. */
export function tailParam(q: URLSearchParams): number | undefined {
  // dockerd reads a negative or unparsable tail as "all" (SDKs send tail=-1 for that).
  const raw = q.get('tail');
  if (raw === null) return undefined;
  const n = Number(raw.trim());
  if (raw.trim() === '' || !Number.isInteger(n) || n < 0) return undefined;
  return n;
}

/** `filters=` JSON: Go clients send {"k":{"v":true}}, docker-py sends {"k":["v"]}: accept both. */
export function filtersParam(q: URLSearchParams): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const raw = q.get('filters');
  if (!raw) return out;
  let parsed: unknown;
  try { parsed = JSON.parse(raw); } catch { throw new InvalidParameterError(`invalid filter '${raw}'`); }
  if (!parsed || typeof parsed !== 'object') throw new InvalidParameterError(`invalid filter '${raw}'`);
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (Array.isArray(v)) out.set(k, v.map(String));
    else if (v && typeof v === 'object') out.set(k, Object.keys(v));
    else throw new InvalidParameterError(`invalid filter '${raw}'`);
  }
  return out;
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Write one chunk of a long response; when the client is behind, wait until it drains (or goes). */
export async function writeChunk(res: ServerResponse, data: string | Buffer): Promise<void> {
  if (res.write(data) || res.destroyed) return;
  await new Promise<void>((resolve) => {
    const done = () => { res.off('drain', done); res.off('close', done); resolve(); };
    res.on('drain', done);
    res.on('close', done);
  });
}
