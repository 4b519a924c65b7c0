/**
 * berthd on tcp:// with mutual TLS (issue 8), beside its unix socket: a CA, server and client
 * certificates made with openssl; the real docker CLI and `berth` reach the daemon with Docker's
 * flags (--tlsverify --tlscacert --tlscert --tlskey -H tcp://…) and environment (DOCKER_HOST,
 * DOCKER_CERT_PATH, DOCKER_TLS_VERIFY), run containers attached (hijacked streams over TLS), exec;
 * a client without a certificate, or with one from another CA, fails at the TLS handshake, plain
 * HTTP gets no answer, and berthd refuses a tcp:// host without mutual TLS.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { projectRoot } from '../../src/util/paths.js';
import { DOCKER_CLI, run, startDaemonWithMirror, type RunResult, type TestDaemon } from '../helpers/daemon.js';

let d: TestDaemon;
let certs: string;
let port: number;
let tcpHost: string;

/** A port nobody listens on now (the kernel's pick). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function openssl(args: string[]): Promise<void> {
  const r = await run('openssl', args, { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
}

/** A CA (`<name>.pem`, `<name>-key.pem`). */
async function makeCa(name: string): Promise<void> {
  await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-keyout', join(certs, `${name}-key.pem`), '-out', join(certs, `${name}.pem`), '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
}

/** A certificate `<name>-cert.pem` / `<name>-key.pem` signed by CA `ca`, with the given extensions. */
async function makeCert(name: string, ca: string, cn: string, ext: string): Promise<void> {
  const csr = join(certs, `${name}.csr`);
  const extFile = join(certs, `${name}.ext`);
  writeFileSync(extFile, ext);
  await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', join(certs, `${name}-key.pem`), '-out', csr, '-subj', `/CN=${cn}`]);
  await openssl(['x509', '-req', '-in', csr, '-CA', join(certs, `${ca}.pem`), '-CAkey', join(certs, `${ca}-key.pem`),
    '-CAcreateserial', '-days', '2', '-out', join(certs, `${name}-cert.pem`), '-extfile', extFile]);
}

const pem = (name: string) => join(certs, name);

/** An environment with no daemon address and no default certificate folder of its own. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_CONFIG: join(certs, 'empty-config'), ...extra };
  for (const k of ['DOCKER_HOST', 'BERTH_HOST', 'DOCKER_CONTEXT', 'DOCKER_CERT_PATH', 'DOCKER_TLS_VERIFY', 'DOCKER_TLS']) {
    if (!(k in extra)) delete env[k];
  }
  return env;
}

/** Docker's client flags for mutual TLS to the daemon's tcp:// host. */
function tlsFlags(cert = 'client'): string[] {
  return ['--tlsverify', '--tlscacert', pem('ca.pem'), '--tlscert', pem(`${cert}-cert.pem`), '--tlskey', pem(`${cert}-key.pem`), '-H', tcpHost];
}

function cliEntry(): string[] {
  return [join(projectRoot(), 'dist', 'berth.mjs')];
}

const docker = (args: string[], env = cleanEnv(), input?: string): Promise<RunResult> => run(DOCKER_CLI, args, { env, input, timeoutMs: 60_000 });
const berth = (args: string[], env = cleanEnv(), input?: string): Promise<RunResult> => run(process.execPath, [...cliEntry(), ...args], { env, input, timeoutMs: 60_000 });
const clis = { docker, berth };

