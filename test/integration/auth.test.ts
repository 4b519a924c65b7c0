/**
 * login/logout, POST /auth and credentials on pull and push, through both CLIs, against two real
 * registries on loopback that want credentials: htpasswd (Basic) and token auth (Bearer JWTs from
 * test/helpers/token-server.ts). Each CLI keeps its config.json in a folder of the test's own
 * (`--config`), so what one stores is what the next command sends.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { run, startDaemon, type RunResult, type TestDaemon } from '../helpers/daemon.js';
import { projectRoot } from '../../src/util/paths.js';
import { startBasicAuthRegistry, startTokenAuthRegistry, type AuthRegistry } from '../helpers/token-server.js';

let d: TestDaemon;
let basic: AuthRegistry;
let token: AuthRegistry;
const configs = mkdtempSync('/tmp/bt-auth-config-');

before(async () => {
  [basic, token] = await Promise.all([startBasicAuthRegistry(), startTokenAuthRegistry()]);
  d = await startDaemon();
});

after(async () => {
  await d?.stop();
  await basic?.stop();
  await token?.stop();
  await rm(configs, { recursive: true, force: true });
});

type Cli = 'berth' | 'docker';

/** A CLI run with its own config folder. */
function cli(via: Cli, dir: string, args: string[], input = ''): Promise<RunResult> {
  return d[via](['--config', join(configs, dir), ...args], { input, timeoutMs: 120_000 });
}

function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what}: ${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

function storedAuths(dir: string): Record<string, { auth?: string; identitytoken?: string }> {
  return (JSON.parse(readFileSync(join(configs, dir, 'config.json'), 'utf8')) as { auths?: Record<string, { auth?: string }> }).auths ?? {};
}

/** POST /auth straight to the daemon: status and body. */
async function postAuth(body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await run('curl', ['-s', '-w', '\n%{http_code}', '--unix-socket', d.socket, '-H', 'Content-Type: application/json', '-d', JSON.stringify(body), 'http://d/v1.45/auth']);
  const nl = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(nl + 1)), body: JSON.parse(r.stdout.slice(0, nl) || '{}') as Record<string, unknown> };
}

