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
import type { IncomingMessage } from 'node:http';
import type { IngestWriter } from '../content/store.js';
import type { StagedLayer } from '../layers/store.js';
import type { Readable } from 'node:stream';
import { InvalidParameterError, NotFoundError, RegistryProtocolError, SystemError, isBerthError } from '../errors.js';
import { familiarString, fullName, referenceString, withDefaultTag } from '../../wire/reference.js';
import type { AuthConfig, ContentStoreApi, ImageConfig, ImageRecord, JSONMessage, LayerStoreApi, ProgressSink, Reference } from '../images/types.js';
import { expansionLimit } from '../layers/apply.js';
import { chainIDs } from '../layers/chain.js';
import { FileFeed } from '../layers/file-feed.js';
import { MediaTypes, RegistryClient, type Descriptor, type FetchedManifest, type ImageIndex, type ImageManifest } from './client.js';
import { resolveEndpoints, type EndpointConfig } from './endpoints.js';
import { DigestMismatchError, RegistryHttpError, TokenError, translatePullError } from './errors.js';
import { NetworkError } from './http.js';
import { formatPlatform, hostPlatform, parsePlatform, selectPlatform, type Platform } from './platform.js';
import { ThrottledProgress, layerProgress, layerStatus, shortId } from './progress.js';
import { isOutOfSpace } from '../../util/errno.js';
import { Semaphore } from '../../util/semaphore.js';

/** What a failed pull stops at once: its downloads' bodies and its extractions' feeds. */
interface Stoppable { destroy(): unknown }

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

/** A pull in progress, which later pulls of the same image join. */
interface PullJob {
  done: Promise<ImageRecord>;
  /** Every message so far, replayed to a client that joins. */
  history: JSONMessage[];
  sinks: Set<ProgressSink>;
}

/** Pulls in progress per content store (one daemon), by reference, platform and credentials. */
const jobs = new WeakMap<ContentStoreApi, Map<string, PullJob>>();

/**
 * Pull an image. The pull runs on its own: a client that goes away does not stop it, and a second
 * pull of the same reference (same platform and credentials) meanwhile joins it (one download;
 * both see every progress message, the joiner first the ones it missed) and gets its outcome.
 */
export function pull(ref: Reference, opts: PullOptions, deps: PullDeps, progress: ProgressSink): Promise<ImageRecord> {
  const key = JSON.stringify([referenceString(withDefaultTag(ref)), opts.platform ?? '', opts.auth ?? null]);
  let byKey = jobs.get(deps.content);
  if (!byKey) jobs.set(deps.content, (byKey = new Map()));
  const running = byKey.get(key);
  if (running) {
    for (const m of running.history) progress(m);
    running.sinks.add(progress);
    return running.done;
  }
  const job: PullJob = { done: undefined as unknown as Promise<ImageRecord>, history: [], sinks: new Set([progress]) };
  const broadcast: ProgressSink = (m) => {
    job.history.push(m);
    for (const s of job.sinks) {
      try { s(m); } catch { /* a client that is gone */ }
    }
  };
  const table = byKey;
  job.done = pullOnce(ref, opts, deps, broadcast).finally(() => { table.delete(key); });
  table.set(key, job);
  return job.done;
}

