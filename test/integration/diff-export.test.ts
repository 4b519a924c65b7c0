/**
 * docker diff and docker export against a real berthd, through `berth` and the docker CLI: the
 * changes as dockerd reports them (C for the parents, A, D; no runtime mount stubs), and the
 * container's root filesystem as a tar (-o FILE and stdout), running or stopped, without volumes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { removeContainersAndStop, run, startDaemonWithImages, type TestDaemon } from '../helpers/daemon.js';
import { projectRoot } from '../../src/util/paths.js';
import { rawRequest, tarFile, tarNames } from '../helpers/tar-fixtures.js';

let d: TestDaemon;
let tmp: string;

before(async () => {
  d = await startDaemonWithImages(['busybox']);
  tmp = mkdtempSync('/tmp/bt-diff-');
});

after(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await removeContainersAndStop(d);
});

async function ok(via: 'berth' | 'docker', args: string[]): Promise<string> {
  const r = await d[via](args, { timeoutMs: 90_000 });
  assert.equal(r.code, 0, `${via} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

test('diff: added, changed and deleted paths as dockerd lists them, through both CLIs', async () => {
  await ok('docker', ['run', '--name', 'changed', 'busybox', 'sh', '-c', 'mkdir -p /new/sub && echo x > /new/sub/f && echo y > /tmp/t && rm /bin/ls && echo extra >> /etc/group']);
  const expected = ['C /bin', 'D /bin/ls', 'C /etc', 'C /etc/group', 'A /new', 'A /new/sub', 'A /new/sub/f', 'C /tmp', 'A /tmp/t'].join('\n') + '\n';
  assert.equal(await ok('berth', ['diff', 'changed']), expected);
  assert.equal(await ok('docker', ['container', 'diff', 'changed']), expected);
  const api = await rawRequest(d.socket, 'GET', '/v1.41/containers/changed/changes');
  assert.deepEqual(JSON.parse(api.body.toString()).slice(0, 2), [{ Path: '/bin', Kind: 0 }, { Path: '/bin/ls', Kind: 2 }]);
  // an untouched container has no changes: the runtime's /etc/hosts, /dev… stubs are not changes
  await ok('docker', ['run', '--name', 'untouched', 'busybox', 'true']);
  assert.equal(await ok('berth', ['diff', 'untouched']), '');
  assert.equal(await ok('docker', ['diff', 'untouched']), '');
  assert.equal((await rawRequest(d.socket, 'GET', '/v1.41/containers/untouched/changes')).body.toString().trim(), 'null');
  const missing = await d.berth(['diff', 'nosuch']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No such container: nosuch/);
});

test('export: the root filesystem as a tar, running and stopped, volumes left out, -o and stdout', async () => {
  await ok('docker', ['run', '-d', '--name', 'exp', '-v', 'expvol:/data', 'busybox', 'sh', '-c', 'echo made > /made && echo in-volume > /data/v && sleep 600']);
  await ok('docker', ['exec', 'exp', 'test', '-e', '/data/v']);
  for (const via of ['berth', 'docker'] as const) {
    const file = join(tmp, `exp-${via}.tar`);
    await ok(via, ['export', '-o', file, 'exp']);
    const tar = readFileSync(file);
    const names = tarNames(tar);
    assert.ok(names.includes('bin/busybox'), via);
    assert.ok(names.includes('etc/passwd'), via);
    assert.equal(tarFile(tar, 'made'), 'made\n', via);
    assert.equal(names.includes('data/v'), false, `${via}: a volume's content is not exported`);
    assert.equal(names.some((n) => n.startsWith('/') || n.startsWith('./')), false, via);
  }
  // stdout, into tar; and a stopped container
  await ok('docker', ['stop', '-t', '0', 'exp']);
  const berth = `${process.execPath} ${join(projectRoot(), 'dist', 'berth.mjs')}`;
  const r = await run('sh', ['-c', `${berth} export exp | tar -xO made`], { env: { ...process.env, BERTH_HOST: d.host } });
  assert.equal(r.stdout, 'made\n', r.stderr);
  const dr = await run('sh', ['-c', 'docker export exp | tar -t | grep -c "^bin/"'], { env: { ...process.env, DOCKER_HOST: d.host } });
  assert.equal(Number(dr.stdout.trim()), tarNames(readFileSync(join(tmp, 'exp-docker.tar'))).filter((n) => n.startsWith('bin/')).length, dr.stdout + dr.stderr);
  // the stopped container still starts (its rootfs was mounted for the export, then given back)
  await ok('docker', ['start', 'exp']);
  assert.equal(await ok('docker', ['exec', 'exp', 'cat', '/made']), 'made\n');
});
