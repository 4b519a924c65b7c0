/**
 * berthd's start-up checks (src/daemon/config.ts): a TCP host without mutual TLS is refused, and
 * a bridge name that could inject into `ip -batch` / `iptables-restore` input is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { loadConfig, parseDaemonArgs, UsageError } from '../../src/daemon/config.js';
import { interfaceNameProblem } from '../../src/engine/network/config.js';

const NO_FILE = '/nonexistent/berth-test/daemon.json';
const load = (argv: string[]) => loadConfig({ configFile: NO_FILE, ...parseDaemonArgs(argv).flags });

test('tcp-without-tlsverify: -H tcp:// is refused with the reason; with --tlsverify, TLS is said to be unsupported', () => {
  assert.throws(() => load(['-H', 'tcp://0.0.0.0:2375']), (e: unknown) => e instanceof UsageError && /without --tlsverify/.test(e.message) && /root access/.test(e.message));
  assert.throws(() => load(['-H', 'unix:///tmp/x.sock', '-H', 'tcp://127.0.0.1:2375']), /without --tlsverify/);
  assert.throws(() => load(['--tlsverify', '-H', 'tcp://127.0.0.1:2376']), (e: unknown) => e instanceof UsageError && /TLS/.test(e.message) && /not support/.test(e.message));
  assert.throws(() => load(['-H', 'fd://']), /unsupported host/);
  assert.deepEqual(load(['-H', 'unix:///tmp/x.sock']).hosts, ['unix:///tmp/x.sock']);
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

test('tlsverify-ignored: --tlsverify with only unix sockets is refused, not accepted and ignored', () => {
  assert.throws(() => load(['--tlsverify', '-H', 'unix:///tmp/x.sock']), (e: unknown) => e instanceof UsageError && /not supported/.test(e.message));
});
