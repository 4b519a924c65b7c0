/**
 * Regressions for the 5xx the API fuzzing harness (test/integration/api-fuzz.test.ts) found, each
 * named after what it was; the ones that need a live daemon are in that file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseQuery, splitTarget, unescape } from '../../src/api/target.js';
import { MAX_JSON_DEPTH, parseJson } from '../../src/api/router.js';
import { buildRouter } from '../../src/api/server.js';
import { checkBody } from '../../src/api/body.js';
import { CONTAINER_CONFIG, CONTAINER_CREATE, EXEC_START, NETWORK_CONNECT } from '../../src/api/schemas.js';
import { statusOf } from '../../src/api/errors.js';
import { ContainerStore } from '../../src/engine/containers/store.js';
import type { ContainerRecord } from '../../src/engine/containers/types.js';
import { processGone } from '../../src/engine/host/process.js';
import { validateVolumeName } from '../../src/engine/volumes/names.js';

function status(fn: () => unknown): number {
  try { fn(); } catch (e) { return statusOf(e); }
  return 200;
}

test('fuzz-uri-malformed: a broken escape in a path parameter is a 400 with Go\'s message, not a URIError 500', () => {
  const router = buildRouter();
  for (const bad of ['%', '%zz', '%E0%A4%A']) {
    assert.throws(() => router.match('GET', `/containers/${bad}/json`), (e) => statusOf(e) === 400 && /invalid URL escape "%/.test((e as Error).message));
  }
  // Escapes of bytes that are no UTF-8 decode as Go prints them (U+FFFD), then meet a 404 as a name.
  const m = router.match('GET', '/containers/%C0%AF/json');
  assert.ok(m && m !== 'method');
  assert.equal(m.params[0], '\ufffd\ufffd');
  assert.equal(unescape('a%2Fb%20c'), 'a/b c');
});

test('fuzz-query-escapes: the query is read as Go reads it (400 on a broken escape or a semicolon)', () => {
  assert.equal(status(() => parseQuery('a=%zz')), 400);
  assert.equal(status(() => parseQuery('a=1;b=2')), 400);
  const q = parseQuery('a=1&a=2&b=x+y&c&=v');
  assert.deepEqual(q.getAll('a'), ['1', '2']);
  assert.equal(q.get('b'), 'x y');
  assert.equal(q.get('c'), '');
});

test('fuzz-path-tricks: `//`, `..` and `%2e%2e` are not folded into another route', () => {
  assert.equal(splitTarget('//host/containers/json').path, '//host/containers/json');
  assert.equal(splitTarget('/containers/../images/json').path, '/containers/../images/json');
  assert.equal(splitTarget('http://h/v1.45/_ping?x=1').path, '/v1.45/_ping');
  assert.equal(status(() => splitTarget('*')), 400);
  assert.equal(buildRouter().match('GET', '/containers/../images/json'), undefined);
});

test('fuzz-deep-json: nesting past the bound is a 400 before any recursive code sees it (was a stack overflow 500)', () => {
  const deep = (n: number) => Buffer.from('['.repeat(n) + ']'.repeat(n));
  assert.equal(status(() => parseJson(deep(20_000))), 400);
  assert.doesNotThrow(() => parseJson(deep(MAX_JSON_DEPTH)));
  // Brackets inside strings do not count.
  assert.doesNotThrow(() => parseJson(Buffer.from(JSON.stringify({ a: '['.repeat(5000) }))));
});

test('fuzz-create-deep-types: a wrong type anywhere in the create body is a 400 naming the field (was a TypeError 500)', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ Image: 'x', HostConfig: { LogConfig: { Config: { 'max-size': 5 } } } }, /field HostConfig\.LogConfig\.Config\.max-size must be a string/],
    [{ Image: 'x', HostConfig: { Memory: 1.5 } }, /field HostConfig\.Memory must be an integer/],
    [{ Image: 'x', HostConfig: { Memory: 1e400 } }, /field HostConfig\.Memory must be an integer/],
    [{ Image: 'x', HostConfig: { BlkioWeight: -1 } }, /field HostConfig\.BlkioWeight must be an integer from 0 to 65535/],
    [{ Image: 'x', HostConfig: { PortBindings: { '80/tcp': [{ HostPort: 80 }] } } }, /field HostConfig\.PortBindings\.80\/tcp\[0\]\.HostPort must be a string/],
    [{ Image: 'x', HostConfig: { Mounts: [{ TmpfsOptions: { Mode: 'x' } }] } }, /field HostConfig\.Mounts\[0\]\.TmpfsOptions\.Mode must be an integer/],
    [{ Image: 'x', NetworkingConfig: { EndpointsConfig: { bridge: { Aliases: 'a' } } } }, /field NetworkingConfig\.EndpointsConfig\.bridge\.Aliases must be a list of strings/],
    [{ Image: 'x', ExposedPorts: { '80/tcp': 1 } }, /field ExposedPorts\.80\/tcp must be an object/],
    [{ Image: 5 }, /field Image must be a string/],
  ];
  for (const [body, message] of cases) {
    assert.throws(() => checkBody(body, CONTAINER_CREATE), (e) => statusOf(e) === 400 && message.test((e as Error).message), JSON.stringify(body));
  }
  // Null is a zero value, unknown fields are ignored, a string is a StrSlice: as Go decodes them.
  assert.doesNotThrow(() => checkBody({ Image: 'x', Cmd: 'sh', HostConfig: { Memory: null, Nope: [1] }, Labels: { a: null } }, CONTAINER_CREATE));
  assert.throws(() => checkBody({ Labels: [] }, CONTAINER_CONFIG), /field Labels must be an object/);
});

test('fuzz-network-connect-types: a non-string Container is a 400 (was "e.startsWith is not a function")', () => {
  assert.throws(() => checkBody({ Container: -1 }, NETWORK_CONNECT), /field Container must be a string/);
  assert.throws(() => checkBody({ Container: 'c', EndpointConfig: [] }, NETWORK_CONNECT), /field EndpointConfig must be an object/);
});

test('fuzz-exec-start-types: Detach must be a boolean ("9" detached the exec before)', () => {
  assert.throws(() => checkBody({ Detach: '9' }, EXEC_START), /field Detach must be a boolean/);
  assert.throws(() => checkBody({ ConsoleSize: [24, -1] }, EXEC_START), /field ConsoleSize\[1\] must be an integer/);
});

test('fuzz-stop-vs-rm: saving the record of a container removed meanwhile is a 404, not ENOENT (500)', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-fuzz-'));
  try {
    const store = new ContainerStore(root);
    const id = 'ef'.repeat(32);
    const rec = { Id: id, Name: '/fz', State: { Status: 'created' } } as unknown as ContainerRecord;
    await mkdir(store.dir(id), { recursive: true });
    await store.save(rec);
    await store.delete(rec);
    await assert.rejects(store.save(rec), (e) => statusOf(e) === 404 && /No such container/.test((e as Error).message));
    assert.equal(store.find(id), undefined, 'not back in the index');
    assert.equal(existsSync(store.dir(id)), false, 'no ghost folder recreated by the late write');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('fuzz-pause-exec-after-exit: a process that is gone (or a zombie) is told apart from a live one', () => {
  assert.equal(processGone(process.pid), false);
  assert.equal(processGone(0), true);
  assert.equal(processGone(2 ** 22 + 12345), true);
});

test('fuzz-volume-name-too-long: a 4,097-character volume name is a 400 (was a 500 ENAMETOOLONG from mkdir)', () => {
  assert.equal(status(() => validateVolumeName('x'.repeat(4097))), 400);
  assert.doesNotThrow(() => validateVolumeName('x'.repeat(255)));
});

test('fuzz-null-in-struct-list: a null in a list of structs is its zero value, so Ulimits: [null] is a 400, not a TypeError 500', async () => {
  const { ulimits } = await import('../../src/engine/containers/host-options.js');
  const body = checkBody({ Image: 'busybox', HostConfig: { Ulimits: [null], Devices: [null], PortBindings: { '80/tcp': [null] } } }, CONTAINER_CREATE);
  const hc = body.HostConfig as Record<string, unknown>;
  assert.deepEqual(hc.Ulimits, [{}]);
  assert.deepEqual(hc.Devices, [{}]);
  assert.deepEqual((hc.PortBindings as Record<string, unknown>)['80/tcp'], [{}]);
  assert.equal(status(() => ulimits(hc)), 400);
});

test('fuzz-null-in-string-list: a null in a list or map of strings is "", so commit with Env: [null] is no TypeError 500', async () => {
  const { mergeConfig } = await import('../../src/engine/images/commit.js');
  const config = checkBody({ Cmd: ['a', null], Env: [null, 'A=1'], Entrypoint: [null], Labels: { a: null }, Volumes: { '/v': null } }, CONTAINER_CONFIG);
  assert.deepEqual(config.Cmd, ['a', '']);
  assert.deepEqual(config.Env, ['', 'A=1']);
  assert.deepEqual(config.Entrypoint, ['']);
  assert.deepEqual(config.Labels, { a: '' });
  assert.deepEqual(config.Volumes, { '/v': {} });
  const merged = mergeConfig(config as never, { Env: ['PATH=/bin', 'A=0'] });
  assert.deepEqual(merged.Env, ['', 'A=1', 'PATH=/bin']);
});

test('fuzz-url-go-parses: a registry host that Go parses and WHATWG refuses is no such host (a 503), not a TypeError 500', async () => {
  const { httpRequest } = await import('../../src/engine/distribution/http.js');
  await assert.rejects(httpRequest('https://9223372036854775807:80/v2/'),
    (e: Error) => statusOf(e) === 503 && /^Get "https:\/\/9223372036854775807:80\/v2\/": dial tcp: lookup 9223372036854775807: no such host$/.test(e.message));
});
