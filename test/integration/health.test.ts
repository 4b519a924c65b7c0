/**
 * Healthchecks on a real berthd through both CLIs: the status goes starting → healthy →
 * unhealthy as the probe's command succeeds then fails, `ps` shows it and filters on it, the
 * health_status events come, a timed-out probe is logged with dockerd's message, an image's
 * HEALTHCHECK applies (and --no-healthcheck drops it), and Berth's --health-on-failure=restart
 * restarts a container that turned unhealthy.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { run, removeContainersAndStop, startDaemonWithImages, type TestDaemon } from '../helpers/daemon.js';

let d: TestDaemon;

before(async () => {
  d = await startDaemonWithImages(['busybox']);
});

after(() => removeContainersAndStop(d)); // the data root, its images too, goes with the daemon

async function ok(p: Promise<{ code: number; stdout: string; stderr: string }>): Promise<string> {
  const r = await p;
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

interface Health { Status: string; FailingStreak: number; Log: Array<{ ExitCode: number; Output: string }> }

async function health(name: string): Promise<Health | null> {
  return JSON.parse(await ok(d.docker(['inspect', '-f', '{{json .State.Health}}', name])));
}

/** Poll until the health status is `want` (or fail after `ms`). */
async function waitFor(name: string, want: string, ms = 15000): Promise<Health> {
  const deadline = Date.now() + ms;
  let last: Health | null = null;
  while (Date.now() < deadline) {
    last = await health(name);
    if (last?.Status === want) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${name}: health never became ${want}; last ${JSON.stringify(last)}`);
}

test('--health-cmd: starting → healthy → unhealthy; ps shows it and filters on it; health_status events', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  // A check whose first probe is far away stays "starting".
  await ok(d.berth(['run', '-d', '--name', 'hc0', '--health-cmd', 'true', '--health-interval', '1h', 'busybox', 'sleep', '60']));
  assert.equal((await health('hc0'))?.Status, 'starting');
  assert.match(await ok(d.docker(['ps', '--filter', 'name=hc0', '--format', '{{.Status}}'])), /^Up .* \(health: starting\)$/);
  assert.equal(await ok(d.docker(['ps', '-q', '--filter', 'health=starting'])), (await ok(d.docker(['inspect', '-f', '{{.Id}}', 'hc0']))).slice(0, 12));
  await ok(d.docker(['rm', '-f', 'hc0']));
  // Healthy while /tmp/ok exists; the test removes it once healthy was seen.
  await ok(d.docker(['run', '-d', '--name', 'hc1', '--health-cmd', 'test -f /tmp/ok && echo fine', '--health-interval', '200ms',
    '--health-retries', '2', 'busybox', 'sh', '-c', 'touch /tmp/ok; exec sleep 60']));
  const healthy = await waitFor('hc1', 'healthy');
  assert.equal(healthy.Log.at(-1)!.ExitCode, 0);
  assert.equal(healthy.Log.at(-1)!.Output, 'fine\n');
  assert.match(await ok(d.berth(['ps', '--filter', 'name=hc1', '--format', '{{.Status}}'])), /^Up .* \(healthy\)$/);
  assert.equal(await ok(d.docker(['ps', '-q', '--filter', 'health=healthy'])), (await ok(d.docker(['inspect', '-f', '{{.Id}}', 'hc1']))).slice(0, 12));
  await ok(d.docker(['exec', 'hc1', 'rm', '/tmp/ok']));
  const sick = await waitFor('hc1', 'unhealthy');
  assert.ok(sick.FailingStreak >= 2, JSON.stringify(sick));
  assert.ok(sick.Log.length <= 5);
  assert.notEqual(sick.Log.at(-1)!.ExitCode, 0);
  assert.match(await ok(d.docker(['ps', '--filter', 'name=hc1', '--format', '{{.Status}}'])), /^Up .* \(unhealthy\)$/);
  assert.match(await ok(d.berth(['ps', '-q', '--filter', 'health=unhealthy'])), /^[0-9a-f]{12}$/);
  assert.equal(await ok(d.docker(['ps', '-q', '--filter', 'health=healthy'])), '');
  const ev = await ok(d.docker(['events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1),
    '--filter', 'container=hc1', '--format', '{{.Action}}']));
  const actions = ev.split('\n').filter((a) => a.startsWith('health_status'));
  assert.deepEqual(actions, ['health_status: healthy', 'health_status: unhealthy']);
  await ok(d.docker(['rm', '-f', 'hc1']));
});

test('a probe that outlives --health-timeout is logged with dockerd\'s message and counts as a failure', async () => {
  await ok(d.berth(['run', '-d', '--name', 'hc2', '--health-cmd', 'sleep 5', '--health-interval', '100ms', '--health-timeout', '200ms',
    '--health-retries', '1', 'busybox', 'sleep', '60']));
  const h = await waitFor('hc2', 'unhealthy');
  assert.equal(h.Log.at(-1)!.ExitCode, -1);
  assert.equal(h.Log.at(-1)!.Output, 'Health check exceeded timeout (200ms)');
  await ok(d.docker(['rm', '-f', 'hc2']));
});

test('an image\'s HEALTHCHECK applies to its containers; --no-healthcheck drops it; bad values are refused', async () => {
  // An image whose config carries a healthcheck, made through POST /commit's Config.
  await ok(d.docker(['create', '--name', 'hc-base', 'busybox', 'sleep', '60']));
  const cfg = JSON.stringify({ Cmd: ['sleep', '60'], Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 200_000_000 } });
  const r = await run('curl', ['-s', '-w', '\n%{http_code}', '-X', 'POST', '-H', 'Content-Type: application/json', '-d', cfg,
    '--unix-socket', d.socket, 'http://d/v1.45/commit?container=hc-base&repo=bt-health-img&tag=latest']);
  assert.equal(r.stdout.trim().split('\n').at(-1), '201', r.stdout);
  await ok(d.docker(['run', '-d', '--name', 'hc3', 'bt-health-img']));
  assert.deepEqual(JSON.parse(await ok(d.docker(['inspect', '-f', '{{json .Config.Healthcheck.Test}}', 'hc3']))), ['CMD-SHELL', 'true']);
  await waitFor('hc3', 'healthy');
  await ok(d.docker(['run', '-d', '--name', 'hc4', '--no-healthcheck', 'bt-health-img']));
  assert.equal(await health('hc4'), null);
  assert.match(await ok(d.docker(['ps', '--filter', 'name=hc4', '--format', '{{.Status}}'])), /^Up [^(]*$/);
  assert.equal((await ok(d.docker(['ps', '-q', '--filter', 'name=hc4', '--filter', 'health=none']))).length, 12);
  const bad = await d.docker(['run', '--health-cmd', 'true', '--health-retries', '-1', 'busybox']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--health-retries cannot be negative/);
  const api = await run('curl', ['-s', '-w', '\n%{http_code}', '-X', 'POST', '-H', 'Content-Type: application/json',
    '-d', JSON.stringify({ Image: 'busybox', Healthcheck: { Test: ['CMD', 'true'], Interval: 5 } }),
    '--unix-socket', d.socket, 'http://d/v1.45/containers/create']);
  const lines = api.stdout.trim().split('\n');
  assert.equal(lines.at(-1), '400', api.stdout);
  assert.match(lines[0], /Interval in Healthcheck cannot be less than 1ms/);
  await ok(d.docker(['rm', '-f', 'hc3', 'hc4', 'hc-base']));
});

test('--health-on-failure=restart restarts a container once it turns unhealthy (Berth only)', async () => {
  // Unhealthy in its first run, healthy from the second: the marker survives in the writable layer.
  await ok(d.berth(['run', '-d', '--name', 'hc5', '--health-cmd', 'test -f /tmp/ok',
    '--health-interval', '200ms', '--health-retries', '1', '--health-on-failure', 'restart',
    'busybox', 'sh', '-c', 'trap "exit 0" TERM; if [ -f /tmp/marker ]; then touch /tmp/ok; else touch /tmp/marker; fi; sleep 60 & wait']));
  const firstStart = await ok(d.docker(['inspect', '-f', '{{.State.StartedAt}}', 'hc5']));
  // First run: /tmp/ok never exists → unhealthy → restarted; second run: the marker makes it healthy.
  const deadline = Date.now() + 15000;
  let started = firstStart;
  while (Date.now() < deadline && started === firstStart) {
    await new Promise((r) => setTimeout(r, 200));
    started = await ok(d.docker(['inspect', '-f', '{{.State.StartedAt}}', 'hc5']));
  }
  assert.notEqual(started, firstStart, 'the unhealthy container was not restarted');
  await waitFor('hc5', 'healthy');
  assert.equal(await ok(d.docker(['inspect', '-f', '{{.State.Status}}', 'hc5'])), 'running');
  const refused = await d.berth(['run', '--health-cmd', 'true', '--health-on-failure', 'reboot', 'busybox']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /invalid HealthOnFailure 'reboot'/);
  await ok(d.docker(['rm', '-f', 'hc5']));
});