for (const kind of ['basic', 'token'] as const) {
  const reg = () => (kind === 'basic' ? basic : token);
  const image = () => `${reg().reg.host}/library/busybox`;
  /** dockerd's refusal of bad credentials at login, per kind of registry. */
  const badLogin = () => kind === 'basic'
    ? `login attempt to http://${reg().reg.host}/v2/ failed with status: 401 Unauthorized`
    : `Get "http://${reg().reg.host}/v2/": unauthorized: incorrect username or password`;
  /** dockerd's refusal of a pull without credentials. */
  const anonPull = () => kind === 'basic'
    ? new RegExp(`^Error response from daemon: Get "http://${reg().reg.host.replace(/\./g, '\\.')}/v2/library/busybox/manifests/latest": no basic auth credentials$`, 'm')
    : new RegExp(`^Error response from daemon: pull access denied for ${reg().reg.host.replace(/\./g, '\\.')}/library/busybox, repository does not exist or may require 'docker login': denied: requested access to the resource is denied$`, 'm');

  describe(`${kind} auth registry`, () => {
    test(`POST /auth (${kind}): 200 Login Succeeded with the right password, 401 with dockerd's message with a wrong one`, async () => {
      const good = await postAuth({ username: reg().user, password: reg().password, serveraddress: reg().reg.host });
      assert.equal(good.status, 200, JSON.stringify(good.body));
      assert.deepEqual(good.body, { Status: 'Login Succeeded', IdentityToken: '' });
      // Go decodes field names without regard to case.
      const upper = await postAuth({ Username: reg().user, Password: reg().password, ServerAddress: `http://${reg().reg.host}/` });
      assert.equal(upper.status, 200, JSON.stringify(upper.body));
      const bad = await postAuth({ username: reg().user, password: 'wrong', serveraddress: reg().reg.host });
      assert.equal(bad.status, 401);
      assert.equal(bad.body.message, badLogin());
      const scheme = await postAuth({ username: 'a', password: 'b', serveraddress: `ftp://${reg().reg.host}` });
      assert.equal(scheme.status, 400);
      assert.equal(scheme.body.message, `invalid server address "ftp://${reg().reg.host}": unsupported URL scheme "ftp": must be "http" or "https"`);
      if (kind === 'token') {
        const seen = token.tokenRequests.find((t) => t.user === token.user && t.query.get('client_id') === 'docker');
        assert.ok(seen, 'a login token request with client_id=docker');
        assert.equal(seen.query.get('offline_token'), 'true');
        assert.equal(seen.query.get('account'), token.user);
        assert.equal(seen.query.get('scope'), null);
      }
    });

    for (const via of ['berth', 'docker'] as const) {
      test(`${via} (${kind}): pull refused without login; bad password refused and nothing stored; login; pull, push and pull back; logout`, async () => {
        const dir = `${kind}-${via}`;
        const name = image();
        await d.berth(['rmi', '-f', name]);
        const anon = await cli(via, dir, ['pull', name]);
        assert.notEqual(anon.code, 0, anon.stdout);
        assert.match(anon.stderr, anonPull());

        const bad = await cli(via, dir, ['login', '-u', reg().user, '--password-stdin', reg().reg.host], 'wrong\n');
        assert.equal(bad.code, 1, bad.stdout);
        assert.equal(bad.stderr.trim(), `Error response from daemon: ${badLogin()}`);
        assert.throws(() => statSync(join(configs, dir, 'config.json')), /ENOENT/);

        const good = await cli(via, dir, ['login', '-u', reg().user, '--password-stdin', reg().reg.host], `${reg().password}\n`);
        assert.equal(ok(good, 'login'), 'Login Succeeded\n');
        assert.match(good.stderr, /WARNING! Your credentials are stored unencrypted in '.*config\.json'\./);
        const file = join(configs, dir, 'config.json');
        assert.equal(statSync(file).mode & 0o777, 0o600);
        assert.deepEqual(storedAuths(dir), { [reg().reg.host]: { auth: Buffer.from(`${reg().user}:${reg().password}`).toString('base64') } });

        const pulled = ok(await cli(via, dir, ['pull', name]), 'pull');
        assert.match(pulled, /^Status: Downloaded newer image for /m);
        const pushed = `${reg().reg.host}/${via}-${kind}/box:v1`;
        ok(await d.berth(['tag', name, pushed]), 'tag');
        const push = ok(await cli(via, dir, ['push', pushed]), 'push');
        assert.match(push, /^v1: digest: sha256:[0-9a-f]{64} size: \d+$/m);
        ok(await d.berth(['rmi', pushed]), 'rmi');
        ok(await cli(via, dir, ['pull', pushed]), 'pull back');
        // The registry holds it behind its auth: the open twin on the same storage sees it.
        const tags = await run('curl', ['-s', `${reg().open.url}/v2/${via}-${kind}/box/tags/list`]);
        assert.deepEqual(JSON.parse(tags.stdout), { name: `${via}-${kind}/box`, tags: ['v1'] });

        const out = ok(await cli(via, dir, ['logout', `http://${reg().reg.host}/`]), 'logout');
        assert.equal(out, `Removing login credentials for ${reg().reg.host}\n`);
        assert.deepEqual(storedAuths(dir), {});
        // Logged out, a push is refused by the registry (in the progress stream, as dockerd).
        ok(await d.berth(['tag', name, pushed]), 'tag again');
        const refused = await cli(via, dir, ['push', pushed]);
        assert.equal(refused.code, 1, refused.stdout);
        assert.match(refused.stderr, kind === 'basic' ? /no basic auth credentials$/m : /(denied|unauthorized): /m);
        await d.berth(['rmi', '-f', name, pushed]);
        const again = await cli(via, dir, ['pull', name]);
        assert.notEqual(again.code, 0);
        assert.match(again.stderr, anonPull());
      });
    }

    test(`berth login (${kind}) with stored credentials checks them again; docker reads what berth stored`, async () => {
      const dir = `${kind}-shared`;
      ok(await cli('berth', dir, ['login', '-u', reg().user, '-p', reg().password, reg().reg.host]), 'login -p');
      const again = await cli('berth', dir, ['login', reg().reg.host]);
      assert.equal(ok(again, 'login with stored credentials'), `Authenticating with existing credentials... [Username: ${reg().user}]\nTo login with a different account, run 'berth logout' followed by 'berth login'\n\nLogin Succeeded\n`);
      // The docker CLI sends what berth stored.
      const name = image();
      await d.berth(['rmi', '-f', name]);
      ok(await cli('docker', dir, ['pull', name]), 'docker pull with berth-stored credentials');
      ok(await cli('berth', dir, ['logout', reg().reg.host]), 'logout');
      assert.deepEqual(storedAuths(dir), {});
    });
  });
}

