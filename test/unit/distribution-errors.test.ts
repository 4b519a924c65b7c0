import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statusOf } from '../../src/api/errors.js';
import { DigestMismatchError as ContentDigestMismatch, ContentStore } from '../../src/engine/content/store.js';
import { DigestMismatchError, RegistryHttpError, TokenError, translatePullError } from '../../src/engine/distribution/errors.js';
import { NetworkError } from '../../src/engine/distribution/http.js';
import { translatePushError } from '../../src/engine/distribution/push.js';
import { DigestMismatchError as EngineDigestMismatch, RegistryProtocolError } from '../../src/engine/errors.js';
import { parseDockerRef } from '../../src/wire/reference.js';

const ref = parseDockerRef('busybox');

test('registry, token and network errors are typed: each maps to dockerd status', () => {
  const http = (status: number, code?: string) => new RegistryHttpError(status, code ? [{ code, message: 'm' }] : [], 'https://r/v2/', 'GET');
  assert.equal(statusOf(http(401)), 401);
  assert.equal(statusOf(http(403)), 403);
  assert.equal(statusOf(http(404)), 404);
  assert.equal(statusOf(http(429)), 503);
  assert.equal(statusOf(http(503)), 503);
  assert.equal(statusOf(http(500)), 500);
  assert.equal(statusOf(new TokenError('unauthorized: incorrect username or password')), 401);
  assert.equal(statusOf(new NetworkError('Get "https://r/v2/": dial tcp: connection refused', 'https://r/v2/')), 503);
  assert.equal(statusOf(new RegistryProtocolError('unsupported manifest media type x')), 500);
});

test('pull and push keep Docker wording for registry answers, and pass typed errors through', () => {
  const unknown = translatePullError(new RegistryHttpError(404, [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }], 'u'), ref);
  assert.equal(statusOf(unknown), 404);
  assert.match(unknown.message, /^manifest for busybox:latest not found/);
  const denied = translatePullError(new RegistryHttpError(401, [], 'u'), ref);
  assert.equal(statusOf(denied), 404, 'dockerd reports a denied pull as not found');
  assert.match(denied.message, /^pull access denied for busybox/);
  const net = new NetworkError('Get "https://r/v2/": dial tcp: connection refused', 'https://r/v2/');
  assert.equal(translatePullError(net, ref), net);
  assert.equal(statusOf(translatePushError(net)), 503);
  assert.equal(statusOf(translatePushError(new TokenError('denied'))), 401);
  assert.equal(statusOf(translatePushError(new RegistryHttpError(404, [], 'u'))), 500, 'push: any other registry answer is a 500, as before');
  assert.equal(statusOf(translatePullError(new Error('boom'), ref)), 500);
});

test('one DigestMismatchError, a 400, raised by the content store and by distribution alike', async () => {
  assert.equal(ContentDigestMismatch, EngineDigestMismatch);
  assert.equal(DigestMismatchError, EngineDigestMismatch);
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const root = await mkdtemp(join(tmpdir(), 'berth-cs-'));
  try {
    const cs = new ContentStore(root);
    await cs.init();
    const err = await cs.put(Buffer.from('x'), 'sha256:' + '0'.repeat(64)).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof DigestMismatchError);
    assert.equal(statusOf(err), 400);
    assert.equal(err.expected, 'sha256:' + '0'.repeat(64));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
