import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveEndpoints, isInsecure, isLoopback, normalizeMirror, DOCKER_HUB_ENDPOINT } from '../../src/engine/distribution/endpoints.js';

test('docker.io: mirrors first (kept as given), then Docker Hub', () => {
  const eps = resolveEndpoints('docker.io', { mirrors: ['http://127.0.0.1:5000', 'mirror.internal:5001/'] });
  assert.deepEqual(eps.map((e) => e.url), ['http://127.0.0.1:5000', 'https://mirror.internal:5001', DOCKER_HUB_ENDPOINT]);
  assert.deepEqual(eps.map((e) => e.mirror), [true, true, false]);
  assert.equal(eps[2]!.fallbackOnNetworkError, false);
});

test('docker.io without mirrors: only the hub endpoint; override for tests', () => {
  assert.deepEqual(resolveEndpoints('docker.io').map((e) => e.url), [process.env.BERTH_HUB_ENDPOINT ?? DOCKER_HUB_ENDPOINT]);
  assert.deepEqual(resolveEndpoints('docker.io', { hubEndpoint: 'http://127.0.0.1:1/' }).map((e) => e.url), ['http://127.0.0.1:1']);
});

test('mirrors do not apply to other registries', () => {
  const eps = resolveEndpoints('quay.example:443', { mirrors: ['http://127.0.0.1:5000'] });
  assert.deepEqual(eps.map((e) => e.url), ['https://quay.example:443']);
  assert.equal(eps[0]!.insecureTLS, false);
});

test('loopback registries speak plain http', () => {
  for (const d of ['localhost:5000', '127.0.0.1:5000', '127.1.2.3', 'localhost', '[::1]:5000']) {
    assert.ok(isLoopback(d), d);
    assert.deepEqual(resolveEndpoints(d).map((e) => e.url), [`http://${d}`]);
  }
  assert.ok(!isLoopback('128.0.0.1:5000'));
  assert.ok(!isLoopback('localhost.example.com'));
});

test('insecure-registries: https without verification, then http', () => {
  const cfg = { insecure: ['reg.lan:5000', '10.0.0.0/8'] };
  assert.ok(isInsecure('reg.lan:5000', cfg.insecure));
  assert.ok(isInsecure('10.1.2.3:443', cfg.insecure));
  assert.ok(!isInsecure('11.1.2.3', cfg.insecure));
  const eps = resolveEndpoints('reg.lan:5000', cfg);
  assert.deepEqual(eps.map((e) => [e.url, e.insecureTLS, e.fallbackOnNetworkError]), [
    ['https://reg.lan:5000', true, true],
    ['http://reg.lan:5000', false, false],
  ]);
});

test('normalizeMirror', () => {
  assert.equal(normalizeMirror('http://127.0.0.1:5000/'), 'http://127.0.0.1:5000');
  assert.equal(normalizeMirror('https://m.example/v2/'), 'https://m.example');
  assert.equal(normalizeMirror('m.example'), 'https://m.example');
  assert.throws(() => normalizeMirror('ftp://x'));
});
