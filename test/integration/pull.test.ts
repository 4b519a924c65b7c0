/**
 * Pull against a real registry (Debian's docker-registry on loopback) into a temp data root with
 * the real content, layer and image stores. Docker Hub names go through `registry-mirrors`; the
 * Hub endpoint itself is pointed at a closed loopback port so nothing leaves the machine.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentStore } from '../../src/engine/content/store.js';
import { LayerStore } from '../../src/engine/layers/store.js';
import { ImageStore } from '../../src/engine/images/store.js';
import { parseDockerRef } from '../../src/wire/reference.js';
import type { JSONMessage } from '../../src/engine/images/types.js';
import { Distribution } from '../../src/engine/distribution/index.js';
import { NotFoundError, UnavailableError } from '../../src/engine/errors.js';
import { startRegistry, pushFixtures, freePort, type TestRegistry } from '../helpers/registry.js';
import { run } from '../helpers/daemon.js';

let reg: TestRegistry;
let closedPort: number;
const roots: string[] = [];

async function newRoot() {
  const root = await mkdtemp(join(tmpdir(), 'berth-pull-'));
  roots.push(root);
  const content = new ContentStore(root);
  await content.init();
  const layers = new LayerStore(root);
  await layers.init();
  const images = new ImageStore(root, content, layers);
  await images.init();
  return { root, content, layers, images };
}

function getJson(url: string, accept: string): Promise<{ body: Buffer; digest: string }> {
  return new Promise((res, rej) => {
    http.get(url, { headers: { Accept: accept } }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => {
        const body = Buffer.concat(chunks);
        res({ body, digest: 'sha256:' + createHash('sha256').update(body).digest('hex') });
      });
    }).on('error', rej);
  });
}

const ACCEPT = 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';

before(async () => {
  reg = await startRegistry();
  await pushFixtures(reg.host);
  closedPort = await freePort();
});

after(async () => {
  await reg?.stop();
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

function dist() {
  return new Distribution({ mirrors: [reg.url], hubEndpoint: `http://127.0.0.1:${closedPort}` });
}

test('pull busybox through the mirror: Docker\'s message sequence, image record, files', async () => {
  const s = await newRoot();
  const msgs: JSONMessage[] = [];
  const rec = await dist().pull(parseDockerRef('busybox'), {}, s, (m) => msgs.push(m));

  const man = await getJson(`${reg.url}/v2/library/busybox/manifests/latest`, ACCEPT);
  const manifest = JSON.parse(man.body.toString());
  const layerDigest: string = manifest.layers[0].digest;
  const id = layerDigest.slice(7, 19);

  assert.deepEqual(msgs[0], { status: 'Pulling from library/busybox', id: 'latest' });
  const statuses = msgs.filter((m) => m.id === id).map((m) => m.status);
  // collapse the repeated progress messages
  const collapsed = statuses.filter((st, i) => st !== statuses[i - 1]);
  assert.deepEqual(collapsed, ['Pulling fs layer', 'Downloading', 'Verifying Checksum', 'Download complete', 'Extracting', 'Pull complete']);
  const dl = msgs.filter((m) => m.status === 'Downloading');
  assert.ok(dl.length >= 1 && dl.length < 50, `throttled Downloading messages: ${dl.length}`);
  assert.equal(dl.at(-1)!.progressDetail!.current, manifest.layers[0].size);
  assert.equal(dl.at(-1)!.progressDetail!.total, manifest.layers[0].size);
  assert.match(dl.at(-1)!.progress!, /^\[=+>\] +\d/);
  assert.deepEqual(msgs.at(-2), { status: `Digest: ${man.digest}` });
  assert.deepEqual(msgs.at(-1), { status: 'Status: Downloaded newer image for busybox:latest' });

  // record: id = sha256(config), digests, layers
  const cfg = await s.content.read(manifest.config.digest);
  assert.equal(rec.id, 'sha256:' + createHash('sha256').update(cfg).digest('hex'));
  assert.equal(rec.chainIDs.length, 1);
  const got = s.images.get('busybox:latest');
  assert.equal(got?.id, rec.id);
  assert.ok(s.images.get(`busybox@${man.digest}`), 'pullable by the recorded RepoDigest');
  assert.ok(got!.repoDigests.some((d) => d.endsWith(`busybox@${man.digest}`)), JSON.stringify(got!.repoDigests));
  assert.deepEqual(rec.config.config?.Cmd, ['sh']);
  const dir = s.layers.diffDir(rec.chainIDs[0]!);
  assert.ok(lstatSync(join(dir, 'bin', 'busybox')).isFile());
  assert.ok(lstatSync(join(dir, 'bin', 'sh')).isSymbolicLink());
  assert.equal(lstatSync(join(dir, 'tmp')).mode & 0o7777, 0o1777);
  assert.ok(await s.content.has(man.digest), 'manifest kept in the content store');

  // re-pull: everything exists, "up to date"
  const again: JSONMessage[] = [];
  await dist().pull(parseDockerRef('busybox:latest'), {}, s, (m) => again.push(m));
  assert.deepEqual(again.map((m) => m.status), ['Pulling from library/busybox', 'Already exists', `Digest: ${man.digest}`, 'Status: Image is up to date for busybox:latest']);
});

test('layers-spread: on ext4 the layer store marks its directory +T, so each layer starts a block group of its own', async () => {
  // Why (src/engine/host/spread-dirs.ts): without it, a pull after an rmi put its files in the
  // group the removed layers freed, and ext4 without a journal walked the freed inodes per file.
  const { root } = await newRoot();
  const dir = join(root, 'layers');
  const fs = await run('stat', ['-f', '-c', '%T', dir]);
  assert.equal(fs.code, 0, fs.stderr);
  if (fs.stdout.trim() !== 'ext2/ext3') {
    console.log(`layers-spread: ${dir} is on ${fs.stdout.trim()}, which has no such attribute; the store opened anyway`);
    return;
  }
  const attrs = await run('lsattr', ['-d', dir]);
  assert.equal(attrs.code, 0, attrs.stderr);
  assert.match(attrs.stdout.split(' ')[0]!, /T/, attrs.stdout);
});

test('pull hello-world (OCI manifest) and the four-layer image (ordering, Waiting, whiteouts)', async () => {
  const s = await newRoot();
  const hello = await dist().pull(parseDockerRef('hello-world'), {}, s, () => {});
  assert.deepEqual(hello.config.config?.Cmd, ['/hello']);
  assert.ok(existsSync(join(s.layers.diffDir(hello.chainIDs[0]!), 'hello')));

  const msgs: JSONMessage[] = [];
  const rec = await dist().pull(parseDockerRef('layered'), {}, s, (m) => msgs.push(m));
  assert.equal(rec.chainIDs.length, 4);
  assert.equal(msgs.filter((m) => m.status === 'Pulling fs layer').length, 4);
  assert.equal(msgs.filter((m) => m.status === 'Waiting').length, 1);
  const completes = msgs.filter((m) => m.status === 'Pull complete').map((m) => m.id);
  const man = JSON.parse((await getJson(`${reg.url}/v2/library/layered/manifests/latest`, ACCEPT)).body.toString());
  assert.deepEqual(completes, man.layers.map((l: { digest: string }) => l.digest.slice(7, 19)), 'applied in order');
  const top = s.layers.diffDir(rec.chainIDs[3]!);
  assert.equal(await readFile(join(top, 'data', 'four.txt'), 'utf8'), 'four\n');
  const third = s.layers.diffDir(rec.chainIDs[2]!);
  assert.ok(!existsSync(join(third, 'data', '.wh.gone.txt')), 'OCI whiteout converted');
  assert.ok(lstatSync(join(third, 'data', 'gone.txt')).isCharacterDevice(), 'overlay whiteout present');
});

test('platform selection from an OCI index', async () => {
  const s = await newRoot();
  const amd = await dist().pull(parseDockerRef('platform-test'), { platform: 'linux/amd64' }, s, () => {});
  assert.equal(await readFile(join(s.layers.diffDir(amd.chainIDs[0]!), 'etc', 'berth-platform'), 'utf8'), 'linux/amd64\n');
  const msgs: JSONMessage[] = [];
  const arm = await dist().pull(parseDockerRef('platform-test'), { platform: 'linux/arm64' }, s, (m) => msgs.push(m));
  assert.equal(arm.config.architecture, 'arm64');
  assert.equal(await readFile(join(s.layers.diffDir(arm.chainIDs[0]!), 'etc', 'berth-platform'), 'utf8'), 'linux/arm64\n');
  const index = await getJson(`${reg.url}/v2/library/platform-test/manifests/latest`, ACCEPT);
  assert.ok(msgs.some((m) => m.status === `Digest: ${index.digest}`), 'Digest is the index digest');
  await assert.rejects(
    dist().pull(parseDockerRef('platform-test'), { platform: 'linux/s390x' }, s, () => {}),
    (e: Error) => e instanceof NotFoundError && e.message === 'no matching manifest for linux/s390x in the manifest list entries',
  );
});

test('direct pull from a loopback registry name (plain http, no mirror)', async () => {
  const s = await newRoot();
  const ref = parseDockerRef(`${reg.host}/library/hello-world`);
  const msgs: JSONMessage[] = [];
  const rec = await new Distribution().pull(ref, {}, s, (m) => msgs.push(m));
  assert.equal(msgs.at(-1)!.status, `Status: Downloaded newer image for ${reg.host}/library/hello-world:latest`);
  assert.ok(s.images.get(`${reg.host}/library/hello-world:latest`)?.id === rec.id);

  // by digest: verified against the manifest bytes, recorded as a digest reference only
  const man = await getJson(`${reg.url}/v2/library/busybox/manifests/latest`, ACCEPT);
  const byDigest: JSONMessage[] = [];
  const bb = await new Distribution().pull(parseDockerRef(`${reg.host}/library/busybox@${man.digest}`), {}, s, (m) => byDigest.push(m));
  assert.deepEqual(byDigest[0], { status: 'Pulling from library/busybox', id: man.digest });
  assert.equal(byDigest.at(-1)!.status, `Status: Downloaded newer image for ${reg.host}/library/busybox@${man.digest}`);
  assert.equal(s.images.get(`${reg.host}/library/busybox@${man.digest}`)?.id, bb.id);
  assert.equal(s.images.get(`${reg.host}/library/busybox:latest`), undefined);
});

test('a mirror that is down falls back to the next endpoint', async () => {
  const s = await newRoot();
  const d = new Distribution({ mirrors: [`http://127.0.0.1:${closedPort}`], hubEndpoint: reg.url });
  const rec = await d.pull(parseDockerRef('hello-world'), {}, s, () => {});
  assert.equal(s.images.get('hello-world:latest')?.id, rec.id);
});

test('missing tag and missing repository: Docker\'s not-found messages, nothing stored', async () => {
  const s = await newRoot();
  await assert.rejects(
    dist().pull(parseDockerRef('busybox:nosuch'), {}, s, () => {}),
    (e: Error) => e instanceof NotFoundError && e.message === 'manifest for busybox:nosuch not found: manifest unknown: manifest unknown',
  );
  await assert.rejects(
    new Distribution().pull(parseDockerRef(`${reg.host}/nosuch/repo:1`), {}, s, () => {}),
    (e: Error) => e instanceof NotFoundError && e.message.startsWith(`manifest for ${reg.host}/nosuch/repo:1 not found`),
  );
  assert.equal(s.images.list().length, 0);
});

test('unreachable registry: a clear network error', async () => {
  const s = await newRoot();
  await assert.rejects(
    new Distribution().pull(parseDockerRef(`127.0.0.1:${closedPort}/library/busybox`), {}, s, () => {}),
    (e: Error) => e instanceof UnavailableError && e.message === `Get "http://127.0.0.1:${closedPort}/v2/library/busybox/manifests/latest": connect ECONNREFUSED 127.0.0.1:${closedPort}`,
  );
});

// Keep last: corrupts a blob in the registry storage.
test('corrupted layer in the registry: digest error, no image, no snapshot', async () => {
  const s = await newRoot();
  const man = JSON.parse((await getJson(`${reg.url}/v2/library/hello-world/manifests/latest`, ACCEPT)).body.toString());
  const layer = man.layers[0].digest as string;
  const path = reg.blobPath(layer);
  const data = await readFile(path);
  // flip bytes in the middle, same length
  for (let i = Math.floor(data.length / 2); i < Math.floor(data.length / 2) + 64; i++) data[i] = data[i]! ^ 0xff;
  await writeFile(path, data);
  await assert.rejects(
    dist().pull(parseDockerRef('hello-world'), {}, s, () => {}),
    (e: Error) => e.message === `filesystem layer verification failed for digest ${layer}`,
  );
  assert.equal(s.images.get('hello-world'), undefined);
  assert.equal(s.images.list().length, 0);
  assert.equal(await s.content.has(layer), false);
  const config = JSON.parse((await getJson(`${reg.url}/v2/library/hello-world/blobs/${man.config.digest}`, '*/*')).body.toString());
  assert.equal(s.layers.has(config.rootfs.diff_ids[0]), false, 'no snapshot left from unverified bytes');
});
