/**
 * Extraction on a worker thread (layers/extract-worker.ts): compressed input inflated in the
 * worker, typed errors rebuilt on the main thread, a failing source stops the worker and leaves
 * nothing in the staging dir's place.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, readFile, readdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { UnsafeLayerError } from '../../src/engine/layers/safe-path.js';
import { LayerTooLargeError } from '../../src/engine/layers/apply.js';
import { FileFeed } from '../../src/engine/layers/file-feed.js';
import { buildTar, layerDirs, newStore, sha, streamOf, withRoot } from './layers-helpers.js';

test('extract-worker: a gzip layer is inflated in the worker; the diffID is of the tar', () => withRoot(async (root) => {
  const s = await newStore(root);
  const tar = await buildTar([{ name: 'etc/', type: 'directory' }, { name: 'etc/hosts', content: 'x'.repeat(100_000) }]);
  const st = await s.stage(streamOf(gzipSync(tar), 4096), sha(tar), { decompress: true });
  const r = await st.commit(null);
  assert.equal(r.diffID, sha(tar));
  assert.equal(await readFile(join(s.diffDir(r.chainID), 'etc/hosts'), 'utf8'), 'x'.repeat(100_000));
}));

test('extract-worker: errors come back as their classes (unsafe entry, size cap)', () => withRoot(async (root) => {
  const s = await newStore(root);
  const evil = await buildTar([{ name: '../escape', content: 'x' }]);
  const e1 = await s.stage(streamOf(evil)).then(() => undefined, (e: unknown) => e);
  assert.ok(e1 instanceof UnsafeLayerError, String(e1));
  assert.match((e1 as Error).message, /escapes the layer root/);
  const big = await buildTar([{ name: 'f', content: 'y'.repeat(20_000) }]);
  const e2 = await s.stage(streamOf(gzipSync(big)), undefined, { maxBytes: 10_000, decompress: true }).then(() => undefined, (e: unknown) => e);
  assert.ok(e2 instanceof LayerTooLargeError, String(e2));
  assert.equal((e2 as LayerTooLargeError).limit, 10_000);
  assert.deepEqual(await layerDirs(s), []);
}));

test('extract-worker: a source that fails mid-stream fails the stage and leaves no staging dir', () => withRoot(async (root) => {
  const s = await newStore(root);
  const tar = await buildTar([{ name: 'a', content: 'z'.repeat(50_000) }, { name: 'b', content: 'w'.repeat(50_000) }]);
  const src = new Readable({ read() {} });
  src.push(tar.subarray(0, 30_000));
  setTimeout(() => src.destroy(new Error('connection reset by test')), 50);
  const err = await s.stage(src).then(() => undefined, (e: unknown) => e);
  assert.match(String(err), /connection reset by test/);
  assert.deepEqual((await readdir(s.dir)).filter((n) => n.startsWith('tmp-')), []);
}));

test('extract-worker: pooled workers serve job after job; a failure in between leaves the next jobs whole', () => withRoot(async (root) => {
  const s = await newStore(root);
  const files = (n: number) => buildTar([{ name: `d${n}/`, type: 'directory' }, { name: `d${n}/f`, content: `layer ${n} `.repeat(5_000) }]);
  for (let n = 0; n < 6; n++) {
    if (n === 3) {
      const evil = await buildTar([{ name: 'ok', content: 'x' }, { name: '../escape', content: 'x' }]);
      const e = await s.stage(streamOf(evil)).then(() => undefined, (err: unknown) => err);
      assert.ok(e instanceof UnsafeLayerError, String(e));
    }
    // several at once, as a pull's layers: more jobs than idle workers
    const tars = await Promise.all([files(n), files(n + 10)]);
    const staged = await Promise.all(tars.map((t) => s.stage(streamOf(gzipSync(t), 1000), sha(t), { decompress: true })));
    for (const [i, st] of staged.entries()) {
      const r = await st.commit(null);
      const k = i === 0 ? n : n + 10;
      assert.equal(await readFile(join(s.diffDir(r.chainID), `d${k}/f`), 'utf8'), `layer ${k} `.repeat(5_000));
      assert.deepEqual(await readdir(s.diffDir(r.chainID)), [`d${k}`], 'nothing of another job in this layer');
    }
  }
}));

test('extract-worker: a file fed as it grows (a download being written) is read by the worker up to its end', () => withRoot(async (root) => {
  const s = await newStore(root);
  const big = randomBytes(3_000_000); // incompressible: the gzip is as long, so several pieces
  const tar = await buildTar([{ name: 'etc/', type: 'directory' }, { name: 'etc/big', content: big }, { name: 'etc/small', content: 'tail\n' }]);
  const gz = gzipSync(tar);
  assert.ok(gz.length > 2_800_000);
  const file = join(root, 'blob.partial');
  const fh = await open(file, 'w');
  const feed = new FileFeed(file);
  const staged = s.stage(feed, sha(tar), { decompress: true });
  // Written in pieces, each announced after it is on disk; the worker may not read past the last.
  for (let off = 0; off < gz.length; off += 700_000) {
    const piece = gz.subarray(off, off + 700_000);
    await fh.write(piece, 0, piece.length, off);
    feed.grow(off + piece.length);
    await new Promise((r) => setTimeout(r, 5));
  }
  await fh.close();
  feed.end();
  const r = await (await staged).commit(null);
  assert.equal(r.diffID, sha(tar));
  assert.equal(await readFile(join(s.diffDir(r.chainID), 'etc/small'), 'utf8'), 'tail\n');
  assert.ok((await readFile(join(s.diffDir(r.chainID), 'etc/big'))).equals(big));
}));

test('extract-worker: a feed whose writer fails fails the stage with that error and leaves no staging dir', () => withRoot(async (root) => {
  const s = await newStore(root);
  const tar = await buildTar([{ name: 'a', content: 'z'.repeat(200_000) }]);
  const file = join(root, 'blob.partial');
  await writeFile(file, tar.subarray(0, 100_000));
  const feed = new FileFeed(file);
  const staged = s.stage(feed);
  feed.grow(100_000);
  setTimeout(() => feed.fail(new Error('download cut by test')), 30);
  const err = await staged.then(() => undefined, (e: unknown) => e);
  assert.match(String(err), /download cut by test/);
  assert.deepEqual((await readdir(s.dir)).filter((n) => n.startsWith('tmp-')), []);
}));

test('extract-worker: a complete file (a stored blob) is extracted with read progress up to its size', () => withRoot(async (root) => {
  const s = await newStore(root);
  const tar = await buildTar([{ name: 'f', content: 'r'.repeat(6_000_000) }]);
  const file = join(root, 'blob');
  await writeFile(file, tar);
  const seen: number[] = [];
  const r = await (await s.stage(FileFeed.complete(file, tar.length, (n) => seen.push(n)), sha(tar))).commit(null);
  assert.equal(r.diffID, sha(tar));
  assert.equal(seen.at(-1), tar.length, `progress ${seen.join(',')}`);
}));

test('extract-worker: a feed that fails after its end (a digest check after the last byte) still stops the extraction', () => withRoot(async (root) => {
  const s = await newStore(root);
  const tar = await buildTar(Array.from({ length: 400 }, (_, i) => ({ name: `f${i}`, content: randomBytes(20_000) })));
  const file = join(root, 'blob');
  await writeFile(file, tar);
  // Failed once the worker has read its first 4 MiB: the end was posted long before.
  const feed: FileFeed = new FileFeed(file, () => feed.fail(new Error('digest mismatch by test')));
  feed.grow(tar.length);
  feed.end();
  const staged = s.stage(feed);
  const err = await staged.then(() => undefined, (e: unknown) => e);
  assert.match(String(err), /digest mismatch by test/);
  assert.deepEqual((await readdir(s.dir)).filter((n) => n.startsWith('tmp-')), []);
}));
