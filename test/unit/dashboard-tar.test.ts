// The dashboard's tar listing (web/src/tar.ts, volume browsing from GET /volumes/{name}/archive), against GNU tar's output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listTar } from '../../web/src/tar.js';

test('listTar: files, folders, symlinks, long names (GNU and pax)', () => {
  const dir = mkdtempSync('/tmp/berth-unit-tar-');
  try {
    const src = join(dir, 'src');
    const long = 'x'.repeat(150);
    mkdirSync(join(src, 'sub', long), { recursive: true });
    writeFileSync(join(src, 'sub', 'hello.txt'), 'hi\n');
    writeFileSync(join(src, 'sub', long, 'deep.bin'), Buffer.alloc(1500));
    symlinkSync('sub/hello.txt', join(src, 'link'));
    for (const format of ['gnu', 'pax']) {
      const tar = join(dir, `${format}.tar`);
      execFileSync('tar', ['--format', format, '-C', src, '-cf', tar, '.']);
      const entries = listTar(new Uint8Array(readFileSync(tar)));
      const by = new Map(entries.map((e) => [e.path.replace(/\/$/, ''), e]));
      assert.equal(by.get('./sub/hello.txt')?.type, 'file', format);
      assert.equal(by.get('./sub/hello.txt')?.size, 3);
      assert.equal(by.get(`./sub/${long}/deep.bin`)?.size, 1500, format);
      assert.equal(by.get('./sub')?.type, 'dir');
      assert.equal(by.get('./link')?.type, 'symlink');
      assert.equal(entries.length, 6, format);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
