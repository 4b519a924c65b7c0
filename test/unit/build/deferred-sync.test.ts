/**
 * A build writes its step layers without syncs and seals them once (LayerStore.seal): a layer
 * applied with `defer` carries a `pending` marker until then, and a store opened over a data root
 * a crash left with such a layer drops it (its files may never have reached the disk), while a
 * sealed one, or one a durable apply of the same chain sealed, stays.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildTar, newStore, sha, streamOf, withRoot } from '../layers-helpers.js';

const tarOf = (content: string) => buildTar([{ name: 'app/', type: 'directory', mode: 0o755 }, { name: 'app/f', content, mode: 0o644 }]);
const marker = (dir: string) => join(dir, '..', 'pending');

test('deferred apply: pending until sealed; an unsealed layer is dropped at the next start', () => withRoot(async (root) => {
  const s = await newStore(root);
  const a = await s.apply(null, streamOf(await tarOf('a')), undefined, undefined, true);
  const b = await s.apply(null, streamOf(await tarOf('b')), undefined, undefined, true);
  assert.ok(existsSync(marker(s.diffDir(a.chainID))), 'a deferred layer has its pending marker');
  assert.ok(s.has(a.chainID) && s.has(b.chainID), 'usable at once (the next step stands on it)');

  // a crash before the seal: the next start drops both
  const after = await newStore(root);
  assert.equal(after.has(a.chainID), false);
  assert.equal(after.has(b.chainID), false);
  assert.equal(existsSync(join(after.dir, a.chainID.slice(7))), false, 'its folder is removed');
}));

test('deferred apply: seal() makes the layers permanent', () => withRoot(async (root) => {
  const s = await newStore(root);
  const a = await s.apply(null, streamOf(await tarOf('a')), undefined, undefined, true);
  await s.seal();
  assert.equal(existsSync(marker(s.diffDir(a.chainID))), false, 'marker gone');
  const after = await newStore(root);
  assert.ok(after.has(a.chainID), 'kept by the next start');
}));

test('deferred apply: a durable apply of the same chain seals it before it answers', () => withRoot(async (root) => {
  const s = await newStore(root);
  const tar = await tarOf('same');
  const a = await s.apply(null, streamOf(tar), undefined, undefined, true);
  const again = await s.apply(null, streamOf(tar), sha(tar));
  assert.equal(again.chainID, a.chainID);
  assert.equal(existsSync(marker(s.diffDir(a.chainID))), false, 'the pull\'s image does not stand on a pending layer');
  const after = await newStore(root);
  assert.ok(after.has(a.chainID));
}));

test('deferred apply: a removed pending layer does not fail the seal', () => withRoot(async (root) => {
  const s = await newStore(root);
  const a = await s.apply(null, streamOf(await tarOf('gone')), undefined, undefined, true);
  await s.remove(a.chainID);
  await s.seal({ always: true });
  assert.equal(s.has(a.chainID), false);
}));
