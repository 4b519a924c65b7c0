/**
 * docker cp against a real berthd, through `berth` and the docker CLI: in and out of a running
 * container that has a named volume mounted, a stopped one (its rootfs mounted for the copy),
 * `-` tars on stdin/stdout, the HEAD stat header, dockerd's errors; and the holes: a container
 * whose /etc is a symlink to `/` must not make cp read or write the host's files, and hostile
 * tars (`..`, absolute names, a symlink written through, a hardlink out) are refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { removeContainersAndStop, run, startDaemonWithImages, type TestDaemon } from '../helpers/daemon.js';
import { projectRoot } from '../../src/util/paths.js';
import { makeTar, rawRequest, tarNames } from '../helpers/tar-fixtures.js';

let d: TestDaemon;
let tmp: string;

before(async () => {
  d = await startDaemonWithImages(['busybox']);
  tmp = mkdtempSync('/tmp/bt-cp-');
});

after(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await removeContainersAndStop(d);
});

async function ok(via: 'berth' | 'docker', args: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
  const r = await d[via](args, { timeoutMs: 90_000, input });
  assert.equal(r.code, 0, `${via} ${args.join(' ')}: ${r.stderr}`);
  return r;
}

/** A shell pipeline with the CLIs pointed at the test daemon. */
function sh(script: string) {
  const berth = `${process.execPath} ${join(projectRoot(), 'dist', 'berth.mjs')}`;
  return run('sh', ['-c', script], { env: { ...process.env, BERTH_HOST: d.host, DOCKER_HOST: d.host, BERTH: berth }, timeoutMs: 90_000 });
}

test('cp in and out of a running container with a named volume mounted, through both CLIs', async () => {
  await ok('docker', ['run', '-d', '--name', 'run1', '-v', 'cpvol:/data', 'busybox', 'sleep', '600']);
  writeFileSync(join(tmp, 'in.txt'), 'from the host\n');
  // into the volume (resolved through the container's mount) and into the root filesystem
  const r = await ok('berth', ['cp', join(tmp, 'in.txt'), 'run1:/data/']);
  assert.match(r.stderr, /^Successfully copied 2\.05kB to run1:\/data\/\n$/);
  await ok('docker', ['cp', join(tmp, 'in.txt'), 'run1:/tmp/renamed.txt']);
  assert.equal((await ok('docker', ['exec', 'run1', 'cat', '/data/in.txt', '/tmp/renamed.txt'])).stdout, 'from the host\nfrom the host\n');
  // the volume itself holds it (a second container sees it)
  assert.equal((await ok('berth', ['run', '--rm', '-v', 'cpvol:/v', 'busybox', 'cat', '/v/in.txt'])).stdout, 'from the host\n');

  // out: a file the container wrote in the volume, and a directory
  await ok('docker', ['exec', 'run1', 'sh', '-c', 'echo db-row > /data/row && mkdir -p /srv/site/sub && echo page > /srv/site/sub/index.html && ln -s sub/index.html /srv/site/link']);
  const out1 = join(tmp, 'row-berth');
  const q = await ok('berth', ['cp', '-q', 'run1:/data/row', out1]);
  assert.equal(q.stderr, '');
  assert.equal(readFileSync(out1, 'utf8'), 'db-row\n');
  await ok('docker', ['cp', 'run1:/data/row', join(tmp, 'row-docker')]);
  assert.equal(readFileSync(join(tmp, 'row-docker'), 'utf8'), 'db-row\n');
  for (const via of ['berth', 'docker'] as const) {
    const dest = join(tmp, `site-${via}`);
    await ok(via, ['cp', 'run1:/srv/site', dest]);
    assert.equal(readFileSync(join(dest, 'sub', 'index.html'), 'utf8'), 'page\n', via);
    assert.equal(readFileSync(join(dest, 'link'), 'utf8'), 'page\n', via); // a symlink kept as one, relative
    // `SRC/.` copies the content into an existing folder
    const into = join(tmp, `into-${via}`);
    mkdirSync(into);
    await ok(via, ['cp', 'run1:/srv/site/.', into]);
    assert.ok(existsSync(join(into, 'sub', 'index.html')), via);
  }
  // -L follows a symlink source; without it the link itself is copied
  await ok('berth', ['cp', '-L', 'run1:/srv/site/link', join(tmp, 'followed')]);
  assert.equal(readFileSync(join(tmp, 'followed'), 'utf8'), 'page\n');

  // `-`: a tar on stdout and on stdin
  const t = await sh('$BERTH cp run1:/data/row - | tar -xO row');
  assert.equal(t.stdout, 'db-row\n', t.stderr);
  const dt = await sh('docker cp run1:/data/row - | tar -t');
  assert.equal(dt.stdout, 'row\n', dt.stderr);
  const put = await sh(`cd ${tmp} && tar -c in.txt | $BERTH cp - run1:/srv/ && docker exec run1 cat /srv/in.txt`);
  assert.equal(put.stdout, 'from the host\n', put.stderr);
});

