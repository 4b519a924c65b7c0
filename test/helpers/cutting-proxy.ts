/**
 * An HTTP proxy in front of a test registry that records and misbehaves on blob downloads:
 *
 *   const proxy = await startCuttingProxy(reg.url);
 *   proxy.cutNext(digest, 100_000);   // the next GET of that blob is cut after 100,000 body bytes
 *   proxy.throttle(256 * 1024);       // blob bodies at most 256 KiB/s (to kill a daemon mid-pull)
 *   ... daemon with registry-mirrors: [proxy.url] ...
 *   proxy.requests(digest)            // [{ range: 'bytes=100000-', status: 206, bytes: … }, …]
 *
 * Everything else (manifests, /v2/, uploads) passes through untouched.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BlobRequest {
  digest: string;
  /** The Range header the client sent, if any. */
  range?: string;
  status: number;
  /** Body bytes the proxy passed on (before a cut). */
  bytes: number;
  cut: boolean;
}

export interface CuttingProxy {
  url: string;
  host: string;
  cutNext(digest: string, afterBytes: number): void;
  throttle(bytesPerSecond: number | undefined): void;
  requests(digest?: string): BlobRequest[];
  /** Total blob body bytes passed on for `digest`. */
  bytesServed(digest: string): number;
  stop(): Promise<void>;
}

const BLOB_RE = /\/blobs\/(sha256:[a-f0-9]{64})$/;

export async function startCuttingProxy(upstream: string): Promise<CuttingProxy> {
  const up = new URL(upstream);
  const cuts = new Map<string, number>();
  const log: BlobRequest[] = [];
  let rate: number | undefined;

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const m = req.method === 'GET' ? BLOB_RE.exec(path) : null;
    const headers = { ...req.headers, host: up.host };
    const preq = http.request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers }, (pres) => {
      res.writeHead(pres.statusCode ?? 502, pres.headers);
      if (!m || (pres.statusCode !== 200 && pres.statusCode !== 206)) {
        pres.pipe(res);
        return;
      }
      const digest = m[1]!;
      const entry: BlobRequest = { digest, range: req.headers.range, status: pres.statusCode, bytes: 0, cut: false };
      log.push(entry);
      const cutAt = cuts.get(digest);
      cuts.delete(digest);
      pres.on('data', (chunk: Buffer) => {
        if (entry.cut) return;
        if (cutAt !== undefined && entry.bytes + chunk.length >= cutAt) {
          const part = chunk.subarray(0, cutAt - entry.bytes);
          entry.bytes += part.length;
          entry.cut = true;
          res.write(part, () => {
            // Drop the connection mid-body, as a flaky network does.
            res.socket?.destroy();
            pres.destroy();
          });
          return;
        }
        entry.bytes += chunk.length;
        const ok = res.write(chunk);
        if (rate) {
          pres.pause();
          setTimeout(() => pres.resume(), (chunk.length / rate) * 1000);
        } else if (!ok) {
          pres.pause();
          res.once('drain', () => pres.resume());
        }
      });
      pres.on('end', () => { if (!entry.cut) res.end(); });
      pres.on('error', () => res.destroy());
      res.on('close', () => pres.destroy());
    });
    preq.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end(); });
    req.pipe(preq);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    cutNext: (digest, afterBytes) => { cuts.set(digest, afterBytes); },
    throttle: (bps) => { rate = bps; },
    requests: (digest) => log.filter((r) => digest === undefined || r.digest === digest),
    bytesServed: (digest) => log.filter((r) => r.digest === digest).reduce((a, r) => a + r.bytes, 0),
    stop: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
