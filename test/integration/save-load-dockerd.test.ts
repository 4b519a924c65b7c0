/**
 * The round trip with Debian's dockerd (started as bench/lib.sh does; the test fails if it cannot
 * be): an archive `berth save` wrote (Docker 25+ layout) loads into dockerd with the same image
 * IDs and layer digests, and what dockerd saves (its own, older layout) loads back into Berth with
 * the same IDs again and runs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOCKER_CLI, removeContainersAndStop, run, startDaemonWithImages, type TestDaemon } from '../helpers/daemon.js';
import { startBenchDockerd, type BenchDockerd } from '../helpers/bench-dockerd.js';

let d: TestDaemon;
let docker: BenchDockerd | undefined;
let dir: string;

before(async () => {
  d = await startDaemonWithImages(['busybox']);
  dir = await mkdtemp(join(tmpdir(), 'berth-roundtrip-'));
  docker = await startBenchDockerd();
});

after(async () => {
  await docker?.stop();
  await removeContainersAndStop(d);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function berth(args: string[]): Promise<string> {
  const r = await d.berth(args, { timeoutMs: 120_000 });
  assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function dockerd(args: string[]): Promise<string> {
  const r = await run(DOCKER_CLI, ['-H', docker!.host, ...args], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const ids = (out: string) => out.trim().split('\n');

test('berth save → dockerd load → dockerd save → berth load: same image IDs and layer digests both ways', async () => {
  await berth(['run', '--name', 'mk', 'busybox', 'sh', '-c', 'echo round > /trip']);
  await berth(['commit', 'mk', 'trip/made:v1']);
  await berth(['rm', 'mk']);
  const fmt = ['--format', '{{.Id}} {{json .RootFS.Layers}}'];
  const ours = ids(await berth(['image', 'inspect', ...fmt, 'busybox', 'trip/made:v1']));

  const f1 = join(dir, 'from-berth.tar');
  await berth(['save', '-o', f1, 'busybox', 'trip/made:v1']);
  const loaded = await dockerd(['load', '-i', f1]);
  assert.deepEqual(loaded.trim().split('\n').sort(), ['Loaded image: busybox:latest', 'Loaded image: trip/made:v1']);
  assert.deepEqual(ids(await dockerd(['image', 'inspect', ...fmt, 'busybox', 'trip/made:v1'])), ours);

  const f2 = join(dir, 'from-dockerd.tar');
  await dockerd(['save', '-o', f2, 'busybox', 'trip/made:v1']);
  await berth(['rmi', 'trip/made:v1', 'busybox']);
  const back = await berth(['load', '-i', f2]);
  assert.deepEqual(back.trim().split('\n').sort(), ['Loaded image: busybox:latest', 'Loaded image: trip/made:v1']);
  assert.deepEqual(ids(await berth(['image', 'inspect', ...fmt, 'busybox', 'trip/made:v1'])), ours);
  assert.equal(await berth(['run', '--rm', 'trip/made:v1', 'cat', '/trip']), 'round\n');
  // And saved again by Berth, dockerd takes it once more (the blobs kept from its archive).
  const f3 = join(dir, 'again.tar');
  await berth(['save', '-o', f3, 'trip/made:v1']);
  await dockerd(['rmi', 'trip/made:v1']);
  await dockerd(['load', '-i', f3]);
  assert.deepEqual(ids(await dockerd(['image', 'inspect', ...fmt, 'trip/made:v1'])), [ours[1]]);
});