test('HEAD /archive: the path stat header as dockerd (Go file mode, link target resolved in the container)', async () => {
  await ok('docker', ['run', '-d', '--name', 'stat1', 'busybox', 'sh', '-c', 'ln -s /etc/passwd /pw && ln -s nowhere /dangling && sleep 600']);
  await ok('docker', ['exec', 'stat1', 'true']);
  const head = async (path: string) => {
    const r = await rawRequest(d.socket, 'HEAD', `/v1.41/containers/stat1/archive?path=${encodeURIComponent(path)}`);
    return { status: r.status, stat: r.headers['x-docker-container-path-stat'] ? JSON.parse(Buffer.from(String(r.headers['x-docker-container-path-stat']), 'base64').toString()) : undefined };
  };
  const etc = await head('/etc');
  assert.equal(etc.status, 200);
  assert.equal(etc.stat.name, 'etc');
  assert.equal(etc.stat.mode, 2 ** 31 + 0o755); // os.ModeDir | 0755
  assert.match(etc.stat.mtime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  const pw = await head('/pw');
  assert.equal(pw.stat.mode, 2 ** 27 + 0o777); // os.ModeSymlink | 0777
  assert.equal(pw.stat.linkTarget, '/etc/passwd');
  assert.equal((await head('/nosuch')).status, 404);
  const missing = await rawRequest(d.socket, 'GET', '/v1.41/containers/stat1/archive?path=/nosuch');
  assert.equal(missing.status, 404);
  assert.equal(JSON.parse(missing.body.toString()).message, 'Could not find the file /nosuch in container stat1');
  const noPath = await rawRequest(d.socket, 'GET', '/v1.41/containers/stat1/archive');
  assert.equal(noPath.status, 400);
  // both CLIs say it the same way, exit 1
  for (const via of ['berth', 'docker'] as const) {
    const r = await d[via](['cp', 'stat1:/nosuch', tmp]);
    assert.equal(r.code, 1, via);
    assert.match(r.stderr, /Error response from daemon: Could not find the file \/nosuch in container stat1/, via);
  }
  // a file is not a directory to extract into
  const notDir = await rawRequest(d.socket, 'PUT', '/v1.41/containers/stat1/archive?path=/etc/passwd', makeTar([{ name: 'x', body: 'x' }]));
  assert.equal(notDir.status, 400);
  assert.equal(JSON.parse(notDir.body.toString()).message, 'extraction point is not a directory');
});

test('cp to and from a stopped container: its rootfs is mounted for the copy, and it starts afterwards', async () => {
  await ok('docker', ['create', '--name', 'stopped1', 'busybox', 'cat', '/etc/motd-from-cp']);
  writeFileSync(join(tmp, 'motd'), 'copied while stopped\n');
  await ok('berth', ['cp', join(tmp, 'motd'), 'stopped1:/etc/motd-from-cp']);
  await ok('docker', ['cp', 'stopped1:/etc/passwd', join(tmp, 'passwd-out')]);
  assert.match(readFileSync(join(tmp, 'passwd-out'), 'utf8'), /^root:x:0:0:/);
  assert.equal((await ok('docker', ['start', '-a', 'stopped1'])).stdout, 'copied while stopped\n');
  // and once exited, again
  await ok('docker', ['cp', 'stopped1:/etc/motd-from-cp', join(tmp, 'motd-back')]);
  assert.equal(readFileSync(join(tmp, 'motd-back'), 'utf8'), 'copied while stopped\n');
});

test('read-only volumes and a read-only rootfs refuse cp into them, with dockerd\'s messages', async () => {
  await ok('docker', ['run', '-d', '--name', 'ro1', '--read-only', '-v', 'rovol:/ro:ro', '-v', 'rwvol:/rw', 'busybox', 'sleep', '600']);
  writeFileSync(join(tmp, 'f'), 'f\n');
  for (const [dest, msg] of [['ro1:/ro/', 'mounted volume is marked read-only'], ['ro1:/tmp/', 'container rootfs is marked read-only']]) {
    const r = await d.docker(['cp', join(tmp, 'f'), dest!]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(msg!));
  }
  await ok('berth', ['cp', join(tmp, 'f'), 'ro1:/rw/']);
});

test('cp-etc-symlink-to-root: a container whose /etc is a symlink to / cannot make cp read or write the host', async () => {
  const tag = randomBytes(4).toString('hex');
  const marker = `/etc/berth-cp-marker-${tag}`;
  writeFileSync(marker, 'HOST SECRET\n');
  try {
    // /etc holds the runtime's mount points while the container runs: replace it before the start
    // (a PUT without noOverwriteDirNonDir may turn a directory into a link, as in dockerd).
    await ok('docker', ['create', '--name', 'evil', 'busybox', 'sh', '-c', 'echo container-root > /root-file && sleep 600']);
    const planted = await rawRequest(d.socket, 'PUT', '/v1.41/containers/evil/archive?path=/', makeTar([{ name: 'etc', type: 'symlink', linkname: '/' }]));
    assert.equal(planted.status, 200, planted.body.toString());
    await ok('docker', ['start', 'evil']);
    await ok('docker', ['exec', 'evil', 'sh', '-c', 'test -L /etc && test -e /root-file']);
    // reading through /etc gets the container's /, never the host's /etc
    for (const via of ['berth', 'docker'] as const) {
      const r = await d[via](['cp', `evil:/etc/berth-cp-marker-${tag}`, join(tmp, `leak-${via}`)]);
      assert.equal(r.code, 1, `${via} read the host's file: ${r.stdout}`);
      assert.equal(existsSync(join(tmp, `leak-${via}`)), false);
      await ok(via, ['cp', 'evil:/etc/root-file', join(tmp, `root-file-${via}`)]);
      assert.equal(readFileSync(join(tmp, `root-file-${via}`), 'utf8'), 'container-root\n');
    }
    // writing through /etc lands in the container's /, never in the host's /etc or /
    writeFileSync(join(tmp, `dropped-${tag}`), 'dropped\n');
    await ok('docker', ['cp', join(tmp, `dropped-${tag}`), 'evil:/etc/']);
    await ok('berth', ['cp', join(tmp, `dropped-${tag}`), `evil:/etc/../etc/b-${tag}`]);
    assert.equal(existsSync(`/etc/dropped-${tag}`), false);
    assert.equal(existsSync(`/dropped-${tag}`), false);
    assert.equal(existsSync(`/b-${tag}`), false);
    assert.equal((await ok('docker', ['exec', 'evil', 'cat', `/dropped-${tag}`, `/b-${tag}`])).stdout, 'dropped\ndropped\n');
    // the same when stopped (its rootfs mounted by the daemon)
    await ok('docker', ['stop', '-t', '0', 'evil']);
    const r = await d.docker(['cp', `evil:/etc/berth-cp-marker-${tag}`, join(tmp, 'leak-stopped')]);
    assert.equal(r.code, 1);
    const st = await rawRequest(d.socket, 'GET', `/v1.41/containers/evil/archive?path=${encodeURIComponent('/etc/../../../etc/berth-cp-marker-' + tag)}`);
    assert.equal(st.status, 404);
  } finally {
    rmSync(marker, { force: true });
    rmSync(`/etc/dropped-${tag}`, { force: true });
    rmSync(`/dropped-${tag}`, { force: true });
    rmSync(`/b-${tag}`, { force: true });
  }
});

test('hostile tars into a container: .., absolute names, a symlink written through, a hardlink out are refused', async () => {
  await ok('docker', ['run', '-d', '--name', 'target', 'busybox', 'sleep', '600']);
  await ok('docker', ['exec', 'target', 'mkdir', '/drop']);
  const tag = randomBytes(4).toString('hex');
  const outside = mkdtempSync('/tmp/bt-cp-outside-');
  try {
    const cases: Array<[string, Buffer, RegExp]> = [
      ['dotdot', makeTar([{ name: `../../../../../../${outside}/dotdot-${tag}`, body: 'x' }]), /escapes the extraction point/],
      ['absolute', makeTar([{ name: `${outside}/abs-${tag}`, body: 'x' }]), /is an absolute path/],
      ['symlink-then-write', makeTar([{ name: 'l', type: 'symlink', linkname: outside }, { name: `l/sym-${tag}`, body: 'x' }]), /would be written through the symlink/],
      ['hardlink-out', makeTar([{ name: 'h', type: 'link', linkname: '../../../../etc/passwd' }]), /escapes the extraction point/],
    ];
    for (const [what, tar, msg] of cases) {
      const r = await rawRequest(d.socket, 'PUT', '/v1.41/containers/target/archive?path=/drop', tar);
      assert.equal(r.status, 400, `${what}: ${r.body}`);
      assert.match(JSON.parse(r.body.toString()).message, msg, what);
    }
    assert.deepEqual((await import('node:fs')).readdirSync(outside), []);
    // a symlink the container planted inside the target is not followed either
    await ok('docker', ['exec', 'target', 'ln', '-s', outside, '/drop/planted']);
    const r = await rawRequest(d.socket, 'PUT', '/v1.41/containers/target/archive?path=/drop', makeTar([{ name: `planted/p-${tag}`, body: 'x' }]));
    assert.equal(r.status, 400);
    assert.deepEqual((await import('node:fs')).readdirSync(outside), []);
    // an ordinary tar with a symlink (anywhere: it is the container's) and a hardlink inside goes in
    const good = await rawRequest(d.socket, 'PUT', '/v1.41/containers/target/archive?path=/drop', makeTar([
      { name: 'dir/', type: 'directory', mode: 0o750 }, { name: 'dir/a', body: 'A' }, { name: 'dir/b', type: 'link', linkname: 'dir/a' }, { name: 'abs', type: 'symlink', linkname: '/etc/passwd' },
    ]));
    assert.equal(good.status, 200, good.body.toString());
    assert.equal((await ok('docker', ['exec', 'target', 'sh', '-c', 'cat /drop/dir/b; stat -c %a /drop/dir; readlink /drop/abs'])).stdout, 'A750\n/etc/passwd\n');
    // noOverwriteDirNonDir, as the CLIs send it
    const clash = await rawRequest(d.socket, 'PUT', '/v1.41/containers/target/archive?path=/drop&noOverwriteDirNonDir=1', makeTar([{ name: 'dir', body: 'file over dir' }]));
    assert.equal(clash.status, 400);
    assert.match(JSON.parse(clash.body.toString()).message, /cannot overwrite directory "\/drop\/dir" with non-directory "dir"/);
  } finally {
    rmSync(outside, { recursive: true, force: true });
  }
});

test('GET /archive of a directory: entries named from the path, as dockerd', async () => {
  await ok('docker', ['run', '-d', '--name', 'names', 'busybox', 'sh', '-c', 'mkdir -p /w/d && echo 1 > /w/d/f && sleep 600']);
  await ok('docker', ['exec', 'names', 'true']);
  const get = async (p: string) => tarNames((await rawRequest(d.socket, 'GET', `/v1.41/containers/names/archive?path=${encodeURIComponent(p)}`)).body);
  assert.deepEqual(await get('/w/d'), ['d/', 'd/f']);
  assert.deepEqual(await get('/w/d/'), ['d/', 'd/f']);
  assert.deepEqual(await get('/w/d/.'), ['./', './f']);
  assert.deepEqual(await get('/w/d/f'), ['f']);
});
