/**
 * The in-root resolver (openat2 RESOLVE_IN_ROOT semantics over a directory or overlay layers),
 * the regular-file reader and the working-dir maker: each test names the hole it closes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync } from 'node:fs';
import { getAttribute } from '@napi-rs/xattr';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { mkdirInLayers, readEtcFile, readRegularFileInRoot, resolveEntry, resolveInRoot } from '../../src/engine/host/in-root.js';

async function withRoot(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp('/tmp/bt-inroot-');
  try { await fn(root); } finally { await rm(root, { recursive: true, force: true }); }
}

test('resolver: .. never climbs above the root', () => withRoot(async (root) => {
  await mkdir(`${root}/etc`);
  assert.equal(await resolveInRoot(root, '../../etc/group'), `${root}/etc/group`);
  assert.equal(await resolveInRoot(root, 'etc/../../../../x'), `${root}/x`);
}));

test('resolver: an absolute symlink is re-rooted, a relative one followed inside', () => withRoot(async (root) => {
  await mkdir(`${root}/etc`);
  await mkdir(`${root}/real`);
  await symlink('/etc/shadow', `${root}/etc/passwd`);
  await symlink('../../../../real', `${root}/etc/up`);
  await symlink('/', `${root}/top`);
  assert.equal(await resolveInRoot(root, 'etc/passwd'), `${root}/etc/shadow`);
  assert.equal(await resolveInRoot(root, '/etc/up/x'), `${root}/real/x`);
  assert.equal(await resolveInRoot(root, 'top/top/etc'), `${root}/etc`);
}));

test('resolver: a symlink loop fails after a bounded number of links', () => withRoot(async (root) => {
  await symlink('/b', `${root}/a`);
  await symlink('a', `${root}/b`);
  await assert.rejects(resolveInRoot(root, 'a/x'), /too many levels of symbolic links/);
  await symlink('self', `${root}/self`);
  await assert.rejects(resolveInRoot(root, 'self'), /too many levels/);
}));

test('resolver: layers merge as overlayfs (upper wins, whiteouts hide, symlinks cross layers)', () => withRoot(async (root) => {
  const upper = `${root}/upper`, lower = `${root}/lower`;
  await mkdir(`${upper}/etc`, { recursive: true });
  await mkdir(`${lower}/etc`, { recursive: true });
  await mkdir(`${lower}/srv/app`, { recursive: true });
  await writeFile(`${lower}/etc/passwd`, 'root:x:0:0:root:/root:/bin/sh\n');
  await symlink('/srv', `${upper}/link`);
  const e = await resolveEntry([upper, lower], 'link/app');
  assert.deepEqual(e.path, ['srv', 'app']);
  assert.ok(e.st?.isDirectory());
  assert.equal(await readEtcFile([upper, lower], 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  execFileSync('mknod', [`${upper}/etc/passwd`, 'c', '0', '0']); // the container deleted it
  assert.equal((await resolveEntry([upper, lower], 'etc/passwd')).st, undefined);
  assert.equal(await readEtcFile([upper, lower], 'passwd'), undefined);
}));

test('passwd-fifo: the reader refuses a FIFO without blocking', () => withRoot(async (root) => {
  await mkdir(`${root}/etc`);
  execFileSync('mkfifo', [`${root}/etc/passwd`]);
  await assert.rejects(readRegularFileInRoot(root, 'etc/passwd', 1 << 20), /not a regular file/);
  assert.equal(await readEtcFile(root, 'passwd'), undefined);
}));

test('passwd-dev-zero: a symlink to /dev/zero is re-rooted; a device node is refused', () => withRoot(async (root) => {
  await mkdir(`${root}/etc`);
  await mkdir(`${root}/dev`);
  await symlink('/dev/zero', `${root}/etc/passwd`);
  assert.equal(await readEtcFile(root, 'passwd'), undefined); // <root>/dev/zero does not exist
  execFileSync('mknod', [`${root}/dev/zero`, 'c', '1', '5']);
  await assert.rejects(readRegularFileInRoot(root, 'etc/passwd', 1 << 20), /not a regular file/);
}));

test('passwd-oversized: a file over the cap is refused', () => withRoot(async (root) => {
  await mkdir(`${root}/etc`);
  await writeFile(`${root}/etc/group`, Buffer.alloc(2048, 'a'));
  await assert.rejects(readRegularFileInRoot(root, 'etc/group', 1024), /larger than 1024 bytes/);
  assert.equal(await readRegularFileInRoot(root, 'etc/group', 4096), 'a'.repeat(2048));
}));

test('workdir-symlink-escape: a parent symlinked to / creates the directory inside the upper dir', () => withRoot(async (root) => {
  const upper = `${root}/upper`, lower = `${root}/lower`;
  const hostProbe = `/tmp/bt-inroot-escape-${process.pid}`;
  await mkdir(upper);
  await mkdir(`${lower}/tmp`, { recursive: true });
  await symlink('/', `${upper}/app`);
  await symlink('../../../../../../..', `${upper}/rel`);
  await mkdirInLayers([upper, lower], `app${hostProbe}/work`);
  await mkdirInLayers([upper, lower], `rel${hostProbe}-rel`);
  assert.equal(existsSync(hostProbe), false);
  assert.equal(existsSync(`${hostProbe}-rel`), false);
  assert.ok(lstatSync(`${upper}${hostProbe}/work`).isDirectory());
  assert.ok(lstatSync(`${upper}${hostProbe}-rel`).isDirectory());
}));

test('workdir: a directory of a lower layer is recreated in the upper with its mode; a file is refused', () => withRoot(async (root) => {
  const upper = `${root}/upper`, lower = `${root}/lower`;
  await mkdir(upper);
  await mkdir(`${lower}/srv`, { recursive: true, mode: 0o750 });
  await writeFile(`${lower}/file`, 'x');
  await mkdirInLayers([upper, lower], 'srv/www');
  assert.equal(lstatSync(`${upper}/srv`).mode & 0o777, 0o750);
  assert.ok(lstatSync(`${upper}/srv/www`).isDirectory());
  await mkdirInLayers([upper, lower], 'srv'); // exists: nothing to do
  await assert.rejects(mkdirInLayers([upper, lower], 'file'), /Cannot mkdir: \/file is not a directory/);
  await assert.rejects(mkdirInLayers([upper, lower], 'file/x'), /Cannot mkdir: \/file is not a directory/);
}));

test('workdir: a directory the container deleted (a whiteout) comes back empty, as an opaque directory', () => withRoot(async (root) => {
  const upper = `${root}/upper`, lower = `${root}/lower`;
  await mkdir(upper);
  await mkdir(`${lower}/app`, { recursive: true });
  await writeFile(`${lower}/app/old`, 'x');
  execFileSync('mknod', [`${upper}/app`, 'c', '0', '0']);
  await mkdirInLayers([upper, lower], 'app/sub');
  assert.ok(lstatSync(`${upper}/app/sub`).isDirectory());
  assert.equal(String(await getAttribute(`${upper}/app`, 'trusted.overlay.opaque')), 'y');
  assert.equal((await resolveEntry([upper, lower], 'app/old')).st, undefined); // the lower's file stays hidden
}));
