import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkApiRequest, checkSite, presentedToken } from '../../src/api/dashboard/guard.js';
import { parseDashboardAddress } from '../../src/daemon/dashboard-address.js';

const T = 'ab'.repeat(32);

test('dashboard address: loopback only', () => {
  assert.deepEqual(parseDashboardAddress('127.0.0.1:8123'), { host: '127.0.0.1', port: 8123 });
  assert.deepEqual(parseDashboardAddress('localhost:0'), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseDashboardAddress(9000), { host: '127.0.0.1', port: 9000 });
  for (const bad of ['0.0.0.0:80', '192.168.1.2:80', ':80', '[::]:80', 'example.com:80', '127.0.0.1:70000', true]) {
    assert.throws(() => parseDashboardAddress(bad), /invalid dashboard address/, String(bad));
  }
});

test('guard: host, origin, fetch site, method, token', () => {
  const ok = { host: '127.0.0.1:5000', cookie: `a=b; berth_dashboard=${T}` };
  assert.equal(checkApiRequest(ok, 'GET', 5000, T), undefined);
  assert.equal(checkApiRequest({ ...ok, host: 'localhost:5000', origin: 'http://localhost:5000' }, 'POST', 5000, T), undefined);
  assert.equal(checkApiRequest({ ...ok, host: 'evil.example:5000' }, 'GET', 5000, T)?.status, 421);
  assert.equal(checkApiRequest({ ...ok, host: undefined }, 'GET', 5000, T)?.status, 421);
  assert.equal(checkApiRequest({ ...ok, origin: 'http://127.0.0.1:5001' }, 'GET', 5000, T)?.status, 403);
  assert.equal(checkApiRequest({ ...ok, 'sec-fetch-site': 'same-site' }, 'GET', 5000, T)?.status, 403);
  assert.equal(checkApiRequest(ok, 'DELETE', 5000, T)?.status, 403);
  assert.equal(checkApiRequest({ host: ok.host }, 'GET', 5000, T)?.status, 401);
  assert.equal(checkApiRequest({ host: ok.host, 'x-berth-token': T }, 'GET', 5000, T), undefined);
  assert.equal(checkApiRequest({ host: ok.host, 'x-berth-token': T.toUpperCase() }, 'GET', 5000, T)?.status, 401);
  assert.equal(checkSite({ host: ok.host, 'sec-fetch-site': 'none' }, 'GET', 5000), undefined);
  assert.equal(presentedToken({ cookie: 'x=1' }), undefined);
});

test('dashboard address from daemon.json, the flag taking precedence; off by default', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { loadConfig, parseDaemonArgs } = await import('../../src/daemon/config.js');
  const dir = mkdtempSync('/tmp/berth-unit-dash-');
  try {
    const file = join(dir, 'daemon.json');
    writeFileSync(file, JSON.stringify({ dashboard: '127.0.0.1:7777' }));
    assert.deepEqual(loadConfig({ configFile: file }).dashboard, { host: '127.0.0.1', port: 7777 });
    assert.deepEqual(loadConfig(parseDaemonArgs(['--config-file', file, '--dashboard', '127.0.0.1:0']).flags).dashboard, { host: '127.0.0.1', port: 0 });
    writeFileSync(file, JSON.stringify({ dashboard: '0.0.0.0:7777' }));
    assert.throws(() => loadConfig({ configFile: file }), /listens on 127\.0\.0\.1 only/);
    writeFileSync(file, '{}');
    assert.equal(loadConfig({ configFile: file }).dashboard, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
