import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ContentStore, DigestMismatchError } from '../../src/engine/content/store.js';
import { sha256Digest } from '../../src/wire/reference.js';
import { NotFoundError } from '../../src/engine/errors.js';

async function withRoot(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'berth-content-'));
  try { await fn(root); } finally { await rm(root, { recursive: true, force: true }); }
}

function chunks(...parts: string[]): Readable {
  return Readable.from(parts.map((p) => Buffer.from(p)));
}

test('content: put/read/has/delete', () => withRoot(async (root) => {
  const cs = new ContentStore(root);
  await cs.init();
  const d = await cs.put(Buffer.from('hello'));
  assert.equal(d, sha256Digest('hello'));
  assert.ok(await cs.has(d));
  assert.equal((await cs.read(d)).toString(), 'hello');
  assert.equal(cs.path(d), join(root, 'content/blobs/sha256', d.slice(7)));
  assert.deepEqual(await cs.list(), [d]);
  await cs.delete(d);
  assert.ok(!(await cs.has(d)));
  await assert.rejects(cs.read(d), NotFoundError);
  await assert.rejects(cs.put(Buffer.from('x'), sha256Digest('y')), DigestMismatchError);
}));

test('content: ingest verifies digest and size', () => withRoot(async (root) => {
  const cs = new ContentStore(root);
  await cs.init();
  const d = sha256Digest('abcdef');
  await cs.ingest(chunks('abc', 'def'), { digest: d, size: 6 });
  assert.equal((await cs.read(d)).toString(), 'abcdef');
  // idempotent
  await cs.ingest(chunks('abcdef'), { digest: d });
}));

test('content: ingest with a bad digest leaves nothing behind', () => withRoot(async (root) => {
  const cs = new ContentStore(root);
  await cs.init();
  const d = sha256Digest('good');
  await assert.rejects(cs.ingest(chunks('ba', 'd'), { digest: d }), DigestMismatchError);
  await assert.rejects(cs.ingest(chunks('good', 'extra'), { digest: d, size: 4 }), DigestMismatchError);
  await assert.rejects(cs.ingest(chunks('goo'), { digest: d, size: 4 }), DigestMismatchError);
  const failing = new Readable({ read() { this.push(Buffer.from('go')); this.destroy(new Error('network down')); } });
  await assert.rejects(cs.ingest(failing, { digest: d }), /network down/);
  assert.ok(!(await cs.has(d)));
  assert.deepEqual(await readdir(join(root, 'content/blobs/sha256')), []);
  assert.deepEqual(await readdir(join(root, 'content/ingest')), []);
}));

test('content: init clears stale ingests', () => withRoot(async (root) => {
  await mkdir(join(root, 'content/ingest'), { recursive: true });
  await writeFile(join(root, 'content/ingest/deadbeef'), 'partial');
  const cs = new ContentStore(root);
  await cs.init();
  assert.deepEqual(await readdir(join(root, 'content/ingest')), []);
}));
