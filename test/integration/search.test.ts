/**
 * `search` (GET /images/search over a registry's /v2/_catalog) and GET /distribution/{name}/json,
 * through both CLIs and curl, against an open loopback registry (also Docker Hub's mirror) and a
 * token-auth one (the catalog wants the `registry:catalog:*` scope, a repository its pull scope).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { run, startDaemon, type RunResult, type TestDaemon } from '../helpers/daemon.js';
import { startTokenAuthRegistry, type AuthRegistry } from '../helpers/token-server.js';

let d: TestDaemon;
let reg: AuthRegistry;
const config = mkdtempSync('/tmp/bt-search-config-');

before(async () => {
  reg = await startTokenAuthRegistry({ images: ['busybox', 'hello-world', 'platform-test'] });
  d = await startDaemon({ mirror: reg.open.url });
});

after(async () => {
  await d?.stop();
  await reg?.stop();
  await rm(config, { recursive: true, force: true });
});

function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what}: ${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

async function api(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const h = Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  const r = await run('curl', ['-s', '-w', '\n%{http_code}', '--unix-socket', d.socket, ...h, `http://d/v1.45${path}`]);
  const nl = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(nl + 1)), body: JSON.parse(r.stdout.slice(0, nl) || 'null') };
}

/** The manifest digest and size a registry serves for a tag (what /distribution must report). */
async function registryManifest(base: string, repo: string): Promise<{ digest: string; size: number; type: string }> {
  const r = await run('curl', ['-s', '-D', '-', '-o', '/dev/null', '-H',
    'Accept: application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
    `${base}/v2/${repo}/manifests/latest`]);
  const header = (n: string) => new RegExp(`^${n}: *(.+?)\\r?$`, 'mi').exec(r.stdout)?.[1] ?? '';
  return { digest: header('Docker-Content-Digest'), size: Number(header('Content-Length')), type: header('Content-Type') };
}

