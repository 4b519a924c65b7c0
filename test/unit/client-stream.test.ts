import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StdDemuxer, frame, demuxAll } from '../../src/util/stdcopy.js';
import { JSONStreamParser } from '../../src/client/jsonstream.js';
import { ApiError, EngineClient, encodeFilters } from '../../src/client/index.js';

test('stdcopy: demux across arbitrary chunk boundaries', () => {
  const data = Buffer.concat([frame(1, 'hello '), frame(2, 'oops\n'), frame(1, 'world\n'), frame(3, 'syserr')]);
  for (let step = 1; step <= data.length; step++) {
    const got: Array<[number, string]> = [];
    const d = new StdDemuxer((s, p) => got.push([s, p.toString()]));
    for (let i = 0; i < data.length; i += step) d.push(data.subarray(i, i + step));
    assert.equal(d.pending, 0);
    const joined = (n: number) => got.filter(([s]) => s === n).map(([, p]) => p).join('');
    assert.equal(joined(1), 'hello world\n', `step ${step}`);
    assert.equal(joined(2), 'oops\n');
    assert.equal(joined(3), 'syserr');
  }
  const all = demuxAll(data);
  assert.equal(all.stdout.toString(), 'hello world\n');
  assert.equal(all.stderr.toString(), 'oops\n');
});

test('stdcopy: zero-length and large frames', () => {
  const big = Buffer.alloc(100_000, 0x61);
  const data = Buffer.concat([frame(1, ''), frame(1, big)]);
  const got: Buffer[] = [];
  const d = new StdDemuxer((_s, p) => got.push(p));
  d.push(data.subarray(0, 5));
  d.push(data.subarray(5, 50_000));
  d.push(data.subarray(50_000));
  assert.equal(Buffer.concat(got).length, 100_000);
});

test('jsonstream: concatenated and split JSON values', () => {
  const vals: unknown[] = [];
  const p = new JSONStreamParser((v) => vals.push(v));
  const text = '{"status":"a","id":"x"}\r\n{"status":"b {\\"q\\"}"}{"progressDetail":{"current":1}}\n[1,2]';
  for (const ch of text) p.push(ch);
  p.end();
  assert.deepEqual(vals, [{ status: 'a', id: 'x' }, { status: 'b {"q"}' }, { progressDetail: { current: 1 } }, [1, 2]]);
});

test('filters are encoded in the Go client form', () => {
  assert.equal(encodeFilters({ label: ['a=b'], status: ['exited'] }), '{"label":{"a=b":true},"status":{"exited":true}}');
  assert.equal(encodeFilters({}), undefined);
});

/** A tiny fake daemon speaking raw HTTP on a unix socket. */
function fakeDaemon(handler: (req: string, sock: import('node:net').Socket) => void): Promise<{ host: string; close(): void; requests: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-client-'));
  const path = join(dir, 'd.sock');
  const requests: string[] = [];
  const server: Server = createServer({ allowHalfOpen: true }, (sock) => {
    let buf = '';
    let done = false;
    sock.on('data', (c) => {
      if (done) return;
      buf += c.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      done = true;
      const head = buf.slice(0, end);
      requests.push(head.split('\r\n')[0]);
      const rest = buf.slice(end + 4);
      handler(head, sock);
      if (rest) sock.emit('data', Buffer.from(rest, 'latin1'));
    });
  });
  return new Promise((resolve) => {
    server.listen(path, () =>
      resolve({
        host: `unix://${path}`,
        requests,
        close: () => {
          server.close();
          rmSync(dir, { recursive: true, force: true });
        },
      }),
    );
  });
}

function respond(sock: import('node:net').Socket, status: string, body: string, headers: Record<string, string> = {}): void {
  const h = { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)), 'Api-Version': '1.41', ...headers };
  sock.end(`HTTP/1.1 ${status}\r\n${Object.entries(h).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body}`);
}

