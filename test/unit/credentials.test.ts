/** The client's config.json credentials (src/client/credentials.ts) and the daemon's server-address rules. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import {
  convertToHostname, eraseCredentials, getCredentials, INDEX_SERVER, keyForDomain, registryAuthHeader, storeCredentials,
} from '../../src/client/credentials.js';
import { registryHostOf } from '../../src/engine/auth/login.js';
import { splitSearchTerm } from '../../src/engine/distribution/search.js';

test('convertToHostname and the credential key of a domain, as docker/cli', () => {
  assert.equal(convertToHostname('https://reg.example:5000/v2/'), 'reg.example:5000');
  assert.equal(convertToHostname('http://127.0.0.1:5000'), '127.0.0.1:5000');
  assert.equal(convertToHostname('reg.example'), 'reg.example');
  assert.equal(keyForDomain('docker.io'), INDEX_SERVER);
  assert.equal(keyForDomain('127.0.0.1:5000'), '127.0.0.1:5000');
});

test('store, read (legacy scheme keys too), header, erase; 0600; other keys kept; helpers refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bt-cred-'));
  try {
    await storeCredentials({ username: 'u', password: 'p:w', serveraddress: 'reg.example:5000' }, dir);
    const file = join(dir, 'config.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { auths: { 'reg.example:5000': { auth: Buffer.from('u:p:w').toString('base64') } } });
    assert.deepEqual(await getCredentials('reg.example:5000', dir), { username: 'u', password: 'p:w', serveraddress: 'reg.example:5000' });
    const header = JSON.parse(Buffer.from(await registryAuthHeader('reg.example:5000', dir), 'base64url').toString('utf8'));
    assert.deepEqual(header, { username: 'u', password: 'p:w', serveraddress: 'reg.example:5000' });
    assert.equal(await registryAuthHeader('docker.io', dir), 'e30=');

    const cfg = JSON.parse(readFileSync(file, 'utf8'));
    cfg.detachKeys = 'ctrl-x';
    cfg.auths['https://old.example'] = { auth: Buffer.from('a:b').toString('base64'), identitytoken: 'tok' };
    writeFileSync(file, JSON.stringify(cfg));
    assert.deepEqual(await getCredentials('old.example', dir), { username: 'a', password: 'b', serveraddress: 'old.example', identitytoken: 'tok' });
    assert.deepEqual(await eraseCredentials(['old.example', 'https://old.example'], dir), ['https://old.example']);
    const after = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(after.detachKeys, 'ctrl-x');
    assert.deepEqual(Object.keys(after.auths), ['reg.example:5000']);

    writeFileSync(file, JSON.stringify({ ...after, credsStore: 'secretservice' }));
    await assert.rejects(storeCredentials({ username: 'x', password: 'y', serveraddress: 'z' }, dir), /docker-credential-secretservice/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('POST /auth server addresses and search terms name registries as dockerd reads them', () => {
  assert.equal(registryHostOf(undefined), 'docker.io');
  assert.equal(registryHostOf('https://index.docker.io/v1/'), 'docker.io');
  assert.equal(registryHostOf('127.0.0.1:5000'), '127.0.0.1:5000');
  assert.equal(registryHostOf('http://reg.example/'), 'reg.example');
  assert.throws(() => registryHostOf('ftp://reg.example'), /unsupported URL scheme "ftp": must be "http" or "https"/);
  assert.deepEqual(splitSearchTerm('busybox'), { index: 'docker.io', remote: 'busybox' });
  assert.deepEqual(splitSearchTerm('library/busybox'), { index: 'docker.io', remote: 'library/busybox' });
  assert.deepEqual(splitSearchTerm('127.0.0.1:5000/busy'), { index: '127.0.0.1:5000', remote: 'busy' });
  assert.deepEqual(splitSearchTerm('localhost/x'), { index: 'localhost', remote: 'x' });
});
