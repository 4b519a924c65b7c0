/**
 * Image pull, as Docker's daemon does it, with Docker's progress messages (ENGINE-API.md §2.4):
 *
 *   resolve the manifest (index → this platform's manifest) and the config on the first endpoint
 *   that answers (mirrors first for Docker Hub names), then per layer, up to 3 downloads at once:
 *   stream the blob into the content store while hashing it; when the layer is the next one to
 *   apply, the same bytes are also gunzipped and extracted on the fly (one pass); otherwise it is
 *   extracted from the stored blob once the layers below it are in. Layers are applied in order.
 *   The image record is written only when every layer and the config are stored, so a failed pull
 *   leaves no image behind (only reusable blobs and snapshots).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { InvalidParameterError, NotFoundError, RegistryProtocolError, SystemError, isBerthError } from '../errors.js';
import { familiarString, fullName, referenceString, withDefaultTag } from '../../wire/reference.js';
import type { AuthConfig, ContentStoreApi, ImageConfig, ImageRecord, LayerStoreApi, ProgressSink, Reference } from '../images/types.js';
import { expansionLimit } from '../layers/apply.js';
import { chainIDs } from '../layers/chain.js';
import { MediaTypes, RegistryClient, type Descriptor, type FetchedManifest, type ImageIndex, type ImageManifest } from './client.js';
import { decompress, meter, zstdSupported, zstdUnsupportedError } from './decompress.js';
import { resolveEndpoints, type EndpointConfig } from './endpoints.js';
import { DigestMismatchError, RegistryHttpError, TokenError, translatePullError } from './errors.js';
import { NetworkError } from './http.js';
import { formatPlatform, hostPlatform, parsePlatform, selectPlatform, type Platform } from './platform.js';
import { ThrottledProgress, layerProgress, layerStatus, shortId } from './progress.js';

/**
 * What pull needs from the image store (src/engine/images/store.ts ImageStore fits as is).
 * `create` stores the config blob and the record atomically, reuses an existing image with the
 * same ID, and points the given tag/digest references at it.
 */
export interface PullImageStore {
  get(refOrId: string): ImageRecord | undefined;
  create(
    configBytes: Uint8Array,
    opts: { chainIDs: string[]; repoTag?: string | string[]; repoDigest?: string | string[]; blobs?: string[] },
  ): Promise<ImageRecord>;
}

export interface PullDeps {
  content: ContentStoreApi;
  layers: LayerStoreApi;
  images: PullImageStore;
}

export interface PullOptions extends EndpointConfig {
  auth?: AuthConfig;
  /** 'linux/amd64', 'linux/arm64/v8'…; the host's platform when absent. */
  platform?: string;
  /** Parallel layer downloads (Docker's max-concurrent-downloads, default 3). */
  maxConcurrentDownloads?: number;
  /** Per-request inactivity timeout in ms. */
  timeoutMs?: number;
}

interface Resolved {
  client: RegistryClient;
  top: FetchedManifest;
  manifest: FetchedManifest;
  config: ImageConfig;
  configBytes: Buffer;
  configDigest: string;
}

const SUPPORTED_LAYER_TYPES = new Set<string>([
  MediaTypes.dockerLayerGzip,
  MediaTypes.ociLayer,
  MediaTypes.ociLayerGzip,
  MediaTypes.ociLayerZstd,
  'application/vnd.docker.image.rootfs.diff.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
]);

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

class Semaphore {
  private waiters: Array<() => void> = [];
  constructor(private free: number) {}
  async acquire(): Promise<void> {
    if (this.free > 0) { this.free--; return; }
    await new Promise<void>((r) => this.waiters.push(r));
  }
  release(): void {
    const w = this.waiters.shift();
    if (w) w();
    else this.free++;
  }
}

function layerVerificationError(digest: string): DigestMismatchError {
  return new DigestMismatchError(`filesystem layer verification failed for digest ${digest}`);
}

