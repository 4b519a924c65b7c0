import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Engine } from '../engine/engine.js';
import { InvalidParameterError, NotFoundError } from '../wire/errors.js';
import { hijackErrorResponse, logServerError, requestLine, sendError, statusOf } from './errors.js';
import { parseJson, readBody, Router, type HijackContext, type RequestContext } from './router.js';
import { splitTarget } from './target.js';
import { compareVersions, ENGINE_VERSION, MAX_API_VERSION, MIN_API_VERSION } from './version.js';
import { registerSystemRoutes } from './routes/system.js';
import { registerContainerRoutes } from './routes/containers.js';
import { registerContainerUpdateRoute } from './routes/container-update.js';
import { registerImageRoutes } from './routes/images.js';
import { registerExecRoutes } from './routes/exec.js';
import { registerNetworkRoutes } from './routes/networks.js';
import { registerVolumeRoutes } from './routes/volumes.js';
import { registerSystemCheckRoutes } from './routes/system-check.js';
import { registerArchiveRoutes } from './routes/archive.js';
import { registerBuildRoutes } from './routes/build.js';

/** A hijacked request's body is exec start's small JSON: more is refused before it is read. */
const MAX_HIJACK_BODY = 1 << 20;

/**
 * The next chunk of a paused socket, leaving it paused again at once: stdin bytes (and the
 * client's half-close) that follow the body must wait for the handler's own listeners, not stream
 * past into the void. A connection that ends first is a 400, not a handler waiting forever.
 */
function nextChunk(socket: Duplex): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const done = () => { socket.off('data', onData); socket.off('error', onError); socket.off('end', onEnd); };
    const onData = (c: Buffer) => { done(); socket.pause(); resolve(c); };
    const onError = (e: Error) => { done(); reject(e); };
    const onEnd = () => { done(); reject(new InvalidParameterError('the connection ended before the request body')); };
    socket.on('data', onData);
    socket.once('error', onError);
    socket.once('end', onEnd);
    socket.resume();
  });
}

const VERSION_PREFIX = /^\/v(\d+\.\d+)(\/.*)$/;

/** Headers every response carries, as dockerd sends them. */
export const COMMON_HEADERS: Record<string, string> = {
  'Api-Version': MAX_API_VERSION,
  'Ostype': 'linux',
  'Server': `Docker/${ENGINE_VERSION} (linux)`,
  'Docker-Experimental': 'false',
};

export function buildRouter(): Router {
  const router = new Router();
  registerSystemRoutes(router);
  registerContainerRoutes(router);
  registerContainerUpdateRoute(router);
  registerImageRoutes(router);
  registerExecRoutes(router);
  registerNetworkRoutes(router);
  registerVolumeRoutes(router);
  registerSystemCheckRoutes(router);
  registerArchiveRoutes(router);
  registerBuildRoutes(router);
  return router;
}

