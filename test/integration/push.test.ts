/**
 * docker push to a real registry on loopback (Debian's docker-registry), with both CLIs, and the
 * images pulled back into a second, fresh daemon and run there. Only loopback names are pushed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { pushFixtures, startRegistry } from '../helpers/registry.js';

let registry: Awaited<ReturnType<typeof startRegistry>>;
let d1: TestDaemon;
let d2: TestDaemon;

before(async () => {
  registry = await startRegistry();
  await pushFixtures(registry.host, ['busybox']);
  d1 = await startDaemon({ mirror: `http://${registry.host}` });
  d2 = await startDaemon();
  const r = await d1.berth(['pull', 'busybox']);
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  await d1?.stop();
  await d2?.stop();
  await registry?.stop();
});

async function ok(d: TestDaemon, args: string[], via: 'berth' | 'docker' = 'berth'): Promise<string> {
  const r = await d[via](args, { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `${via} ${args.join(' ')}: ${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

function getManifest(path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((res, rej) => {
    http.get(`${registry.url}/v2/${path}`, {
      headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' },
    }, (r) => {
      let body = '';
      r.on('data', (c) => { body += c; });
      r.on('end', () => res({ status: r.statusCode ?? 0, type: String(r.headers['content-type']), body }));
    }).on('error', rej);
  });
}

test('push a tagged busybox (berth), pull it into a fresh daemon and run it; again: Layer already exists', async () => {
  const name = `${registry.host}/mine/box`;
  await ok(d1, ['tag', 'busybox', `${name}:v1`]);
  const out = await ok(d1, ['push', `${name}:v1`]);
  const lines = out.trimEnd().split('\n');
  assert.equal(lines[0], `The push refers to repository [${name}]`);
  assert.match(out, /^[0-9a-f]{12}: Preparing$/m);
  assert.match(out, /^[0-9a-f]{12}: Pushed$/m);
  const last = lines[lines.length - 1]!;
  const m = /^v1: digest: (sha256:[0-9a-f]{64}) size: (\d+)$/.exec(last);
  assert.ok(m, out);
  // Same manifest as pulled: the digest of busybox's pulled manifest.
  const pulled = JSON.parse(await ok(d1, ['image', 'inspect', 'busybox']))[0].RepoDigests[0] as string;
  assert.equal(pulled.split('@')[1], m[1]);
  const inspect = JSON.parse(await ok(d1, ['image', 'inspect', `${name}:v1`]))[0];
  assert.ok(inspect.RepoDigests.includes(`${name}@${m[1]}`), JSON.stringify(inspect.RepoDigests));

  const again = await ok(d1, ['push', `${name}:v1`]);
  assert.match(again, /^[0-9a-f]{12}: Layer already exists$/m);
  assert.doesNotMatch(again, /Pushed/);

  assert.equal(await ok(d2, ['run', '--rm', `${name}:v1`, 'echo', 'pulled back']), 'pulled back\n');
});

test('docker CLI push: default tag, Layer already exists, aux digest', async () => {
  const name = `${registry.host}/other/bb`;
  await ok(d1, ['tag', 'busybox', name], 'docker');
  const out = await ok(d1, ['push', name], 'docker');
  assert.match(out, /Using default tag: latest/);
  assert.match(out, new RegExp(`The push refers to repository \\[${name.replace(/\./g, '\\.')}\\]`));
  assert.match(out, /latest: digest: sha256:[0-9a-f]{64} size: \d+/);
  const man = await getManifest('other/bb/manifests/latest');
  assert.equal(man.status, 200);
  const again = await ok(d1, ['push', name], 'docker');
  assert.match(again, /: Layer already exists/);
});

test('push a committed image (new layer, schema2 manifest), pull it back into a fresh daemon', async () => {
  const name = `${registry.host}/mine/committed`;
  await ok(d1, ['run', '--name', 'src', 'busybox', 'sh', '-c', 'echo committed > /made && rm /bin/cat']);
  await ok(d1, ['commit', '-c', 'CMD ["sh","-c","echo from cmd; test -e /bin/cat || echo nocat"]', 'src', `${name}:1`]);
  const out = await ok(d1, ['push', `${name}:1`], 'docker');
  assert.match(out, /: Pushed/);
  assert.match(out, /: (Layer already exists|Pushed)/);
  const man = await getManifest('mine/committed/manifests/1');
  assert.equal(man.status, 200);
  const manifest = JSON.parse(man.body);
  assert.equal(manifest.layers.length, 2);
  assert.equal(manifest.config.digest, JSON.parse(await ok(d1, ['image', 'inspect', `${name}:1`]))[0].Id);

  assert.equal(await ok(d2, ['run', '--rm', `${name}:1`]), 'from cmd\nnocat\n');
  assert.equal(await ok(d2, ['run', '--rm', `${name}:1`, 'sh', '-c', 'cat /made 2>&1 || busybox cat /made']), 'committed\n');
  // Same image ID on both sides: the config went up byte for byte.
  const id1 = (await ok(d1, ['image', 'inspect', '-f', '{{.Id}}', `${name}:1`])).trim();
  const id2 = (await ok(d2, ['image', 'inspect', '-f', '{{.Id}}', `${name}:1`])).trim();
  assert.equal(id1, id2);
});

test('push errors: unknown tag, no image for the repository', async () => {
  const missingTag = await d1.berth(['push', `${registry.host}/mine/box:nosuch`]);
  assert.equal(missingTag.code, 1);
  assert.match(missingTag.stderr, new RegExp(`tag does not exist: ${registry.host.replace(/\./g, '\\.')}/mine/box:nosuch`));
  const none = await d1.docker(['push', `${registry.host}/never/there`]);
  assert.equal(none.code, 1);
  assert.match(none.stderr + none.stdout, /tag does not exist|An image does not exist locally/);
});