/** Resolve tag/digest → manifest (through an index) → config, on one endpoint. */
async function resolveImage(client: RegistryClient, ref: Reference, want: Platform, explicitPlatform: boolean): Promise<Resolved> {
  const tagOrDigest = ref.digest ?? ref.tag ?? 'latest';
  const top = await client.getManifest(tagOrDigest);
  let manifest = top;
  if (top.kind === 'index') {
    const entry = selectPlatform((top.json as ImageIndex).manifests, want);
    manifest = await client.getManifest(entry.digest);
    if (manifest.kind !== 'manifest') throw new RegistryProtocolError(`manifest list ${top.digest} points to another list (${entry.digest})`);
  }
  const m = manifest.json as ImageManifest;
  const configBytes = await client.getBlobBytes(m.config.digest);
  let config: ImageConfig;
  try {
    config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
  } catch {
    throw new RegistryProtocolError(`invalid image config ${m.config.digest}: not JSON`);
  }
  const diffIDs = config.rootfs?.diff_ids;
  if (!Array.isArray(diffIDs) || diffIDs.length !== m.layers.length) {
    throw new RegistryProtocolError(`image config ${m.config.digest} lists ${diffIDs?.length ?? 0} layers but the manifest has ${m.layers.length}`);
  }
  if (top.kind === 'manifest' && explicitPlatform) {
    const actual: Platform = { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };
    if (actual.os !== want.os || actual.architecture !== want.architecture) {
      throw new NotFoundError(
        `image with reference ${familiarString(ref)} was found but does not match the specified platform: wanted ${formatPlatform(want)}, actual: ${formatPlatform(actual)}`,
      );
    }
  }
  return { client, top, manifest, config, configBytes, configDigest: m.config.digest };
}

/** An error about one endpoint's answer (or its silence), not about the request itself. */
function fromRegistry(e: unknown): boolean {
  return e instanceof RegistryHttpError || e instanceof NetworkError || e instanceof TokenError || e instanceof RegistryProtocolError;
}

/** When every endpoint failed, report the most informative error: a registry's answer beats "unreachable". */
function pickError(errors: unknown[]): unknown {
  const last = errors[errors.length - 1];
  if (last instanceof NetworkError) {
    const answered = errors.find((e) => !(e instanceof NetworkError));
    if (answered) return answered;
  }
  return last;
}

export async function pull(ref: Reference, opts: PullOptions, deps: PullDeps, progress: ProgressSink): Promise<ImageRecord> {
  const target = withDefaultTag(ref);
  const want = opts.platform ? parsePlatform(opts.platform) : hostPlatform();
  const endpoints = resolveEndpoints(target.domain, opts);
  const errors: unknown[] = [];
  let resolved: Resolved | undefined;
  for (let i = 0; i < endpoints.length; i++) {
    const ep = endpoints[i]!;
    const client = new RegistryClient(ep, target.path, { auth: opts.auth, timeoutMs: opts.timeoutMs });
    try {
      resolved = await resolveImage(client, target, want, opts.platform !== undefined);
      break;
    } catch (e) {
      errors.push(e);
      const last = i === endpoints.length - 1;
      const fallback = !last && (ep.mirror || (ep.fallbackOnNetworkError && e instanceof NetworkError));
      // A platform mismatch or bad input is the same on every endpoint; what one registry
      // answered (or failed to) is not.
      if (!fallback || (isBerthError(e) && !fromRegistry(e) && !(e instanceof NotFoundError && ep.mirror))) {
        throw translatePullError(pickError(errors), target);
      }
    }
  }
  if (!resolved) throw translatePullError(pickError(errors), target);
  try {
    return await fetchAndCommit(resolved, target, opts, deps, progress);
  } catch (e) {
    throw translatePullError(e, target);
  }
}

async function fetchAndCommit(r: Resolved, target: Reference, opts: PullOptions, deps: PullDeps, progress: ProgressSink): Promise<ImageRecord> {
  const { top, manifest } = r;
  const layers = (manifest.json as ImageManifest).layers;
  const chain = chainIDs(r.config.rootfs.diff_ids);

  for (const l of layers) {
    if (!SUPPORTED_LAYER_TYPES.has(l.mediaType)) {
      throw new InvalidParameterError(`unsupported layer media type ${l.mediaType} (layer ${l.digest})`);
    }
    if (l.mediaType === MediaTypes.ociLayerZstd && !zstdSupported()) throw zstdUnsupportedError(l.digest);
  }

  // Hold what the image stands on until its record is written: an image removal or a layer GC
  // running meanwhile must not take a layer or blob this pull found present or just made.
  const releaseLayers = deps.layers.hold(chain);
  const releaseBlobs = deps.content.hold([r.configDigest, manifest.digest, top.digest, ...layers.map((l) => l.digest)]);
  try {
    return await fetchHeld(r, target, opts, deps, progress, chain);
  } finally {
    releaseLayers();
    releaseBlobs();
  }
}

