/**
 * docker save / load / import against a real berthd, through both CLIs: the Docker 25+ layout
 * (oci-layout, index.json with its annotations, manifest.json, repositories, blobs named by their
 * digest, layers as uncompressed tars whose digest is the diffID), several images and tags in one
 * archive, the same image IDs and layer digests after save → rmi → load, the older layout
 * (<id>.json, <dir>/layer.tar, a symlinked repeat) and a gzip-compressed archive on load; import
 * from a file, stdin and a loopback URL with -c, -m and the default message.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { removeContainersAndStop, run, startDaemonWithImages, type TestDaemon } from '../helpers/daemon.js';
import { filesOf, sha256, tarOf } from '../helpers/image-archive.js';

let d: TestDaemon;
let dir: string;

before(async () => {
  d = await startDaemonWithImages(['busybox']);
  dir = await mkdtemp(join(tmpdir(), 'berth-saveload-'));
});

after(async () => {
  await removeContainersAndStop(d);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function ok(args: string[], via: 'berth' | 'docker' = 'berth'): Promise<string> {
  const r = await d[via](args, { timeoutMs: 120_000 });
  assert.equal(r.code, 0, `${via} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function inspect(ref: string): Promise<{ Id: string; RootFS: { Layers: string[] }; RepoTags: string[]; Comment: string; Config: Record<string, unknown>; Os: string; Architecture: string }> {
  return JSON.parse(await ok(['image', 'inspect', ref]))[0];
}

/** A shell pipeline against this daemon (for stdin and stdout of binary archives). */
async function sh(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return run('sh', ['-c', script], { env: { ...process.env, DOCKER_HOST: d.host, BERTH_HOST: d.host }, timeoutMs: 120_000 });
}

const BERTH = join(process.cwd(), 'dist', 'berth.mjs');

