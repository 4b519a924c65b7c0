/**
 * Berth's own volume export and import (`GET`/`PUT /volumes/{name}/archive`): a busybox
 * "database" in a named volume survives export → rm → import, through stdout/stdin and -o/-i;
 * hostile archives (.., absolute names, a symlink written through, a hardlink out, a device node)
 * are refused with a 400 naming the entry, nothing is written outside the volume; a volume a
 * running container uses is not imported into (409).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeContainersAndStop, run, startDaemonWithImages, type TestDaemon } from '../helpers/daemon.js';
import { projectRoot } from '../../src/util/paths.js';
import { makeTar, rawRequest, tarNames } from '../helpers/tar-fixtures.js';

let d: TestDaemon;
let tmp: string;

before(async () => {
  d = await startDaemonWithImages(['busybox']);
  tmp = mkdtempSync('/tmp/bt-volarch-');
});

after(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await removeContainersAndStop(d);
});

async function ok(args: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
  const r = await d.berth(args, { timeoutMs: 90_000, input });
  assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
  return r;
}

const berth = () => `${process.execPath} ${join(projectRoot(), 'dist', 'berth.mjs')}`;

test('a database in a named volume survives export, volume rm and import (stdout/stdin and -o/-i)', async () => {
  const db = 'for i in 1 2 3; do echo "row $i" >> /db/table; done; mkdir -p /db/idx && ln -s ../table /db/idx/t && ln /db/table /db/hard && chown 1234:5678 /db/table && chmod 640 /db/table';
  await ok(['run', '--rm', '-v', 'dbvol:/db', 'busybox', 'sh', '-c', db]);
  const before = (await ok(['run', '--rm', '-v', 'dbvol:/db', 'busybox', 'sh', '-c', 'cat /db/idx/t; stat -c "%u:%g %a %h" /db/table; readlink /db/idx/t'])).stdout;
  assert.equal(before, 'row 1\nrow 2\nrow 3\n1234:5678 640 2\n../table\n');

  // stdout → file, -o
  const viaStdout = join(tmp, 'db-stdout.tar');
  const r = await run('sh', ['-c', `${berth()} volume export dbvol > ${viaStdout}`], { env: { ...process.env, BERTH_HOST: d.host } });
  assert.equal(r.code, 0, r.stderr);
  const viaO = join(tmp, 'db-o.tar');
  await ok(['volume', 'export', '-o', viaO, 'dbvol']);
  assert.deepEqual(tarNames(readFileSync(viaO)).sort(), ['hard', 'idx/', 'idx/t', 'table']);
  assert.deepEqual(readFileSync(viaStdout), readFileSync(viaO));

  await ok(['volume', 'rm', 'dbvol']);
  const imp = await run('sh', ['-c', `${berth()} volume import dbvol < ${viaStdout}`], { env: { ...process.env, BERTH_HOST: d.host } });
  assert.equal(imp.code, 0, imp.stderr);
  assert.match(imp.stderr, /Imported 4 entries into volume dbvol/);
  assert.equal((await ok(['run', '--rm', '-v', 'dbvol:/db', 'busybox', 'sh', '-c', 'cat /db/idx/t; stat -c "%u:%g %a %h" /db/table; readlink /db/idx/t'])).stdout, before);

  // -i into another (new) volume
  await ok(['volume', 'import', '-q', '-i', viaO, 'dbcopy']);
  assert.equal((await ok(['run', '--rm', '-v', 'dbcopy:/db', 'busybox', 'cat', '/db/table'])).stdout, 'row 1\nrow 2\nrow 3\n');
  const inspect = JSON.parse((await ok(['volume', 'inspect', 'dbcopy'])).stdout);
  assert.equal(inspect[0].Driver, 'local');

  const missing = await d.berth(['volume', 'export', 'nosuch']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /get nosuch: no such volume/);
});

test('volume import refuses hostile archives and volumes in use by a running container', async () => {
  const tag = randomBytes(4).toString('hex');
  const outside = mkdtempSync('/tmp/bt-volarch-outside-');
  try {
    await ok(['volume', 'create', 'target']);
    const cases: Array<[string, Buffer, RegExp]> = [
      ['dotdot', makeTar([{ name: `../../../../../../../${outside}/x-${tag}`, body: 'x' }]), /escapes the extraction point/],
      ['absolute', makeTar([{ name: `${outside}/abs-${tag}`, body: 'x' }]), /is an absolute path/],
      ['symlink-then-write', makeTar([{ name: 'l', type: 'symlink', linkname: outside }, { name: `l/s-${tag}`, body: 'x' }]), /would be written through the symlink "?target:\/l/],
      ['hardlink-out', makeTar([{ name: 'h', type: 'link', linkname: '../../../../../etc/shadow' }]), /escapes the extraction point/],
      ['hardlink-missing', makeTar([{ name: 'h', type: 'link', linkname: 'nosuch' }]), /the target is not in the archive/],
      ['device', makeTar([{ name: 'sda', type: 'block-device', devmajor: 8, devminor: 0 }]), /"sda" is a device node/],
      ['truncated', makeTar([{ name: 'big', body: 'y'.repeat(5000) }]).subarray(0, 1536), /unexpected end|invalid tar/],
    ];
    for (const [what, tar, msg] of cases) {
      const r = await rawRequest(d.socket, 'PUT', '/v1.41/volumes/target/archive', tar);
      assert.equal(r.status, 400, `${what}: ${r.body}`);
      assert.match(JSON.parse(r.body.toString()).message, msg, what);
    }
    assert.deepEqual(readdirSync(outside), []);
    // through the CLI: the refusal is printed, exit 1
    const file = join(tmp, 'hostile.tar');
    writeFileSync(file, makeTar([{ name: `../escape-${tag}`, body: 'x' }]));
    const r = await d.berth(['volume', 'import', '-i', file, 'target']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /refused archive entry: entry "\.\.\/escape-[0-9a-f]+" escapes the extraction point/);

    await ok(['run', '-d', '--name', 'user', '-v', 'target:/t', 'busybox', 'sleep', '600']);
    const busy = await rawRequest(d.socket, 'PUT', '/v1.41/volumes/target/archive', makeTar([{ name: 'ok', body: 'x' }]));
    assert.equal(busy.status, 409);
    assert.match(JSON.parse(busy.body.toString()).message, /volume is in use by running container\(s\)/);
    // export of a volume in use works (read through descriptors)
    const exp = await rawRequest(d.socket, 'GET', '/v1.41/volumes/target/archive');
    assert.equal(exp.status, 200);
  } finally {
    rmSync(outside, { recursive: true, force: true });
  }
});

test('import-refused-early-upload: a big archive refused at its first entry prints the refusal, not a write EPIPE', async () => {
  // The first entry escapes; 16 MiB follow. The daemon answers 400 at once; the CLI is still
  // sending, and before the fix the daemon closed the connection under it (write EPIPE).
  const tmp = mkdtempSync('/tmp/bt-volarch-early-');
  try {
    const file = join(tmp, 'hostile-big.tar');
    writeFileSync(file, makeTar([{ name: '../escape-early', body: 'x' }, { name: 'filler', body: 'y'.repeat(16 << 20) }]));
    for (let i = 0; i < 3; i++) {
      const r = await d.berth(['volume', 'import', '-i', file, 'early-target']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /refused archive entry: entry "\.\.\/escape-early" escapes the extraction point/);
    }
    const ping = await d.berth(['version', '--format', '{{.Server.Version}}']);
    assert.equal(ping.code, 0, ping.stderr);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    await d.berth(['volume', 'rm', 'early-target']);
  }
});