async function fetchHeld(r: Resolved, target: Reference, opts: PullOptions, deps: PullDeps, progress: ProgressSink, chain: string[]): Promise<ImageRecord> {
  const { client, top, manifest, config } = r;
  const layers = (manifest.json as ImageManifest).layers;
  const diffIDs = config.rootfs.diff_ids;

  progress({ status: `Pulling from ${target.path}`, id: target.digest ?? target.tag ?? 'latest' });

  const ids = layers.map((l) => shortId(l.digest));
  const present = chain.map((c) => deps.layers.has(c));
  for (let i = 0; i < layers.length; i++) {
    progress(layerStatus(ids[i]!, present[i] ? 'Already exists' : 'Pulling fs layer'));
  }

  // One download per distinct blob, in layer order.
  const firstUse = new Map<string, number>();
  layers.forEach((l, i) => { if (!present[i] && !firstUse.has(l.digest)) firstUse.set(l.digest, i); });
  const downloads = [...firstUse.entries()];
  const limit = Math.max(1, opts.maxConcurrentDownloads ?? 3);
  downloads.forEach(([, i], n) => { if (n >= limit) progress(layerStatus(ids[i]!, 'Waiting')); });

  type Applied = { chainID: string; diffID: string; size: number };
  const started = new Map<string, ReturnType<typeof deferred<'tee' | 'disk'>>>();
  const stored = new Map<string, ReturnType<typeof deferred<void>>>();
  const teeApplied = new Map<string, ReturnType<typeof deferred<Applied>>>();
  for (const [d] of downloads) {
    started.set(d, deferred());
    stored.set(d, deferred());
    teeApplied.set(d, deferred());
  }
  const failure = deferred<never>();
  let failed = false;
  const active = new Set<Readable>();
  const sem = new Semaphore(limit);
  /** The layer index the apply loop is waiting for (a download of it may extract on the fly). */
  let applyWaitingFor = -1;
  /** Parent chain ID for the layer the loop waits for. */
  let applyParent: string | null = null;

  const fail = (e: unknown) => {
    if (failed) return;
    failed = true;
    failure.reject(e);
    for (const s of active) s.destroy();
  };

  const downloadOne = async (digest: string, i: number): Promise<void> => {
    const desc = layers[i]!;
    const id = ids[i]!;
    await sem.acquire();
    try {
      if (failed) throw new SystemError('pull aborted'); // never reported: the first failure is
      if (await deps.content.has(digest)) {
        // Blob kept from an earlier, interrupted pull: nothing to download.
        started.get(digest)!.resolve('disk');
        progress(layerStatus(id, 'Download complete'));
        stored.get(digest)!.resolve();
        return;
      }
      const tee = applyWaitingFor === i;
      const parent = applyParent;
      started.get(digest)!.resolve(tee ? 'tee' : 'disk');
      await downloadBlob(client, desc, id, deps, progress, active, tee ? { parent, diffID: diffIDs[i]!, chainID: chain[i]!, onApplied: teeApplied.get(digest)! } : undefined);
      stored.get(digest)!.resolve();
    } catch (e) {
      started.get(digest)!.resolve('disk');
      stored.get(digest)!.reject(e);
      teeApplied.get(digest)!.reject(e);
      fail(e);
      throw e;
    } finally {
      sem.release();
    }
  };

  const tasks = downloads.map(([d, i]) => downloadOne(d, i).catch(() => {}));

  try {
    let parent: string | null = null;
    for (let i = 0; i < layers.length; i++) {
      if (present[i]) { parent = chain[i]!; continue; }
      const d = layers[i]!.digest;
      const id = ids[i]!;
      applyWaitingFor = i;
      applyParent = parent;
      const mode = await Promise.race([started.get(d)!.promise, failure.promise]);
      let applied: Applied;
      if (mode === 'tee' && firstUse.get(d) === i) {
        applied = await Promise.race([teeApplied.get(d)!.promise, failure.promise]);
      } else {
        await Promise.race([stored.get(d)!.promise, failure.promise]);
        applied = await extractStored(layers[i]!, id, parent, diffIDs[i]!, deps, progress, active);
      }
      if (applied.chainID !== chain[i]) {
        throw new SystemError(`layer ${layers[i]!.digest} applied as ${applied.chainID}, expected chain ${chain[i]}`);
      }
      progress(layerStatus(id, 'Pull complete'));
      parent = chain[i]!;
    }
    applyWaitingFor = -1;
  } catch (e) {
    fail(e);
    await Promise.allSettled(tasks);
    throw e;
  }
  await Promise.allSettled(tasks);

  // Everything is in: store config and manifests, then make the image visible.
  await deps.content.put(r.configBytes, r.configDigest);
  await deps.content.put(manifest.bytes, manifest.digest);
  if (top !== manifest) await deps.content.put(top.bytes, top.digest);

  const name = fullName(target);
  const before = deps.images.get(referenceString(target))?.id;
  const blobs = [...new Set([manifest.digest, top.digest, ...layers.map((l) => l.digest)])];
  const stored2 = await deps.images.create(r.configBytes, {
    chainIDs: chain,
    repoTag: target.tag !== undefined && target.digest === undefined ? `${name}:${target.tag}` : undefined,
    repoDigest: `${name}@${top.digest}`,
    blobs,
  });
  progress({ status: `Digest: ${top.digest}` });
  const what = before === stored2.id ? 'Image is up to date' : 'Downloaded newer image';
  progress({ status: `Status: ${what} for ${familiarString(target)}` });
  return stored2;
}

