import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalImages } from '../../src/engine/images/local.js';
import { chainIDs } from '../../src/engine/layers/chain.js';
import { ConflictError, InvalidParameterError, NotFoundError } from '../../src/engine/errors.js';
import type { ContainerUsage, ImageRecord } from '../../src/engine/images/types.js';
import { buildTar, sha, streamOf } from './layers-helpers.js';
import { imageHistory, imageInspect, imageSummary } from '../../src/api/views/images.js';

async function withService(fn: (svc: LocalImages, root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'berth-images-'));
  try {
    const svc = new LocalImages(root);
    await svc.init();
    await fn(svc, root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

const baseTar = buildTar([{ name: 'bin/busybox', content: 'BUSYBOX' }, { name: 'etc/passwd', content: 'root:x:0:0' }]);

async function makeImage(svc: LocalImages, layers: Buffer[], opts: { tag?: string; digest?: string; parent?: string; cmd?: string; labels?: Record<string, string> } = {}): Promise<ImageRecord> {
  const config = {
    architecture: 'amd64',
    os: 'linux',
    created: '2024-05-06T07:08:09.123456789Z',
    config: { Env: ['PATH=/bin'], Cmd: [opts.cmd ?? 'sh'], Labels: opts.labels ?? null },
    rootfs: { type: 'layers', diff_ids: layers.map(sha) },
    history: layers.map(() => ({ created_by: 'test' })),
  };
  return svc.importImage(Buffer.from(JSON.stringify(config)), (i) => streamOf(layers[i]!), {
    repoTag: opts.tag, repoDigest: opts.digest, parent: opts.parent,
  });
}

const none = (): ContainerUsage[] => [];
const CTR = '0123456789abcdef'.repeat(4);

test('images: create and look up by every form', () => withService(async (svc) => {
  const layer = await baseTar;
  const rec = await makeImage(svc, [layer], { tag: 'busybox' });
  const hex = rec.id.slice(7);
  assert.match(rec.id, /^sha256:[a-f0-9]{64}$/);
  assert.deepEqual(rec.repoTags, ['docker.io/library/busybox:latest']);
  assert.deepEqual(rec.chainIDs, chainIDs([sha(layer)]));
  assert.equal(rec.size, 'BUSYBOX'.length + 'root:x:0:0'.length);
  for (const q of [rec.id, hex, hex.slice(0, 12), 'sha256:' + hex.slice(0, 8), 'busybox', 'busybox:latest',
    'library/busybox', 'docker.io/library/busybox:latest', 'index.docker.io/library/busybox']) {
    assert.equal(svc.get(q)?.id, rec.id, q);
  }
  assert.equal(svc.get('busybox:1.0'), undefined);
  assert.throws(() => svc.resolve('busybox:1.0'), (e: unknown) => e instanceof NotFoundError && e.message === 'No such image: busybox:1.0');
  assert.throws(() => svc.resolve('nope'), { message: 'No such image: nope:latest' });
  assert.throws(() => svc.resolve('0'.repeat(64)), { message: 'No such image: ' + '0'.repeat(64) });
  assert.throws(() => svc.resolve('Busybox'), InvalidParameterError);
  // digest reference
  const mdigest = 'sha256:' + 'd'.repeat(64);
  await svc.images.addDigestRef('busybox', `busybox@${mdigest}`);
  assert.equal(svc.get(`busybox@${mdigest}`)?.id, rec.id);
  assert.equal(svc.get(`busybox:whatever@${mdigest}`)?.id, rec.id, 'tag ignored when digest given');
  assert.deepEqual(svc.resolve('busybox').repoDigests, [`docker.io/library/busybox@${mdigest}`]);
  // config blob stored under the id
  assert.ok(await svc.content.has(rec.id));
}));

test('images: ambiguous ID prefix is not found', () => withService(async (svc) => {
  const l = await baseTar;
  const a = await makeImage(svc, [l], { cmd: 'a' });
  const b = await makeImage(svc, [l], { cmd: 'b' });
  // find the longest common prefix of the two ids
  let n = 0;
  while (a.id[7 + n] === b.id[7 + n]) n++;
  if (n > 0) assert.equal(svc.images.searchId(a.id.slice(7, 7 + n)), undefined);
  assert.equal(svc.images.searchId(a.id.slice(7, 8 + n))?.id, a.id);
}));

test('images: tag and untag', () => withService(async (svc) => {
  const rec = await makeImage(svc, [await baseTar], { tag: 'busybox:1.36' });
  await svc.tag('busybox:1.36', 'localhost:5000/bb');
  await svc.tag(rec.id.slice(7, 19), 'user/app:v1');
  assert.deepEqual(imageSummary({ record: svc.resolve(rec.id), containers: 0 }).RepoTags, ['busybox:1.36', 'localhost:5000/bb:latest', 'user/app:v1']);
  assert.ok(svc.resolve(rec.id).lastTagTime! > 0);
  await assert.rejects(svc.tag('busybox:1.36', 'x@sha256:' + 'a'.repeat(64)), /refusing to create a tag with a digest reference/);
  await assert.rejects(svc.tag('missing', 'x'), NotFoundError);
  // moving a tag to another image
  const other = await makeImage(svc, [await baseTar], { cmd: 'other' });
  await svc.tag(other.id, 'user/app:v1');
  assert.equal(svc.resolve('user/app:v1').id, other.id);
  assert.ok(!svc.resolve(rec.id).repoTags.includes('docker.io/user/app:v1'));
  assert.equal(await svc.untag('localhost:5000/bb'), rec.id);
  await assert.rejects(svc.untag('localhost:5000/bb'), { message: 'No such image: localhost:5000/bb:latest' });
}));

test('images: rmi of a tag used by a container needs force', () => withService(async (svc) => {
  const rec = await makeImage(svc, [await baseTar], { tag: 'busybox' });
  const using = (id: string) => (id === rec.id ? [CTR] : []);
  await assert.rejects(svc.remove('busybox', {}, using), (e: unknown) => {
    assert.ok(e instanceof ConflictError);
    assert.equal(e.message, `conflict: unable to remove repository reference "busybox" (must force) - container 0123456789ab is using its referenced image ${rec.id.slice(7, 19)}`);
    return true;
  });
  // by id, stopped container
  await assert.rejects(svc.remove(rec.id.slice(7, 19), {}, using),
    { message: `conflict: unable to delete ${rec.id.slice(7, 19)} (must be forced) - image is being used by stopped container 0123456789ab` });
  // forced by id with a stopped container: deleted, layers kept for the container
  const res = await svc.remove(rec.id, { force: true }, using);
  assert.deepEqual(res, [{ Untagged: 'busybox:latest' }, { Deleted: rec.id }]);
  assert.ok(svc.layers.has(rec.chainIDs[0]!), 'layers kept while a container uses them');
  assert.deepEqual(await svc.gcLayers([rec.chainIDs[0]!]), []);
  assert.deepEqual(await svc.gcLayers([]), [rec.chainIDs[0]!]);
}));

test('images: running containers block even forced removal; forced untag leaves it dangling', () => withService(async (svc) => {
  const rec = await makeImage(svc, [await baseTar], { tag: 'busybox' });
  const using = (id: string) => (id === rec.id ? [{ id: CTR, running: true }] : []);
  await assert.rejects(svc.remove(rec.id, { force: true }, using),
    { message: `conflict: unable to delete ${rec.id.slice(7, 19)} (cannot be forced) - image is being used by running container 0123456789ab` });
  const res = await svc.remove('busybox', { force: true }, using);
  assert.deepEqual(res, [{ Untagged: 'busybox:latest' }]);
  const left = svc.resolve(rec.id);
  assert.ok(svc.isDangling(left));
  assert.deepEqual(imageSummary({ record: left, containers: 0 }).RepoTags, []);
  assert.deepEqual(imageSummary({ record: left, containers: 0 }, '1.41').RepoTags, ['<none>:<none>']);
  assert.deepEqual(imageSummary({ record: left, containers: 0 }, '1.41').RepoDigests, ['<none>@<none>']);
}));

test('images: multiple repositories', () => withService(async (svc) => {
  const rec = await makeImage(svc, [await baseTar], { tag: 'busybox' });
  await svc.tag('busybox', 'other/name:1');
  await assert.rejects(svc.remove(rec.id, {}, none),
    { message: `conflict: unable to delete ${rec.id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories` });
  // removing one tag only untags
  assert.deepEqual(await svc.remove('other/name:1', {}, none), [{ Untagged: 'other/name:1' }]);
  await svc.tag('busybox', 'other/name:1');
  const res = await svc.remove(rec.id, { force: true }, none);
  assert.deepEqual(res, [
    { Untagged: 'busybox:latest' }, { Untagged: 'other/name:1' }, { Deleted: rec.id }, { Deleted: rec.chainIDs[0]! },
  ]);
  assert.equal(svc.get(rec.id), undefined);
}));

test('images: removing the last tag also drops digests of that repository, then deletes', () => withService(async (svc, root) => {
  const base = await baseTar;
  const top = await buildTar([{ name: 'app', content: 'APP' }]);
  const shared = await makeImage(svc, [base], { tag: 'base:1' });
  const d = 'sha256:' + 'e'.repeat(64);
  const rec = await makeImage(svc, [base, top], { tag: 'app:1', digest: `app@${d}` });
  const res = await svc.remove('app:1', {}, none);
  assert.deepEqual(res, [
    { Untagged: 'app:1' }, { Untagged: `app@${d}` }, { Deleted: rec.id }, { Deleted: rec.chainIDs[1]! },
  ]);
  assert.ok(svc.layers.has(rec.chainIDs[0]!), 'shared base layer kept');
  assert.ok(!(await svc.content.has(rec.id)), 'config blob deleted');
  assert.ok(await svc.content.has(shared.id));
  await assert.rejects(access(join(root, 'layers', rec.chainIDs[1]!.slice(7))));
  assert.deepEqual((await readdir(join(root, 'images'))).sort(), [`${shared.id.slice(7)}.json`, 'repositories.json']);
}));

test('images: parent chains, dependent children, prune', () => withService(async (svc) => {
  const base = await baseTar;
  const top = await buildTar([{ name: 'app', content: 'APP' }]);
  const parent = await makeImage(svc, [base]);
  const child = await makeImage(svc, [base, top], { tag: 'child', parent: parent.id });
  assert.ok(svc.images.isIntermediate(svc.resolve(parent.id)));
  assert.deepEqual(svc.list().map((r) => r.id), [child.id], 'intermediate hidden without -a');
  assert.equal(svc.list(true).length, 2);
  await assert.rejects(svc.remove(parent.id, { force: true }, none),
    { message: `conflict: unable to delete ${parent.id.slice(7, 19)} (cannot be forced) - image has dependent child images` });
  const res = await svc.remove('child', {}, none);
  assert.deepEqual(res, [
    { Untagged: 'child:latest' }, { Deleted: child.id }, { Deleted: child.chainIDs[1]! },
    { Deleted: parent.id }, { Deleted: parent.chainIDs[0]! },
  ]);
  assert.equal(svc.list(true).length, 0);
  // noprune keeps the parent
  const p2 = await makeImage(svc, [base]);
  await makeImage(svc, [base, top], { tag: 'child', parent: p2.id });
  await svc.remove('child', { noprune: true }, none);
  assert.ok(svc.get(p2.id));
}));

test('images: persistence across a new LocalImages on the same root', () => withService(async (svc, root) => {
  const rec = await makeImage(svc, [await baseTar], { tag: 'busybox', labels: { a: 'b' } });
  await svc.tag('busybox', 'mine:2');
  const svc2 = new LocalImages(root);
  await svc2.init();
  const again = svc2.resolve('mine:2');
  assert.equal(again.id, rec.id);
  assert.deepEqual(again.repoTags, ['docker.io/library/busybox:latest', 'docker.io/library/mine:2']);
  assert.equal(again.lastTagTime, svc.resolve(rec.id).lastTagTime);
  assert.deepEqual(svc2.lowerDirs(again), [svc2.layers.diffDir(rec.chainIDs[0]!)]);
  const res = await svc2.remove('busybox', {}, none);
  assert.deepEqual(res, [{ Untagged: 'busybox:latest' }]);
}));

test('images: summary and inspect views', () => withService(async (svc) => {
  const base = await baseTar;
  const top = await buildTar([{ name: 'app', content: 'APP' }]);
  const rec = await makeImage(svc, [base, top], { tag: 'app:1', labels: { 'org.x': 'y' } });
  const s = imageSummary({ record: rec, containers: 0 });
  assert.deepEqual(Object.keys(s), ['Id', 'ParentId', 'RepoTags', 'RepoDigests', 'Created', 'Size', 'SharedSize', 'Labels', 'Containers']);
  assert.equal(s.Containers, 0);
  assert.equal(s.Created, Math.floor(Date.parse('2024-05-06T07:08:09Z') / 1000));
  assert.equal(s.Size, rec.size);
  assert.deepEqual(s.Labels, { 'org.x': 'y' });
  assert.equal(imageSummary({ record: rec, containers: 0 }, '1.43').VirtualSize, rec.size);
  const i = imageInspect(svc.details(rec), '1.43') as Record<string, any>;
  assert.equal(i.Id, rec.id);
  assert.deepEqual(i.RepoTags, ['app:1']);
  assert.equal(i.Created, '2024-05-06T07:08:09.123456789Z');
  assert.equal(i.Config.Hostname, '');
  assert.deepEqual(i.Config.Cmd, ['sh']);
  assert.equal(i.Config.Image, '');
  assert.equal(i.Os, 'linux');
  assert.equal(i.Architecture, 'amd64');
  assert.equal(i.VirtualSize, rec.size);
  assert.ok('ContainerConfig' in i);
  assert.equal(i.GraphDriver.Name, 'overlay2');
  assert.equal(i.GraphDriver.Data.UpperDir, svc.layers.diffDir(rec.chainIDs[1]!));
  assert.equal(i.GraphDriver.Data.LowerDir, svc.layers.diffDir(rec.chainIDs[0]!));
  assert.deepEqual(i.RootFS, { Type: 'layers', Layers: [sha(base), sha(top)] });
  assert.match(i.Metadata.LastTagTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  const latest = imageInspect(svc.details(rec)) as Record<string, any>;
  assert.ok(!('VirtualSize' in latest) && !('ContainerConfig' in latest));
  assert.deepEqual(latest.Config, { Env: ['PATH=/bin'], Cmd: ['sh'], Labels: { 'org.x': 'y' } });
  const short = svc.shortLowerDirs(rec);
  assert.equal(short.dirs.length, 2);
  assert.match(short.dirs[0]!, /^l\/[A-Z2-7]{20}$/);
}));

test('images: history, newest first, ids up the parent chain', () => withService(async (svc) => {
  const base = await baseTar;
  const top = await buildTar([{ name: 'app', content: 'APP' }]);
  const parent = await makeImage(svc, [base]);
  const child = await makeImage(svc, [base, top], { tag: 'child', parent: parent.id });
  const h = imageHistory(svc.history(child));
  assert.equal(h.length, 2);
  assert.deepEqual(h.map((x) => x.Id), [child.id, parent.id]);
  assert.deepEqual(h[0]!.Tags, ['child:latest']);
  assert.equal(h[1]!.Tags, null);
  assert.deepEqual(h.map((x) => x.Size), [3, base.length ? 'BUSYBOX'.length + 'root:x:0:0'.length : 0]);
  assert.equal(h[0]!.CreatedBy, 'test');
  const deps = svc.deps();
  assert.equal(deps.images.get('child')?.id, child.id);
}));