test('save writes the Docker 25+ layout with the source digests; rmi + load brings back the same IDs (berth CLI)', async () => {
  const since = String(Math.floor(Date.now() / 1000) - 1);
  const before = await inspect('busybox');
  const file = join(dir, 'busybox.tar');
  await ok(['save', '-o', file, 'busybox']);
  const files = await filesOf(await readFile(file));

  assert.deepEqual(JSON.parse(files.get('oci-layout')!.toString()), { imageLayoutVersion: '1.0.0' });
  // Every blob is named by its digest.
  for (const [name, data] of files) {
    if (name.startsWith('blobs/sha256/')) assert.equal(sha256(data), `sha256:${name.slice(13)}`, name);
  }
  const manifest = JSON.parse(files.get('manifest.json')!.toString());
  assert.equal(manifest.length, 1);
  assert.equal(manifest[0].Config, `blobs/sha256/${before.Id.slice(7)}`);
  assert.deepEqual(manifest[0].RepoTags, ['busybox:latest']);
  assert.deepEqual(manifest[0].Layers, before.RootFS.Layers.map((l) => `blobs/sha256/${l.slice(7)}`));
  const index = JSON.parse(files.get('index.json')!.toString());
  assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
  assert.equal(index.manifests.length, 1);
  assert.deepEqual(index.manifests[0].annotations, {
    'io.containerd.image.name': 'docker.io/library/busybox:latest',
    'org.opencontainers.image.ref.name': 'latest',
  });
  const m = JSON.parse(files.get(`blobs/sha256/${index.manifests[0].digest.slice(7)}`)!.toString());
  assert.equal(m.config.digest, before.Id);
  assert.deepEqual(m.layers.map((l: { digest: string }) => l.digest), before.RootFS.Layers);
  assert.equal(m.layers[0].mediaType, 'application/vnd.oci.image.layer.v1.tar');
  const repos = JSON.parse(files.get('repositories')!.toString());
  assert.deepEqual(repos, { busybox: { latest: before.RootFS.Layers.at(-1)!.slice(7) } });

  await ok(['rmi', 'busybox']);
  const out = await ok(['load', '-i', file]);
  assert.equal(out, 'Loaded image: busybox:latest\n');
  const after = await inspect('busybox');
  assert.equal(after.Id, before.Id);
  assert.deepEqual(after.RootFS.Layers, before.RootFS.Layers);
  assert.equal(await ok(['run', '--rm', 'busybox', 'echo', 'loaded']), 'loaded\n');
  // The archive's OCI manifest is not kept in the content store; the store is consistent.
  assert.equal(existsSync(join(d.root, d.dataRoot, 'content', 'blobs', 'sha256', index.manifests[0].digest.slice(7))), false);
  assert.equal((await d.berth(['system', 'check'], { timeoutMs: 120_000 })).code, 0);
  const events = await ok(['events', '--since', since, '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'type=image', '--format', '{{.Action}} {{.Actor.ID}}'], 'docker');
  assert.match(events, new RegExp(`^save ${before.Id}$`, 'm'));
  assert.match(events, new RegExp(`^load ${before.Id}$`, 'm'));

  // Saved again, the archive is the same bytes but for index.json's time.
  const again = join(dir, 'again.tar');
  await ok(['save', '-o', again, 'busybox']);
  const files2 = await filesOf(await readFile(again));
  for (const [name, data] of files) assert.ok(files2.get(name)?.equals(data), name);
});

test('docker save / docker load: several images and tags in one archive, to stdout and from stdin', async () => {
  await ok(['tag', 'busybox', 'first/one:a'], 'docker');
  await ok(['tag', 'busybox', 'second:b'], 'docker');
  await ok(['run', '--name', 'mk', 'busybox', 'sh', '-c', 'echo made > /made'], 'docker');
  const committed = (await ok(['commit', 'mk', 'made:v1'], 'docker')).trim();
  await ok(['rm', 'mk'], 'docker');
  const file = join(dir, 'many.tar');
  const saved = await sh(`${process.env.DOCKER_CLI ?? '/usr/local/bin/docker'} save first/one:a second made:v1 > ${file}`);
  assert.equal(saved.code, 0, saved.stderr);
  const manifest = JSON.parse((await filesOf(await readFile(file))).get('manifest.json')!.toString());
  assert.equal(manifest.length, 2);
  const tags = manifest.flatMap((e: { RepoTags: string[] }) => e.RepoTags).sort();
  assert.deepEqual(tags, ['first/one:a', 'made:v1', 'second:b']);

  const busyboxId = (await inspect('busybox')).Id;
  await ok(['rmi', 'first/one:a', 'second:b', 'made:v1'], 'docker');
  const loaded = await sh(`/usr/local/bin/docker load < ${file}`);
  assert.equal(loaded.code, 0, loaded.stderr);
  assert.deepEqual(loaded.stdout.trim().split('\n').sort(), ['Loaded image: first/one:a', 'Loaded image: made:v1', 'Loaded image: second:b']);
  assert.equal((await inspect('first/one:a')).Id, busyboxId);
  assert.equal((await inspect('made:v1')).Id, committed);
  assert.equal(await ok(['run', '--rm', 'made:v1', 'cat', '/made'], 'docker'), 'made\n');

  // berth save to stdout, berth load from stdin.
  const viaPipe = await sh(`node ${BERTH} save made:v1 | node ${BERTH} load`);
  assert.equal(viaPipe.code, 0, viaPipe.stderr);
  assert.equal(viaPipe.stdout, 'Loaded image: made:v1\n');
  // Loading over a tag that points elsewhere says so, as dockerd.
  await ok(['tag', 'busybox', 'made:v1']);
  const renamed = await ok(['load', '-i', join(dir, 'many.tar')]);
  assert.match(renamed, new RegExp(`The image made:v1 already exists, renaming the old one with ID ${busyboxId} to empty string\n`));
  assert.equal((await inspect('made:v1')).Id, committed);
});

test('save by ID: no tags, index entry without annotations; load prints Loaded image ID', async () => {
  const id = (await inspect('busybox')).Id;
  const file = join(dir, 'byid.tar');
  await ok(['save', '-o', file, id.slice(7, 19)], 'docker');
  const files = await filesOf(await readFile(file));
  const manifest = JSON.parse(files.get('manifest.json')!.toString());
  assert.equal(manifest[0].RepoTags, null);
  assert.equal(files.has('repositories'), false);
  const index = JSON.parse(files.get('index.json')!.toString());
  assert.equal(index.manifests[0].annotations, undefined);
  const out = await ok(['load', '-i', file], 'docker');
  assert.equal(out, `Loaded image ID: ${id}\n`);
  // --platform (API 1.48's JSON form from the docker CLI): this host's platform, or refused.
  await ok(['save', '--platform', 'linux/amd64', '-o', join(dir, 'plat.tar'), 'busybox'], 'docker');
  const arm = await d.docker(['save', '--platform', 'linux/arm64', '-o', join(dir, 'arm.tar'), 'busybox']);
  assert.notEqual(arm.code, 0);
  assert.match(arm.stderr, /platform linux\/arm64 does not match/);
  const missing = await d.docker(['save', 'nosuch:tag']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /reference does not exist|No such image/);
});

test('load takes the older layout (<id>.json, <dir>/layer.tar, a symlinked repeat) and a gzip-compressed archive', async () => {
  const file = join(dir, 'for-legacy.tar');
  await ok(['save', '-o', file, 'busybox']);
  const files = await filesOf(await readFile(file));
  const m = JSON.parse(files.get('manifest.json')!.toString())[0];
  const config = files.get(m.Config)!;
  const layer = files.get(m.Layers[0])!;
  const id = sha256(config);
  // Two "images" of the same layer: the second's layer.tar is a symlink to the first's, as docker 20.10 writes repeats.
  const legacy = tarOf([
    { name: 'aaaa/', type: 'directory' },
    { name: 'aaaa/VERSION', data: '1.0' },
    { name: 'aaaa/json', data: '{}' },
    { name: 'aaaa/layer.tar', data: layer },
    { name: 'bbbb/', type: 'directory' },
    { name: 'bbbb/layer.tar', type: 'symlink', linkname: '../aaaa/layer.tar' },
    { name: `${id.slice(7)}.json`, data: config },
    { name: 'manifest.json', data: JSON.stringify([
      { Config: `${id.slice(7)}.json`, RepoTags: ['legacy/old:one'], Layers: ['aaaa/layer.tar'] },
      { Config: `${id.slice(7)}.json`, RepoTags: ['legacy/old:two'], Layers: ['bbbb/layer.tar'] },
    ]) },
    { name: 'repositories', data: '{}' },
  ]);
  await writeFile(join(dir, 'legacy.tar'), legacy);
  assert.equal(await ok(['load', '-i', join(dir, 'legacy.tar')], 'docker'), 'Loaded image: legacy/old:one\nLoaded image: legacy/old:two\n');
  assert.equal((await inspect('legacy/old:two')).Id, id);

  await writeFile(join(dir, 'gz.tar.gz'), gzipSync(legacy));
  await ok(['rmi', 'legacy/old:one', 'legacy/old:two']);
  assert.equal(await ok(['load', '-q', '-i', join(dir, 'gz.tar.gz')]), 'Loaded image: legacy/old:one\nLoaded image: legacy/old:two\n');
  assert.equal((await inspect('legacy/old:one')).Id, id);
});

test('import: a file with -c and -m, stdin with the default message, a loopback URL; both CLIs', async () => {
  // The root filesystem: busybox's own layer, taken from a save.
  const file = join(dir, 'src.tar');
  await ok(['save', '-o', file, 'busybox']);
  const files = await filesOf(await readFile(file));
  const m = JSON.parse(files.get('manifest.json')!.toString())[0];
  const rootfs = join(dir, 'rootfs.tar');
  await writeFile(rootfs, files.get(m.Layers[0])!);

  const out = await ok(['import', '-c', 'CMD ["echo", "from import"]', '-c', 'ENV A=b', '-m', 'my import', rootfs, 'imported:v1']);
  assert.match(out, /^sha256:[0-9a-f]{64}\n$/);
  const img = await inspect('imported:v1');
  assert.equal(img.Id, out.trim());
  assert.equal(img.Comment, 'my import');
  assert.deepEqual(img.Config.Cmd, ['echo', 'from import']);
  assert.deepEqual(img.Config.Env, ['A=b']);
  assert.deepEqual(img.RootFS.Layers, [sha256(files.get(m.Layers[0])!)]);
  assert.equal(img.Os, 'linux');
  assert.equal(await ok(['run', '--rm', 'imported:v1']), 'from import\n');
  const hist = await ok(['history', '--format', '{{.CreatedBy}}|{{.Comment}}', 'imported:v1'], 'docker');
  assert.equal(hist, '|my import\n');

  const viaStdin = await sh(`gzip -c ${rootfs} | /usr/local/bin/docker import - piped`);
  assert.equal(viaStdin.code, 0, viaStdin.stderr);
  assert.match(viaStdin.stdout, /^sha256:[0-9a-f]{64}\n$/);
  assert.equal((await inspect('piped')).Comment, 'Imported from -');
  assert.deepEqual((await inspect('piped')).RootFS.Layers, img.RootFS.Layers);

  const body = await readFile(rootfs);
  const server = http.createServer((req, res) => {
    if (req.url === '/rootfs.tar') res.writeHead(200, { 'Content-Length': body.length }).end(body);
    else res.writeHead(404).end('no');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const r = await d.docker(['import', `${url}/rootfs.tar`, 'fromurl:v1'], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /sha256:[0-9a-f]{64}\n$/);
    assert.equal((await inspect('fromurl:v1')).Comment, `Imported from ${url}/rootfs.tar`);
    const missing = await d.berth(['import', `${url}/nothing.tar`]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /404/);
  } finally {
    server.close();
  }
  const bad = await d.docker(['import', '-c', 'FROBNICATE x', rootfs]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /frobnicate is not a valid change command/);
});
