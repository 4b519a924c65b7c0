/**
 * Hijacked exec start at the byte level: a client whose JSON body arrives in its own packet,
 * with stdin and its half-close right behind it, before the process has even started.
 * Regression: after reading such a body the socket was left flowing with no listener, so the
 * stdin bytes and the end of input were dropped and `cat` waited forever.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startDaemonWithMirror, type TestDaemon } from '../helpers/daemon.js';

let d: TestDaemon;
let container = '';

before(async () => {
  d = await startDaemonWithMirror();
  container = (await d.berth(['run', '-d', 'busybox', 'sleep', '300'])).stdout.trim();
});

after(async () => {
  await d?.stop();
});

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const { run } = await import('../helpers/daemon.js');
  const args = ['-s', '-w', '\n%{http_code}', '--unix-socket', d.socket, '-X', method, `http://d/v1.45${path}`];
  if (body !== undefined) args.push('-H', 'Content-Type: application/json', '-d', JSON.stringify(body));
  const r = await run('curl', args);
  const cut = r.stdout.lastIndexOf('\n');
  const text = r.stdout.slice(0, cut);
  return { status: Number(r.stdout.slice(cut + 1)), json: text ? JSON.parse(text) : undefined };
}

test('stdin right behind a separately sent body reaches the process, and so does its end', async () => {
  for (let i = 0; i < 5; i++) {
    const { json } = await api('POST', `/containers/${container}/exec`, { AttachStdin: true, AttachStdout: true, Cmd: ['cat'] });
    const body = JSON.stringify({ Detach: false, Tty: false });
    const sock = connect(d.socket);
    let out = Buffer.alloc(0);
    const closed = new Promise<void>((res) => {
      sock.on('data', (c) => { out = Buffer.concat([out, c]); });
      sock.on('close', () => res());
    });
    sock.write(`POST /v1.45/exec/${json.Id}/start HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\n`
      + `Content-Length: ${body.length}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
    await new Promise((r) => setTimeout(r, 20));
    sock.write(body);
    await new Promise((r) => setTimeout(r, 2));
    sock.end(`hello ${i}\n`);
    // generous: on a loaded machine (two test files at once) the exit can take seconds to come back
    const outcome = await Promise.race([closed.then(() => 'closed'), new Promise((r) => setTimeout(() => r('timeout'), 30_000))]);
    sock.destroy();
    if (outcome !== 'closed') {
      // say which half failed: stdin's end never reached cat (still running), or the stream never closed
      const state = await api('GET', `/exec/${json.Id}/json`);
      assert.fail(`round ${i}: the exec stream never closed; exec Running=${state.json?.Running} ExitCode=${state.json?.ExitCode}; got ${JSON.stringify(out.toString())}`);
    }
    // One stdcopy frame on stdout (1) carrying the echoed line.
    const text = out.toString('latin1');
    assert.match(text, /^HTTP\/1\.1 101 UPGRADED\r\n/);
    const payload = out.subarray(out.indexOf('\r\n\r\n') + 4);
    assert.equal(payload[0], 1);
    assert.equal(payload.subarray(8).toString(), `hello ${i}\n`);
    const inspect = await api('GET', `/exec/${json.Id}/json`);
    assert.equal(inspect.json.ExitCode, 0);
  }
});

/** Send raw bytes on a new connection; resolve with what came back when it closes (or at the deadline). */
async function raw(request: string, opts: { end?: boolean; waitMs?: number } = {}): Promise<{ text: string; closed: boolean }> {
  const sock = connect(d.socket);
  let out = '';
  const closed = new Promise<boolean>((res) => {
    sock.on('data', (c) => { out += c.toString('latin1'); });
    sock.on('close', () => res(true));
    sock.on('error', () => undefined);
  });
  sock.write(request);
  if (opts.end) sock.end();
  const ok = await Promise.race([closed, new Promise<boolean>((r) => setTimeout(() => r(false), opts.waitMs ?? 5000))]);
  sock.destroy();
  return { text: out, closed: ok };
}

test('hijack-body-unbounded: a huge Content-Length on a hijacked request is refused before anything is read', async () => {
  const { json } = await api('POST', `/containers/${container}/exec`, { AttachStdout: true, Cmd: ['true'] });
  const r = await raw(`POST /v1.45/exec/${json.Id}/start HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\n`
    + `Content-Length: 10000000000\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n{"Detach":false`);
  assert.ok(r.closed, 'the daemon kept the connection waiting for ten gigabytes');
  assert.match(r.text, /^HTTP\/1\.1 400 /);
  assert.match(r.text, /a hijacked request's body is at most 1048576 bytes/);
});

test('hijack-body-truncated: a connection that ends inside the body gets a 400, and the daemon goes on', async () => {
  const { json } = await api('POST', `/containers/${container}/exec`, { AttachStdout: true, Cmd: ['true'] });
  const r = await raw(`POST /v1.45/exec/${json.Id}/start HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\n`
    + `Content-Length: 100\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n{"Detach":`, { end: true });
  assert.ok(r.closed, 'the connection was never closed');
  assert.match(r.text, /^HTTP\/1\.1 400 /);
  assert.equal((await api('GET', '/version')).status, 200);
});
