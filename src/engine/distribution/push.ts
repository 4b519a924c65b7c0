/**
 * Image push over the Distribution API v2, with Docker's progress messages (moby
 * distribution/push_v2.go, read for facts):
 *
 *   The push refers to repository [127.0.0.1:5000/mine/box]
 *   <id>: Preparing            (every layer, top first; id = short diffID)
 *   <id>: Waiting              (beyond 5 concurrent uploads)
 *   <id>: Pushing [==>  ] …    then  <id>: Pushed   |   <id>: Layer already exists
 *   v1: digest: sha256:… size: 527            + aux {Tag, Digest, Size}
 *
 * Per blob: HEAD (present → skip), else POST an upload session and PUT the whole blob with its
 * digest (monolithic). The config blob follows the layers, the manifest comes last. A pulled image
 * is pushed with the very manifest it was pulled with (same digest); others get a Docker v2
 * schema2 manifest, or an OCI one when their layers came from OCI images. No tag: every tag of the
 * repository, as the API does for `docker push --all-tags`.
 */
import type { Readable } from 'node:stream';
import { createReadStream } from 'node:fs';
import { BerthError, InvalidParameterError, NotFoundError, RegistryProtocolError, SystemError, UnauthorizedError } from '../errors.js';
import { fullName, parseNormalizedNamed, referenceString } from '../../wire/reference.js';
import { imageLayerBlobs } from '../images/layer-blobs.js';
import type { ContentStore } from '../content/store.js';
import type { ImageStore } from '../images/store.js';
import type { AuthConfig, ImageRecord, LayerBlob, ProgressSink, Reference } from '../images/types.js';
import { MediaTypes, RegistryClient } from './client.js';
import { sha256Digest } from '../../util/digest.js';
import { resolveEndpoints, type EndpointConfig } from './endpoints.js';
import { RegistryHttpError } from './errors.js';
import { discard } from './http.js';
import { layerStatus, shortId, ThrottledProgress } from './progress.js';

export interface PushDeps {
  content: ContentStore;
  images: ImageStore;
}

export interface PushOptions {
  auth?: AuthConfig;
  distribution?: EndpointConfig & { timeoutMs?: number };
  /** Concurrent layer uploads (Docker's max-concurrent-uploads, default 5). */
  maxConcurrentUploads?: number;
}

/** Docker's push error wording: registry errors as their text, no answer as the network error. */
export function translatePushError(err: unknown): Error {
  if (err instanceof RegistryHttpError) {
    if (err.status === 401 || err.firstCode === 'UNAUTHORIZED') return new UnauthorizedError(err.message);
    return new SystemError(err.message, err);
  }
  // Typed already: a network failure (503), a token refusal (401)…
  if (err instanceof BerthError) return err;
  return new SystemError(err instanceof Error ? err.message : String(err), err);
}

/** `name[:tag]` + `?tag=` → the repository and the tags to push. Returns the pushed references. */
export async function pushImage(name: string, tag: string | undefined, opts: PushOptions, deps: PushDeps, progress: ProgressSink): Promise<string[]> {
  const parsed = parseNormalizedNamed(name);
  if (parsed.digest) throw new InvalidParameterError('cannot push a digest reference');
  const repo: Reference = { domain: parsed.domain, path: parsed.path };
  const wanted = tag || parsed.tag;
  const repoName = fullName(repo);

  progress({ status: `The push refers to repository [${repoName}]` });
  const targets: Array<{ tag: string; image: ImageRecord }> = [];
  if (wanted) {
    const image = deps.images.get(referenceString({ ...repo, tag: wanted }));
    if (!image) throw new NotFoundError(`tag does not exist: ${familiar(repo, wanted)}`);
    targets.push({ tag: wanted, image });
  } else {
    for (const image of deps.images.list()) {
      for (const r of deps.images.references(image.id)) {
        const ref = parseNormalizedNamed(r);
        if (ref.tag && ref.domain === repo.domain && ref.path === repo.path) targets.push({ tag: ref.tag, image });
      }
    }
    targets.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
    if (targets.length === 0) throw new NotFoundError(`An image does not exist locally with the tag: ${familiar(repo)}`);
  }

  const endpoint = resolveEndpoints(repo.domain, opts.distribution ?? {}).filter((e) => !e.mirror)[0]!;
  const client = new RegistryClient(endpoint, repo.path, { auth: opts.auth, actions: 'pull,push', timeoutMs: opts.distribution?.timeoutMs });
  const pushed: string[] = [];
  try {
    for (const t of targets) {
      await pushOne(client, repo, t.tag, t.image, deps, progress, opts.maxConcurrentUploads ?? 5);
      pushed.push(familiar(repo, t.tag));
    }
  } catch (e) {
    throw translatePushError(e);
  }
  return pushed;
}