test('berth login refuses what docker refuses: --password with --password-stdin, --password-stdin without -u, no TTY', async () => {
  const both = await cli('berth', 'flags', ['login', '-u', 'a', '-p', 'b', '--password-stdin', basic.reg.host], 'x\n');
  assert.equal(both.code, 1);
  assert.equal(both.stderr, 'WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n--password and --password-stdin are mutually exclusive\n');
  const noUser = await cli('berth', 'flags', ['login', '--password-stdin', basic.reg.host], 'x\n');
  assert.equal(noUser.code, 1);
  assert.equal(noUser.stderr, 'Must provide --username with --password-stdin\n');
  const noTty = await cli('berth', 'flags', ['login', basic.reg.host]);
  assert.equal(noTty.code, 1);
  assert.equal(noTty.stderr, 'Error: Cannot perform an interactive login from a non TTY device\n');
  const logout = await cli('berth', 'flags', ['logout']);
  assert.equal(logout.stdout, 'Removing login credentials for https://index.docker.io/v1/\n');
});

test('config.json keeps what berth does not own (other keys, other registries) and Docker Hub goes under its index address', async () => {
  const dir = 'keep';
  ok(await cli('berth', dir, ['login', '-u', basic.user, '--password-stdin', basic.reg.host], `${basic.password}\n`), 'login');
  const file = join(configs, dir, 'config.json');
  const cfg = JSON.parse(readFileSync(file, 'utf8'));
  cfg.psFormat = 'table {{.ID}}';
  cfg.auths['other.example:5000'] = { auth: Buffer.from('x:y').toString('base64') };
  const { writeFileSync } = await import('node:fs');
  writeFileSync(file, JSON.stringify(cfg));
  ok(await cli('berth', dir, ['logout', basic.reg.host]), 'logout');
  const after = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(after.psFormat, 'table {{.ID}}');
  assert.deepEqual(Object.keys(after.auths), ['other.example:5000']);
  // Docker Hub's credentials (a loopback closed port stands for it here: the check fails, nothing is stored).
  const hub = await cli('berth', dir, ['login', '-u', 'a', '--password-stdin'], 'b\n');
  assert.equal(hub.code, 1);
  assert.match(hub.stderr, /^Error response from daemon: /);
  assert.deepEqual(Object.keys(JSON.parse(readFileSync(file, 'utf8')).auths), ['other.example:5000']);
});

/**
 * Drive a command under `script` (a real terminal): answer each prompt once it is printed, so
 * nothing is typed ahead of it. Resolves with everything the terminal showed and the exit code.
 */