async function pullOnce(ref: Reference, opts: PullOptions, deps: PullDeps, progress: ProgressSink): Promise<ImageRecord> {
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

  // One download per distinct blob, in layer order; each is extracted (staged) as it arrives,
  // all of them in parallel, and the staged layers are committed in order. A blob used by two
  // layers (same diffID, other parents) is staged once per use, from the stored blob.
  const firstUse = new Map<string, number>();
  layers.forEach((l, i) => { if (!present[i] && !firstUse.has(l.digest)) firstUse.set(l.digest, i); });
  const downloads = [...firstUse.entries()];
  const limit = Math.max(1, opts.maxConcurrentDownloads ?? 3);
  downloads.forEach(([, i], n) => { if (n >= limit) progress(layerStatus(ids[i]!, 'Waiting')); });

  const staged = layers.map(() => deferred<StagedLayer>());
  const failure = deferred<never>();
  let failed = false;
  const active = new Set<Stoppable>();
  const sem = new Semaphore(limit);
  const stagedLayers: StagedLayer[] = [];
  const fail = (e: unknown) => {
    if (failed) return;
    failed = true;
    failure.reject(e);
    for (const s of active) s.destroy();
  };
  const stage = (i: number, src: FileFeed): Promise<StagedLayer> =>
    deps.layers.stage(src, diffIDs[i]!, { maxBytes: expansionLimit(layers[i]!.size), decompress: true }).then((st) => {
      stagedLayers.push(st);
      if (failed) void st.discard();
      return st;
    });

  const fetchOne = async (digest: string, i: number): Promise<void> => {
    const desc = layers[i]!;
    const id = ids[i]!;
    try {
      let fromStore = false;
      let extraction: Promise<StagedLayer> | undefined;
      await sem.acquire();
      try {
        for (let fresh = false; ; fresh = true) {
          if (failed) throw new SystemError('pull aborted'); // never reported: the first failure is
          const w = await deps.content.resumable({ digest, size: desc.size });
          if (await deps.content.has(digest)) {
            // Kept from an earlier pull, or just finished by another one: nothing to download.
            await w.abort();
            progress(layerStatus(id, 'Download complete'));
            fromStore = true;
            break;
          }
          // A resumed download is stored first and extracted after: its first bytes are on disk.
          const tee = w.resumedFrom === 0;
          try {
            ({ extraction } = await downloadBlob(client, desc, id, w, progress, active, () => failed, tee ? (src) => stage(i, src) : undefined));
          } catch (e) {
            // Bytes kept from before that do not make the blob (a partial torn by a crash): once
            // more from scratch (the writer's abort removed them).
            if (w.resumedFrom > 0 && !fresh && e instanceof DigestMismatchError) continue;
            throw e;
          }
          fromStore = !tee;
          break;
        }
      } finally {
        // The slot is a download's (max-concurrent-downloads), not an extraction's: the next
        // blob starts downloading while this one's extraction catches up with the file.
        sem.release();
      }
      if (extraction) staged[i]!.resolve(await extraction);
      if (fromStore) staged[i]!.resolve(await extractStored(desc, id, deps, progress, active, (src) => stage(i, src)));
      // Later layers made of the same blob: staged from the stored blob.
      for (let j = i + 1; j < layers.length; j++) {
        if (!present[j] && layers[j]!.digest === digest) staged[j]!.resolve(await extractStored(layers[j]!, ids[j]!, deps, progress, active, (src) => stage(j, src)));
      }
    } catch (e) {
      for (let j = i; j < layers.length; j++) if (layers[j]!.digest === digest) staged[j]!.reject(e);
      fail(e);
      throw e;
    }
  };

  const tasks = downloads.map(([d, i]) => fetchOne(d, i).catch(() => {}));

  try {
    let parent: string | null = null;
    for (let i = 0; i < layers.length; i++) {
      if (present[i]) { parent = chain[i]!; continue; }
      const st = await Promise.race([staged[i]!.promise, failure.promise]);
      const applied = await st.commit(parent);
      if (applied.chainID !== chain[i]) {
        throw new SystemError(`layer ${layers[i]!.digest} applied as ${applied.chainID}, expected chain ${chain[i]}`);
      }
      progress(layerStatus(ids[i]!, 'Pull complete'));
      parent = chain[i]!;
    }
  } catch (e) {
    fail(e);
    await Promise.allSettled(tasks);
    // Staged layers not committed: their directories go.
    await Promise.allSettled(stagedLayers.map((st) => st.discard()));
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

/** Attempts at one blob's bytes before a pull gives up (each continues where the last stopped). */
export const MAX_BLOB_ATTEMPTS = 6;
/** Pause before retry n (1-based), in ms: 1 s, 2 s, 3 s…, as Docker's "Retrying in N seconds". */
export let retryDelayMs = (n: number): number => n * 1000;
/** For tests: shorter pauses. */
export function setRetryDelay(f: (n: number) => number): void { retryDelayMs = f; }

/** Worth another attempt: the connection failed or was cut, or the registry had a passing fault. */
function retryable(e: unknown): boolean {
  if (e instanceof RegistryHttpError) return e.status >= 500 || e.status === 408 || e.status === 429;
  if (e instanceof NetworkError || e instanceof CutShortError) return true;
  if (isBerthError(e)) return false;
  const code = (e as NodeJS.ErrnoException)?.code;
  return typeof code === 'string' && /^(ECONNRESET|ECONNREFUSED|ECONNABORTED|EPIPE|ETIMEDOUT|ERR_STREAM_PREMATURE_CLOSE|EHOSTUNREACH|ENETUNREACH)$/.test(code)
    || /aborted|socket hang up|timeout/i.test((e as Error)?.message ?? '');
}

/** A blob body that ended (or broke) before all its bytes came. */
class CutShortError extends Error {}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Download one blob into the content store, verifying digest and size. Bytes already kept from
 * an earlier attempt (a partial blob: dropped connection, daemon killed) are not fetched again:
 * the download asks for the rest (HTTP Range) and continues the hash over them. A cut connection
 * is retried the same way, up to MAX_BLOB_ATTEMPTS. With `tee`, the blob file is extracted as
 * it is written (only for a download starting at byte 0); the extraction may end after the
 * download, so it is returned for the caller to await.
 */
async function downloadBlob(
  client: RegistryClient,
  desc: Descriptor,
  id: string,
  w: IngestWriter,
  progress: ProgressSink,
  active: Set<Stoppable>,
  aborted: () => boolean,
  tee: ((src: FileFeed) => Promise<StagedLayer>) | undefined,
): Promise<{ extraction?: Promise<StagedLayer> }> {
  const dl = new ThrottledProgress(progress, id, 'Downloading', desc.size);
  // The extraction reads the blob file as it is written (the bytes are stored anyway): a failed
  // extraction leaves the download going, whose digest error is the better message.
  let toExtract: FileFeed | undefined;
  let applyP: Promise<StagedLayer> | undefined;
  if (tee) {
    toExtract = new FileFeed(w.tmpPath);
    applyP = tee(toExtract);
    applyP.catch(() => {});
  }
  try {
    for (let attempt = 1; w.offset < desc.size; attempt++) {
      let body: Readable | undefined;
      try {
        const got = await client.getBlob(desc.digest, w.offset);
        body = got.body;
        active.add(body);
        let skip = w.offset - got.start; // a registry that ignored the Range sends what we have again
        for await (const c of body) {
          let chunk = c as Buffer;
          if (skip > 0) {
            const drop = Math.min(skip, chunk.length);
            skip -= drop;
            chunk = chunk.subarray(drop);
            if (chunk.length === 0) continue;
          }
          if (w.offset + chunk.length > desc.size) throw layerVerificationError(desc.digest);
          await w.write(chunk);
          toExtract?.grow(w.offset);
          dl.update(w.offset);
        }
        if (w.offset < desc.size) {
          // A whole answer that is too short is the registry's blob, not a cut: it does not match.
          if ((body as IncomingMessage).complete) throw layerVerificationError(desc.digest);
          throw new CutShortError(`unexpected EOF after ${w.offset} of ${desc.size} bytes`);
        }
        break;
      } catch (e) {
        if (aborted() || !retryable(e) || attempt >= MAX_BLOB_ATTEMPTS) {
          if (!retryable(e)) throw e;
          const why = e instanceof Error ? e.message : String(e);
          throw new NetworkError(`error pulling layer ${shortId(desc.digest)}: ${why}`, client.endpoint.url);
        }
        const delay = retryDelayMs(attempt);
        const secs = Math.max(1, Math.round(delay / 1000));
        progress(layerStatus(id, `Retrying in ${secs} second${secs === 1 ? '' : 's'}`));
        await sleep(delay);
        if (aborted()) throw e;
      } finally {
        if (body) { active.delete(body); body.destroy(); }
      }
    }
    toExtract?.end();
    try {
      await w.commit();
    } catch (e) {
      if (e instanceof DigestMismatchError) throw layerVerificationError(desc.digest);
      throw e;
    }
  } catch (e) {
    // Keep a partial made of bytes the registry sent (a later pull continues it); not bytes that
    // cannot be the blob's (more than its size: the commit or the check above dropped them), and
    // not on a full disk, where the space matters more than a resume.
    toExtract?.fail(e);
    if (isOutOfSpace(e)) await w.abort();
    else await w.suspend();
    // A snapshot the extraction made stays: its content matched the config's diffID, so it is the
    // layer the image names whatever the compressed bytes were, and it may be another pull's
    // (made concurrently and found by our extraction) which an image may already stand on.
    if (applyP) await applyP.catch(() => undefined);
    throw e;
  }
  progress(layerStatus(id, 'Verifying Checksum'));
  progress(layerStatus(id, 'Download complete'));
  if (!applyP) return {};
  const extraction = applyP.then((res) => {
    progress(layerProgress(id, 'Extracting', desc.size, desc.size));
    return res;
  });
  extraction.catch(() => {}); // awaited by the caller
  return { extraction };
}

/** Extract (stage) a stored, verified blob, with Extracting progress. */
async function extractStored(
  desc: Descriptor,
  id: string,
  deps: PullDeps,
  progress: ProgressSink,
  active: Set<Stoppable>,
  stage: (src: FileFeed) => Promise<StagedLayer>,
): Promise<StagedLayer> {
  const ex = new ThrottledProgress(progress, id, 'Extracting', desc.size);
  const feed = FileFeed.complete(deps.content.path(desc.digest), desc.size, (n) => ex.update(n));
  // A failed pull stops it as it stops a download (fail(): the worker is ended).
  const stop = { destroy: () => feed.fail(new SystemError('pull aborted')) };
  active.add(stop);
  try {
    return await stage(feed);
  } finally {
    active.delete(stop);
  }
}
