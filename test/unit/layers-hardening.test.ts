/**
 * Hostile layers, part two: each test is named after the hole it closes (issue 8, "Layer
 * extraction").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EXPANSION_ALLOWANCE, expansionLimit, extractLayer, LayerTooLargeError } from '../../src/engine/layers/apply.js';
import { MAX_PAX_BYTES, MAX_PAX_RECORDS, TarFormatError } from '../../src/engine/layers/tar-reader.js';
import { statusOf } from '../../src/api/errors.js';
import { buildTar, layerDirs, newStore, paxRecord, rawEntry, sha, streamOf, withRoot } from './layers-helpers.js';

/** A tar: `entries` (raw blocks), then one small file, then the end-of-archive marker. */
async function withTail(entries: Buffer[]): Promise<Buffer> {
  const tail = await buildTar([{ name: 'f', content: 'x' }]);
  return Buffer.concat([...entries, tail]);
}

async function assertTarRejected(root: string, tar: Buffer, pattern: RegExp): Promise<void> {
  const s = await newStore(root);
  await assert.rejects(s.apply(null, streamOf(tar, 64 * 1024)), (e: unknown) => {
    assert.ok(e instanceof TarFormatError, String(e));
    assert.equal(statusOf(e), 400);
    assert.match((e as Error).message, pattern);
    return true;
  });
  assert.deepEqual(await layerDirs(s), [], 'no snapshot or temp dir left');
}

test('layer-utimes-symlink: a directory replaced by a symlink does not move a host file\'s times', () => withRoot(async (root) => {
  const host = join(root, 'host');
  await mkdir(join(host, 'dir', 'sub'), { recursive: true });
  await writeFile(join(host, 'file'), 'host file');
  const before = new Date(1_234_567_890_000);
  for (const p of ['file', 'dir/sub', 'dir']) await utimes(join(host, p), before, before);

  const old = new Date(1_000_000_000_000);
  const tar = await buildTar([
    { name: 'a/', type: 'directory', mtime: old },
    { name: 'a', type: 'symlink', linkname: join(host, 'file') },
    // the deeper form: a parent of a timed directory becomes a link to a host directory
    { name: 'd/', type: 'directory', mtime: old },
    { name: 'd/sub/', type: 'directory', mtime: old },
    { name: 'd', type: 'symlink', linkname: join(host, 'dir') },
    { name: 'kept/', type: 'directory', mtime: old },
  ]);
  const dest = join(root, 'snap');
  await mkdir(dest);
  await extractLayer(dest, streamOf(tar));

  for (const p of ['file', 'dir/sub', 'dir']) {
    assert.equal((await stat(join(host, p))).mtimeMs, before.getTime(), `host ${p} untouched`);
  }
  assert.equal((await stat(join(dest, 'kept'))).mtimeMs, old.getTime(), 'a directory that stayed gets its time');
}));

test('pax-global-unbounded: global pax records are capped', () => withRoot(async (root) => {
  // 110 global headers of 10 KiB each: each one is small, together they pass 1 MiB.
  const value = Buffer.alloc(10 * 1024, 0x61);
  const globals = Array.from({ length: 110 }, (_, i) => rawEntry('g', `g${i}`, paxRecord(`comment.${i}`, value)));
  await assertTarRejected(root, await withTail(globals), new RegExp(`global pax records exceed ${MAX_PAX_BYTES} bytes`));
}));

test('pax-global-unbounded: many tiny global records are capped too', () => withRoot(async (root) => {
  const records = Array.from({ length: MAX_PAX_RECORDS + 1 }, (_, i) => paxRecord(`k${i}`, Buffer.from('v')));
  await assertTarRejected(root, await withTail([rawEntry('g', 'g', Buffer.concat(records))]), /more than 1024 global pax records/);
}));

test('pax-global-unbounded: per-entry pax headers are capped, one by one and together', () => withRoot(async (root) => {
  const big = paxRecord('comment', Buffer.alloc(MAX_PAX_BYTES, 0x61));
  await assertTarRejected(root, await withTail([rawEntry('x', 'x', big)]), /extended header of \d+ bytes exceeds/);
  const half = paxRecord('comment', Buffer.alloc(600 * 1024, 0x61));
  const half2 = paxRecord('comment2', Buffer.alloc(600 * 1024, 0x61));
  await assertTarRejected(root, await withTail([rawEntry('x', 'x1', half), rawEntry('x', 'x2', half2)]), /pax records exceed/);
}));

test('pax-global-unbounded: ordinary global headers still apply', () => withRoot(async (root) => {
  const s = await newStore(root);
  const tar = await withTail([rawEntry('g', 'g', paxRecord('mtime', Buffer.from('1500000000')))]);
  const r = await s.apply(null, streamOf(tar), sha(tar));
  assert.equal((await stat(join(s.diffDir(r.chainID), 'f'))).mtimeMs, 1_500_000_000_000);
}));

test('layer-size-unbounded: a layer past the size cap is refused, leaving no snapshot', () => withRoot(async (root) => {
  const s = await newStore(root);
  const tar = await buildTar([{ name: 'big', content: Buffer.alloc(64 * 1024) }]);
  await assert.rejects(s.apply(null, streamOf(tar), undefined, { maxBytes: 16 * 1024 }), (e: unknown) => {
    assert.ok(e instanceof LayerTooLargeError, String(e));
    assert.equal(statusOf(e), 400);
    assert.match((e as Error).message, /layer too large: .*limit of 16KiB \(16384 bytes\)/);
    return true;
  });
  assert.deepEqual(await layerDirs(s), [], 'no snapshot or temp dir left');
  // The same layer under a cap it fits in is applied.
  const r = await s.apply(null, streamOf(tar), sha(tar), { maxBytes: tar.length });
  assert.equal(r.size, 64 * 1024);
}));

test('layer-size-unbounded: a pull allows 100 × the compressed size plus 1 GiB', () => {
  assert.equal(expansionLimit(0), EXPANSION_ALLOWANCE);
  assert.equal(expansionLimit(10 * 2 ** 20), 1000 * 2 ** 20 + 2 ** 30);
  assert.equal(expansionLimit(Number.NaN), expansionLimit(Infinity), 'an unknown size falls back to the absolute cap');
});