function onTerminal(command: string, answers: Array<[prompt: string, answer: string]>): Promise<{ code: number; screen: string; afterLast: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, BERTH_HOST: d.host, DOCKER_HOST: d.host } });
    let screen = '';
    let next = 0;
    let lastAt = -1;
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no end on the terminal:\n${screen}`)); }, 120_000);
    const onOut = (c: Buffer) => {
      screen += c.toString('utf8');
      while (next < answers.length && screen.indexOf(answers[next]![0], lastAt + 1) >= 0) {
        lastAt = screen.indexOf(answers[next]![0], lastAt + 1);
        child.stdin.write(answers[next]![1]);
        next++;
      }
    };
    child.stdout.on('data', onOut);
    child.stderr.on('data', onOut);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, screen, afterLast: screen.slice(lastAt) });
    });
  });
}

test('berth login on a terminal: prompts for the username and, without echo, the password', async () => {
  const cfg = join(configs, 'tty');
  const cmd = `${process.execPath} ${join(projectRoot(), 'dist', 'berth.mjs')} --config ${cfg} login ${basic.reg.host}`;
  const r = await onTerminal(cmd, [['Username: ', `${basic.user}\r`], ['Password: ', `${basic.password}\r`]]);
  assert.equal(r.code, 0, r.screen);
  assert.match(r.screen, /Username: /);
  assert.match(r.screen, /Login Succeeded/);
  assert.ok(!r.afterLast.includes(basic.password), `the password was echoed:\n${r.screen}`);
  assert.deepEqual(storedAuths('tty'), { [basic.reg.host]: { auth: Buffer.from(`${basic.user}:${basic.password}`).toString('base64') } });
});

test('docker-py: login() against both registries, a refusal as an APIError', async () => {
  for (const reg of [basic, token]) {
    const script = [
      'import docker, json',
      `c = docker.DockerClient(base_url=${JSON.stringify(d.host)})`,
      `print(json.dumps(c.login(username=${JSON.stringify(reg.user)}, password=${JSON.stringify(reg.password)}, registry=${JSON.stringify(reg.reg.host)}, reauth=True)))`,
      'try:',
      `    c.login(username=${JSON.stringify(reg.user)}, password="wrong", registry=${JSON.stringify(reg.reg.host)}, reauth=True)`,
      '    print("no error")',
      'except docker.errors.APIError as e:',
      '    print(e.status_code)',
    ].join('\n');
    const r = await run('/usr/bin/python3', ['-c', script]);
    assert.equal(r.code, 0, r.stderr);
    const [first, second] = r.stdout.trim().split('\n');
    assert.deepEqual(JSON.parse(first!), { Status: 'Login Succeeded', IdentityToken: '' });
    assert.equal(second, '401');
  }
});

test('a token endpoint that gives refresh tokens: login stores the identity token, not the password; pulls use the refresh-token grant (both CLIs)', async () => {
  const reg = await startTokenAuthRegistry({ refreshTokens: true });
  try {
    for (const via of ['berth', 'docker'] as const) {
      const dir = `refresh-${via}`;
      const login = await cli(via, dir, ['login', '-u', reg.user, '--password-stdin', reg.reg.host], `${reg.password}\n`);
      assert.equal(ok(login, 'login'), 'Login Succeeded\n');
      assert.doesNotMatch(login.stderr, /stored unencrypted/, 'no password stored, no warning');
      const entry = storedAuths(dir)[reg.reg.host]!;
      assert.equal(entry.auth, Buffer.from(`${reg.user}:`).toString('base64'));
      assert.match(entry.identitytoken ?? '', /^rt-[0-9a-f]{24}$/);
      const name = `${reg.reg.host}/library/busybox`;
      await d.berth(['rmi', '-f', name]);
      const before = reg.tokenRequests.length;
      ok(await cli(via, dir, ['pull', name]), 'pull with the identity token');
      const grants = reg.tokenRequests.slice(before).filter((t) => t.query.get('grant_type') === 'refresh_token');
      assert.ok(grants.length >= 1, 'the pull asked with the refresh token');
      assert.equal(grants[0]!.user, reg.user);
      assert.equal(grants[0]!.query.get('refresh_token'), entry.identitytoken);
      assert.equal(grants[0]!.query.get('scope'), 'repository:library/busybox:pull');
      await d.berth(['rmi', '-f', name]);
    }
    // POST /auth with the identity token alone (as a client that stored it) is a login too.
    const token = storedAuths('refresh-berth')[reg.reg.host]!.identitytoken;
    const again = await postAuth({ username: reg.user, identitytoken: token, serveraddress: reg.reg.host });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.Status, 'Login Succeeded');
  } finally {
    await reg.stop();
  }
});
