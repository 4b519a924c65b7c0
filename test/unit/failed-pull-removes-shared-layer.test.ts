/**
 * Regression (issue 8, "a failed pull may remove a layer another pull just created"): two pulls
 * share a layer; the first one's download of it fails after its extraction found the layer made
 * by the second. The failing pull must leave that layer (and the image standing on it) alone.
 * Also: a pull in progress holds its layers and blobs, so an image removal or a layer GC racing
 * it never takes them away.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ContentStore } from '../../src/engine/content/store.js';
import { LayerStore } from '../../src/engine/layers/store.js';
import { ImageStore } from '../../src/engine/images/store.js';
import { pull } from '../../src/engine/distribution/pull.js';
import { parseNormalizedNamed } from '../../src/wire/reference.js';
import { buildTar, sha } from './layers-helpers.js';

interface Blob { bytes: Buffer; digest: string }
const blob = (bytes: Buffer): Blob => ({ bytes, digest: sha(bytes) });

/** A registry of a few repositories; `hold` pauses one repository's layer download halfway. */
class FakeRegistry {
  server!: Server;
  port = 0;
  blobs = new Map<string, Blob>();
  manifests = new Map<string, Buffer>();
  /** repo → called with (res, blob) instead of answering the blob at once. */
  blobHandlers = new Map<string, (res: ServerResponse, b: Blob) => void>();

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const url = req.url ?? '';
      if (url === '/v2/' || url === '/v2') { res.writeHead(200); res.end('{}'); return; }
      const m = /^\/v2\/(.+)\/(manifests|blobs)\/(.+)$/.exec(url);
      if (!m) { res.writeHead(404); res.end(); return; }
      const [, repo, kind, ref] = m;
      if (kind === 'manifests') {
        const bytes = this.manifests.get(`${repo}:${ref}`);
        if (!bytes) { res.writeHead(404); res.end(); return; }
        res.writeHead(200, { 'content-type': 'application/vnd.docker.distribution.manifest.v2+json', 'content-length': bytes.length });
        res.end(bytes);
        return;
      }
      const b = this.blobs.get(ref!);
      if (!b) { res.writeHead(404); res.end(); return; }
      const h = this.blobHandlers.get(repo!);
      if (h) { h(res, b); return; }
      res.writeHead(200, { 'content-length': b.bytes.length });
      res.end(b.bytes);
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** An image of `layers` under repo:latest; `sizeSkew` misstates the layers' sizes in the manifest. */
  image(repo: string, layers: Blob[], diffIDs: string[], sizeSkew = 0): void {
    const config = blob(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIDs } })));
    this.blobs.set(config.digest, config);
    for (const l of layers) this.blobs.set(l.digest, l);
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.bytes.length, digest: config.digest },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: l.bytes.length + sizeSkew, digest: l.digest })),
    };
    this.manifests.set(`${repo}:latest`, Buffer.from(JSON.stringify(manifest)));
  }

  /** Serve `digest` under `repo` only halfway until `release()`; `halfway` resolves once half is out. */
  pauseHalfway(repo: string, digest: string): { halfway: Promise<void>; release: () => void } {
    let release!: () => void;
    const halfway = new Promise<void>((started) => {
      this.blobHandlers.set(repo, (res, b) => {
        res.writeHead(200, { 'content-length': b.bytes.length });
        if (b.digest !== digest) { res.end(b.bytes); return; }
        const half = b.bytes.length >> 1;
        res.write(b.bytes.subarray(0, half));
        release = () => res.end(b.bytes.subarray(half));
        started();
      });
    });
    return { halfway, release: () => release() };
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

async function stores(root: string) {
  const content = new ContentStore(root);
  const layers = new LayerStore(root);
  await content.init();
  await layers.init();
  const images = new ImageStore(root, content, layers);
  await images.init();
  return { content, layers, images };
}

async function layer(name: string): Promise<{ gz: Blob; diffID: string }> {
  const tar = await buildTar([{ name, content: `content of ${name}\n`.repeat(2000) }]);
  return { gz: blob(gzipSync(tar)), diffID: sha(tar) };
}

const quiet = () => {};

/** A fresh data root and fake registry for `fn`, both gone afterwards. */
async function withRegistry(fn: (root: string, reg: FakeRegistry) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'berth-pull-race-'));
  const reg = new FakeRegistry();
  try {
    await reg.start();
    await fn(root, reg);
  } finally {
    await reg.stop();
    await rm(root, { recursive: true, force: true });
  }
}

test('failed-pull-removes-shared-layer: a failed pull leaves the layer another pull made', async () => {
  await withRegistry(async (root, reg) => {
    const shared = await layer('shared');
    reg.image('good', [shared.gz], [shared.diffID]);
    // "bad" names the same layer with a wrong size: its download fails verification at the end.
    reg.image('bad', [shared.gz], [shared.diffID], 1);
    const bad = reg.pauseHalfway('bad', shared.gz.digest);
    const s = await stores(root);
    const host = `127.0.0.1:${reg.port}`;
    const badPull = pull(parseNormalizedNamed(`${host}/bad`), {}, s, quiet);
    badPull.catch(() => {});
    await bad.halfway;
    // Meanwhile another pull brings the same layer in, whole, and makes its image.
    const good = await pull(parseNormalizedNamed(`${host}/good`), {}, s, quiet);
    bad.release();
    await assert.rejects(badPull, /verification failed/);
    const top = good.chainIDs[0]!;
    assert.ok(s.layers.has(top), 'the good image lost its layer');
    assert.ok(existsSync(join(s.layers.diffDir(top), 'shared')), 'the good image\'s layer files are gone');
    // And after a restart the image is still listed (a record whose layer is missing is hidden).
    const again = await stores(root);
    assert.ok(again.images.get(`${host}/good:latest`), 'the good image is gone after a restart');
  });
});

test('pull-races-rmi: an image removal during a pull leaves the layers and blobs the pull stands on', async () => {
  await withRegistry(async (root, reg) => {
    const base = await layer('base');
    const top = await layer('top');
    reg.image('one', [base.gz], [base.diffID]);
    reg.image('two', [base.gz, top.gz], [base.diffID, top.diffID]);
    const two = reg.pauseHalfway('two', top.gz.digest);
    const s = await stores(root);
    const host = `127.0.0.1:${reg.port}`;
    await pull(parseNormalizedNamed(`${host}/one`), {}, s, quiet);
    // "two" finds the base layer present and downloads its top layer...
    const twoPull = pull(parseNormalizedNamed(`${host}/two`), {}, s, quiet);
    await two.halfway;
    // ...while "one", the only image on the base layer, is removed, and unused layers collected.
    await s.images.remove(`${host}/one`, {}, () => []);
    await s.images.gcLayers();
    two.release();
    const pulled = await twoPull;
    for (const c of pulled.chainIDs) assert.ok(s.layers.has(c), `layer ${c} of the pulled image is gone`);
    assert.ok(await s.content.has(base.gz.digest), 'the base layer blob the pull listed is gone');
    const again = await stores(root);
    assert.ok(again.images.get(`${host}/two:latest`), 'the pulled image is gone after a restart');
  });
});
