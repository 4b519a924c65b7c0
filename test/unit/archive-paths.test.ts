// Pure pieces of cp: the path stat header's Go file modes and times, docker/cli's argument split
// and archive entry rebasing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { decodePathStat, encodePathStat, goFileMode, goModeIsDir, goModeIsSymlink, pathStat } from '../../src/wire/path-stat.js';
import { splitCpArg } from '../../src/cli/commands/cp.js';
import { rebaseName } from '../../src/cli/commands/cp-local.js';

test('Go os.FileMode bits for directories, symlinks, setuid files; RFC 3339 nano times; base64 JSON round trip', () => {
  const dir = mkdtempSync('/tmp/bt-unit-ps-');
  try {
    writeFileSync(join(dir, 'f'), 'x');
    chmodSync(join(dir, 'f'), 0o4755);
    symlinkSync('f', join(dir, 'l'));
    chmodSync(dir, 0o750);
    assert.equal(goFileMode(lstatSync(dir)), 2 ** 31 + 0o750);
    assert.equal(goFileMode(lstatSync(join(dir, 'l'))), 2 ** 27 + 0o777);
    assert.equal(goFileMode(lstatSync(join(dir, 'f'))), 2 ** 23 + 0o755);
    assert.ok(goModeIsDir(goFileMode(lstatSync(dir))));
    assert.ok(goModeIsSymlink(goFileMode(lstatSync(join(dir, 'l')))));
    assert.ok(!goModeIsSymlink(goFileMode(lstatSync(dir))));
    const s = pathStat('f', lstatSync(join(dir, 'f')));
    assert.match(s.mtime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$/);
    assert.deepEqual(decodePathStat(encodePathStat(s)), s);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("docker/cli's cp argument split and entry rebasing", () => {
  assert.deepEqual(splitCpArg('c1:/etc/hosts'), { container: 'c1', path: '/etc/hosts' });
  assert.deepEqual(splitCpArg('/abs/a:b'), { container: '', path: '/abs/a:b' });
  assert.deepEqual(splitCpArg('./rel:x'), { container: '', path: './rel:x' });
  assert.deepEqual(splitCpArg('file'), { container: '', path: 'file' });
  assert.equal(rebaseName('site/sub/a', 'site', 'copy'), 'copy/sub/a');
  assert.equal(rebaseName('site/', 'site', 'copy'), 'copy/');
  assert.equal(rebaseName('sitemap', 'site', 'copy'), 'sitemap');
  assert.equal(rebaseName('./a', '.', 'dst'), 'dst/a');
});
