/**
 * The dashboard server (`--dashboard 127.0.0.1:PORT`): the web UI's files, and the Engine API
 * under `/api/` for that page only (see api/dashboard/guard.ts), plus the terminal WebSocket
 * `/api/exec/{id}/ws`. Loaded only when the dashboard is on, so the daemon's start is unchanged
 * otherwise.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import type { Engine } from '../engine/engine.js';
import { createApiServer } from '../api/server.js';
import type { Router } from '../api/router.js';
import { checkApiRequest, checkSite, tokenCookie, tokenMatches, type Refusal } from '../api/dashboard/guard.js';
import { bridgeExec } from '../api/dashboard/exec-ws.js';
import { projectRoot } from '../util/paths.js';
import type { DashboardAddress } from './dashboard-address.js';
import { loadOrCreateToken } from './dashboard-token.js';
import { StaticFiles } from './dashboard-static.js';

export interface Dashboard {
  /** The URL that logs a browser in: carries the token once (see `GET /?token=`). */
  loginUrl: string;
  url: string;
  close(): void;
}

const EXEC_WS = /^\/api\/exec\/([0-9a-f]{64})\/ws$/;

function refuse(res: ServerResponse, r: Refusal): void {
  const body = JSON.stringify({ message: r.message }) + '\n';
  res.writeHead(r.status, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)), 'Cache-Control': 'no-store' });
  res.end(body);
}

function refuseUpgrade(socket: Duplex, r: Refusal): void {
  const body = JSON.stringify({ message: r.message }) + '\n';
  socket.end(`HTTP/1.1 ${r.status} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

export async function startDashboard(opts: {
  engine: Engine; router: Router; dataRoot: string; address: DashboardAddress; log: (msg: string) => void;
}): Promise<Dashboard> {
  const token = await loadOrCreateToken(opts.dataRoot);
  const files = await StaticFiles.load(process.env.BERTH_DASHBOARD_DIR ?? join(projectRoot(), 'dist', 'dashboard'));
  if (!files.size) opts.log('dashboard: no built UI in dist/dashboard (run `npm run build`); serving the API only');
  // The Engine API itself, never listening: requests the guard let through are handed to it.
  const api = createApiServer(opts.engine, opts.router);
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  let port = opts.address.port;

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) {
      const refused = checkApiRequest(req.headers, method, port, token);
      if (refused) { refuse(res, refused); return; }
      req.url = (req.url ?? '/').slice('/api'.length) || '/';
      api.emit('request', req, res);
      return;
    }
    const refused = checkSite(req.headers, method, port);
    if (refused) { refuse(res, refused); return; }
    if (method !== 'GET' && method !== 'HEAD') { refuse(res, { status: 403, message: `${method} ${url.pathname} refused` }); return; }
    // The login link: keep the token in an HttpOnly cookie, then drop it from the address bar.
    const presented = url.searchParams.get('token');
    if (presented !== null) {
      if (!tokenMatches(presented, token)) { refuse(res, { status: 401, message: 'wrong dashboard token: open the URL that `berth dashboard` prints' }); return; }
      res.writeHead(303, { 'Set-Cookie': tokenCookie(token), Location: '/', 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
      res.end();
      return;
    }
    if (!files.serve(url.pathname, method, res)) { res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n'); }
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'http://x');
    const m = EXEC_WS.exec(url.pathname);
    // A WebSocket always carries Origin from a browser: one without is not our page.
    const refused = checkApiRequest(req.headers, 'UPGRADE', port, token)
      ?? (req.headers.origin === undefined ? { status: 403 as const, message: 'WebSocket without Origin refused' } : undefined)
      ?? (m ? undefined : { status: 403 as const, message: 'no such WebSocket endpoint' });
    if (refused) { refuseUpgrade(socket, refused); return; }
    wss.handleUpgrade(req, socket, head, (ws) => {
      void bridgeExec(opts.engine, m![1], url.searchParams, ws).catch((e) => opts.log(`dashboard exec: ${(e as Error).message}`));
    });
  });
  server.keepAliveTimeout = 30_000;
  server.requestTimeout = 0;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.address.port, opts.address.host, () => { server.off('error', reject); resolve(); });
  });
  port = (server.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}/`;
  return {
    url,
    loginUrl: `${url}?token=${token}`,
    close() {
      for (const c of wss.clients) c.terminate();
      server.close();
      server.closeAllConnections();
    },
  };
}