test('search HOST/term: the catalog filtered by the term, through both CLIs and the API', async () => {
  const host = reg.open.host;
  // The table is the docker CLI's, to the byte.
  const table = ok(await d.docker(['search', `${host}/busy`]), 'docker search');
  assert.equal(ok(await d.berth(['search', `${host}/busy`]), 'berth search'), table);
  assert.deepEqual(table.split('\n')[0]!.trim().split(/\s{2,}/), ['NAME', 'DESCRIPTION', 'STARS', 'OFFICIAL']);
  assert.deepEqual(table.split('\n')[1]!.trim().split(/\s+/), [`${host}/library/busybox`, '0']);
  for (const via of ['berth', 'docker'] as const) {
    const names = ok(await d[via](['search', '--format', '{{.Name}} {{.StarCount}} {{.IsOfficial}}|', `${host}/l`]), `${via} search --format`);
    assert.deepEqual(names.trim().split('\n'), [`${host}/library/busybox 0 |`, `${host}/library/hello-world 0 |`, `${host}/library/platform-test 0 |`]);
    const limited = ok(await d[via](['search', '--limit', '2', '--format', '{{.Name}}', `${host}/library`]), `${via} search --limit`);
    assert.equal(limited.trim().split('\n').length, 2);
    assert.equal(ok(await d[via](['search', '-f', 'is-official=true', '--format', '{{.Name}}', `${host}/busy`]), 'official'), '');
    assert.equal(ok(await d[via](['search', '--filter', 'stars=1', '--format', '{{.Name}}', `${host}/busy`]), 'stars'), '');
    assert.equal(ok(await d[via](['search', '--filter', 'is-official=false', '--format', '{{.Name}}', `${host}/busy`]), 'not official'), `${host}/library/busybox\n`);
    const badFilter = await d[via](['search', '--filter', 'color=red', `${host}/busy`]);
    assert.equal(badFilter.code, 1);
    assert.equal(badFilter.stderr.trim(), "Error response from daemon: invalid filter 'color'");
  }
  const r = await api(`/images/search?term=${encodeURIComponent(`${host}/hello`)}`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, [{ star_count: 0, is_official: false, name: `${host}/library/hello-world`, is_automated: false, description: '' }]);
  for (const [q, message] of [
    ['limit=101', 'limit 101 is outside the range of [1, 100]'],
    ['limit=x', 'strconv.Atoi: parsing "x": invalid syntax'],
    ['filters=' + encodeURIComponent('{"stars":{"many":true}}'), `invalid filter 'stars=many': strconv.Atoi: parsing "many": invalid syntax`],
  ] as const) {
    const bad = await api(`/images/search?term=${encodeURIComponent(`${host}/busy`)}&${q}`);
    assert.equal(bad.status, 400, q);
    assert.deepEqual(bad.body, { message }, q);
  }
  const scheme = await api(`/images/search?term=${encodeURIComponent(`http://${host}/busy`)}`);
  assert.equal(scheme.status, 400);
  // Docker Hub's search (its endpoint is a closed loopback port in tests): a clear error, not an empty list.
  for (const via of ['berth', 'docker'] as const) {
    const hub = await d[via](['search', 'busybox']);
    assert.equal(hub.code, 1);
    assert.equal(hub.stderr.trim(), 'Error response from daemon: Get "http://127.0.0.1:9/v1/search?q=busybox&n=25": connect ECONNREFUSED 127.0.0.1:9');
  }
});

test('search on a token-auth registry: refused without credentials, the catalog with them (both CLIs)', async () => {
  const host = reg.reg.host;
  const cfg = join(config, 'token');
  for (const via of ['berth', 'docker'] as const) {
    const anon = await d[via](['--config', cfg, 'search', `${host}/busy`]);
    assert.equal(anon.code, 1, anon.stdout);
    assert.match(anon.stderr, /^Error response from daemon: .*(unauthorized|denied)/);
  }
  ok(await d.berth(['--config', cfg, 'login', '-u', reg.user, '--password-stdin', host], { input: reg.password }), 'login');
  for (const via of ['berth', 'docker'] as const) {
    const out = ok(await d[via](['--config', cfg, 'search', '--format', '{{.Name}}', `${host}/world`]), `${via} search with credentials`);
    assert.equal(out, `${host}/library/hello-world\n`);
  }
});

test('GET /distribution/{name}/json: descriptor and platforms as the registry serves them, with credentials where needed', async () => {
  // A single-platform image through the Docker Hub mirror.
  const m = await registryManifest(reg.open.url, 'library/busybox');
  const one = await api('/distribution/busybox/json');
  assert.equal(one.status, 200, JSON.stringify(one.body));
  assert.deepEqual(one.body, { Descriptor: { mediaType: m.type, digest: m.digest, size: m.size }, Platforms: [{ architecture: 'amd64', os: 'linux' }] });
  // A multi-platform index: one platform per entry.
  const idx = await registryManifest(reg.open.url, 'library/platform-test');
  const multi = await api(`/distribution/${reg.open.host}/library/platform-test:latest/json`);
  assert.equal(multi.status, 200, JSON.stringify(multi.body));
  const body = multi.body as { Descriptor: { digest: string; mediaType: string }; Platforms: Array<{ os: string; architecture: string }> };
  assert.equal(body.Descriptor.digest, idx.digest);
  assert.equal(body.Descriptor.mediaType, idx.type);
  assert.ok(body.Platforms.length >= 2, JSON.stringify(body.Platforms));
  assert.ok(body.Platforms.some((p) => p.os === 'linux' && p.architecture === 'amd64'));
  // By digest.
  const byDigest = await api(`/distribution/busybox@${m.digest}/json`);
  assert.equal((byDigest.body as { Descriptor: { digest: string } }).Descriptor.digest, m.digest);
  // Unknown tag and repository: 404s.
  const missing = await api('/distribution/busybox:nosuch/json');
  assert.equal(missing.status, 404, JSON.stringify(missing.body));
  // Behind token auth: refused anonymously, answered with X-Registry-Auth.
  const name = `${reg.reg.host}/library/busybox`;
  const anon = await api(`/distribution/${name}/json`);
  assert.notEqual(anon.status, 200);
  const auth = Buffer.from(JSON.stringify({ username: reg.user, password: reg.password, serveraddress: reg.reg.host })).toString('base64url');
  const withAuth = await api(`/distribution/${name}/json`, { 'X-Registry-Auth': auth });
  assert.equal(withAuth.status, 200, JSON.stringify(withAuth.body));
  assert.equal((withAuth.body as { Descriptor: { digest: string } }).Descriptor.digest, m.digest);
});

test('docker-py: images.search() and images.get_registry_data() (GET /distribution/{name}/json)', async () => {
  const host = reg.open.host;
  const script = [
    'import docker, json',
    `c = docker.DockerClient(base_url=${JSON.stringify(d.host)})`,
    `print(json.dumps([r["name"] for r in c.images.search(${JSON.stringify(`${host}/hello`)})]))`,
    `rd = c.images.get_registry_data(${JSON.stringify(`${host}/library/platform-test`)})`,
    'print(rd.id)',
    'print(json.dumps([rd.has_platform("linux/amd64"), rd.has_platform("windows/amd64")]))',
  ].join('\n');
  const r = await run('/usr/bin/python3', ['-c', script]);
  assert.equal(r.code, 0, r.stderr);
  const [names, id, platforms] = r.stdout.trim().split('\n');
  assert.deepEqual(JSON.parse(names!), [`${host}/library/hello-world`]);
  assert.equal(id, (await registryManifest(reg.open.url, 'library/platform-test')).digest);
  assert.deepEqual(JSON.parse(platforms!), [true, false]);
});
