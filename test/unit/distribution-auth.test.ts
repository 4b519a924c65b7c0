import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { parseChallenges, basicCredentials } from '../../src/engine/distribution/auth.js';
import { RegistryClient, MediaTypes } from '../../src/engine/distribution/client.js';
import { resolveEndpoints } from '../../src/engine/distribution/endpoints.js';
import { translatePullError } from '../../src/engine/distribution/errors.js';
import { BerthError, NotFoundError, UnauthorizedError } from '../../src/engine/errors.js';
import { parseDockerRef } from '../../src/wire/reference.js';

test('parseChallenges: Bearer with quoted params', () => {
  const c = parseChallenges('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:library/busybox:pull"');
  assert.deepEqual(c, [{ scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:library/busybox:pull' } }]);
});

test('parseChallenges: several challenges, commas inside quotes, escapes, unquoted values', () => {
  const c = parseChallenges('Basic realm="Registry Realm", Bearer realm="http://a/t",scope="repository:a/b:pull,push",error="insufficient_scope", Other x=1');
  assert.equal(c.length, 3);
  assert.deepEqual(c[0], { scheme: 'basic', params: { realm: 'Registry Realm' } });
  assert.deepEqual(c[1], { scheme: 'bearer', params: { realm: 'http://a/t', scope: 'repository:a/b:pull,push', error: 'insufficient_scope' } });
  assert.deepEqual(c[2], { scheme: 'other', params: { x: '1' } });
  assert.deepEqual(parseChallenges('Bearer realm="a\\"b"')[0]!.params.realm, 'a"b');
  assert.deepEqual(parseChallenges(['Basic realm="x"', 'Bearer realm="y"']).map((x) => x.scheme), ['basic', 'bearer']);
  assert.deepEqual(parseChallenges(undefined), []);
});

test('basicCredentials: username/password or base64 auth', () => {
  assert.deepEqual(basicCredentials({ username: 'u', password: 'p' }), { username: 'u', password: 'p' });
  assert.deepEqual(basicCredentials({ auth: Buffer.from('a:b:c').toString('base64') }), { username: 'a', password: 'b:c' });
  assert.equal(basicCredentials({}), undefined);
});

// ---- a tiny fake registry with a token server, on loopback ----

const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
const configDigest = 'sha256:' + createHash('sha256').update(config).digest('hex');
const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: { mediaType: MediaTypes.ociConfig, digest: configDigest, size: config.length }, layers: [] }));
const manifestDigest = 'sha256:' + createHash('sha256').update(manifest).digest('hex');

let registry: http.Server;
let storage: http.Server;
let base = '';
let storageBase = '';
const tokenRequests: Array<{ scope: string | null; service: string | null; authorization?: string }> = [];
const storageAuthHeaders: Array<string | undefined> = [];

function listen(s: http.Server): Promise<string> {
  return new Promise((res) => s.listen(0, '127.0.0.1', () => res(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));
}

before(async () => {
  storage = http.createServer((req, res) => {
    storageAuthHeaders.push(req.headers.authorization);
    res.writeHead(200, { 'Content-Length': config.length }).end(config);
  });
  storageBase = await listen(storage);
  registry = http.createServer((req, res) => {
    const url = new URL(req.url!, base);
    if (url.pathname === '/token') {
      const scope = url.searchParams.get('scope');
      tokenRequests.push({ scope, service: url.searchParams.get('service'), authorization: req.headers.authorization });
      if (scope === 'repository:library/secret:pull') {
        if (req.headers.authorization !== 'Basic ' + Buffer.from('alice:s3cret').toString('base64')) {
          res.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'incorrect username or password' }] }));
          return;
        }
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ access_token: 'tok-secret', expires_in: 300 }));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token: `tok-${scope}` }));
      return;
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/(.+)$/.exec(url.pathname);
    if (!m) { res.writeHead(404).end(); return; }
    const [, repo, kind, ref] = m;
    if (repo === 'basic/app') {
      if (req.headers.authorization !== 'Basic ' + Buffer.from('bob:pw').toString('base64')) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="fake"', 'Content-Type': 'application/json' })
          .end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
        return;
      }
    } else {
      const want = repo === 'library/secret' ? 'Bearer tok-secret' : `Bearer tok-repository:${repo}:pull`;
      if (req.headers.authorization !== want) {
        res.writeHead(401, {
          'WWW-Authenticate': `Bearer realm="${base}/token",service="fake.registry",scope="repository:${repo}:pull"`,
          'Content-Type': 'application/json',
        }).end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
        return;
      }
    }
    if (kind === 'manifests') {
      if (ref === 'latest' || ref === manifestDigest) {
        res.writeHead(200, { 'Content-Type': MediaTypes.ociManifest, 'Docker-Content-Digest': manifestDigest }).end(manifest);
        return;
      }
      res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: ref } }] }));
      return;
    }
    // blobs: redirect to "storage" on another origin
    res.writeHead(307, { Location: `${storageBase}/blob/${ref}` }).end();
  });
  base = await listen(registry);
});

