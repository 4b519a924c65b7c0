import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logRotation, normalizeCreate, validateCreateBody } from '../../src/engine/containers/create.js';
import { statusText } from '../../src/api/views/containers.js';
import { ContainerStore } from '../../src/engine/containers/store.js';
import type { ImageRecord } from '../../src/engine/images/types.js';
import type { ContainerRecord } from '../../src/engine/containers/types.js';

const image: ImageRecord = {
  id: 'sha256:' + 'a'.repeat(64),
  config: {
    architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] },
    config: {
      Env: ['PATH=/bin', 'LANG=C', 'FROM_IMAGE=1'], Cmd: ['sh'], Entrypoint: null,
      WorkingDir: '/srv', User: 'nobody', Labels: { a: 'image', b: 'image' }, StopSignal: 'SIGQUIT',
    },
  },
  chainIDs: [], repoTags: [], repoDigests: [], size: 0, loaded: 0,
};
const ctx = { id: 'f'.repeat(64), name: 'test', image, lowerDirs: ['/l1'] };

test('the image supplies Cmd, WorkingDir, User, StopSignal and the Env keys the user did not set', () => {
  const rec = normalizeCreate({ Image: 'img', Env: ['LANG=en', 'MINE=2'], Labels: { b: 'user' } }, ctx);
  assert.equal(rec.Path, 'sh');
  assert.deepEqual(rec.Args, []);
  assert.deepEqual(rec.Config.Env, ['LANG=en', 'MINE=2', 'PATH=/bin', 'FROM_IMAGE=1']);
  assert.equal(rec.Config.WorkingDir, '/srv');
  assert.equal(rec.Config.User, 'nobody');
  assert.equal(rec.Config.StopSignal, 'SIGQUIT');
  assert.deepEqual(rec.Config.Labels, { a: 'image', b: 'user' });
  assert.equal(rec.Config.Hostname, 'f'.repeat(12));
  assert.equal(rec.State.Status, 'created');
});

test('a user command replaces the image Cmd; a user Entrypoint drops the image Cmd', () => {
  assert.deepEqual(normalizeCreate({ Image: 'img', Cmd: ['echo', 'hi there'] }, ctx).Args, ['hi there']);
  const ep = normalizeCreate({ Image: 'img', Entrypoint: ['/bin/date'] }, ctx);
  assert.equal(ep.Path, '/bin/date');
  assert.deepEqual(ep.Args, []);
  const both = normalizeCreate({ Image: 'img', Entrypoint: ['sh'], Cmd: ['-c', 'true'] }, ctx);
  assert.deepEqual([both.Path, ...both.Args], ['sh', '-c', 'true']);
});

test('bad input is a 400-class error with a message', () => {
  const noCmd: ImageRecord = { ...image, config: { ...image.config, config: {} } };
  assert.throws(() => normalizeCreate({ Image: 'img' }, { ...ctx, image: noCmd }), /no command specified/);
  assert.throws(() => normalizeCreate({ Image: 'img', WorkingDir: 'rel' }, ctx), /needs to be an absolute path/);
  assert.throws(() => normalizeCreate({ Image: 'img', HostConfig: { AutoRemove: true, RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } } }, ctx),
    /AutoRemove.*restart policy/);
  assert.throws(() => normalizeCreate({ Image: 'img', HostConfig: { Runtime: 'kata' } }, ctx), /unknown or invalid runtime/);
  assert.throws(() => normalizeCreate({ Image: 'img', Cmd: [1] as unknown as string[] }, ctx), /field Cmd must be a string or a list of strings/);
  const wrong = (body: unknown) => () => validateCreateBody(body);
  assert.throws(wrong({ Image: 5 }), /field Image must be a string/);
  assert.throws(wrong({ Image: 'img', Env: 'A=1' }), /field Env must be a list of strings/);
  assert.throws(wrong({ Image: 'img', Labels: [1] }), /field Labels must be an object of strings/);
  assert.throws(wrong({ Image: 'img', HostConfig: 5 }), /field HostConfig must be an object/);
  assert.throws(wrong({ Image: 'img', Tty: 'yes' }), /field Tty must be a boolean/);
  assert.throws(wrong([]), /config cannot be empty/);
  assert.doesNotThrow(wrong({ Image: 'img', Cmd: 'echo hi', Entrypoint: null, HostConfig: null }));
});

test('log rotation: on by default, --log-opt max-size/max-file override, bad values refused', () => {
  assert.deepEqual(logRotation({}), { maxSize: 20_000_000, maxFiles: 5 });
  assert.deepEqual(logRotation({ LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } } }), { maxSize: 10_000_000, maxFiles: 3 });
  assert.deepEqual(logRotation({ LogConfig: { Type: 'json-file', Config: { 'max-size': '512k' } } }), { maxSize: 512_000, maxFiles: 5 });
  assert.throws(() => logRotation({ LogConfig: { Type: 'json-file', Config: { 'max-size': 'lots' } } }), /invalid max-size: lots/);
  assert.throws(() => logRotation({ LogConfig: { Type: 'json-file', Config: { 'max-file': '0' } } }), /invalid max-file: 0/);
});

test('status text as dockerd renders it', () => {
  const rec = normalizeCreate({ Image: 'img' }, ctx);
  const now = Date.parse('2026-01-01T00:10:00Z');
  assert.equal(statusText(rec, now), 'Created');
  const running: ContainerRecord = { ...rec, State: { ...rec.State, Status: 'running', StartedAt: '2026-01-01T00:08:00Z' } };
  assert.equal(statusText(running, now), 'Up 2 minutes');
  const exited: ContainerRecord = { ...rec, State: { ...rec.State, Status: 'exited', ExitCode: 3, FinishedAt: '2026-01-01T00:09:57Z' } };
  assert.equal(statusText(exited, now), 'Exited (3) 3 seconds ago');
});

test('container lookup: full id, name with or without slash, unique prefix; ambiguous prefix is refused', () => {
  const store = new ContainerStore('/nonexistent');
  const a = { ...normalizeCreate({ Image: 'img' }, { ...ctx, id: 'ab' + '1'.repeat(62), name: 'first' }) };
  const b = { ...normalizeCreate({ Image: 'img' }, { ...ctx, id: 'ac' + '2'.repeat(62), name: 'second' }) };
  for (const r of [a, b]) store.claimName(r.Name, r.Id);
  (store as unknown as { byId: Map<string, ContainerRecord> }).byId.set(a.Id, a);
  (store as unknown as { byId: Map<string, ContainerRecord> }).byId.set(b.Id, b);
  assert.equal(store.get(a.Id).Name, 'first');
  assert.equal(store.get('/second').Id, b.Id);
  assert.equal(store.get('ab').Id, a.Id);
  assert.throws(() => store.get('a'), /multiple IDs found with provided prefix: a/);
  assert.throws(() => store.get('zz'), /No such container: zz/);
});
