import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectPlatform, parsePlatform, hostPlatform, formatPlatform } from '../../src/engine/distribution/platform.js';
import { NotFoundError } from '../../src/engine/errors.js';

const entries = [
  { digest: 'att', platform: { os: 'unknown', architecture: 'unknown' } },
  { digest: 'arm6', platform: { os: 'linux', architecture: 'arm', variant: 'v6' } },
  { digest: 'arm7', platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
  { digest: 'arm64', platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
  { digest: 'amd64v3', platform: { os: 'linux', architecture: 'amd64', variant: 'v3' } },
  { digest: 'amd64', platform: { os: 'linux', architecture: 'amd64' } },
  { digest: 'win', platform: { os: 'windows', architecture: 'amd64' } },
];

test('selectPlatform: exact os/arch, variant ranking', () => {
  assert.equal(selectPlatform(entries, { os: 'linux', architecture: 'amd64' }).digest, 'amd64');
  assert.equal(selectPlatform(entries, { os: 'linux', architecture: 'arm64', variant: 'v8' }).digest, 'arm64');
  assert.equal(selectPlatform(entries, { os: 'linux', architecture: 'arm', variant: 'v7' }).digest, 'arm7');
  assert.equal(selectPlatform(entries, { os: 'linux', architecture: 'arm', variant: 'v6' }).digest, 'arm6');
  assert.equal(selectPlatform(entries, { os: 'windows', architecture: 'amd64' }).digest, 'win');
});

test('selectPlatform: arm64 without variant matches arm64/v8; arm/v7 falls back to v6', () => {
  const e = [{ digest: 'a', platform: { os: 'linux', architecture: 'arm64' } }];
  assert.equal(selectPlatform(e, { os: 'linux', architecture: 'arm64', variant: 'v8' }).digest, 'a');
  const f = [{ digest: 'b', platform: { os: 'linux', architecture: 'arm', variant: 'v6' } }];
  assert.equal(selectPlatform(f, { os: 'linux', architecture: 'arm', variant: 'v7' }).digest, 'b');
  // but an arm/v6 host cannot run v7
  const g = [{ digest: 'c', platform: { os: 'linux', architecture: 'arm', variant: 'v7' } }];
  assert.throws(() => selectPlatform(g, { os: 'linux', architecture: 'arm', variant: 'v6' }), NotFoundError);
});

test('selectPlatform: no match gives Docker\'s message', () => {
  assert.throws(
    () => selectPlatform(entries, { os: 'linux', architecture: 's390x' }),
    (e: Error) => e instanceof NotFoundError && e.message === 'no matching manifest for linux/s390x in the manifest list entries',
  );
});

test('parsePlatform and hostPlatform', () => {
  assert.deepEqual(parsePlatform('linux/amd64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(parsePlatform('linux/arm64'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  assert.deepEqual(parsePlatform('linux/aarch64'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  assert.deepEqual(parsePlatform('linux/arm/v6'), { os: 'linux', architecture: 'arm', variant: 'v6' });
  assert.deepEqual(parsePlatform('x86_64'), { os: 'linux', architecture: 'amd64' });
  assert.equal(formatPlatform({ os: 'linux', architecture: 'arm', variant: 'v7' }), 'linux/arm/v7');
  const h = hostPlatform();
  assert.equal(h.os, 'linux');
  if (process.arch === 'x64') assert.deepEqual(h, { os: 'linux', architecture: 'amd64' });
});