after(() => {
  registry.close();
  storage.close();
  registry.closeAllConnections();
  storage.closeAllConnections();
});

function clientFor(repo: string, auth?: { username: string; password: string }) {
  const [ep] = resolveEndpoints(new URL(base).host);
  return new RegistryClient(ep!, repo, { auth });
}

test('token flow: anonymous token, cached for the next request', async () => {
  tokenRequests.length = 0;
  const c = clientFor('library/busybox');
  const m = await c.getManifest('latest');
  assert.equal(m.digest, manifestDigest);
  assert.equal(m.kind, 'manifest');
  assert.equal(m.mediaType, MediaTypes.ociManifest);
  await c.getManifest(manifestDigest);
  assert.equal(tokenRequests.length, 1, 'token fetched once, then reused');
  assert.deepEqual(tokenRequests[0], { scope: 'repository:library/busybox:pull', service: 'fake.registry', authorization: undefined });
});

test('token flow: basic credentials to the realm, access_token field; blob redirect drops Authorization', async () => {
  tokenRequests.length = 0;
  storageAuthHeaders.length = 0;
  const c = clientFor('library/secret', { username: 'alice', password: 's3cret' });
  const m = await c.getManifest('latest');
  assert.equal(m.digest, manifestDigest);
  const cfg = await c.getBlobBytes(configDigest);
  assert.deepEqual(cfg, config);
  assert.equal(tokenRequests.length, 1);
  assert.equal(tokenRequests[0]!.authorization, 'Basic ' + Buffer.from('alice:s3cret').toString('base64'));
  assert.deepEqual(storageAuthHeaders, [undefined], 'credentials are not sent to the redirect target');
});

test('token flow: wrong credentials give a clear unauthorized error', async () => {
  const c = clientFor('library/secret', { username: 'alice', password: 'nope' });
  const err = await c.getManifest('latest').catch((e) => e);
  assert.ok(err instanceof UnauthorizedError, String(err));
  // As dockerd (Go's url.Error around the token endpoint's refusal), and not a 401 of the pull:
  // the docker CLI would take that as "log in and retry".
  const t = translatePullError(err, parseDockerRef('127.0.0.1:1/library/secret'));
  assert.equal((t as BerthError).code, 'SYSTEM', String(err));
  assert.match(t.message, /^Get "http:\/\/127\.0\.0\.1:\d+\/v2\/library\/secret\/manifests\/latest": unauthorized: incorrect username or password$/);
});

test('basic auth challenge', async () => {
  const ok = await clientFor('basic/app', { username: 'bob', password: 'pw' }).getManifest('latest');
  assert.equal(ok.digest, manifestDigest);
  // Without credentials: distribution's basic handler has none to send (dockerd's message).
  const err = await clientFor('basic/app').getManifest('latest').catch((e) => e);
  assert.ok(err instanceof UnauthorizedError, String(err));
  const t = translatePullError(err, parseDockerRef('127.0.0.1:1/basic/app'));
  assert.equal((t as BerthError).code, 'SYSTEM');
  assert.match(t.message, /^Get "http:\/\/127\.0\.0\.1:\d+\/v2\/basic\/app\/manifests\/latest": no basic auth credentials$/);
});

test('unknown tag: Docker\'s manifest-not-found message; digest mismatch detected', async () => {
  const c = clientFor('library/busybox');
  const err = await c.getManifest('nosuch').catch((e) => e);
  const t = translatePullError(err, parseDockerRef('busybox:nosuch'));
  assert.ok(t instanceof NotFoundError);
  assert.equal(t.message, 'manifest for busybox:nosuch not found: manifest unknown: manifest unknown');
});
