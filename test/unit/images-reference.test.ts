import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseNormalizedNamed, parseDockerRef, referenceString, familiarString, familiarName,
  isFullId, isIdPrefix, truncateId, validateDigest, sha256Digest, digestHex, familiarizeString,
} from '../../src/wire/reference.js';
import { InvalidParameterError } from '../../src/engine/errors.js';

const D = 'sha256:' + 'a'.repeat(64);

const good: Array<[string, string, string]> = [
  // input, normalized full string (parseDockerRef), familiar string
  ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
  ['library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['docker.io/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['user/app:1', 'docker.io/user/app:1', 'user/app:1'],
  ['docker.io/library/a/b', 'docker.io/library/a/b:latest', 'library/a/b:latest'],
  ['localhost/x', 'localhost/x:latest', 'localhost/x:latest'],
  ['localhost:5000/x', 'localhost:5000/x:latest', 'localhost:5000/x:latest'],
  ['127.0.0.1:5000/a/b:tag', '127.0.0.1:5000/a/b:tag', '127.0.0.1:5000/a/b:tag'],
  ['[::1]:5000/foo', '[::1]:5000/foo:latest', '[::1]:5000/foo:latest'],
  ['example.com/Upper-is-domain/ok'.replace('Upper-is-domain/', ''), 'example.com/ok:latest', 'example.com/ok:latest'],
  ['Foo.com/bar', 'Foo.com/bar:latest', 'Foo.com/bar:latest'],
  ['foo:5000', 'docker.io/library/foo:5000', 'foo:5000'],
  ['a-b__c.d---e', 'docker.io/library/a-b__c.d---e:latest', 'a-b__c.d---e:latest'],
  [`name@${D}`, `docker.io/library/name@${D}`, `name@${D}`],
  [`name:tag@${D}`, `docker.io/library/name@${D}`, `name@${D}`],
  ['gcr.io/project/img:v1.2_3-rc', 'gcr.io/project/img:v1.2_3-rc', 'gcr.io/project/img:v1.2_3-rc'],
];

test('reference: normalization table', () => {
  for (const [input, full, familiar] of good) {
    const r = parseDockerRef(input);
    assert.equal(referenceString(r), full, input);
    assert.equal(familiarString(r), familiar, input);
  }
});

test('reference: parseNormalizedNamed keeps tag and digest, adds no tag', () => {
  const r = parseNormalizedNamed(`name:tag@${D}`);
  assert.deepEqual(r, { domain: 'docker.io', path: 'library/name', tag: 'tag', digest: D });
  assert.deepEqual(parseNormalizedNamed('busybox'), { domain: 'docker.io', path: 'library/busybox' });
  assert.equal(familiarName(parseNormalizedNamed('docker.io/user/app')), 'user/app');
  assert.equal(familiarizeString('docker.io/library/busybox:latest'), 'busybox:latest');
});

const bad: Array<[string, string | RegExp]> = [
  ['Busybox', 'invalid reference format: repository name (library/Busybox) must be lowercase'],
  ['user/App:1', 'invalid reference format: repository name (user/App) must be lowercase'],
  ['Foo/Bar', 'invalid reference format: repository name (Bar) must be lowercase'],
  ['a'.repeat(64), `invalid repository name (${'a'.repeat(64)}), cannot specify 64-byte hexadecimal strings`],
  ['', 'invalid reference format'],
  [':tag', 'invalid reference format'],
  ['busybox:', 'invalid reference format'],
  ['busybox:-tag', 'invalid reference format'],
  ['busybox:' + 'a'.repeat(129), 'invalid reference format'],
  ['-busybox', 'invalid reference format'],
  ['busybox-', 'invalid reference format'],
  ['a//b', 'invalid reference format'],
  ['a/b/', 'invalid reference format'],
  ['busybox@sha256:abc', 'invalid reference format'],
  ['busybox@sha256:' + 'a'.repeat(40), 'invalid checksum digest length'],
  ['busybox@sha256:' + 'A'.repeat(64), 'invalid checksum digest format'],
  ['busybox@md5:' + 'a'.repeat(32), 'unsupported digest algorithm'],
  ['localhost:5000/' + 'a'.repeat(250), 'repository name must not be more than 255 characters'],
  ['a b', 'invalid reference format'],
];

test('reference: invalid input → InvalidParameterError with Docker wording', () => {
  for (const [input, msg] of bad) {
    assert.throws(() => parseDockerRef(input), (e: unknown) => {
      assert.ok(e instanceof InvalidParameterError, `${input}: ${String(e)}`);
      assert.equal(e.message, msg, input);
      return true;
    });
  }
});

test('reference: ids and digests', () => {
  const hex = 'ab'.repeat(32);
  assert.ok(isFullId(hex));
  assert.ok(isFullId('sha256:' + hex));
  assert.ok(!isFullId('sha256:' + hex.slice(1)));
  assert.ok(isIdPrefix('abcdef'));
  assert.ok(isIdPrefix('sha256:ab'));
  assert.ok(!isIdPrefix('busybox'));
  assert.equal(truncateId('sha256:' + hex), hex.slice(0, 12));
  assert.equal(validateDigest('sha256:' + hex), 'sha256:' + hex);
  assert.equal(sha256Digest(''), 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(digestHex('sha256:' + hex), hex);
  assert.throws(() => digestHex('md5:00'), InvalidParameterError);
});
