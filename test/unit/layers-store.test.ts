import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, readFile, readdir, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getAttribute } from '@napi-rs/xattr';
import { LayerStore, DiffIDMismatchError } from '../../src/engine/layers/store.js';
import { chainID, chainIDs } from '../../src/engine/layers/chain.js';
import { UnsafeLayerError } from '../../src/engine/layers/safe-path.js';
import { buildTar, layerDirs, newStore, sha, streamOf, withRoot } from './layers-helpers.js';
import { TarFormatError } from '../../src/engine/layers/tar-reader.js';
import { DigestMismatchError } from '../../src/engine/errors.js';
import { statusOf } from '../../src/api/errors.js';

// security.capability v2: cap_net_bind_service (bit 10) permitted+effective, contains 0x00 and >0x7f bytes
const CAP = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);
const BIN = Buffer.from([0xff, 0x00, 0x80, 0xc3, 0x28]);

test('chain IDs', () => {
  const a = 'sha256:' + '1'.repeat(64);
  const b = 'sha256:' + '2'.repeat(64);
  assert.equal(chainID(null, a), a);
  const ids = chainIDs([a, b]);
  assert.equal(ids[0], a);
  assert.equal(ids[1], sha(Buffer.from(`${a} ${b}`)));
});

test('apply: every entry type, ownership, modes, mtimes, binary xattrs', () => withRoot(async (root) => {
  const s = await newStore(root);
  const mtime = new Date(1_600_000_000_000);
  const tar = await buildTar([
    { name: './', type: 'directory', mode: 0o755 },
    { name: 'bin/', type: 'directory', mode: 0o755, mtime },
    { name: 'bin/ping', content: 'ELF', mode: 0o4755, uid: 0, gid: 0, xattrs: { 'security.capability': CAP, 'user.bin': BIN } },
    { name: 'home/user/file', content: 'x'.repeat(3000), mode: 0o600, uid: 1000, gid: 1001, mtime },
    { name: 'bin/sh', type: 'symlink', linkname: '/bin/busybox' },
    { name: 'bin/busybox', content: 'BB', mode: 0o755 },
    { name: 'bin/ls', type: 'link', linkname: 'bin/busybox' },
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0, mode: 0o660 },
    { name: 'run/fifo', type: 'fifo', mode: 0o600 },
    { name: 'tmp/', type: 'directory', mode: 0o1777 },
  ]);
  const r = await s.apply(null, streamOf(tar), sha(tar));
  assert.equal(r.diffID, sha(tar));
  assert.equal(r.chainID, sha(tar));
  assert.equal(r.size, 3 + 3000 + 2);
  const d = s.diffDir(r.chainID);
  assert.equal(d, join(s.dir, sha(tar).slice(7), 'diff'));

  const ping = await stat(join(d, 'bin/ping'));
  assert.equal(ping.mode & 0o7777, 0o4755);
  assert.deepEqual(await getAttribute(join(d, 'bin/ping'), 'security.capability'), CAP);
  assert.deepEqual(await getAttribute(join(d, 'bin/ping'), 'user.bin'), BIN);
  const f = await stat(join(d, 'home/user/file'));
  assert.equal(f.uid, 1000); assert.equal(f.gid, 1001); assert.equal(f.mode & 0o777, 0o600);
  assert.equal(f.mtimeMs, mtime.getTime());
  assert.equal((await readFile(join(d, 'home/user/file'), 'utf8')).length, 3000);
  assert.equal(await readlink(join(d, 'bin/sh')), '/bin/busybox');
  assert.equal((await stat(join(d, 'bin/ls'))).ino, (await stat(join(d, 'bin/busybox'))).ino);
  const dn = await lstat(join(d, 'dev/null'));
  assert.ok(dn.isCharacterDevice()); assert.equal(dn.rdev, (1 << 8) | 3); assert.equal(dn.mode & 0o777, 0o666);
  assert.ok((await lstat(join(d, 'dev/sda'))).isBlockDevice());
  assert.ok((await lstat(join(d, 'run/fifo'))).isFIFO());
  assert.equal((await stat(join(d, 'tmp'))).mode & 0o7777, 0o1777);
  assert.equal((await stat(join(d, 'bin'))).mtimeMs, mtime.getTime(), 'dir mtime applied after its children');
  assert.equal(s.size(r.chainID), r.size);
  assert.ok(s.has(r.chainID));
  assert.equal(await readlink(join(s.dir, s.shortDir(r.chainID))), `../${r.chainID.slice(7)}/diff`);
  // idempotent: same chain reused, stream drained
  const again = await s.apply(null, streamOf(tar), sha(tar));
  assert.equal(again.chainID, r.chainID);
  assert.deepEqual(await layerDirs(s), [r.chainID.slice(7)]);
}));

