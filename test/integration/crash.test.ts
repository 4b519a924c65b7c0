/**
 * A daemon killed (SIGKILL) at awkward moments: on restart nothing half-done is visible, and
 * everything acknowledged before the kill is there.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemonWithMirror, type TestDaemon } from '../helpers/daemon.js';

let d: TestDaemon;

before(async () => {
  d = await startDaemonWithMirror();
});

after(async () => {
  await d?.stop();
});

test('killed mid-pull: no half image after restart, and the pull then completes', async () => {
  // Kill the daemon as soon as the pull has made progress on a layer.
  const pull = d.berth(['pull', 'layered']);
  const deadline = Date.now() + 10_000;
  const ingest = join(d.root, d.dataRoot, 'content', 'ingest');
  const layersDir = join(d.root, d.dataRoot, 'layers');
  while (Date.now() < deadline) {
    const busy = (existsSync(ingest) && readdirSync(ingest).length > 0)
      || (existsSync(layersDir) && readdirSync(layersDir).some((n) => n.startsWith('tmp')));
    if (busy) break;
    await new Promise((r) => setTimeout(r, 2));
  }
  await d.kill('SIGKILL');
  await pull;
  await d.restart();
  const images = await d.docker(['images', '--format', '{{.Repository}}']);
  assert.equal(images.code, 0, images.stderr);
  assert.doesNotMatch(images.stdout, /^layered$/m);
  // Leftovers of the interrupted pull are cleared at startup, but for the verified bytes of a cut
  // download (`<hex>.partial`), which the next pull resumes from (pull-resume.test.ts).
  const ingestNow = () => (existsSync(ingest) ? readdirSync(ingest) : []);
  assert.deepEqual(ingestNow().filter((n) => !/^[0-9a-f]{64}\.partial$/.test(n)), []);
  assert.ok(!readdirSync(layersDir).some((n) => n.startsWith('tmp')), 'temp snapshots left behind');
  const again = await d.docker(['pull', 'layered']);
  assert.equal(again.code, 0, again.stderr);
  const img = JSON.parse((await d.berth(['image', 'inspect', 'layered'])).stdout)[0];
  assert.equal(img.RootFS.Layers.length, 4);
  assert.deepEqual(ingestNow(), [], 'the completed pull used up its partial blobs');
});

test('killed right after acknowledging: containers, exit codes and log lines survive', async () => {
  const lines = Array.from({ length: 200 }, (_, i) => `line ${i}`);
  const r = await d.berth(['run', '--name', 'chatty', 'busybox', 'sh', '-c', `for i in $(seq 0 199); do echo "line $i"; done; exit 9`]);
  assert.equal(r.code, 9);
  assert.equal(r.stdout, lines.join('\n') + '\n');
  const created = (await d.docker(['create', '--name', 'fresh', 'busybox', 'true'])).stdout.trim();
  await d.kill('SIGKILL');
  await d.restart();
  const logs = await d.docker(['logs', 'chatty']);
  assert.equal(logs.stdout, lines.join('\n') + '\n');
  assert.equal(JSON.parse((await d.docker(['inspect', 'chatty'])).stdout)[0].State.ExitCode, 9);
  const fresh = JSON.parse((await d.docker(['inspect', 'fresh'])).stdout)[0];
  assert.equal(fresh.Id, created);
  assert.equal(fresh.State.Status, 'created');
  assert.equal((await d.docker(['start', '-a', 'fresh'])).code, 0);
});

test('a running container that exits while the daemon is down is recorded with its exit code', async () => {
  const id = (await d.berth(['run', '-d', 'busybox', 'sh', '-c', 'sleep 1; echo done; exit 4'])).stdout.trim();
  await d.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 1500));
  await d.restart();
  const state = JSON.parse((await d.docker(['inspect', id])).stdout)[0].State;
  assert.equal(state.Status, 'exited');
  assert.equal(state.ExitCode, 4);
  assert.equal((await d.berth(['logs', id])).stdout, 'done\n');
  // Its rootfs was unmounted by the shim; rm cleans the rest.
  assert.equal((await d.berth(['rm', id])).code, 0);
});

test('rmi -f of an image a stopped container uses: the container still runs; its layers go with it', async () => {
  assert.equal((await d.berth(['run', '--name', 'hw', 'hello-world'])).code, 0);
  const chain: string[] = JSON.parse((await d.docker(['inspect', 'hw'])).stdout)[0].GraphDriver.Data.LowerDir.split(':');
  const refused = await d.docker(['rmi', 'hello-world']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /conflict: unable to remove repository reference "hello-world" \(must force\) - container [0-9a-f]{12} is using its referenced image/);
  const forced = await d.docker(['rmi', '-f', 'hello-world']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /Untagged: hello-world:latest/);
  assert.ok(chain.every((dir) => existsSync(dir)), 'layers of a container were deleted under it');
  const again = await d.docker(['start', '-a', 'hw']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /Hello from Berth!/);
  assert.equal((await d.berth(['rm', 'hw'])).code, 0);
  assert.ok(chain.every((dir) => !existsSync(dir)), 'the layers of the deleted image outlived its last container');
});

/** Freeze or thaw a container behind the daemon's back, in its freezer cgroup (v1 or v2). */
function setFrozen(id: string, frozen: boolean): void {
  const v1 = join('/sys/fs/cgroup/freezer/berth', id, 'freezer.state');
  if (existsSync(v1)) writeFileSync(v1, frozen ? 'FROZEN' : 'THAWED');
  else writeFileSync(join('/sys/fs/cgroup/berth', id, 'cgroup.freeze'), frozen ? '1' : '0');
}

test('kill-cut-pause: a freeze the kill cut before its record is undone at restart, so stop still ends the container', { timeout: 60_000 }, async () => {
  // A commit (or a pause) freezes the container, then writes "paused": a kill in between left a
  // container frozen that its record said was running, and a stop then waited forever.
  const id = (await d.berth(['run', '-d', 'busybox', 'sleep', '1000'])).stdout.trim();
  setFrozen(id, true);
  await d.kill('SIGKILL');
  await d.restart();
  let state = JSON.parse((await d.docker(['inspect', id])).stdout)[0].State;
  assert.equal(state.Status, 'running');
  const stop = await d.docker(['stop', '-t', '1', id]);
  assert.equal(stop.code, 0, stop.stderr);
  state = JSON.parse((await d.docker(['inspect', id])).stdout)[0].State;
  assert.equal(state.Status, 'exited');
  assert.equal(state.ExitCode, 137);

  // The other way: an unpause that thawed it but was cut before writing "running".
  const other = (await d.berth(['run', '-d', 'busybox', 'sleep', '1000'])).stdout.trim();
  assert.equal((await d.docker(['pause', other])).code, 0);
  setFrozen(other, false);
  await d.kill('SIGKILL');
  await d.restart();
  assert.equal(JSON.parse((await d.docker(['inspect', other])).stdout)[0].State.Status, 'running');
  assert.equal((await d.docker(['rm', '-f', id, other])).code, 0);
});