interface TeeTarget {
  parent: string | null;
  diffID: string;
  chainID: string;
  onApplied: { resolve(v: { chainID: string; diffID: string; size: number }): void; reject(e: unknown): void };
}

/**
 * Download one blob into the content store, verifying digest and size. With `tee`, the same bytes
 * are decompressed and applied as the next layer while they arrive.
 */
async function downloadBlob(
  client: RegistryClient,
  desc: Descriptor,
  id: string,
  deps: PullDeps,
  progress: ProgressSink,
  active: Set<Readable>,
  tee?: TeeTarget,
): Promise<void> {
  const { body } = await client.getBlob(desc.digest);
  active.add(body);
  const hash = createHash('sha256');
  let n = 0;
  const dl = new ThrottledProgress(progress, id, 'Downloading', desc.size);
  const m = meter((chunk) => {
    hash.update(chunk);
    n += chunk.length;
    dl.update(n);
  });
  const toStore = new PassThrough();
  toStore.on('error', () => {});
  body.on('error', (e) => m.destroy(e));
  m.on('error', (e) => { toStore.destroy(e); toExtract?.destroy(e); });
  body.pipe(m);
  m.pipe(toStore);
  let toExtract: PassThrough | undefined;
  let applyP: Promise<{ chainID: string; diffID: string; size: number }> | undefined;
  if (tee) {
    toExtract = new PassThrough();
    toExtract.on('error', () => {});
    m.pipe(toExtract);
    applyP = deps.layers.apply(tee.parent, decompress(toExtract, desc.digest), tee.diffID, { maxBytes: expansionLimit(desc.size) }).catch(async (e) => {
      // Keep the download going (its digest error is the better message); stop feeding extraction.
      if (toExtract) { m.unpipe(toExtract); toExtract.resume(); }
      throw e;
    });
    applyP.catch(() => {});
  }
  let ingestErr: unknown;
  try {
    await deps.content.ingest(toStore, { digest: desc.digest, size: desc.size });
  } catch (e) {
    ingestErr = e;
    body.destroy();
    toExtract?.destroy(e as Error);
  } finally {
    active.delete(body);
  }
  const actual = 'sha256:' + hash.digest('hex');
  if (ingestErr !== undefined || actual !== desc.digest || n !== desc.size) {
    // A snapshot the extraction made stays: its content matched the config's diffID, so it is the
    // layer the image names whatever the compressed bytes were, and it may be another pull's
    // (made concurrently and found by our extraction) which an image may already stand on.
    if (applyP) await applyP.catch(() => undefined);
    if (n > desc.size) throw layerVerificationError(desc.digest);
    if (body.readableEnded) {
      // Every byte arrived: either they are not what the digest says, or storing them failed.
      if (actual !== desc.digest || n !== desc.size) throw layerVerificationError(desc.digest);
      throw ingestErr;
    }
    const why = ingestErr instanceof Error ? ingestErr.message : String(ingestErr ?? 'unexpected end of body');
    throw new NetworkError(`error pulling layer ${shortId(desc.digest)}: ${why}`, client.endpoint.url);
  }
  progress(layerStatus(id, 'Verifying Checksum'));
  progress(layerStatus(id, 'Download complete'));
  if (tee && applyP) {
    try {
      const res = await applyP;
      progress(layerProgress(id, 'Extracting', desc.size, desc.size));
      tee.onApplied.resolve(res);
    } catch (e) {
      tee.onApplied.reject(e);
      throw e;
    }
  }
}

/** Extract a stored (verified) blob as the next layer, with Extracting progress. */
async function extractStored(
  desc: Descriptor,
  id: string,
  parent: string | null,
  diffID: string,
  deps: PullDeps,
  progress: ProgressSink,
  active: Set<Readable>,
): Promise<{ chainID: string; diffID: string; size: number }> {
  const rs = createReadStream(deps.content.path(desc.digest));
  active.add(rs);
  const ex = new ThrottledProgress(progress, id, 'Extracting', desc.size);
  let n = 0;
  const m = meter((chunk) => { n += chunk.length; ex.update(n); });
  rs.on('error', (e) => m.destroy(e));
  rs.pipe(m);
  try {
    return await deps.layers.apply(parent, decompress(m, desc.digest), diffID, { maxBytes: expansionLimit(desc.size) });
  } finally {
    active.delete(rs);
    rs.destroy();
  }
}
