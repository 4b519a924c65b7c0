/**
 * Pulls that resume and join (beyond dockerd, docker/cli#7166), through the real docker CLI and
 * berth against a berthd whose registry mirror is a proxy (test/helpers/cutting-proxy.ts) in front
 * of the loopback registry: the proxy cuts or slows blob bodies and counts what it serves.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { removeContainersAndStop, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { startCuttingProxy, type CuttingProxy } from '../helpers/cutting-proxy.js';
import { pushTestImage, type PushedImage } from '../helpers/oci-image.js';

let reg: TestRegistry;
let proxy: CuttingProxy;
let d: TestDaemon;
let img: PushedImage;
let big: { digest: string; size: number };

const SIZE = 3 * 1024 * 1024;

before(async () => {
  reg = await startRegistry();
  // Random data: gzip keeps it at about its size, so the blob is ~3 MiB on the wire.
  img = await pushTestImage(reg.host, 'resume-me', [
    { files: { 'etc/marker': 'small layer\n' } },
    { files: { 'data/random.bin': randomBytes(SIZE) } },
  ]);
  big = img.layers[1]!;
  proxy = await startCuttingProxy(reg.url);
  d = await startDaemon({ mirror: proxy.url });
});

after(async () => {
  await removeContainersAndStop(d);
  await proxy?.stop();
  await reg?.stop();
});

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function fresh(): Promise<void> {
  await d.docker(['rmi', '-f', 'resume-me']);
  proxy.throttle(undefined);
}

async function imageId(): Promise<string | undefined> {
  const r = await d.docker(['image', 'inspect', '--format', '{{.Id}}', 'resume-me']);
  return r.code === 0 ? r.stdout.trim() : undefined;
}

test('pull-resume-cut: a connection dropped mid-blob is resumed with a Range request and the pull succeeds', async () => {
  await fresh();
  const before = proxy.requests(big.digest).length;
  const cutAt = 1_000_000;
  proxy.cutNext(big.digest, cutAt);
  const r = await d.docker(['pull', 'resume-me']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Downloaded newer image for resume-me:latest/);
  const reqs = proxy.requests(big.digest).slice(before);
  assert.equal(reqs.length, 2, JSON.stringify(reqs));
  assert.equal(reqs[0]!.cut, true);
  assert.equal(reqs[0]!.bytes, cutAt);
  // The second request starts where the first stopped (at what reached berthd before the socket
  // went: at most what the proxy wrote), and only the rest crosses the wire.
  const from = Number(/^bytes=(\d+)-$/.exec(reqs[1]!.range ?? '')?.[1] ?? -1);
  assert.ok(from > 0 && from <= cutAt, `second request: Range ${reqs[1]!.range}`);
  assert.equal(reqs[1]!.status, 206);
  assert.equal(reqs[1]!.bytes, big.size - from);
  // The layer is whole (the image has no shell to look inside: its size says it).
  const inspect = await d.docker(['image', 'inspect', '--format', '{{.Size}}', 'resume-me']);
  assert.ok(Number(inspect.stdout.trim()) >= SIZE, inspect.stdout);
});

test('pull-resume-client-gone: the berth client killed mid-pull, the image appears anyway', async () => {
  await fresh();
  proxy.throttle(512 * 1024);
  const before = proxy.bytesServed(big.digest);
  const child = spawn(process.execPath, [new URL('../../dist/berth.mjs', import.meta.url).pathname, 'pull', 'resume-me'], {
    env: { ...process.env, BERTH_HOST: d.host, DOCKER_HOST: d.host }, stdio: 'ignore',
  });
  await until('bytes of the big blob', () => proxy.bytesServed(big.digest) - before > 256 * 1024);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  proxy.throttle(undefined);
  await until('the image to appear', async () => (await imageId()) !== undefined);
  // One download only: the pull went on, nothing was fetched twice.
  assert.equal(proxy.bytesServed(big.digest) - before, big.size);
});

test('pull-resume-join: two pulls of the same image at once make one download, both see the progress', async () => {
  await fresh();
  proxy.throttle(1024 * 1024);
  const before = proxy.requests(big.digest).length;
  const first = d.docker(['pull', 'resume-me']);
  await until('the first pull to start the big blob', () => proxy.requests(big.digest).length > before);
  const second = d.docker(['pull', 'resume-me']);
  const [a, b] = await Promise.all([first, second]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  for (const out of [a.stdout, b.stdout]) {
    assert.match(out, new RegExp(`${big.digest.slice(7, 19)}: Pull complete`));
    assert.match(out, /Downloaded newer image for resume-me:latest/);
  }
  assert.equal(proxy.requests(big.digest).length - before, 1, 'the blob was downloaded twice');
});

test('pull-resume-daemon-killed: berthd SIGKILLed mid-blob, restarted, the pull again fetches only the rest', async () => {
  await fresh();
  proxy.throttle(256 * 1024);
  const before = proxy.requests(big.digest).length;
  const pulling = d.docker(['pull', 'resume-me']);
  await until('half a MiB of the big blob', () => {
    const r = proxy.requests(big.digest).slice(before);
    return r.length > 0 && r[r.length - 1]!.bytes > 512 * 1024;
  });
  await d.kill('SIGKILL');
  await pulling; // the client sees its connection end
  const firstRun = proxy.requests(big.digest).slice(before).reduce((n, r) => n + r.bytes, 0);
  await d.restart();
  proxy.throttle(undefined);
  const mark = proxy.requests(big.digest).length;
  const r = await d.berth(['pull', 'resume-me']);
  assert.equal(r.code, 0, r.stderr);
  const again = proxy.requests(big.digest).slice(mark);
  assert.equal(again.length, 1, JSON.stringify(again));
  assert.match(again[0]!.range ?? '', /^bytes=\d+-$/, 'no Range on the resumed download');
  const from = Number(/^bytes=(\d+)-$/.exec(again[0]!.range!)![1]);
  assert.ok(from > 0 && from <= firstRun, `resumed from ${from}, ${firstRun} bytes served before the kill`);
  assert.equal(again[0]!.bytes, big.size - from);
  assert.ok(again[0]!.bytes < big.size, 'the whole blob was fetched again');
  assert.ok(await imageId(), 'no image after the resumed pull');
});
