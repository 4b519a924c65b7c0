/**
 * A full disk in dockerd's words (src/util/errno.ts): Go's path error text instead of Node's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isOutOfSpace, outOfSpaceError } from '../../src/util/errno.js';

function nodeError(message: string, fields: Partial<NodeJS.ErrnoException>): NodeJS.ErrnoException {
  return Object.assign(new Error(message), fields);
}

test('enospc-message: a write error names the file as dockerd does', () => {
  const e = nodeError('ENOSPC: no space left on device, write', { code: 'ENOSPC', errno: -28, syscall: 'write' });
  const out = outOfSpaceError(e, '/data/content/ingest/ab') as NodeJS.ErrnoException;
  assert.equal(out.message, 'write /data/content/ingest/ab: no space left on device');
  assert.equal(out.code, 'ENOSPC');
  assert.equal(out.cause, e);
  assert.ok(isOutOfSpace(out));
});

test('enospc-message: the path Node names wins; a quota error too', () => {
  const e = nodeError("EDQUOT: disk quota exceeded, open '/data/x'", { code: 'EDQUOT', errno: -122, syscall: 'open', path: '/data/x' });
  assert.equal((outOfSpaceError(e, '/elsewhere') as Error).message, 'open /data/x: disk quota exceeded');
});

test('enospc-message: other errors pass unchanged', () => {
  const e = nodeError("EACCES: permission denied, open '/x'", { code: 'EACCES', syscall: 'open', path: '/x' });
  assert.equal(outOfSpaceError(e, '/y'), e);
  const plain = new Error('boom');
  assert.equal(outOfSpaceError(plain, '/y'), plain);
  assert.equal(isOutOfSpace(plain), false);
});
