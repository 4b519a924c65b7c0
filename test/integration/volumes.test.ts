/**
 * Volumes and mounts against a real berthd, with the berth and docker CLIs: a named volume shared
 * by two containers in turn, bind mounts (rw, ro), anonymous volumes and `rm -v`, image VOLUME
 * copy-up, in-use removal refused, prune, tmpfs, inspect's Mounts, a daemon restart.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startDaemonWithMirror, type TestDaemon } from '../helpers/daemon.js';

let d: TestDaemon;
let host: string;

before(async () => {
  d = await startDaemonWithMirror({ images: ['busybox'] });
  host = mkdtempSync('/tmp/bt-vol-host-');
  const r = await d.berth(['pull', 'busybox']);
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  await d?.stop();
  if (host) await rm(host, { recursive: true, force: true });
});

type Via = 'berth' | 'docker';

async function ok(args: string[], via: Via = 'berth'): Promise<string> {
  const r = await d[via](args, { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `${via} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  return import('node:http').then(({ request }) => new Promise((resolve, reject) => {
    const req = request({ socketPath: d.socket, path, method, headers: body ? { 'Content-Type': 'application/json' } : {} }, (res) => {
      let data = '';
      res.on('data', (c) => { data += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: data ? JSON.parse(data) : undefined }));
    });
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  }));
}

for (const via of ['berth', 'docker'] as const) {
  test(`${via}: a named volume written by one container is read by the next`, async () => {
    const vol = `shared-${via}`;
    assert.equal(await ok(['volume', 'create', '--label', 'app=db', vol], via), `${vol}\n`);
    const ls = await ok(['volume', 'ls'], via);
    assert.match(ls, /^DRIVER\s+VOLUME NAME\n/);
    assert.match(ls, new RegExp(`local\\s+${vol}\\n`));
    await ok(['run', '--rm', '-v', `${vol}:/data`, 'busybox', 'sh', '-c', 'echo persisted > /data/f && mkdir /data/d'], via);
    assert.equal(await ok(['run', '--rm', '-v', `${vol}:/data:ro`, 'busybox', 'cat', '/data/f'], via), 'persisted\n');
    const ro = await d[via](['run', '--rm', '-v', `${vol}:/data:ro`, 'busybox', 'sh', '-c', 'echo x > /data/g'], { timeoutMs: 60_000 });
    assert.notEqual(ro.code, 0);
    assert.match(ro.stderr, /Read-only file system/);
    const [insp] = JSON.parse(await ok(['volume', 'inspect', vol], via));
    assert.equal(insp.Name, vol);
    assert.equal(insp.Driver, 'local');
    assert.equal(insp.Scope, 'local');
    assert.deepEqual(insp.Labels, { app: 'db' });
    assert.match(insp.Mountpoint, new RegExp(`/volumes/${vol}/_data$`));
    assert.equal(readFileSync(join(insp.Mountpoint, 'f'), 'utf8'), 'persisted\n');
    assert.equal(await ok(['volume', 'ls', '-q', '--filter', 'label=app=db', '--filter', `name=${vol}`], via), `${vol}\n`);
    assert.equal(await ok(['volume', 'rm', vol], via), `${vol}\n`);
    assert.ok(!existsSync(insp.Mountpoint));
  });

  test(`${via}: bind mounts of a host folder, rw and ro; a missing -v host path is created`, async () => {
    const dir = join(host, via);
    await ok(['run', '--rm', '-v', `${dir}:/h`, 'busybox', 'sh', '-c', 'echo from-container > /h/out'], via);
    assert.equal(readFileSync(join(dir, 'out'), 'utf8'), 'from-container\n');
    writeFileSync(join(dir, 'in'), 'from-host\n');
    assert.equal(await ok(['run', '--rm', '-v', `${dir}:/h:ro`, 'busybox', 'cat', '/h/in'], via), 'from-host\n');
    const ro = await d[via](['run', '--rm', '--mount', `type=bind,source=${dir},target=/h,readonly`, 'busybox', 'sh', '-c', 'echo x > /h/in'], { timeoutMs: 60_000 });
    assert.notEqual(ro.code, 0);
    assert.equal(readFileSync(join(dir, 'in'), 'utf8'), 'from-host\n');
    // a bind over a single file, to a target the image does not have
    assert.equal(await ok(['run', '--rm', '-v', `${join(dir, 'in')}:/new/dir/file:ro`, 'busybox', 'cat', '/new/dir/file'], via), 'from-host\n');
    const missing = await d[via](['run', '--rm', '--mount', `type=bind,source=${join(host, 'nope')},target=/x`, 'busybox', 'true'], { timeoutMs: 60_000 });
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, new RegExp(`invalid mount config for type "bind": bind source path does not exist: ${join(host, 'nope')}`));
    const bad = await d[via](['run', '--rm', '-v', 'data:rel', 'busybox', 'true'], { timeoutMs: 60_000 });
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /invalid volume specification: 'data:rel'/);
  });

  test(`${via}: anonymous volume from -v /data, removed by rm -v; in-use volume refused; prune`, async () => {
    const id = (await ok(['create', '-v', '/data', '-v', `keep-${via}:/keep`, 'busybox', 'sh', '-c', 'echo a > /data/a'], via)).trim();
    const c = JSON.parse(await ok(['inspect', id], via))[0];
    const anon = c.Mounts.find((m: any) => m.Destination === '/data');
    assert.equal(anon.Type, 'volume');
    assert.match(anon.Name, /^[0-9a-f]{64}$/);
    assert.equal(anon.Driver, 'local');
    assert.equal(anon.RW, true);
    assert.equal(anon.Mode, '');
    const named = c.Mounts.find((m: any) => m.Destination === '/keep');
    assert.equal(named.Name, `keep-${via}`);
    assert.equal(named.Mode, 'z');
    assert.deepEqual(c.HostConfig.Binds, [`keep-${via}:/keep`]);
    assert.equal((await ok(['ps', '-a', '-q', '--no-trunc', '--filter', `volume=keep-${via}`], via)).trim(), id);

    const inUse = await d[via](['volume', 'rm', `keep-${via}`], { timeoutMs: 60_000 });
    assert.equal(inUse.code, 1);
    assert.equal(inUse.stderr.trim(), `Error response from daemon: remove keep-${via}: volume is in use - [${id}]`);
    const dangling = await ok(['volume', 'ls', '-q', '--filter', 'dangling=true'], via);
    assert.ok(!dangling.includes(`keep-${via}`));

    await ok(['start', '-a', id], via);
    assert.ok(existsSync(join(anon.Source, 'a')));
    await ok(['rm', '-v', id], via);
    assert.ok(!existsSync(anon.Source), 'rm -v removes the anonymous volume');
    assert.ok((await ok(['volume', 'ls', '-q'], via)).includes(`keep-${via}`), 'named volumes stay');

    // prune: anonymous only by default, named ones with --all
    const id2 = (await ok(['create', '-v', '/scratch', 'busybox', 'true'], via)).trim();
    const anon2 = JSON.parse(await ok(['inspect', id2], via))[0].Mounts[0].Name;
    await ok(['rm', id2], via);
    const pruned = await ok(['volume', 'prune', '-f'], via);
    assert.match(pruned, new RegExp(`Deleted Volumes:\\n(.*\\n)*${anon2}\\n`));
    assert.ok((await ok(['volume', 'ls', '-q'], via)).includes(`keep-${via}`));
    const all = await ok(['volume', 'prune', '-f', '--all'], via);
    assert.match(all, new RegExp(`keep-${via}\\n`));
    assert.match(all, /Total reclaimed space: /);
  });
}

test('image VOLUME: an anonymous volume filled with the image content (owners, modes), --rm removes it', async () => {
  await ok(['run', '--name', 'vsrc', 'busybox', 'sh', '-c', 'mkdir -p /data/sub && echo seed > /data/sub/seed && chown 1234:5678 /data/sub/seed && chmod 640 /data/sub/seed && chmod 1777 /data']);
  await ok(['commit', '--change', 'VOLUME /data', 'vsrc', 'withvol:1'], 'docker');
  await ok(['rm', 'vsrc']);
  const out = await ok(['run', '--name', 'vuse', 'withvol:1', 'sh', '-c', 'cat /data/sub/seed; stat -c "%u:%g %a" /data/sub/seed /data; mount | grep " /data "'], 'docker');
  const lines = out.split('\n');
  assert.equal(lines[0], 'seed');
  assert.equal(lines[1], '1234:5678 640');
  assert.equal(lines[2], '0:0 1777');
  const c = JSON.parse(await ok(['inspect', 'vuse']))[0];
  assert.equal(c.Mounts.length, 1);
  const vol = c.Mounts[0];
  assert.equal(vol.Destination, '/data');
  assert.equal(statSync(join(vol.Source, 'sub', 'seed')).uid, 1234);
  await ok(['rm', 'vuse']);
  assert.ok(existsSync(vol.Source), 'rm without -v keeps the volume');
  await ok(['volume', 'rm', vol.Name]);
  // --rm takes the anonymous volume along
  const before = await ok(['volume', 'ls', '-q']);
  await ok(['run', '--rm', 'withvol:1', 'true'], 'docker');
  assert.equal(await ok(['volume', 'ls', '-q']), before);
  await ok(['rmi', 'withvol:1']);
});

test('tmpfs: --tmpfs and --mount type=tmpfs are tmpfs mounts with their size; inspect Mounts shape', async () => {
  const out = await ok(['run', '--rm', '--tmpfs', '/run:size=64m', '--mount', 'type=tmpfs,target=/scratch,tmpfs-size=1m', 'busybox', 'sh', '-c', 'mount | grep -E " /(run|scratch) "'], 'docker');
  assert.match(out, /tmpfs on \/run type tmpfs \(rw,nosuid,nodev,noexec,relatime,size=65536k\)/);
  assert.match(out, /tmpfs on \/scratch type tmpfs \(rw,nosuid,nodev,noexec,relatime,size=1024k\)/);
  const dir = join(host, 'shape');
  const id = (await ok(['create', '--tmpfs', '/run', '--mount', 'type=tmpfs,target=/t', '-v', `${dir}:/b:ro`, '--mount', 'type=volume,source=shape-vol,target=/v,volume-nocopy', 'busybox', 'true'], 'docker')).trim();
  const c = JSON.parse(await ok(['inspect', id], 'docker'))[0];
  const byDest = Object.fromEntries(c.Mounts.map((m: any) => [m.Destination, m]));
  assert.deepEqual(Object.keys(byDest).sort(), ['/b', '/t', '/v']);
  assert.deepEqual(byDest['/b'], { Type: 'bind', Source: dir, Destination: '/b', Mode: 'ro', RW: false, Propagation: 'rprivate' });
  assert.deepEqual(byDest['/t'], { Type: 'tmpfs', Source: '', Destination: '/t', Mode: '', RW: true, Propagation: '' });
  assert.equal(byDest['/v'].Name, 'shape-vol');
  assert.equal(byDest['/v'].Type, 'volume');
  assert.equal(byDest['/v'].Driver, 'local');
  assert.equal(byDest['/v'].Mode, '');
  assert.deepEqual(c.HostConfig.Tmpfs, { '/run': '' });
  // ps shows the mounts too
  const ps = JSON.parse((await ok(['ps', '-a', '--filter', `id=${id}`, '--format', '{{json .Mounts}}'], 'docker')).trim());
  assert.ok(ps.includes('shape-vol'));
  await ok(['rm', id], 'docker');
  await ok(['volume', 'rm', 'shape-vol']);
});

test('API: names validated, Docker messages, prune for API < 1.42 takes named volumes, system df', async () => {
  let r = await api('POST', '/volumes/create', { Name: 'a' });
  assert.equal(r.status, 400);
  assert.equal(r.json.message, 'create a: "a" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path');
  r = await api('POST', '/volumes/create', { Name: '../escape' });
  assert.equal(r.status, 400);
  r = await api('POST', '/volumes/create', { Name: 'opt-vol', DriverOpts: { nope: 'x' } });
  assert.equal(r.status, 400);
  assert.equal(r.json.message, 'create opt-vol: invalid option: "nope"');
  r = await api('GET', '/volumes/nosuch');
  assert.equal(r.status, 404);
  assert.equal(r.json.message, 'get nosuch: no such volume');
  r = await api('DELETE', '/volumes/nosuch?force=1');
  assert.equal(r.status, 204);
  r = await api('POST', '/volumes/create', {});
  assert.equal(r.status, 201);
  assert.match(r.json.Name, /^[0-9a-f]{64}$/);
  assert.match(r.json.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const generated = r.json.Name;
  r = await api('POST', '/volumes/create', { Name: 'df-vol' });
  await ok(['run', '--rm', '-v', 'df-vol:/d', 'busybox', 'sh', '-c', 'head -c 5000 /dev/zero > /d/z']);
  r = await api('GET', '/system/df');
  const row = r.json.Volumes.find((v: any) => v.Name === 'df-vol');
  assert.deepEqual(row.UsageData, { Size: 5000, RefCount: 0 });
  r = await api('GET', '/volumes?filters=' + encodeURIComponent(JSON.stringify({ bogus: ['x'] })));
  assert.equal(r.status, 400);
  // API 1.41: prune takes every unused volume, named or not
  r = await api('POST', '/v1.41/volumes/prune');
  assert.equal(r.status, 200);
  assert.ok(r.json.VolumesDeleted.includes('df-vol'));
  assert.ok(r.json.VolumesDeleted.includes(generated));
  assert.ok(r.json.SpaceReclaimed >= 5000);
});

test('volumes survive a daemon restart; a container started after it still sees its data', async () => {
  await ok(['volume', 'create', 'durable']);
  await ok(['run', '-d', '--name', 'holder', '-v', 'durable:/d', 'busybox', 'sh', '-c', 'echo kept > /d/k; sleep 300']);
  await d.kill('SIGTERM');
  await d.restart();
  assert.match(await ok(['volume', 'ls']), /local\s+durable\n/);
  const inUse = await d.berth(['volume', 'rm', 'durable']);
  assert.match(inUse.stderr, /volume is in use/);
  assert.equal(await ok(['run', '--rm', '-v', 'durable:/d', 'busybox', 'cat', '/d/k']), 'kept\n');
  await ok(['rm', '-f', 'holder']);
  await ok(['volume', 'rm', 'durable']);
  assert.equal(await ok(['volume', 'ls', '-q']), '');
});

test('driver options: a tmpfs-backed local volume is mounted while used; --volumes-from shares mounts; docker system df lists volumes', async () => {
  await ok(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=2m', 'tmpvol'], 'docker');
  const [v] = JSON.parse(await ok(['volume', 'inspect', 'tmpvol'], 'docker'));
  assert.deepEqual(v.Options, { type: 'tmpfs', device: 'tmpfs', o: 'size=2m' });
  const out = await ok(['run', '--rm', '-v', 'tmpvol:/t', 'busybox', 'sh', '-c', 'mount | grep " /t "; echo hi > /t/x; cat /t/x'], 'docker');
  assert.match(out, /^tmpfs on \/t type tmpfs \(rw,.*size=2048k/);
  assert.match(out, /hi\n$/);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  assert.ok(!mounts.includes(v.Mountpoint), 'unmounted once no running container uses it');
  await ok(['volume', 'rm', 'tmpvol'], 'docker');

  await ok(['create', '--name', 'datasrc', '-v', 'from-vol:/shared', '-v', '/anon', 'busybox', 'true']);
  assert.equal(await ok(['run', '--rm', '--volumes-from', 'datasrc:ro', 'busybox', 'sh', '-c', 'ls -d /shared /anon && ! touch /shared/x 2>/dev/null && echo ro'], 'docker'), '/anon\n/shared\nro\n');
  const df = await ok(['system', 'df', '-v'], 'docker');
  assert.match(df, /Local Volumes space usage:/);
  assert.match(df, /from-vol\s+1\s+/);
  await ok(['rm', '-v', 'datasrc']);
  await ok(['volume', 'rm', 'from-vol']);
  assert.equal(await ok(['volume', 'ls', '-q']), '');
});
