/**
 * Paths a container controls never steer the daemon (issue 8, first hole): each test is named
 * after the hole it closes and drives a real berthd with the docker CLI.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { run, startDaemonWithMirror, type TestDaemon } from '../helpers/daemon.js';

let d: TestDaemon;
const names: string[] = [];

before(async () => {
  d = await startDaemonWithMirror({ images: ['busybox'] });
});

after(async () => {
  if (names.length) await d?.docker(['rm', '-f', ...names]).catch(() => undefined);
  await d?.stop();
});

async function ping(): Promise<string> {
  const r = await run('curl', ['-s', '-m', '5', '--unix-socket', d.socket, 'http://d/_ping']);
  return r.stdout;
}

/** Run a detached container and wait until `ready` succeeds in it (the container set its trap). */
async function runUntil(name: string, script: string, ready: string[]): Promise<void> {
  names.push(name);
  const r = await d.docker(['run', '-d', '--name', name, 'busybox', 'sh', '-c', script]);
  assert.equal(r.code, 0, r.stderr);
  for (let i = 0; i < 100; i++) {
    if ((await d.docker(['exec', '-u', '0', name, ...ready])).code === 0) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.fail(`${name}: never ready`);
}

test('workdir-symlink-escape: a container whose working dir\'s parent is a symlink to / does not make the daemon create host directories', async () => {
  const probe = `/tmp/berth-escape-${process.pid}-${Date.now()}`;
  const name = 'hp-workdir';
  names.push(name);
  try {
    // First run: /app<probe> is made in the container; then /app becomes a symlink to /.
    const r = await d.docker(['run', '--name', name, '-w', `/app${probe}`, 'busybox', 'sh', '-c', 'cd / && rm -rf /app && ln -s / /app']);
    assert.equal(r.code, 0, r.stderr);
    // The next start creates the working dir again: inside the container, never on the host.
    const s = await d.docker(['start', '-a', name], { timeoutMs: 30_000 });
    assert.equal(s.code, 0, s.stderr);
    assert.equal(existsSync(probe), false, `the daemon created ${probe} on the host`);
    const c = await d.docker(['commit', name]);
    assert.equal(c.code, 0, c.stderr);
    const seen = await d.docker(['run', '--rm', c.stdout.trim(), 'sh', '-c', `test -d ${probe} && readlink /app`]);
    assert.equal(seen.stdout, '/\n', seen.stderr); // made inside the container's root
    await d.docker(['rmi', c.stdout.trim()]);
  } finally {
    await rm(probe, { recursive: true, force: true });
  }
});

test('exec-user-fifo: /etc/passwd replaced by a FIFO does not block exec -u name', async () => {
  await runUntil('hp-fifo', 'rm /etc/passwd && mkfifo /etc/passwd && sleep 300', ['test', '-p', '/etc/passwd']);
  const t0 = Date.now();
  const r = await d.docker(['exec', '-u', 'nobody', 'hp-fifo', 'id'], { timeoutMs: 20_000 });
  assert.equal(r.code, 126, r.stdout + r.stderr); // as dockerd: the start error on the stream, exit 126
  assert.match(r.stdout + r.stderr, /unable to find user nobody: no matching entries in passwd file/);
  assert.ok(Date.now() - t0 < 10_000, 'exec took too long');
  assert.equal(await ping(), 'OK');
  // A numeric user needs no name and still works (not `id`: it would open the FIFO itself).
  const n = await d.docker(['exec', '-u', '65534', 'hp-fifo', 'grep', '^Uid:', '/proc/self/status'], { timeoutMs: 20_000 });
  assert.equal(n.code, 0, n.stderr);
  assert.match(n.stdout, /^Uid:\s+65534\s/);
});

test('passwd-dev-zero: /etc/passwd → /dev/zero does not exhaust the daemon', async () => {
  // A symlink to /dev/zero (re-rooted in the container's root) and the device node itself.
  await runUntil('hp-zero-link', 'ln -sf /dev/zero /etc/passwd && sleep 300', ['test', '-L', '/etc/passwd']);
  await runUntil('hp-zero-node', 'rm /etc/group && mknod /etc/group c 1 5 && sleep 300', ['test', '-c', '/etc/group']);
  for (const name of ['hp-zero-link', 'hp-zero-node']) {
    const t0 = Date.now();
    const r = await d.docker(['exec', '-u', 'nobody:nogroup', name, 'id'], { timeoutMs: 20_000 });
    // Reading /dev/zero until Node's 2 GiB limit took half a minute and gigabytes of memory.
    assert.ok(Date.now() - t0 < 5_000, `exec took ${Date.now() - t0} ms`);
    assert.equal(r.code, 126, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /unable to find (user nobody|group nogroup): no matching entries/);
    assert.equal(await ping(), 'OK');
  }
});

test('start-user-fifo: a FIFO or device as /etc/passwd does not block the next start', async () => {
  const name = 'hp-start';
  names.push(name);
  const r = await d.docker(['run', '--name', name, '-u', '0', 'busybox', 'sh', '-c',
    'if [ -p /etc/passwd ]; then exit 0; fi; rm /etc/passwd /etc/group && mkfifo /etc/passwd && mknod /etc/group c 1 5']);
  assert.equal(r.code, 0, r.stderr);
  const s = await d.docker(['start', '-a', name], { timeoutMs: 20_000 });
  assert.equal(s.code, 0, s.stderr);
  assert.equal(await ping(), 'OK');
});