test('apply: whiteouts become char 0:0, opaque dirs get trusted.overlay.opaque', () => withRoot(async (root) => {
  const s = await newStore(root);
  const base = await buildTar([
    { name: 'etc/passwd', content: 'root' },
    { name: 'var/cache/a', content: 'a' },
  ]);
  const l1 = await s.apply(null, streamOf(base));
  const top = await buildTar([
    { name: 'etc/.wh.passwd', content: '' },
    { name: 'var/cache/.wh..wh..opq', content: '' },
    { name: 'var/cache/b', content: 'b' },
    { name: 'newdir/.wh..wh..opq', content: '' },
    { name: '.wh..wh.plnk/123', content: '' },
  ]);
  const l2 = await s.apply(l1.chainID, streamOf(top), sha(top));
  assert.equal(l2.chainID, chainID(l1.chainID, sha(top)));
  const d = s.diffDir(l2.chainID);
  const wh = await lstat(join(d, 'etc/passwd'));
  assert.ok(wh.isCharacterDevice(), 'whiteout is a char device');
  assert.equal(wh.rdev, 0, 'whiteout is 0:0');
  assert.deepEqual(await getAttribute(join(d, 'var/cache'), 'trusted.overlay.opaque'), Buffer.from('y'));
  assert.deepEqual(await getAttribute(join(d, 'newdir'), 'trusted.overlay.opaque'), Buffer.from('y'));
  assert.equal(await readFile(join(d, 'var/cache/b'), 'utf8'), 'b');
  await assert.rejects(lstat(join(d, 'etc/.wh.passwd')), { code: 'ENOENT' });
  await assert.rejects(lstat(join(d, 'var/cache/.wh..wh..opq')), { code: 'ENOENT' });
  assert.deepEqual(s.ancestry(l2.chainID), [l2.chainID, l1.chainID]);
  await assert.rejects(s.remove(l1.chainID), /child layer/);
  await s.remove(l2.chainID);
  await s.remove(l1.chainID);
  assert.deepEqual(await layerDirs(s), []);
  assert.deepEqual(await readdir(s.linkDir), []);
}));

// ---- hostile layers: each test is named after the hole it closes ----

async function assertRejected(root: string, tar: Buffer, pattern: RegExp): Promise<void> {
  const s = await newStore(root);
  const outside = join(root, 'outside');
  await mkdir(outside, { recursive: true });
  await writeFile(join(outside, 'passwd'), 'host secret');
  await assert.rejects(s.apply(null, streamOf(tar)), (e: unknown) => {
    assert.ok(e instanceof UnsafeLayerError, String(e));
    assert.match((e as Error).message, pattern);
    return true;
  });
  assert.deepEqual(await layerDirs(s), [], 'no snapshot or temp dir left');
  assert.deepEqual(await readdir(outside), ['passwd']);
  assert.equal(await readFile(join(outside, 'passwd'), 'utf8'), 'host secret');
}

test('hostile: ../ path escape', () => withRoot(async (root) => {
  await assertRejected(root, await buildTar([{ name: 'a/../../../outside/evil', content: 'x' }]), /escapes the layer root/);
}));

test('hostile: absolute path', () => withRoot(async (root) => {
  await assertRejected(root, await buildTar([{ name: join(root, 'outside/evil'), content: 'x' }]), /absolute path/);
}));

test('hostile: symlink escape (a -> outside, then a/passwd)', () => withRoot(async (root) => {
  await assertRejected(root, await buildTar([
    { name: 'a', type: 'symlink', linkname: join(root, 'outside') },
    { name: 'a/passwd', content: 'pwned' },
  ]), /through symlink "a"/);
}));

