/**
 * diff.ts: an overlay directory back to an OCI layer tar. Round trip: a layer with whiteouts, an
 * opaque dir, hardlinks, symlinks, a fifo, modes, owners, mtimes and binary xattrs is applied
 * (extractLayer), diffed back, and both tars must list the same entries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { extractLayer } from '../../src/engine/layers/apply.js';
import { diffTar } from '../../src/engine/layers/diff.js';
import { readTar } from '../../src/engine/layers/tar-reader.js';
import { encodeHeader } from '../../src/engine/layers/tar-writer.js';
import { buildTar, streamOf, type TarSpec } from './layers-helpers.js';

async function withRoot(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'berth-diff-'));
  try { await fn(root); } finally { await rm(root, { recursive: true, force: true }); }
}

interface Seen { name: string; type: string; mode: number; uid: number; gid: number; mtime: number; size: number; linkname: string; data: string; xattrs: string }

async function entries(src: AsyncIterable<Uint8Array>): Promise<Seen[]> {
  const out: Seen[] = [];
  for await (const { header: h, body } of readTar(src)) {
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c);
    const xattrs = [...h.xattrs].map(([k, v]) => `${k}=${v.toString('hex')}`).sort().join(',');
    out.push({
      name: h.name.replace(/^\.\//, '').replace(/\/$/, ''), type: h.type, mode: h.mode, uid: h.uid, gid: h.gid,
      mtime: Math.floor(h.mtime), size: h.type === 'file' ? h.size : 0, linkname: h.linkname, data: Buffer.concat(chunks).toString('hex'), xattrs,
    });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function collect(gen: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of gen) parts.push(c);
  return Buffer.concat(parts);
}

const CAP = Buffer.from('0100000200200000000000000000000000000000', 'hex'); // binary: cap_net_bind_service

test('round trip: apply a layer with whiteouts, opaque dir, links, xattrs; diff it back; same entries', () => withRoot(async (root) => {
  const t = new Date(1_700_000_000_000);
  const spec: TarSpec[] = [
    { name: 'bin/', type: 'directory', mode: 0o755, mtime: t },
    { name: 'bin/ping', content: 'ELF', mode: 0o4755, uid: 0, gid: 0, xattrs: { 'security.capability': CAP } },
    { name: 'bin/ping2', type: 'link', linkname: 'bin/ping' },
    { name: 'bin/sh', type: 'symlink', linkname: 'busybox' },
    { name: 'etc/', type: 'directory', mode: 0o750, uid: 12, gid: 34, mtime: t },
    { name: 'etc/.wh.passwd', content: '', mode: 0o600 },
    { name: 'opq/', type: 'directory', mode: 0o700, mtime: t },
    { name: 'opq/.wh..wh..opq', content: '' },
    { name: 'opq/kept', content: 'new', mode: 0o640, uid: 1000, gid: 1000 },
    { name: 'pipe', type: 'fifo', mode: 0o600 },
    { name: 'var/', type: 'directory', mode: 0o1777, mtime: t },
    { name: 'var/.wh.cache', content: '', mode: 0o600 },
  ];
  const tar = await buildTar(spec);
  const dir = join(root, 'diff');
  await mkdir(dir);
  await extractLayer(dir, streamOf(tar));

  const back = await collect(diffTar(dir));
  const a = await entries(streamOf(tar));
  const b = await entries(Readable.from([back]));
  // Whiteouts come back with the device's mode bits (0), links with the real inode's mode (the
  // input tar's link modes mean nothing): compare the rest.
  const norm = (xs: Seen[]) => xs.map((x) => (x.name.split('/').pop()!.startsWith('.wh.') ? { ...x, mode: 0, mtime: 0, uid: 0, gid: 0 }
    : x.type === 'link' || x.type === 'symlink' ? { ...x, mode: 0 } : x));
  assert.deepEqual(norm(b), norm(a));
  // Ordering: parents before children, lexical.
  const names = (await entries(Readable.from([back]))).map((e) => e.name);
  assert.ok(names.includes('opq/.wh..wh..opq'));
  assert.ok(names.includes('etc/.wh.passwd'));
  // Applying the diff again gives the same tree: diffing that once more gives the same entries
  // (whiteout devices are made at apply time: their mtimes are the only difference).
  const dir2 = join(root, 'diff2');
  await mkdir(dir2);
  await extractLayer(dir2, Readable.from([back]));
  const again = await entries(diffTar(dir2));
  assert.deepEqual(norm(again), norm(await entries(Readable.from([back]))));
}));

test('empty dir: the empty-layer tar (1024 zero bytes)', () => withRoot(async (root) => {
  const back = await collect(diffTar(root));
  assert.equal(back.length, 1024);
  assert.equal('sha256:' + createHash('sha256').update(back).digest('hex'), 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef');
}));

test('never follows symlinks; mount point stubs are skipped, content in them is not', () => withRoot(async (root) => {
  const outside = join(root, 'outside');
  await mkdir(outside);
  await writeFile(join(outside, 'secret'), 'x');
  const dir = join(root, 'upper');
  await mkdir(join(dir, 'etc'), { recursive: true });
  await symlink(outside, join(dir, 'link'));
  await writeFile(join(dir, 'etc', 'hostname'), '');
  await writeFile(join(dir, 'etc', 'hosts'), '10.0.0.1 mine\n');
  await mkdir(join(dir, 'proc'));
  const names = (await entries(diffTar(dir, { skipMountpoints: ['etc/hostname', 'etc/hosts', 'proc'] }))).map((e) => `${e.name}:${e.type}`);
  assert.deepEqual(names, ['etc:directory', 'etc/hosts:file', 'link:symlink']);
}));

test('tar writer: long names, long link targets and big ids go through pax, read back exactly', async () => {
  const long = 'd/'.repeat(80) + 'f'.repeat(120);
  const parts = [
    encodeHeader({ name: long, type: 'file', size: 3, mode: 0o644, uid: 3_000_000, gid: 5, mtime: 1_700_000_000 }), Buffer.from('abc'), Buffer.alloc(509),
    encodeHeader({ name: 'l', type: 'symlink', linkname: 'x/'.repeat(70), mode: 0o777, uid: 0, gid: 0, mtime: 1 }),
    encodeHeader({ name: 'ünï', type: 'file', size: 0, mode: 0o600, uid: 0, gid: 0, mtime: 2 }),
    Buffer.alloc(1024),
  ];
  const got = await entries(Readable.from([Buffer.concat(parts)]));
  assert.deepEqual(got.map((e) => [e.name, e.uid, e.linkname, e.data]), [
    [long, 3_000_000, '', '616263'],
    ['l', 0, 'x/'.repeat(70), ''],
    ['ünï', 0, '', ''],
  ]);
});
