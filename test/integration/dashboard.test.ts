/**
 * The dashboard's serving and security against a real berthd (`--dashboard 127.0.0.1:0`):
 * `berth dashboard` prints a login link with the per-install token (file 0600 in the data root),
 * the link sets an HttpOnly cookie, and the Engine API under /api/ answers only the dashboard's
 * own page: no token, a wrong token, another Host (DNS rebinding), another Origin (another
 * 127.0.0.1 port included), a cross-site fetch, a POST without Origin are all refused. The
 * terminal WebSocket runs a real exec with resize, and refuses other origins too.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { startDaemon, startDaemonWithMirror, type TestDaemon } from '../helpers/daemon.js';

let d: TestDaemon;
let port = 0;
let token = '';
let origin = '';

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; text: string }

function http(method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request({
      host: '127.0.0.1', port, method, path,
      headers: { Host: `127.0.0.1:${port}`, ...(data ? { 'Content-Type': 'application/json', 'Content-Length': String(data.length) } : {}), ...headers },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

const cookie = () => ({ Cookie: `berth_dashboard=${token}` });

before(async () => {
  d = await startDaemonWithMirror({ images: ['busybox'], extraArgs: ['--dashboard', '127.0.0.1:0'] });
  const r = await d.docker(['pull', 'busybox']);
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  await d?.docker(['rm', '-f', 'dash-sh']).catch(() => undefined);
  await d?.stop();
});

describe('berth dashboard', () => {
  test('prints the login link on 127.0.0.1 with the token kept 0600 in the data root', async () => {
    const r = await d.berth(['dashboard']);
    assert.equal(r.code, 0, r.stderr);
    const m = /^http:\/\/127\.0\.0\.1:(\d+)\/\?token=([0-9a-f]{64})\n$/.exec(r.stdout);
    assert.ok(m, r.stdout);
    port = Number(m[1]);
    token = m[2];
    origin = `http://127.0.0.1:${port}`;
    const st = statSync(join(d.root, d.dataRoot, 'dashboard-token'));
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(st.uid, 0);
  });

  test('the link sets an HttpOnly, SameSite=Strict cookie and drops the token from the address', async () => {
    const r = await http('GET', `/?token=${token}`);
    assert.equal(r.status, 303);
    assert.equal(r.headers.location, '/');
    const set = String(r.headers['set-cookie']);
    assert.match(set, new RegExp(`^berth_dashboard=${token};`));
    assert.match(set, /HttpOnly/);
    assert.match(set, /SameSite=Strict/);
    const bad = await http('GET', `/?token=${'0'.repeat(64)}`);
    assert.equal(bad.status, 401);
    assert.equal(bad.headers['set-cookie'], undefined);
  });

  test('the page is served with a same-origin-only Content-Security-Policy', async () => {
    const r = await http('GET', '/');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /text\/html/);
    assert.match(String(r.headers['content-security-policy']), /default-src 'self'/);
    assert.match(r.text, /<div id="app">/);
  });

  test('listens on 127.0.0.1 only (another loopback address is refused)', async () => {
    await assert.rejects(new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.2', port, path: '/' }, resolve);
      req.on('error', reject);
      req.end();
    }), /ECONNREFUSED/);
  });
});

describe('the API under /api/', () => {
  test('answers the dashboard page: token by cookie or by header', async () => {
    const a = await http('GET', '/api/containers/json', cookie());
    assert.equal(a.status, 200, a.text);
    assert.ok(Array.isArray(JSON.parse(a.text)));
    const b = await http('GET', '/api/v1.41/images/json', { 'X-Berth-Token': token, 'Sec-Fetch-Site': 'same-origin' });
    assert.equal(b.status, 200, b.text);
    assert.ok(JSON.parse(b.text).some((i: { RepoTags: string[] }) => i.RepoTags.includes('busybox:latest')));
  });

  test('refuses a request without the token, or with a wrong one', async () => {
    assert.equal((await http('GET', '/api/containers/json')).status, 401);
    const r = await http('GET', '/api/containers/json', { Cookie: `berth_dashboard=${'a'.repeat(64)}` });
    assert.equal(r.status, 401);
    assert.match(JSON.parse(r.text).message, /token is missing or wrong/);
    assert.equal((await http('GET', '/api/containers/json', { 'X-Berth-Token': token.slice(1) })).status, 401);
  });

  test('refuses another Host name (DNS rebinding), even with the token', async () => {
    const r = await http('GET', '/api/containers/json', { ...cookie(), Host: `rebind.example:${port}` });
    assert.equal(r.status, 421);
    assert.equal((await http('GET', '/', { Host: `rebind.example:${port}` })).status, 421);
    assert.equal((await http('GET', '/api/containers/json', { ...cookie(), Host: `127.0.0.1:${port + 1}` })).status, 421);
  });

  test('refuses other origins: another site, another port of 127.0.0.1, a cross-site fetch', async () => {
    for (const o of ['http://evil.example', `http://127.0.0.1:${port + 1}`, 'null', `https://127.0.0.1:${port}`]) {
      const r = await http('GET', '/api/containers/json', { ...cookie(), Origin: o });
      assert.equal(r.status, 403, o);
      assert.match(JSON.parse(r.text).message, /cross-origin request refused/);
    }
    for (const s of ['cross-site', 'same-site']) {
      assert.equal((await http('GET', '/api/containers/json', { ...cookie(), 'Sec-Fetch-Site': s })).status, 403, s);
    }
  });

  test('a state-changing request needs our Origin: without it nothing is created', async () => {
    const body = { Image: 'busybox', Cmd: ['true'] };
    const none = await http('POST', '/api/containers/create?name=dash-forged', cookie(), body);
    assert.equal(none.status, 403);
    const evil = await http('POST', '/api/containers/create?name=dash-forged', { ...cookie(), Origin: 'http://evil.example' }, body);
    assert.equal(evil.status, 403);
    const ps = await d.docker(['ps', '-a', '--format', '{{.Names}}']);
    assert.doesNotMatch(ps.stdout, /dash-forged/);
    const ok = await http('POST', '/api/containers/create?name=dash-forged', { ...cookie(), Origin: origin }, body);
    assert.equal(ok.status, 201, ok.text);
    assert.equal((await d.docker(['rm', 'dash-forged'])).code, 0);
  });
});

/** Open the terminal socket of a new TTY exec in `container` running `cmd`. */
async function openTerminal(container: string, cmd: string[], headers: Record<string, string>): Promise<{ ws: WebSocket; id: string }> {
  const c = await http('POST', `/api/containers/${container}/exec`, { ...cookie(), Origin: origin },
    { Cmd: cmd, Tty: true, AttachStdin: true, AttachStdout: true, AttachStderr: true });
  assert.equal(c.status, 201, c.text);
  const id = JSON.parse(c.text).Id as string;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/exec/${id}/ws?h=24&w=80`, { headers });
  return { ws, id };
}

function refusedStatus(ws: WebSocket): Promise<number> {
  return new Promise((resolve, reject) => {
    ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); res.resume(); });
    ws.on('open', () => reject(new Error('opened')));
    ws.on('error', () => undefined);
  });
}

describe('the terminal WebSocket', () => {
  before(async () => {
    const r = await d.docker(['run', '-d', '--name', 'dash-sh', 'busybox', 'sleep', '600']);
    assert.equal(r.code, 0, r.stderr);
  });

  test('runs a shell in the container with the terminal size, resize and exit code', async () => {
    const { ws } = await openTerminal('dash-sh', ['sh'], { ...cookie(), Origin: origin });
    let out = '';
    let exit: number | null | undefined;
    ws.on('message', (data, binary) => {
      if (binary) out += data.toString();
      else exit = (JSON.parse(data.toString()) as { exit: number | null }).exit;
    });
    const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
    await new Promise<void>((resolve, reject) => { ws.on('open', () => resolve()); ws.on('error', reject); });
    const waitFor = async (re: RegExp) => {
      for (let i = 0; i < 400 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(out, re);
    };
    // Typed at the prompt, as a user would (the shell flushes what came before its line editor).
    await waitFor(/# /);
    ws.send(Buffer.from('echo $((6*7))x; stty size\r'));
    await waitFor(/42x/);
    await waitFor(/24 80/);
    ws.send(JSON.stringify({ resize: [33, 101] }));
    ws.send(Buffer.from('stty size\r'));
    await waitFor(/33 101/);
    ws.send(Buffer.from('exit 7\r'));
    await closed;
    assert.equal(exit, 7);
  });

  test('refuses another origin, no Origin, or no token', async () => {
    const bad = await openTerminal('dash-sh', ['sh'], { ...cookie(), Origin: 'http://evil.example' });
    assert.equal(await refusedStatus(bad.ws), 403);
    const other = await openTerminal('dash-sh', ['sh'], { ...cookie(), Origin: `http://127.0.0.1:${port + 1}` });
    assert.equal(await refusedStatus(other.ws), 403);
    const noOrigin = await openTerminal('dash-sh', ['sh'], cookie());
    assert.equal(await refusedStatus(noOrigin.ws), 403);
    const noToken = await openTerminal('dash-sh', ['sh'], { Origin: origin });
    assert.equal(await refusedStatus(noToken.ws), 401);
    // None of them started: the execs are still waiting to run.
    const inspect = await http('GET', `/api/exec/${bad.id}/json`, cookie());
    assert.equal(JSON.parse(inspect.text).Running, false);
    assert.equal(JSON.parse(inspect.text).Pid, 0);
  });
});

describe('dashboard off', () => {
  test('berth dashboard says how to turn it on', async () => {
    const plain = await startDaemon();
    try {
      const r = await plain.berth(['dashboard']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /the dashboard is off: start berthd with --dashboard 127\.0\.0\.1:PORT/);
    } finally {
      await plain.stop();
    }
  });
});