test('hostile: relative symlink escape (d/x -> ../../.., then d/x/outside/passwd)', () => withRoot(async (root) => {
  await assertRejected(root, await buildTar([
    { name: 'd/x', type: 'symlink', linkname: '../../../../..' },
    { name: 'd/x/outside/passwd', content: 'pwned' },
  ]), /through symlink "d\/x"/);
}));

test('hostile: symlink as whiteout parent (a -> outside, then a/.wh.passwd)', () => withRoot(async (root) => {
  await assertRejected(root, await buildTar([
    { name: 'a', type: 'symlink', linkname: join(root, 'outside') },
    { name: 'a/.wh.passwd', content: '' },
  ]), /through symlink "a"/);
}));

test('hostile: dir replaced by a symlink, then written through (cache invalidation)', () => withRoot(async (root) => {
  await assertRejected(root, await buildTar([
    { name: 'a/', type: 'directory' },
    { name: 'a/x', content: 'fine' },
    { name: 'a', type: 'symlink', linkname: join(root, 'outside') },
    { name: 'a/passwd', content: 'pwned' },
  ]), /through symlink "a"/);
}));

test('hostile: whiteout of ".." or "." cannot delete the parent or the snapshot (".wh..", "a/.wh.")', () => withRoot(async (root) => {
  await assertRejected(root, await buildTar([{ name: 'a/.wh..', content: '' }]), /invalid whiteout/);
  await assertRejected(root, await buildTar([{ name: '.wh..', content: '' }]), /invalid whiteout/);
  await assertRejected(root, await buildTar([{ name: 'a/.wh.', content: '' }]), /invalid whiteout/);
}));

test('hostile: hardlink escape (h -> ../outside/passwd)', () => withRoot(async (root) => {
  await assertRejected(root, await buildTar([{ name: 'h', type: 'link', linkname: '../outside/passwd' }]), /escapes the layer root/);
}));

test('hostile: hardlink escape by absolute target', () => withRoot(async (root) => {
  await assertRejected(root, await buildTar([{ name: 'h', type: 'link', linkname: join(root, 'outside/passwd') }]), /absolute path/);
}));

test('hostile: hardlink through a planted symlink (a -> outside, h -> a/passwd)', () => withRoot(async (root) => {
  await assertRejected(root, await buildTar([
    { name: 'a', type: 'symlink', linkname: join(root, 'outside') },
    { name: 'h', type: 'link', linkname: 'a/passwd' },
  ]), /through symlink "a"/);
}));

test('apply: wrong diffID throws and removes the partial snapshot', () => withRoot(async (root) => {
  const s = await newStore(root);
  const tar = await buildTar([{ name: 'f', content: 'data' }]);
  const wrong = 'sha256:' + '0'.repeat(64);
  await assert.rejects(s.apply(null, streamOf(tar), wrong), DiffIDMismatchError);
  assert.deepEqual(await layerDirs(s), []);
  assert.ok(!s.has(sha(tar)));
}));

test('apply: truncated tar is rejected, nothing left', () => withRoot(async (root) => {
  const s = await newStore(root);
  const tar = await buildTar([{ name: 'f', content: 'x'.repeat(5000) }]);
  await assert.rejects(s.apply(null, streamOf(tar.subarray(0, 2000))), /unexpected end/);
  assert.deepEqual(await layerDirs(s), []);
}));

test('apply: a malformed archive is a typed error that the API answers with a 400', () => withRoot(async (root) => {
  const s = await newStore(root);
  const good = await buildTar([{ name: 'f', content: 'data' }]);
  const badChecksum = Buffer.from(good);
  badChecksum[0] = 'g'.charCodeAt(0); // the name changes, the header checksum no longer holds
  const badSize = Buffer.from(good);
  badSize.write('9x9', 124, 'latin1'); // a size field that is not octal
  for (const [what, tar] of [['checksum', badChecksum], ['size field', badSize], ['truncation', good.subarray(0, 700)]] as const) {
    const err = await s.apply(null, streamOf(tar)).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof TarFormatError, `${what}: ${String(err)}`);
    assert.equal(err.code, 'INVALID_PARAMETER', what);
    assert.equal(statusOf(err), 400, what);
    assert.match(err.message, /^invalid tar stream: /, what);
  }
  assert.deepEqual(await layerDirs(s), [], 'nothing left behind');
  // A diffID mismatch is the engine's one DigestMismatchError, a 400 too.
  const wrong = await s.apply(null, streamOf(good), 'sha256:' + '0'.repeat(64)).then(() => undefined, (e: unknown) => e);
  assert.ok(wrong instanceof DigestMismatchError);
  assert.equal(statusOf(wrong), 400);
}));