/** Split `/v1.45/containers/json` into version and path; check the version range. */
function resolvePath(rawUrl: string): { path: string; version: string; query: URLSearchParams } {
  const url = splitTarget(rawUrl);
  let path = url.path;
  let version = MAX_API_VERSION;
  const m = VERSION_PREFIX.exec(path);
  if (m) {
    version = m[1];
    path = m[2];
    if (compareVersions(version, MIN_API_VERSION) < 0) {
      throw new InvalidParameterError(`client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
    }
    if (compareVersions(version, MAX_API_VERSION) > 0) {
      throw new InvalidParameterError(`client version ${version} is too new. Maximum supported API version is ${MAX_API_VERSION}`);
    }
  }
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  return { path, version, query: url.query };
}

export interface ApiServerOptions {
  /**
   * Serve HTTPS with mutual TLS: a client must present a certificate that chains to `ca`, or the
   * handshake fails before any request is read (dockerd's --tlsverify).
   */
  tls?: Pick<SecureContextOptions, 'ca' | 'cert' | 'key'>;
}

export function createApiServer(engine: Engine, router = buildRouter(), opts: ApiServerOptions = {}): Server {
  const onRequest: RequestListener = (req, res) => {
    for (const [k, v] of Object.entries(COMMON_HEADERS)) res.setHeader(k, v);
    void handle(engine, router, req, res);
  };
  const server: Server = opts.tls
    ? createTlsServer({ ...opts.tls, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2', keepAlive: true }, onRequest)
    : createServer({ keepAlive: true }, onRequest);
  // Hijacked streams: the client half-closes its side when its stdin ends; we keep writing. Over
  // TLS the HTTP side sees the TLS socket, made at 'secureConnection'.
  server.on(opts.tls ? 'secureConnection' : 'connection', (socket) => { (socket as unknown as { allowHalfOpen: boolean }).allowHalfOpen = true; });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void handleUpgrade(engine, router, req, socket, head);
  });
  server.on('clientError', answerClientError);
  server.keepAliveTimeout = 30_000;
  server.headersTimeout = 60_000;
  server.requestTimeout = 0;
  return server;
}

async function handle(engine: Engine, router: Router, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let hijacked: HijackContext | undefined;
  try {
    const { path, version, query } = resolvePath(req.url ?? '/');
    const found = router.match(req.method ?? 'GET', path);
    if (found === undefined) throw new NotFoundError(`page not found`);
    if (found === 'method') {
      sendError(res, new NotFoundError('page not found'), requestLine(req));
      return;
    }
    let bodyPromise: Promise<unknown> | undefined;
    const ctx: RequestContext = {
      req, res, params: found.params, query, version, engine,
      json: <T>() => (bodyPromise ??= readBody(req).then((b) => parseJson<T>(b))) as Promise<T | undefined>,
    };
    if (found.route.hijack) {
      // A hijack route without Upgrade (curl, old clients): the handler writes a bare 200 head on
      // the socket and streams unframed bytes until it closes, as dockerd does.
      const socket = req.socket;
      socket.setTimeout(0);
      hijacked = { ...ctx, socket, head: Buffer.alloc(0), upgrade: false, headSent: false };
      await found.route.hijack(hijacked);
      return;
    }
    await found.route.handler!(ctx);
  } catch (err) {
    if (hijacked?.headSent) failHijacked(hijacked.socket, err, requestLine(req));
    else sendError(res, err, requestLine(req));
  }
}

async function handleUpgrade(engine: Engine, router: Router, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  // A client that goes away mid-stream (EPIPE, ECONNRESET): the socket closes, there is no one to
  // answer, and the handler sees the close; without a listener the error would kill the daemon.
  socket.on('error', () => undefined);
  // Paused from the start: the HTTP server hands the socket over still flowing, so stdin bytes and
  // the client's half-close that come before the handler's own listeners would pass into the void
  // (a half-close lost that way left `cat` waiting for its end of input forever).
  socket.pause();
  let ctx: HijackContext | undefined;
  try {
    const { path, version, query } = resolvePath(req.url ?? '/');
    const found = router.match(req.method ?? 'GET', path);
    if (!found || found === 'method' || !found.route.hijack) throw new NotFoundError('page not found');
    // The request body (exec start's JSON) arrives in `head` and after it: take Content-Length bytes.
    const length = Number(req.headers['content-length'] ?? 0);
    if (!Number.isSafeInteger(length) || length < 0 || length > MAX_HIJACK_BODY) {
      throw new InvalidParameterError(`invalid Content-Length ${req.headers['content-length']}: a hijacked request's body is at most ${MAX_HIJACK_BODY} bytes`);
    }
    let buffered = head;
    while (buffered.length < length) buffered = Buffer.concat([buffered, await nextChunk(socket)]);
    const body = buffered.subarray(0, length);
    const rest = buffered.subarray(length);
    ctx = {
      req, params: found.params, query, version, engine, socket, head: rest, upgrade: true, headSent: false,
      json: async <T>() => parseJson<T>(body),
    };
    await found.route.hijack(ctx);
  } catch (err) {
    if (ctx?.headSent) failHijacked(socket, err, requestLine(req));
    else socket.end(hijackErrorResponse(err, requestLine(req)));
  } finally {
    // Read (and drop) whatever the client still sends, so that its close is seen and the socket freed.
    socket.resume();
  }
}

/**
 * A request the HTTP parser refused (bad method, NUL or space in the target, broken chunking,
 * Content-Length with Transfer-Encoding, headers past the limit): a 4xx with a JSON message like
 * every other rejection, instead of Node's bare status line.
 */
function answerClientError(err: Error & { code?: string; reason?: string }, socket: Duplex): void {
  const inFlight = (socket as unknown as { _httpMessage?: unknown })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight) { socket.destroy(); return; }
  const [status, text, message] = err.code === 'HPE_HEADER_OVERFLOW'
    ? [431, 'Request Header Fields Too Large', 'request header fields too large']
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'ERR_HTTP_HEADERS_TIMEOUT'
      ? [408, 'Request Timeout', 'request timeout']
      : [400, 'Bad Request', `malformed HTTP request: ${err.reason ?? err.message}`];
  const body = JSON.stringify({ message }) + '\n';
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** An error after the response head went out on a hijacked stream: log a 5xx, end the stream. */
function failHijacked(socket: Duplex, err: unknown, request: string): void {
  logServerError(statusOf(err), request, err);
  socket.end();
}
