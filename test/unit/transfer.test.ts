// Pure parts of save/load/import: archive path checks, the size option, chunk coalescing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { archivePath } from '../../src/engine/images/transfer/archive-index.js';
import { parseByteSize } from '../../src/daemon/config.js';
import { coalesce } from '../../src/util/coalesce.js';

test('archivePath: clean relative names pass, absolute and escaping ones are refused', () => {
  assert.equal(archivePath('./blobs/sha256/ab'), 'blobs/sha256/ab');
  assert.equal(archivePath('a/../b/'), 'b');
  assert.equal(archivePath('./'), '');
  assert.throws(() => archivePath('/etc/passwd'), /is an absolute path/);
  assert.throws(() => archivePath('../x'), /points outside the archive/);
  assert.throws(() => archivePath('a/../../x'), /points outside the archive/);
  assert.throws(() => archivePath('..'), /points outside the archive/);
  assert.throws(() => archivePath('a\0b'), /NUL/);
});

test('parseByteSize: bytes and k/m/g/t suffixes (powers of 1024); junk refused', () => {
  assert.equal(parseByteSize('x', 1024), 1024);
  assert.equal(parseByteSize('x', '64m'), 64 * 2 ** 20);
  assert.equal(parseByteSize('x', '10g'), 10 * 2 ** 30);
  assert.equal(parseByteSize('x', '1.5k'), 1536);
  assert.equal(parseByteSize('x', '2GiB'), 2 * 2 ** 30);
  for (const bad of ['', 'ten', '-1', '0', true, '5x']) assert.throws(() => parseByteSize('max-image-load-size', bad), /invalid max-image-load-size/);
});

test('coalesce: at least min bytes per chunk but the last, nothing lost', async () => {
  async function* src() { for (let i = 0; i < 10; i++) yield Buffer.alloc(300, i); }
  const out: Buffer[] = [];
  for await (const c of coalesce(src(), 1000)) out.push(c);
  assert.deepEqual(out.map((c) => c.length), [1200, 1200, 600]);
  assert.deepEqual(Buffer.concat(out), Buffer.concat(Array.from({ length: 10 }, (_, i) => Buffer.alloc(300, i))));
});
