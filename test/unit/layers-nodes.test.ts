/**
 * Device nodes, fifos and whiteouts of a layer are made together by one helper process
 * (layers/apply.ts PendingNodes, mknod.ts mknodAll): what the layer says must come out as if each
 * were made on its own, in order, whatever follows them in the tar.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UnsafeLayerError } from '../../src/engine/layers/safe-path.js';
import { buildTar, newStore, streamOf, withRoot } from './layers-helpers.js';

const MTIME = new Date(1_700_000_000_000);

test('nodes: many devices, fifos and whiteouts in one layer, each with its kind, numbers, mode and the directory times kept', () => withRoot(async (root) => {
  const s = await newStore(root);
  const devs = Array.from({ length: 12 }, (_, i) => ({ name: `dev/tty${i}`, type: 'character-device' as const, devmajor: 4, devminor: i, mode: 0o620 }));
  const tar = await buildTar([
    { name: 'dev/', type: 'directory', mode: 0o755, mtime: MTIME },
    ...devs,
    { name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0, mode: 0o660 },
    { name: 'dev/initctl', type: 'fifo', mode: 0o600 },
    { name: 'etc/.wh.gone', content: '' },
    { name: 'etc/.wh.also-gone', content: '' },
  ]);
  const r = await (await s.stage(streamOf(tar))).commit(null);
  const d = s.diffDir(r.chainID);
  for (let i = 0; i < 12; i++) {
    const st = await lstat(join(d, `dev/tty${i}`));
    assert.ok(st.isCharacterDevice(), `tty${i}`);
    assert.equal(st.rdev, (4 << 8) | i, `tty${i} numbers`);
    assert.equal(st.mode & 0o7777, 0o620);
  }
  const sda = await lstat(join(d, 'dev/sda'));
  assert.ok(sda.isBlockDevice());
  assert.equal(sda.rdev, 8 << 8);
  assert.ok((await lstat(join(d, 'dev/initctl'))).isFIFO());
  for (const w of ['etc/gone', 'etc/also-gone']) {
    const st = await lstat(join(d, w));
    assert.ok(st.isCharacterDevice() && st.rdev === 0, `${w} is a whiteout`);
  }
  // made before the directory's times were set: dev/ keeps the layer's mtime
  assert.equal((await lstat(join(d, 'dev'))).mtimeMs, MTIME.getTime());
}));

test('nodes: an entry after a node at the same path replaces it, as when each was made at once', () => withRoot(async (root) => {
  const s = await newStore(root);
  const tar = await buildTar([
    { name: 'run/ctl', type: 'fifo', mode: 0o600 },
    { name: 'run/ctl', content: 'a file now\n' },
  ]);
  const r = await (await s.stage(streamOf(tar))).commit(null);
  const p = join(s.diffDir(r.chainID), 'run/ctl');
  assert.ok((await lstat(p)).isFile());
  assert.equal(await readFile(p, 'utf8'), 'a file now\n');
}));

test('nodes: a hardlink to a node made in the same batch links that node', () => withRoot(async (root) => {
  const s = await newStore(root);
  const tar = await buildTar([
    { name: 'run/a', type: 'fifo', mode: 0o600 },
    { name: 'run/b', type: 'link', linkname: 'run/a' },
  ]);
  const r = await (await s.stage(streamOf(tar))).commit(null);
  const b = await lstat(join(s.diffDir(r.chainID), 'run/b'));
  assert.ok(b.isFIFO());
  assert.equal(b.nlink, 2);
}));

test('nodes: an entry under a device is refused as under any non-directory', () => withRoot(async (root) => {
  const s = await newStore(root);
  const tar = await buildTar([
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'dev/null/x', content: 'no' },
  ]);
  const err = await s.stage(streamOf(tar)).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof UnsafeLayerError, String(err));
  assert.match((err as Error).message, /parent "dev\/null" is not a directory/);
}));

test('nodes: a directory holding pending nodes, replaced by a file, goes with them', () => withRoot(async (root) => {
  const s = await newStore(root);
  const tar = await buildTar([
    { name: 'dev/', type: 'directory' },
    { name: 'dev/zero', type: 'character-device', devmajor: 1, devminor: 5, mode: 0o666 },
    { name: 'dev', content: 'not a directory any more\n' },
  ]);
  const r = await (await s.stage(streamOf(tar))).commit(null);
  assert.equal(await readFile(join(s.diffDir(r.chainID), 'dev'), 'utf8'), 'not a directory any more\n');
}));
