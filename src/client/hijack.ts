// Hijacked connections (attach, exec start): POST with `Connection: Upgrade` / `Upgrade: tcp`;
// the daemon answers `101 UPGRADED` and the socket becomes a raw bidirectional pipe.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { ApiError, ConnectionError, connectFn, errorFromResponse, type Endpoint } from './http.js';

export interface HijackedStream {
  /** Read side: daemon output (multiplexed or raw). */
  output: Readable;
  /** Write side: container stdin; null when the daemon answered without upgrading (200 raw stream). */
  input: Duplex | null;
  /** Response content type ("application/vnd.docker.multiplexed-stream" or "…raw-stream"). */
  contentType: string;
  /** Half-close stdin (shutdown(SHUT_WR)); output keeps flowing until the daemon closes. */
  closeWrite(): void;
  /** Tear the connection down. */
  destroy(): void;
}

export function hijack(ep: Endpoint, host: string, method: string, path: string, body?: unknown): Promise<HijackedStream> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      'User-Agent': 'Berth-Client/0.1.0 (linux)',
      Connection: 'Upgrade',
      Upgrade: 'tcp',
    };
    let payload: string | undefined;
    if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const req = httpRequest({ socketPath: ep.socketPath, port: ep.port, host: ep.hostname ?? 'localhost', method, path, headers, createConnection: connectFn(ep) });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'EACCES') reject(new ConnectionError(host, err));
      else reject(err);
    });
    req.on('upgrade', (res: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (head && head.length) socket.unshift(head);
      resolve({
        output: socket,
        input: socket,
        contentType: String(res.headers['content-type'] ?? ''),
        closeWrite: () => {
          if (!socket.writableEnded) socket.end();
        },
        destroy: () => socket.destroy(),
      });
    });
    req.on('response', (res: IncomingMessage) => {
      const code = res.statusCode ?? 500;
      if (code >= 400) {
        errorFromResponse(res).then(reject, reject);
        return;
      }
      // Old-style: 200 and a raw stream until close; no stdin possible after the request ended.
      resolve({
        output: res,
        input: null,
        contentType: String(res.headers['content-type'] ?? ''),
        closeWrite: () => {},
        destroy: () => res.destroy(),
      });
    });
    req.end(payload);
  });
}

export { ApiError };
