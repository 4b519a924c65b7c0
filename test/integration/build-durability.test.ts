/**
 * A build writes its step layers, blobs and image records without fsyncs and seals them with one
 * syncfs before it reports the image (LayerStore.seal): what a build acknowledged survives
 * kill -9 whole, and a kill mid-build leaves nothing half-visible (the unsealed step layers are
 * dropped at the next start, with the step images standing on them) and the next build works.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { removeContainersAndStop, startDaemonWithImages, type TestDaemon } from '../helpers/daemon.js';
import { writeContext } from '../helpers/build-context.js';

let d: TestDaemon;
let tmp: string;

before(async () => {
  d = await startDaemonWithImages(['busybox']);
  tmp = mkdtempSync('/tmp/berth-build-dur-');
});

after(async () => {
  await removeContainersAndStop(d);
  rmSync(tmp, { recursive: true, force: true });
});

function context(name: string, files: Record<string, string>): string {
  return writeContext(tmp, name, files);
}

const layersDir = () => join(d.root, d.dataRoot, 'layers');
const pendingLayers = () => readdirSync(layersDir()).filter((n) => /^[a-f0-9]{64}$/.test(n) && existsSync(join(layersDir(), n, 'pending')));
const cacheHits = (out: string) => [...out.matchAll(/^ ---> Using cache$/gm)].length;

/** Every image the daemon lists inspects, and each of its layers is on disk. */
async function everyImageWhole(): Promise<number> {
  const ids = (await d.docker(['images', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
  for (const id of ids) {
    const r = await d.docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', id]);
    assert.equal(r.code, 0, `${id}: ${r.stderr}`);
  }
  return ids.length;
}

test('a built image survives kill -9 right after the build; no layer is left pending', async () => {
  const c = context('acked', {
    'Dockerfile': 'FROM busybox\nWORKDIR /app\nCOPY f ./\nRUN cat f > g && echo ran >> g\nENV K=v\nCMD ["cat", "/app/g"]\n',
    'f': 'from the context\n',
  });
  const b = await d.docker(['build', '-t', 'durable:1', c], { timeoutMs: 180_000 });
  assert.equal(b.code, 0, b.stderr);
  assert.deepEqual(pendingLayers(), [], 'the build sealed its layers before it answered');
  await d.kill('SIGKILL');
  await d.restart();
  const r = await d.docker(['run', '--rm', 'durable:1'], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'from the context\nran\n');
  const again = await d.docker(['build', '-t', 'durable:1', c], { timeoutMs: 180_000 });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(cacheHits(again.stdout), 5, `every step from the cache after the kill: ${again.stdout}`);
});

test('kill -9 mid-build: the unsealed step layers are dropped, nothing is half-visible, the next build works', async () => {
  const c = context('cut', { 'Dockerfile': 'FROM busybox\nRUN echo a > /a\nARG S=120\nRUN echo started && sleep $S\n' });
  const child = spawn('/usr/local/bin/docker', ['-H', d.host, 'build', '--no-cache', c], {
    env: { ...process.env, DOCKER_BUILDKIT: '0' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Taken now: the CLI may exit (its daemon gone) before the kill below returns.
  const cliExited = new Promise((r) => child.once('exit', r));
  let out = '';
  child.stderr.resume();
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); if (/^started$/m.test(out)) resolve(); });
    child.on('exit', () => resolve());
  });
  assert.match(out, /^started$/m, out);
  assert.ok(pendingLayers().length > 0, 'the first RUN\'s layer waits for the seal');
  await d.kill('SIGKILL');
  await cliExited;
  await d.restart();
  assert.deepEqual(pendingLayers(), [], 'the start dropped the unsealed layer');
  assert.ok(await everyImageWhole() >= 1);
  const next = await d.docker(['build', '--build-arg', 'S=0', '-t', 'cut:1', c], { timeoutMs: 180_000 });
  assert.equal(next.code, 0, next.stderr);
  assert.equal(cacheHits(next.stdout), 0, `the dropped step is not a cache hit: ${next.stdout}`);
  const r = await d.docker(['run', '--rm', 'cut:1', 'cat', '/a'], { timeoutMs: 60_000 });
  assert.equal(r.stdout, 'a\n', r.stderr);
  // the killed build's step container: removed like any other
  const left = (await d.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  if (left.length) assert.equal((await d.docker(['rm', '-f', ...left])).code, 0);
});
