/**
 * Crash paths (issue 8) against a real berthd: what a crash, a full disk or a leftover mount can
 * leave in the data root never stops the daemon from starting, and exec never leaks the daemon's
 * own environment. Each test is named after the hole it closes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, startDaemonWithMirror, type TestDaemon } from '../helpers/daemon.js';
import { mountsUnder } from '../../src/engine/mountinfo.js';

// Set before the daemon starts, so berthd has it in its own environment.
const CANARY = 'BERTH_TEST_DAEMON_SECRET';
const SECRET = `root-only-${randomBytes(6).toString('hex')}`;
process.env[CANARY] = SECRET;

let d: TestDaemon;
const data = (...p: string[]): string => join(d.root, d.dataRoot, ...p);

before(async () => {
  d = await startDaemonWithMirror();
});

after(async () => {
  await d?.stop();
});

/** The raw Engine API (the CLIs would fill `-e NAME` from their own environment). */
async function api(method: string, path: string, body?: unknown): Promise<unknown> {
  const args = ['-sS', '--unix-socket', d.socket, '-X', method, '-H', 'Content-Type: application/json',
    ...(body === undefined ? [] : ['-d', JSON.stringify(body)]), `http://localhost/v1.43${path}`];
  const r = await run('curl', args);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout ? JSON.parse(r.stdout) : undefined;
}

test('exec-env-no-leak: an exec Env entry without "=" never takes the daemon\'s value', async () => {
  const id = (await d.docker(['run', '-d', '-e', `${CANARY}=from-container`, 'busybox', 'sleep', '60'])).stdout.trim();
  try {
    // Without '=': unset (as moby), never looked up in berthd's environment.
    const x = await api('POST', `/containers/${id}/exec`, { Cmd: ['sh', '-c', 'env > /tmp/env'], Env: [CANARY, 'OTHER=1'] }) as { Id: string };
    await api('POST', `/exec/${x.Id}/start`, { Detach: true });
    let env = '';
    for (let i = 0; i < 50 && !env; i++) {
      env = (await d.docker(['exec', id, 'cat', '/tmp/env'])).stdout;
      if (!env) await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(env, /^OTHER=1$/m);
    assert.doesNotMatch(env, new RegExp(SECRET));
    assert.doesNotMatch(env, new RegExp(`^${CANARY}=`, 'm'), 'unset, as dockerd does');
    // Without an Env override the container's own value is what exec sees.
    const plain = (await d.docker(['exec', id, 'env'])).stdout;
    assert.match(plain, new RegExp(`^${CANARY}=from-container$`, 'm'));
  } finally {
    await d.docker(['rm', '-f', id]);
  }
});

test('exit-json-corrupt: an empty exit.json left by a full disk does not stop the daemon from starting', async () => {
  const id = (await d.docker(['run', '-d', 'busybox', 'sh', '-c', 'sleep 1; exit 4'])).stdout.trim();
  await d.kill('SIGKILL');
  const exitFile = data('containers', id, 'exit.json');
  for (let i = 0; i < 100 && !existsSync(exitFile); i++) await new Promise((r) => setTimeout(r, 100));
  await writeFile(exitFile, ''); // what a failed write renamed into place looked like
  await d.restart();
  const state = JSON.parse((await d.docker(['inspect', id])).stdout)[0].State;
  assert.equal(state.Status, 'exited');
  assert.equal(state.ExitCode, 255, 'the fallback status, as for a missing exit file');
  assert.match(await d.log(), /exit\.json/);
  assert.equal((await d.docker(['rm', id])).code, 0);
});

test('image-record-corrupt: a torn image record is set aside and the other images still load', async () => {
  assert.equal((await d.docker(['run', '--name', 'c-img', 'busybox', 'touch', '/made'])).code, 0);
  const committed = (await d.docker(['commit', 'c-img', 'torn:1'])).stdout.trim();
  await d.docker(['rm', 'c-img']);
  await d.kill('SIGTERM');
  const record = data('images', `${committed.slice(7)}.json`);
  assert.ok(existsSync(record));
  await writeFile(record, '{"id":"sha256:'); // cut short
  await d.restart();
  const images = await d.docker(['images', '--format', '{{.Repository}}:{{.Tag}}']);
  assert.equal(images.code, 0, images.stderr);
  assert.match(images.stdout, /^busybox:latest$/m);
  assert.doesNotMatch(images.stdout, /^torn:1$/m);
  assert.ok(existsSync(`${record}.corrupt`), 'kept for inspection');
  assert.match(await d.log(), /not a valid image record/);
  assert.equal((await d.docker(['run', '--rm', 'busybox', 'true'])).code, 0);
});

test('leftover-container-mount: a leftover container folder with a mount under it does not fail start-up', async () => {
  await d.kill('SIGTERM');
  const leftover = data('containers', randomBytes(32).toString('hex'));
  await mkdir(join(leftover, 'rootfs'), { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', join(leftover, 'rootfs')]);
  try {
    await writeFile(join(leftover, 'rootfs', 'file'), 'x');
    await d.restart();
    assert.equal((await d.docker(['ps', '-a'])).code, 0);
    assert.equal(existsSync(leftover), false, 'the leftover is removed');
    assert.deepEqual(await mountsUnder(leftover), []);
    assert.ok(!(await readdir(data('containers'))).includes(leftover.split('/').pop()!));
  } finally {
    for (const m of await mountsUnder(leftover)) execFileSync('umount', ['-l', m]);
  }
});

test('runtime-leftover-blocks-start: a runtime container left by a start cut short does not make the next start a 500', async () => {
  // Found by the kill -9 harness (BERTH_KILL_SEED=7): the daemon died between crun creating the
  // container and recording the start, and every later start failed "container … already exists".
  const id = (await d.docker(['create', '--network', 'none', 'busybox', 'echo', 'second start'])).stdout.trim();
  try {
    assert.equal((await d.docker(['start', '-a', id])).code, 0); // writes the bundle's config.json
    const bundle = data('containers', id);
    // The rootfs is unmounted after the exit; crun create only needs to find the command in it.
    await mkdir(join(bundle, 'rootfs', 'bin'), { recursive: true });
    await writeFile(join(bundle, 'rootfs', 'bin', 'echo'), '', { mode: 0o755 });
    // Its init holds the stdio it was given until started: give it none, so crun returns.
    const made = await run('sh', ['-c', `crun create --bundle '${bundle}' ${id} </dev/null >/dev/null 2>&1`]);
    assert.equal(made.code, 0, made.stderr);
    const r = await d.docker(['start', '-a', id]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'second start\n');
  } finally {
    await d.docker(['rm', '-f', id]);
    await run('crun', ['delete', '--force', id]);
  }
});
