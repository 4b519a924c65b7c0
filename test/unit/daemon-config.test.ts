/**
 * berthd's start-up checks (src/daemon/config.ts): a TCP host without mutual TLS is refused, and
 * a bridge name that could inject into `ip -batch` / `iptables-restore` input is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { loadConfig, parseDaemonArgs, tcpAddress, UsageError } from '../../src/daemon/config.js';
import { loadServerTls } from '../../src/daemon/listen-tcp.js';
import { interfaceNameProblem } from '../../src/engine/network/config.js';

const NO_FILE = '/nonexistent/berth-test/daemon.json';
const load = (argv: string[]) => loadConfig({ configFile: NO_FILE, ...parseDaemonArgs(argv).flags });

test('tcp-without-tlsverify: -H tcp:// is refused with the reason unless TLS verifies clients', () => {
  assert.throws(() => load(['-H', 'tcp://0.0.0.0:2375']), (e: unknown) => e instanceof UsageError && /without --tlsverify/.test(e.message) && /root access/.test(e.message));
  assert.throws(() => load(['-H', 'unix:///tmp/x.sock', '-H', 'tcp://127.0.0.1:2375']), /without --tlsverify/);
  assert.throws(() => load(['-H', '127.0.0.1:2375']), /without --tlsverify/);
  assert.throws(() => load(['--tls=false', '-H', 'tcp://127.0.0.1:2375']), /without --tlsverify/);
  // dockerd serves TLS without client verification with a warning; berthd refuses it.
  assert.throws(() => load(['--tls', '--tlsverify=false', '-H', 'tcp://127.0.0.1:2376']), (e: unknown) => e instanceof UsageError && /refusing --tlsverify=false/.test(e.message));
  assert.throws(() => load(['-H', 'fd://']), /unsupported host/);
  assert.throws(() => load(['--tlsverify', '-H', 'tcp://127.0.0.1:99999']), /invalid bind address/);
  assert.deepEqual(load(['-H', 'unix:///tmp/x.sock']).hosts, ['unix:///tmp/x.sock']);
});

test('tls-flags: --tlsverify (or --tls, which implies it) gives tcp:// mutual TLS with Docker\'s flags and default files', () => {
  const c = load(['-H', 'unix:///tmp/x.sock', '-H', 'tcp://127.0.0.1:2376', '--tlsverify', '--tlscacert', '/c/ca.pem', '--tlscert', '/c/s.pem', '--tlskey', '/c/k.pem']);
  assert.deepEqual(c.tlsFiles, { caFile: '/c/ca.pem', certFile: '/c/s.pem', keyFile: '/c/k.pem' });
  assert.deepEqual(tcpAddress('tcp://127.0.0.1:2376'), { host: '127.0.0.1', port: 2376 });
  assert.deepEqual(tcpAddress('tcp://[::1]'), { host: '::1', port: 2375 });
  assert.equal(tcpAddress('unix:///x'), undefined);
  const saved = { ...process.env };
  try {
    delete process.env.DOCKER_TLS_VERIFY;
    process.env.DOCKER_CERT_PATH = '/certs';
    assert.deepEqual(load(['--tls', '-H', 'tcp://127.0.0.1:2376']).tlsFiles, { caFile: '/certs/ca.pem', certFile: '/certs/cert.pem', keyFile: '/certs/key.pem' });
    assert.equal(load(['-H', 'unix:///tmp/x.sock']).tlsFiles, undefined);
    process.env.DOCKER_TLS_VERIFY = '1';
    assert.ok(load(['-H', 'tcp://127.0.0.1:2376']).tlsFiles);
  } finally {
    process.env = saved;
  }
  const dir = mkdtempSync(join(tmpdir(), 'berth-cfg-'));
  try {
    const file = join(dir, 'daemon.json');
    writeFileSync(file, JSON.stringify({ hosts: ['tcp://127.0.0.1:2376'], tlsverify: true, tlscacert: '/f/ca.pem', tlscert: '/f/c.pem', tlskey: '/f/k.pem' }));
    assert.deepEqual(loadConfig({ configFile: file }).tlsFiles, { caFile: '/f/ca.pem', certFile: '/f/c.pem', keyFile: '/f/k.pem' });
    writeFileSync(file, JSON.stringify({ hosts: ['tcp://127.0.0.1:2376'], tls: true, tlsverify: false }));
    assert.throws(() => loadConfig({ configFile: file }), /refusing --tlsverify=false/);
    writeFileSync(file, JSON.stringify({ tlsverify: 'yes' }));
    assert.throws(() => loadConfig({ configFile: file }), /invalid tlsverify/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tcp-without-tlsverify: daemon.json hosts are checked as the flag is', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cfg-'));
  try {
    const file = join(dir, 'daemon.json');
    writeFileSync(file, JSON.stringify({ hosts: ['tcp://0.0.0.0:2375'] }));
    assert.throws(() => loadConfig({ configFile: file }), /without --tlsverify/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bridge-name-injection: --bridge and daemon.json bridge accept only interface names', () => {
  for (const bad of ['br0\nlink del eth0', 'br 0', 'a/b', '.', '..', 'a-name-of-16-chr', '', 'br0;x', 'brü']) {
    assert.throws(() => load(['--bridge', bad]), (e: unknown) => e instanceof UsageError && /invalid bridge name/.test(e.message), JSON.stringify(bad));
  }
  assert.equal(load(['--bridge', 'bt-1_a.b']).network?.bridge, 'bt-1_a.b');
  assert.equal(load(['--bridge', 'none']).network, undefined);
  const dir = mkdtempSync(join(tmpdir(), 'berth-cfg-'));
  try {
    const file = join(dir, 'daemon.json');
    writeFileSync(file, JSON.stringify({ bridge: 'x\n-A FORWARD -j ACCEPT' }));
    assert.throws(() => loadConfig({ configFile: file }), /invalid bridge name/);
    writeFileSync(file, JSON.stringify({ bridge: 7 }));
    assert.throws(() => loadConfig({ configFile: file }), /invalid bridge name/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('interface names: Linux rules, stricter on characters', () => {
  assert.equal(interfaceNameProblem('berth0'), undefined);
  assert.equal(interfaceNameProblem('a'.repeat(15)), undefined);
  assert.match(interfaceNameProblem('a'.repeat(16))!, /longer than 15/);
  assert.match(interfaceNameProblem('..')!, /"\."/);
  assert.match(interfaceNameProblem('a\tb')!, /only letters/);
});

test('tlsverify-with-unix-only: the TLS files are still read at start (as dockerd), not accepted and ignored', () => {
  assert.ok(load(['--tlsverify', '-H', 'unix:///tmp/x.sock']).tlsFiles);
  assert.throws(() => loadServerTls({ caFile: '/nonexistent/ca.pem', certFile: '/nonexistent/c.pem', keyFile: '/nonexistent/k.pem' }), /could not read CA certificate "\/nonexistent\/ca\.pem"/);
});