test('client: errors become ApiError with the daemon message', async () => {
  const d = await fakeDaemon((_head, sock) => respond(sock, '404 Not Found', '{"message":"No such container: nope"}'));
  try {
    const c = new EngineClient({ host: d.host });
    await assert.rejects(c.containerInspect('nope'), (e: unknown) => e instanceof ApiError && e.statusCode === 404 && e.message === 'No such container: nope');
    assert.equal(d.requests[0], 'GET /v1.50/containers/nope/json HTTP/1.1');
  } finally {
    d.close();
  }
});

test('client: downgrades the API version when the daemon says it is too new', async () => {
  const d = await fakeDaemon((head, sock) => {
    if (head.startsWith('GET /v1.50/'))
      respond(sock, '400 Bad Request', '{"message":"client version 1.50 is too new. Maximum supported API version is 1.41"}');
    else respond(sock, '200 OK', '[]');
  });
  try {
    const c = new EngineClient({ host: d.host });
    assert.deepEqual(await c.containerList({ all: true }), []);
    assert.equal(c.apiVersion, '1.41');
    assert.deepEqual(d.requests, ['GET /v1.50/containers/json?all=1 HTTP/1.1', 'GET /v1.41/containers/json?all=1 HTTP/1.1']);
  } finally {
    d.close();
  }
});

test('client: concurrent requests that all hear "too new" all retry at the lower version', async () => {
  const d = await fakeDaemon((head, sock) => {
    if (head.includes(' /v1.50/'))
      respond(sock, '400 Bad Request', '{"message":"client version 1.50 is too new. Maximum supported API version is 1.41"}');
    else respond(sock, '200 OK', '[]');
  });
  try {
    const c = new EngineClient({ host: d.host });
    // compose up asks for images, networks and volumes side by side as its first requests
    const all = await Promise.all([c.containerList(), c.networkList(), c.imageList()]);
    assert.deepEqual(all, [[], [], []]);
    assert.equal(c.apiVersion, '1.41');
  } finally {
    d.close();
  }
});

test('client: ping negotiates down to the daemon version', async () => {
  const d = await fakeDaemon((_head, sock) => respond(sock, '200 OK', '', { 'Api-Version': '1.45', 'Content-Type': 'text/plain' }));
  try {
    const c = new EngineClient({ host: d.host });
    const p = await c.ping();
    assert.equal(p.apiVersion, '1.45');
    assert.equal(c.apiVersion, '1.45');
    assert.equal(d.requests[0], 'HEAD /_ping HTTP/1.1');
  } finally {
    d.close();
  }
});

test('client: hijacked attach streams both ways and honours half-close', async () => {
  const d = await fakeDaemon((head, sock) => {
    assert.match(head, /^POST \/v1\.50\/containers\/c1\/attach\?stream=1&stdin=1&stdout=1&stderr=1 /);
    assert.match(head, /\r\nUpgrade: tcp/i);
    sock.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    let input = '';
    sock.on('data', (c) => (input += c.toString()));
    sock.on('end', () => {
      // stdin closed: echo it back as stdout, then close
      sock.end(frame(1, input.toUpperCase()));
    });
  });
  try {
    const c = new EngineClient({ host: d.host });
    const s = await c.containerAttach('c1', { stdin: true });
    assert.equal(s.contentType, 'application/vnd.docker.multiplexed-stream');
    let out = '';
    const demux = new StdDemuxer((_n, p) => (out += p.toString()));
    const done = new Promise<void>((r) => s.output.on('end', r));
    s.output.on('data', (b: Buffer) => demux.push(b));
    s.input!.write('hello');
    s.closeWrite();
    await done;
    assert.equal(out, 'HELLO');
  } finally {
    d.close();
  }
});

test('client: connection errors are reported like docker', async () => {
  const c = new EngineClient({ host: 'unix:///nonexistent/berth.sock' });
  await assert.rejects(c.info(), { message: 'Cannot connect to the Berth daemon at unix:///nonexistent/berth.sock. Is the berth daemon running?' });
});