function familiar(repo: Reference, tag?: string): string {
  let n = repo.domain === 'docker.io' ? repo.path.replace(/^library\//, '') : `${repo.domain}/${repo.path}`;
  if (tag) n += `:${tag}`;
  return n;
}

async function pushOne(client: RegistryClient, repo: Reference, tag: string, image: ImageRecord, deps: PushDeps, progress: ProgressSink, limit: number): Promise<void> {
  const { layers, manifest: stored } = await imageLayerBlobs(image, deps.content);
  const diffIDs = image.config.rootfs?.diff_ids ?? [];
  // Top layer first, as Docker lists them; one upload per distinct blob.
  const order = layers.map((_, i) => layers.length - 1 - i);
  const missing = order.find((i) => !layers[i]);
  if (missing !== undefined) {
    throw new NotFoundError(`layer ${diffIDs[missing] ?? image.chainIDs[missing]} of ${image.id} has no compressed blob in the local store: it cannot be pushed`);
  }
  const seen = new Set<string>();
  const jobs: Array<{ id: string; blob: LayerBlob }> = [];
  for (const i of order) {
    const blob = layers[i]!;
    if (seen.has(blob.digest)) continue;
    seen.add(blob.digest);
    jobs.push({ id: shortId(diffIDs[i] ?? blob.digest), blob });
  }
  for (const j of jobs) progress(layerStatus(j.id, 'Preparing'));
  jobs.forEach((j, n) => { if (n >= limit) progress(layerStatus(j.id, 'Waiting')); });

  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (next < jobs.length && failed === undefined) {
      const j = jobs[next++]!;
      try {
        await pushBlob(client, j.blob, deps, { id: j.id, progress });
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  if (failed !== undefined) throw failed;

  // Config, then the manifest.
  const configBytes = await deps.content.read(image.id);
  let manifestBytes: Buffer;
  let mediaType: string;
  if (stored && manifestMatches(stored.bytes, layers)) {
    manifestBytes = stored.bytes;
    mediaType = stored.mediaType;
  } else {
    ({ bytes: manifestBytes, mediaType } = buildManifest(image.id, configBytes.length, layers as LayerBlob[]));
  }
  const m = JSON.parse(manifestBytes.toString('utf8')) as { config: LayerBlob };
  await pushBlob(client, { mediaType: m.config.mediaType, digest: image.id, size: configBytes.length }, deps);

  const res = await client.request('PUT', client.url(`manifests/${tag}`), { 'Content-Type': mediaType }, { bytes: manifestBytes });
  if (res.status !== 201 && res.status !== 200 && res.status !== 202) await client.fail(res, 'PUT');
  discard(res.body);
  const digest = sha256Digest(manifestBytes);
  await deps.content.put(manifestBytes, digest);
  await deps.images.addDigestRef(image.id, `${fullName(repo)}@${digest}`);
  // Keep the manifest with the image (so a later push reuses it, and rmi frees it).
  await deps.images.create(configBytes, { chainIDs: image.chainIDs, blobs: [digest] });
  progress({ status: `${tag}: digest: ${digest} size: ${manifestBytes.length}` });
  progress({ progressDetail: {}, aux: { Tag: tag, Digest: digest, Size: manifestBytes.length } } as never);
}

function manifestMatches(bytes: Buffer, layers: Array<LayerBlob | null>): boolean {
  try {
    const m = JSON.parse(bytes.toString('utf8')) as { layers: LayerBlob[] };
    return m.layers.length === layers.length && m.layers.every((l, i) => l.digest === layers[i]?.digest);
  } catch {
    return false;
  }
}

const TO_OCI: Record<string, string> = {
  [MediaTypes.dockerLayerGzip]: MediaTypes.ociLayerGzip,
  'application/vnd.docker.image.rootfs.diff.tar': MediaTypes.ociLayer,
};
const TO_DOCKER: Record<string, string> = {
  [MediaTypes.ociLayerGzip]: MediaTypes.dockerLayerGzip,
  [MediaTypes.ociLayer]: 'application/vnd.docker.image.rootfs.diff.tar',
};

/** A Docker v2 schema2 manifest, or OCI when any layer came from an OCI image (zstd needs OCI). */
export function buildManifest(configDigest: string, configSize: number, layers: LayerBlob[]): { bytes: Buffer; mediaType: string } {
  const useOci = layers.some((l) => l.mediaType.startsWith('application/vnd.oci.'));
  const mediaType = useOci ? MediaTypes.ociManifest : MediaTypes.dockerManifest;
  const m = {
    schemaVersion: 2,
    mediaType,
    config: { mediaType: useOci ? MediaTypes.ociConfig : MediaTypes.dockerConfig, size: configSize, digest: configDigest },
    layers: layers.map((l) => ({
      mediaType: useOci ? (TO_OCI[l.mediaType] ?? l.mediaType) : (TO_DOCKER[l.mediaType] ?? l.mediaType),
      size: l.size,
      digest: l.digest,
    })),
  };
  return { bytes: Buffer.from(JSON.stringify(m, null, 3)), mediaType };
}

/** HEAD, else POST + monolithic PUT. With `ui`, Docker's per-layer messages. */
async function pushBlob(client: RegistryClient, blob: LayerBlob, deps: PushDeps, ui?: { id: string; progress: ProgressSink }): Promise<void> {
  const head = await client.request('HEAD', client.url(`blobs/${blob.digest}`));
  discard(head.body);
  if (head.status === 200) {
    ui?.progress(layerStatus(ui.id, 'Layer already exists'));
    return;
  }
  if (head.status !== 404) await client.fail(head, 'HEAD');
  if (!(await deps.content.has(blob.digest))) throw new NotFoundError(`blob ${blob.digest} is not in the local store`);

  const start = await client.request('POST', client.url('blobs/uploads/'), {}, { bytes: Buffer.alloc(0) });
  if (start.status !== 202) await client.fail(start, 'POST');
  discard(start.body);
  const loc = start.headers.location;
  if (!loc) throw new RegistryProtocolError(`registry answered the upload request for ${blob.digest} without a Location`);
  const url = new URL(loc, client.endpoint.url + '/');
  url.searchParams.set('digest', blob.digest);

  const bar = ui ? new ThrottledProgress(ui.progress, ui.id, 'Pushing', blob.size) : undefined;
  const open = (): Readable => {
    const rs = createReadStream(deps.content.path(blob.digest));
    if (bar) {
      let n = 0;
      rs.on('data', (c) => { n += (c as Buffer).length; bar.update(n); });
    }
    return rs;
  };
  const put = await client.request('PUT', url.href, { 'Content-Type': 'application/octet-stream' }, { stream: open, length: blob.size });
  if (put.status !== 201 && put.status !== 204 && put.status !== 200) await client.fail(put, 'PUT');
  discard(put.body);
  ui?.progress(layerStatus(ui.id, 'Pushed'));
}
