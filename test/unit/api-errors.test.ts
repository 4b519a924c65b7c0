/** Every 5xx leaves a trace in the daemon's log: the status, the request line and the stack. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createApiServer } from '../../src/api/server.js';
import { Router } from '../../src/api/router.js';
import { writeHijackHead } from '../../src/api/hijack.js';
import { NotFoundError } from '../../src/engine/errors.js';
import type { Engine } from '../../src/engine/engine.js';

function get(socketPath: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Raw bytes of an Upgrade request, until the server closes. */
function upgrade(socketPath: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(socketPath);
    let out = '';
    sock.on('data', (c) => { out += c; });
    sock.on('close', () => resolve(out));
    sock.on('error', reject);
    sock.write(`POST ${path} HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n`);
  });
}

test('a 5xx is logged with its request line and stack; a 4xx is not', async () => {
  const dir = mkdtempSync('/tmp/bt-api-');
  const socketPath = join(dir, 'api.sock');
  const router = new Router();
  router.add('GET', '/boom', () => { throw new Error('kaboom'); });
  router.add('GET', '/missing', () => { throw new NotFoundError('No such thing: x'); });
  router.hijack('POST', '/early', () => { throw new Error('before the head'); });
  router.hijack('POST', '/late', (ctx) => {
    writeHijackHead(ctx, 'application/vnd.docker.raw-stream');
    throw new Error('after the head');
  });
  const server = createApiServer({} as Engine, router);
  await new Promise<void>((r) => server.listen(socketPath, r));
  const logged: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => { logged.push(String(chunk)); return true; }) as typeof process.stderr.write;
  try {
    const boom = await get(socketPath, '/v1.45/boom?x=1');
    assert.equal(boom.status, 500);
    assert.deepEqual(JSON.parse(boom.body), { message: 'kaboom' });
    assert.equal((await get(socketPath, '/v1.45/missing')).status, 404);
    const early = await upgrade(socketPath, '/v1.45/early');
    assert.match(early, /^HTTP\/1\.1 500 Internal Server Error\r\n/);
    const late = await upgrade(socketPath, '/v1.45/late');
    assert.equal(late, 'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n',
      'after the 101 the stream just ends: no second response inside it');
  } finally {
    process.stderr.write = write;
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const log = logged.join('');
  assert.match(log, /berthd: 500 on GET \/v1\.45\/boom\?x=1: Error: kaboom\n\s+at /);
  assert.match(log, /berthd: 500 on POST \/v1\.45\/early: Error: before the head\n\s+at /);
  assert.match(log, /berthd: 500 on POST \/v1\.45\/late: Error: after the head\n\s+at /);
  assert.doesNotMatch(log, /missing/, 'a 404 is the client\'s business, not a trace');
});
