/**
 * The embedded DNS server of user-defined networks: one UDP socket on each such bridge's gateway
 * address, port 53 (as podman's aardvark-dns; containers' resolv.conf points there). Names of the
 * network's containers (name, aliases, short ID) get A records; AAAA and other types of those
 * names get an empty NOERROR answer; everything else is relayed to the host's resolvers.
 * A small codec of our own: queries are one question, answers are A records.
 */
import { createSocket, type Socket } from 'node:dgram';
import { InvalidParameterError } from '../errors.js';

/** A query the codec cannot read: the server drops it (no answer, as for any malformed packet). */
export class DnsFormatError extends InvalidParameterError {
  override name = 'DnsFormatError';
}

export const TYPE_A = 1;
export const TYPE_AAAA = 28;
export const CLASS_IN = 1;

export interface Question { name: string; type: number; class: number }
export interface Query { id: number; flags: number; question: Question; /** bytes after the header up to the end of the question */ questionBytes: Buffer }

/** Parse a query with (at least) one question; throws on malformed packets. */
export function parseQuery(buf: Buffer): Query {
  if (buf.length < 12) throw new DnsFormatError('short DNS packet');
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  const qd = buf.readUInt16BE(4);
  if (qd < 1) throw new DnsFormatError('no question');
  let off = 12;
  const labels: string[] = [];
  for (;;) {
    if (off >= buf.length) throw new DnsFormatError('truncated name');
    const len = buf[off++];
    if (len === 0) break;
    if (len & 0xc0) throw new DnsFormatError('compressed name in question');
    if (off + len > buf.length) throw new DnsFormatError('truncated label');
    labels.push(buf.toString('latin1', off, off + len));
    off += len;
  }
  if (off + 4 > buf.length) throw new DnsFormatError('truncated question');
  const question = { name: labels.join('.'), type: buf.readUInt16BE(off), class: buf.readUInt16BE(off + 2) };
  off += 4;
  return { id, flags, question, questionBytes: buf.subarray(12, off) };
}

export function encodeName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.').filter(Boolean);
  const bufs = parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'latin1')]));
  return Buffer.concat([...bufs, Buffer.from([0])]);
}

/**
 * A response to `q` with these IPv4 addresses (rcode 0), or NXDOMAIN (rcode 3) / SERVFAIL (2).
 * Answers point at the question's name (compression pointer 0xc00c); TTL 600 as Docker's.
 */
export function buildResponse(q: Query, addresses: string[], rcode = 0): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  const rd = q.flags & 0x0100;
  // QR, opcode 0, AA, RD copied, RA, rcode
  header.writeUInt16BE(0x8000 | 0x0400 | rd | 0x0080 | (rcode & 0xf), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(addresses.length, 6);
  const answers = addresses.map((a) => {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0);
    rr.writeUInt16BE(TYPE_A, 2);
    rr.writeUInt16BE(CLASS_IN, 4);
    rr.writeUInt32BE(600, 6);
    rr.writeUInt16BE(4, 10);
    a.split('.').forEach((b, i) => rr.writeUInt8(Number(b), 12 + i));
    return rr;
  });
  return Buffer.concat([header, q.questionBytes, ...answers]);
}

/** Nameservers of a resolv.conf text, without loopback ones (they are not reachable from a bridge's view). */
export function nameservers(resolvConf: string): string[] {
  const out: string[] = [];
  for (const line of resolvConf.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m && /^\d+\.\d+\.\d+\.\d+$/.test(m[1])) out.push(m[1]);
  }
  return out;
}

export type Lookup = (name: string) => string[] | undefined;

/** Relayed queries in flight per server (each holds a UDP socket until an upstream answers). */
export const MAX_RELAYS = 64;

/**
 * One server per network: `lookup` answers container names (undefined: not ours, forward);
 * `upstream` gives the resolvers to relay to for a query from a container's address.
 */
export class DnsServer {
  private sock?: Socket;
  private relays = 0;

  constructor(private readonly address: string, private readonly lookup: Lookup, private readonly upstream: (from: string) => string[]) {}

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const sock = createSocket({ type: 'udp4' });
      sock.on('message', (msg, rinfo) => { this.answer(msg, rinfo.address, rinfo.port).catch(() => undefined); });
      sock.once('error', reject);
      sock.bind({ address: this.address, port: 53, exclusive: true }, () => {
        sock.off('error', reject);
        sock.on('error', () => undefined);
        this.sock = sock;
        resolve();
      });
    });
  }

  close(): void {
    try { this.sock?.close(); } catch { /* closed */ }
    this.sock = undefined;
  }

  private async answer(msg: Buffer, address: string, port: number): Promise<void> {
    let q: Query;
    try { q = parseQuery(msg); } catch { return; }
    const name = q.question.name.toLowerCase().replace(/\.$/, '');
    const ips = this.lookup(name);
    if (ips !== undefined) {
      const reply = buildResponse(q, q.question.type === TYPE_A && q.question.class === CLASS_IN ? ips : []);
      this.sock?.send(reply, port, address);
      return;
    }
    // Each relay holds a socket for up to 2 s per upstream: past MAX_RELAYS at once, SERVFAIL at once.
    if (this.relays >= MAX_RELAYS) { this.sock?.send(buildResponse(q, [], 2), port, address); return; }
    this.relays++;
    const reply = await forward(msg, this.upstream(address)).catch(() => undefined).finally(() => { this.relays--; });
    this.sock?.send(reply ?? buildResponse(q, [], 2), port, address);
  }
}

/** Relay a query to the first upstream that answers within 2 s each. */
function forward(msg: Buffer, servers: string[]): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    if (servers.length === 0) { resolve(undefined); return; }
    const sock = createSocket({ type: 'udp4' });
    let i = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (b?: Buffer) => { clearTimeout(timer); try { sock.close(); } catch { /* closed */ } resolve(b); };
    const next = () => {
      if (i >= servers.length) { finish(undefined); return; }
      sock.send(msg, 53, servers[i++]);
      timer = setTimeout(next, 2000);
    };
    sock.on('message', (reply) => { if (reply.length >= 2 && reply.readUInt16BE(0) === msg.readUInt16BE(0)) finish(reply); });
    sock.on('error', () => finish(undefined));
    next();
  });
}