test('init: removes stale temp snapshots, reloads layers', () => withRoot(async (root) => {
  const s = await newStore(root);
  const tar = await buildTar([{ name: 'f', content: 'data' }]);
  const r = await s.apply(null, streamOf(tar));
  await mkdir(join(s.dir, 'tmp-deadbeef/diff'), { recursive: true });
  const s2 = new LayerStore(s.root);
  await s2.init();
  assert.deepEqual(await layerDirs(s2), [r.chainID.slice(7)]);
  assert.ok(s2.has(r.chainID));
  assert.equal(s2.get(r.chainID)?.diffID, sha(tar));
  assert.equal(s2.shortDir(r.chainID), s.shortDir(r.chainID));
}));

test('overlay: whiteouts and opaque dirs hide lower files when mounted', (t) => withRoot(async (root) => {
  const { execFileSync } = await import('node:child_process');
  const s = await newStore(root);
  const l1 = await s.apply(null, streamOf(await buildTar([
    { name: 'etc/passwd', content: 'root' },
    { name: 'etc/keep', content: 'k' },
    { name: 'var/cache/old', content: 'old' },
  ])));
  const l2 = await s.apply(l1.chainID, streamOf(await buildTar([
    { name: 'etc/.wh.passwd', content: '' },
    { name: 'var/cache/.wh..wh..opq', content: '' },
    { name: 'var/cache/new', content: 'new' },
  ])));
  const mnt = join(root, 'mnt');
  await mkdir(mnt);
  const lower = [s.shortDir(l2.chainID), s.shortDir(l1.chainID)].join(':');
  try {
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower}`, mnt], { cwd: s.dir, stdio: 'pipe' });
  } catch (e) {
    // Reported as skipped, not passed: nothing below was checked.
    t.skip(`overlay mount unavailable: ${String(e).split('\n')[0]}`);
    return;
  }
  try {
    assert.deepEqual((await readdir(join(mnt, 'etc'))).sort(), ['keep']);
    assert.deepEqual(await readdir(join(mnt, 'var/cache')), ['new']);
  } finally {
    execFileSync('umount', [mnt]);
  }
}));

test('apply: archives written by GNU tar (gnu and posix formats, long names, xattrs)', () => withRoot(async (root) => {
  const { execFileSync } = await import('node:child_process');
  const { setAttribute } = await import('@napi-rs/xattr');
  const src = join(root, 'src');
  const long = 'd'.repeat(120) + '/' + 'f'.repeat(150);
  await mkdir(join(src, 'd'.repeat(120)), { recursive: true });
  await writeFile(join(src, long), 'long');
  await writeFile(join(src, 'cap'), 'bin');
  await setAttribute(join(src, 'cap'), 'security.capability', CAP);
  execFileSync('ln', [join(src, 'cap'), join(src, 'cap-link')]);
  execFileSync('ln', ['-s', 'd'.repeat(120) + '/' + 'f'.repeat(150), join(src, 'sym-' + 'x'.repeat(110))]);
  const s = await newStore(root);
  for (const format of ['gnu', 'posix']) {
    const tarPath = join(root, `${format}.tar`);
    const xattrArgs = format === 'posix' ? ['--xattrs', '--xattrs-include=*'] : [];
    execFileSync('tar', [...xattrArgs, `--format=${format}`, '-C', src, '-cf', tarPath, '.']);
    const buf = await readFile(tarPath);
    const r = await s.apply(null, streamOf(buf, 4096), sha(buf));
    const d = s.diffDir(r.chainID);
    assert.equal(await readFile(join(d, long), 'utf8'), 'long', format);
    assert.equal(await readlink(join(d, 'sym-' + 'x'.repeat(110))), long, format);
    assert.equal((await stat(join(d, 'cap'))).ino, (await stat(join(d, 'cap-link'))).ino, format);
    if (format === 'posix') assert.deepEqual(await getAttribute(join(d, 'cap'), 'security.capability'), CAP);
  }
}));
