/**
 * dns-relay-unbounded: every relayed query held its own UDP socket until an upstream answered
 * (2 s per upstream), with no limit, so a container could make the daemon open sockets without
 * bound. Past MAX_RELAYS queries in flight, the embedded DNS answers SERVFAIL at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { DnsServer, MAX_RELAYS } from '../../src/engine/network/dns.js';

function query(id: number, name: string): Buffer {
  const labels = name.split('.').flatMap((l) => [Buffer.from([l.length]), Buffer.from(l)]);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // recursion desired
  header.writeUInt16BE(1, 4); // one question
  return Buffer.concat([header, ...labels, Buffer.from([0, 0, 1, 0, 1])]); // type A, class IN
}

test('dns-relay-unbounded: queries past the relay limit get SERVFAIL at once', async () => {
  // A loopback address of its own, and an upstream on loopback where nothing listens (never answers).
  const server = new DnsServer('127.0.0.77', () => undefined, () => ['127.0.0.78']);
  await server.start();
  const client = createSocket({ type: 'udp4' });
  const fast: number[] = [];
  client.on('message', (m) => { fast.push(m.readUInt16BE(2) & 0xf); });
  try {
    await new Promise<void>((res) => client.bind(0, '127.0.0.1', () => res()));
    const extra = 6;
    for (let i = 0; i < MAX_RELAYS + extra; i++) client.send(query(i + 1, `nowhere${i}.example`), 53, '127.0.0.77');
    // The relays wait 2 s for the silent upstream; the ones past the limit are answered at once.
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(fast.length, extra, `answered within 0.7 s: ${fast.length}`);
    assert.ok(fast.every((rcode) => rcode === 2), 'SERVFAIL');
  } finally {
    client.close();
    server.close();
  }
});
