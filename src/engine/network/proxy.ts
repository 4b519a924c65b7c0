/**
 * The userland proxy (Docker's docker-proxy, here inside the daemon): it holds each published
 * host port (so no other program takes it, and so an ephemeral port is really free), and carries
 * the connections that iptables DNAT does not see: those to 127.0.0.1 (DNAT to a bridge address
 * from loopback would need route_localnet). Other destinations are DNATed before they reach it.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { NotImplementedError, SystemError } from '../errors.js';
import type { Proto } from './ports.js';

export interface Proxy { port: number; close(): void }

const EPHEMERAL_FIRST = 32768;
const EPHEMERAL_LAST = 60999;
let cursor = EPHEMERAL_FIRST;

function listenTcp(hostIp: string, port: number, target: { ip: string; port: number }): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const sockets = new Set<Socket>();
    const server = createServer((client) => {
      const upstream = connect(target.port, target.ip);
      sockets.add(client);
      sockets.add(upstream);
      const done = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
      client.on('error', done);
      upstream.on('error', done);
      client.on('close', done);
      upstream.on('close', done);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    server.once('error', reject);
    server.listen({ host: hostIp, port, exclusive: true }, () => {
      server.off('error', reject);
      server.on('error', () => undefined);
      const orig = server.close.bind(server);
      server.close = ((cb?: (err?: Error) => void) => { for (const s of sockets) s.destroy(); return orig(cb); }) as typeof server.close;
      resolve({ server, port: (server.address() as { port: number }).port });
    });
  });
}

function listenUdp(hostIp: string, port: number, target: { ip: string; port: number }): Promise<{ sock: UdpSocket; port: number; close(): void }> {
  return new Promise((resolve, reject) => {
    const sock = createSocket({ type: 'udp4' });
    // One upstream socket per client address, dropped after 90 s without traffic.
    const flows = new Map<string, { up: UdpSocket; timer: NodeJS.Timeout }>();
    sock.on('message', (msg, rinfo) => {
      const key = `${rinfo.address}:${rinfo.port}`;
      let flow = flows.get(key);
      if (!flow) {
        const up = createSocket({ type: 'udp4' });
        up.on('message', (reply) => sock.send(reply, rinfo.port, rinfo.address));
        up.on('error', () => undefined);
        flow = { up, timer: setTimeout(() => undefined, 0) };
        flows.set(key, flow);
      }
      clearTimeout(flow.timer);
      const f = flow;
      f.timer = setTimeout(() => { f.up.close(); flows.delete(key); }, 90_000).unref();
      f.up.send(msg, target.port, target.ip);
    });
    sock.once('error', reject);
    sock.bind({ address: hostIp, port, exclusive: true }, () => {
      sock.off('error', reject);
      sock.on('error', () => undefined);
      resolve({
        sock, port: sock.address().port,
        close() {
          for (const f of flows.values()) { clearTimeout(f.timer); try { f.up.close(); } catch { /* closed */ } }
          flows.clear();
          try { sock.close(); } catch { /* closed */ }
        },
      });
    });
  });
}

async function open(proto: Proto, hostIp: string, port: number, target: { ip: string; port: number }): Promise<Proxy> {
  if (proto === 'udp') {
    const u = await listenUdp(hostIp, port, target);
    return { port: u.port, close: u.close };
  }
  const t = await listenTcp(hostIp, port, target);
  return { port: t.port, close: () => t.server.close() };
}

/**
 * Bind hostIp:port (a range, or any ephemeral port when 0) and forward to the target. The bound
 * port is the allocation: EADDRINUSE moves on to the next candidate.
 */
export async function openProxy(proto: Proto, hostIp: string, range: [number, number], target: { ip: string; port: number }, taken: (port: number) => boolean = () => false): Promise<Proxy> {
  if (proto === 'sctp') throw new NotImplementedError('sctp publishing is not supported');
  const [first, last] = range;
  if (first !== 0) {
    let lastErr: unknown;
    for (let p = first; p <= last; p++) {
      if (taken(p)) continue;
      try { return await open(proto, hostIp, p, target); } catch (e) { lastErr = e; }
    }
    const msg = (lastErr as Error | undefined)?.message ?? 'port is already allocated';
    throw new SystemError(`Bind for ${hostIp}:${first === last ? first : `${first}-${last}`} failed: port is already allocated (${msg})`);
  }
  for (let i = 0; i <= EPHEMERAL_LAST - EPHEMERAL_FIRST; i++) {
    const p = cursor;
    cursor = cursor >= EPHEMERAL_LAST ? EPHEMERAL_FIRST : cursor + 1;
    if (taken(p)) continue;
    try { return await open(proto, hostIp, p, target); } catch { /* in use: next */ }
  }
  throw new SystemError('no free host port left in the ephemeral range');
}
