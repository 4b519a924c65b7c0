/**
 * zstd layers (application/vnd.oci.image.layer.v1.tar+zstd): pulled (decoded by fzstd on Node 20,
 * whose zlib has no zstd), run, and pushed as they came (same blobs, same media types), through the
 * real docker CLI and berth. The image is made here with Debian's `zstd`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { removeContainersAndStop, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { pushTestImage, type PushedImage } from '../helpers/oci-image.js';

let reg: TestRegistry;
let d: TestDaemon;
let img: PushedImage;

before(async () => {
  reg = await startRegistry();
  img = await pushTestImage(reg.host, 'zstd-img', [
    { compression: 'zstd', files: { 'bin/busybox': { data: readFileSync('/bin/busybox'), mode: 0o755 } } },
    { compression: 'zstd', files: { 'etc/msg': 'hello from a zstd layer\n' } },
  ]);
  d = await startDaemon({ mirror: reg.url });
});

after(async () => {
  await removeContainersAndStop(d);
  await reg?.stop();
});

function getManifest(url: string): Promise<{ mediaType?: string; layers: Array<{ mediaType: string; digest: string }> }> {
  return new Promise((res, rej) => {
    http.get(url, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' } }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => { try { res(JSON.parse(Buffer.concat(chunks).toString())); } catch (e) { rej(e); } });
    }).on('error', rej);
  });
}

test('pull-zstd: a zstd image pulls through the docker CLI, its files are there and it runs', async () => {
  assert.ok(img.layers.every((l) => l.mediaType.endsWith('+zstd')));
  const p = await d.docker(['pull', 'zstd-img']);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stdout, /Downloaded newer image for zstd-img:latest/);
  const layers = await d.docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', 'zstd-img']);
  assert.deepEqual(JSON.parse(layers.stdout), img.layers.map((l) => l.diffID));
  const r = await d.docker(['run', '--rm', 'zstd-img', '/bin/busybox', 'cat', '/etc/msg']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hello from a zstd layer\n');
});

test('pull-zstd-push: a pulled zstd image is pushed as it came (berth CLI): same blobs, still zstd', async () => {
  const p = await d.berth(['pull', 'zstd-img']);
  assert.equal(p.code, 0, p.stderr);
  const target = `${reg.host}/library/zstd-copy:latest`;
  assert.equal((await d.berth(['tag', 'zstd-img', target])).code, 0);
  const push = await d.berth(['push', target]);
  assert.equal(push.code, 0, push.stderr + push.stdout);
  const m = await getManifest(`${reg.url}/v2/library/zstd-copy/manifests/latest`);
  assert.deepEqual(m.layers.map((l) => [l.mediaType, l.digest]), img.layers.map((l) => [l.mediaType, l.digest]));
});
