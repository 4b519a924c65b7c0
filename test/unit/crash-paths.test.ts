/**
 * Crash paths (issue 8): records left empty or torn by a full disk or a crash, and folders left
 * behind with a mount under them, must never stop the daemon from starting. Each test is named
 * after the hole it closes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { LocalImages } from '../../src/engine/images/local.js';
import { ContainerStore } from '../../src/engine/containers/store.js';
import { mountsUnder } from '../../src/engine/mountinfo.js';
import { parseExitStatus, readExitStatus } from '../../src/engine/runtime/exit-file.js';
import { buildTar, sha, streamOf } from './layers-helpers.js';

async function tempRoot(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'berth-crash-'));
  try { await fn(root); } finally { await rm(root, { recursive: true, force: true }); }
}

/** Collects the daemon-log warnings emitted while `fn` runs. */
async function warningsDuring(fn: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const on = (w: Error): void => { seen.push(w.message); };
  process.on('warning', on);
  try { await fn(); } finally { await new Promise((r) => setImmediate(r)); process.off('warning', on); }
  return seen;
}

test('exit-json-corrupt: an empty or torn exit.json reads as "no exit known", with a warning', () => tempRoot(async (root) => {
  assert.deepEqual(parseExitStatus('{"exitCode":3,"finishedAt":"2024-01-02T03:04:05Z","oomKilled":true}'),
    { exitCode: 3, finishedAt: '2024-01-02T03:04:05Z', oomKilled: true });
  for (const bad of ['', '{"exitCode":3,"fini', 'null', '[]', '{"exitCode":"x"}', '{"exitCode":1.5}', '\0\0\0\0']) {
    assert.equal(parseExitStatus(bad), undefined, JSON.stringify(bad));
  }
  const f = join(root, 'exit.json');
  assert.equal(await readExitStatus(f), undefined); // missing: no warning needed
  await writeFile(f, '');
  let got: unknown = 'unset';
  const warned = await warningsDuring(async () => { got = await readExitStatus(f); });
  assert.equal(got, undefined);
  assert.ok(warned.some((w) => w.includes(f)), warned.join('\n'));
  assert.ok(existsSync(f), 'the file stays for inspection');
}));

test('image-record-corrupt: a torn image record or repositories index is set aside; other images load', () => tempRoot(async (root) => {
  const svc = new LocalImages(root);
  await svc.init();
  const make = async (cmd: string, tag: string) => {
    const layer = await buildTar([{ name: `bin/${cmd}`, content: cmd }]);
    const config = { architecture: 'amd64', os: 'linux', config: { Cmd: [cmd] }, rootfs: { type: 'layers', diff_ids: [sha(layer)] } };
    return svc.importImage(Buffer.from(JSON.stringify(config)), () => streamOf(layer), { repoTag: tag });
  };
  const good = await make('good', 'good:1');
  const torn = await make('torn', 'torn:1');
  const dir = join(root, 'images');
  await writeFile(join(dir, `${torn.id.slice(7)}.json`), '{"id":"sha256:'); // a write cut short

  const again = new LocalImages(root);
  const warned = await warningsDuring(() => again.init());
  assert.equal(again.get('good:1')?.id, good.id);
  assert.equal(again.get(torn.id), undefined);
  assert.ok(existsSync(join(dir, `${torn.id.slice(7)}.json.corrupt`)), 'kept for inspection');
  assert.ok(warned.some((w) => w.includes(torn.id.slice(7))), warned.join('\n'));

  // an empty repositories index: the daemon still starts, images load untagged
  await writeFile(join(dir, 'repositories.json'), '');
  const third = new LocalImages(root);
  await warningsDuring(() => third.init());
  assert.equal(third.get(good.id)?.id, good.id);
  assert.deepEqual(third.get(good.id)?.repoTags, []);
  assert.ok((await readdir(dir)).includes('repositories.json.corrupt'));
  // and it can be tagged again (a fresh index is written)
  await third.images.tag(good.id, 'good:2');
  const fourth = new LocalImages(root);
  await fourth.init();
  assert.equal(fourth.get('good:2')?.id, good.id);
}));

test('leftover-container-mount: a leftover container folder with mounts under it does not fail start-up', () => tempRoot(async (root) => {
  const containers = join(root, 'containers');
  const leftover = join(containers, 'ab'.repeat(32));
  const outside = join(root, 'outside');
  await mkdir(join(leftover, 'rootfs'), { recursive: true });
  await mkdir(join(leftover, 'volume'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(outside, 'keep'), 'host data');
  execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', join(leftover, 'rootfs')]);
  try {
    await writeFile(join(leftover, 'rootfs', 'f'), 'x');
    execFileSync('mount', ['--bind', outside, join(leftover, 'volume')]);
    const store = new ContainerStore(containers);
    const { leftovers } = await store.load();
    assert.deepEqual(leftovers, ['ab'.repeat(32)]);
    assert.equal(existsSync(leftover), false, 'the leftover folder is removed');
    assert.deepEqual(await mountsUnder(root), []);
    assert.equal(existsSync(join(outside, 'keep')), true, 'nothing deleted through a mount');
  } finally {
    for (const m of await mountsUnder(root)) execFileSync('umount', ['-l', m]);
  }
}));

test('container-record-corrupt: a damaged config.v2.json is skipped with a warning; the folder is kept', () => tempRoot(async (root) => {
  const id = 'cd'.repeat(32);
  await mkdir(join(root, id, 'upper'), { recursive: true });
  await writeFile(join(root, id, 'upper', 'data'), 'the container\'s files');
  await writeFile(join(root, id, 'config.v2.json'), '{"Id":"' + id);
  const store = new ContainerStore(root);
  let leftovers: string[] = [];
  const warned = await warningsDuring(async () => { ({ leftovers } = await store.load()); });
  assert.deepEqual(leftovers, []);
  assert.deepEqual(store.all(), []);
  assert.ok(existsSync(join(root, id, 'upper', 'data')), 'never deleted over a damaged record');
  assert.ok(warned.some((w) => w.includes(id)), warned.join('\n'));
}));