before(async () => {
  certs = mkdtempSync('/tmp/bt-tls-');
  mkdirSync(join(certs, 'empty-config'));
  await makeCa('ca');
  await makeCa('other-ca');
  await makeCert('server', 'ca', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await makeCert('client', 'ca', 'client', 'extendedKeyUsage=clientAuth\n');
  await makeCert('stranger', 'other-ca', 'client', 'extendedKeyUsage=clientAuth\n');
  // DOCKER_CERT_PATH's layout: ca.pem, cert.pem, key.pem.
  mkdirSync(join(certs, 'client-dir'));
  copyFileSync(pem('ca.pem'), join(certs, 'client-dir', 'ca.pem'));
  copyFileSync(pem('client-cert.pem'), join(certs, 'client-dir', 'cert.pem'));
  copyFileSync(pem('client-key.pem'), join(certs, 'client-dir', 'key.pem'));

  port = await freePort();
  tcpHost = `tcp://127.0.0.1:${port}`;
  d = await startDaemonWithMirror({
    images: ['busybox'],
    extraArgs: ['-H', tcpHost, '--tlsverify', '--tlscacert', pem('ca.pem'), '--tlscert', pem('server-cert.pem'), '--tlskey', pem('server-key.pem')],
  });
  const r = await d.berth(['pull', 'busybox']);
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  await d?.stop();
  if (certs) rmSync(certs, { recursive: true, force: true });
});

for (const via of ['docker', 'berth'] as const) {
  describe(`${via} over tcp:// with mutual TLS`, () => {
    const cli = clis[via];

    test(`${via}: version shows the server through TLS flags`, async () => {
      const r = await cli([...tlsFlags(), 'version']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Server:/);
    });

    test(`${via}: run --rm attaches over TLS, with the exit code`, async () => {
      const r = await cli([...tlsFlags(), 'run', '--rm', 'busybox', 'echo', 'hi']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'hi\n');
      const code = await cli([...tlsFlags(), 'run', '--rm', 'busybox', 'sh', '-c', 'exit 3']);
      assert.equal(code.code, 3, code.stderr);
    });

    test(`${via}: exec (hijacked; stdin and its end reach the process) over TLS`, async () => {
      const name = `tls-exec-${via}`;
      const started = await cli([...tlsFlags(), 'run', '-d', '--name', name, 'busybox', 'sleep', '300']);
      assert.equal(started.code, 0, started.stderr);
      try {
        const r = await cli([...tlsFlags(), 'exec', name, 'sh', '-c', 'echo from-exec; exit 4']);
        assert.equal(r.code, 4, r.stderr);
        assert.equal(r.stdout, 'from-exec\n');
        const i = await cli([...tlsFlags(), 'exec', '-i', name, 'wc', '-c'], cleanEnv(), '12345');
        assert.equal(i.code, 0, i.stderr);
        assert.equal(i.stdout.trim(), '5');
      } finally {
        await cli([...tlsFlags(), 'rm', '-f', name]);
      }
    });

    test(`${via}: DOCKER_HOST, DOCKER_CERT_PATH and DOCKER_TLS_VERIFY instead of flags`, async () => {
      const env = cleanEnv({ DOCKER_HOST: tcpHost, DOCKER_CERT_PATH: join(certs, 'client-dir'), DOCKER_TLS_VERIFY: '1' });
      const r = await cli(['run', '--rm', 'busybox', 'echo', 'env-configured'], env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'env-configured\n');
      // Without DOCKER_TLS_VERIFY the client speaks plain HTTP to the TLS port: no answer.
      const plain = await cli(['version'], cleanEnv({ DOCKER_HOST: tcpHost, DOCKER_CERT_PATH: join(certs, 'client-dir') }));
      assert.notEqual(plain.code, 0);
      assert.doesNotMatch(plain.stdout, /Server:/);
    });

    test(`${via}: no client certificate, or one from another CA, is refused at the handshake`, async () => {
      const none = await cli(['--tlsverify', '--tlscacert', pem('ca.pem'), '-H', tcpHost, 'version']);
      assert.notEqual(none.code, 0, none.stdout);
      assert.doesNotMatch(none.stdout, /Server:/);
      assert.match(none.stderr, /certificate|tls|socket hang up|ECONNRESET/i);
      const stranger = await cli([...tlsFlags('stranger'), 'version']);
      assert.notEqual(stranger.code, 0, stranger.stdout);
      assert.doesNotMatch(stranger.stdout, /Server:/);
      assert.match(stranger.stderr, /certificate|tls|socket hang up|ECONNRESET/i);
    });
  });
}

test('berth: BERTH_HOST with TLS flags; the unix socket keeps working beside tcp', async () => {
  const r = await berth(['--tlsverify', '--tlscacert', pem('ca.pem'), '--tlscert', pem('client-cert.pem'), '--tlskey', pem('client-key.pem'), 'version', '--format', '{{.Server.Version}}'],
    cleanEnv({ BERTH_HOST: tcpHost }));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\d+\.\d+/);
  const local = await d.docker(['version', '--format', '{{.Server.Version}}']);
  assert.equal(local.code, 0, local.stderr);
  assert.equal(local.stdout, r.stdout);
});

test('curl: the handshake needs a client certificate from the CA; plain HTTP gets no answer', async () => {
  const url = `https://127.0.0.1:${port}/_ping`;
  const good = await run('curl', ['-sS', '--cacert', pem('ca.pem'), '--cert', pem('client-cert.pem'), '--key', pem('client-key.pem'), url]);
  assert.equal(good.stdout, 'OK', good.stderr);
  for (const args of [[], ['--cert', pem('stranger-cert.pem'), '--key', pem('stranger-key.pem')]]) {
    const bad = await run('curl', ['-sS', '--cacert', pem('ca.pem'), ...args, url]);
    assert.notEqual(bad.code, 0);
    assert.notEqual(bad.stdout, 'OK');
  }
  const plain = await run('curl', ['-sS', '--max-time', '20', `http://127.0.0.1:${port}/_ping`]);
  assert.notEqual(plain.code, 0);
  assert.notEqual(plain.stdout, 'OK');
});

test('berthd refuses tcp:// without mutual TLS, and TLS without client verification', async () => {
  const root = mkdtempSync('/tmp/bt-tlsd-');
  try {
    const daemon = join(projectRoot(), 'dist', 'berthd.mjs');
    const base = ['--data-root', join(root, 'data'), '--pidfile', join(root, 'pid'), '--config-file', join(root, 'daemon.json'), '--bridge', 'none'];
    const otherPort = await freePort();
    const plain = await run(process.execPath, [daemon, ...base, '-H', `unix://${join(root, 's.sock')}`, '-H', `tcp://127.0.0.1:${otherPort}`], { env: cleanEnv(), timeoutMs: 20_000 });
    assert.equal(plain.code, 1);
    assert.match(plain.stderr, /refusing to listen on tcp:\/\/127\.0\.0\.1:\d+ without --tlsverify/);
    assert.match(plain.stderr, /root access/);
    const serverOnly = await run(process.execPath, [daemon, ...base, '-H', `tcp://127.0.0.1:${otherPort}`, '--tls', '--tlsverify=false',
      '--tlscert', pem('server-cert.pem'), '--tlskey', pem('server-key.pem')], { env: cleanEnv(), timeoutMs: 20_000 });
    assert.equal(serverOnly.code, 1);
    assert.match(serverOnly.stderr, /refusing --tlsverify=false/);
    // The CA file defaults to ~/.docker/ca.pem (here DOCKER_CONFIG's folder, empty): named when missing.
    const noCa = await run(process.execPath, [daemon, ...base, '-H', `tcp://127.0.0.1:${otherPort}`, '--tlsverify',
      '--tlscert', pem('server-cert.pem'), '--tlskey', pem('server-key.pem')], { env: cleanEnv(), timeoutMs: 20_000 });
    assert.equal(noCa.code, 1);
    assert.match(noCa.stderr, /could not read CA certificate ".*empty-config\/ca\.pem"/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
