/**
 * docker import (POST /images/create?fromSrc=-|URL), as moby's ImportImage: the body (or what the
 * daemon downloads from the URL) is a filesystem tar, compressed or not; it becomes the one layer
 * of a new image whose config is the `changes` (commit's Dockerfile instructions) applied to an
 * empty one, with `message` (default "Imported from <src>") as comment and in the one history
 * entry, the platform's os and architecture (the host's by default). The tar is extracted and
 * stored as the layer's blob in one pass (no spool); it is capped by max-image-load-size; a
 * failure leaves no layer, blob or image behind.
 */
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { InvalidParameterError, NotFoundError } from '../../errors.js';
import { hostPlatform, parsePlatform } from '../../distribution/platform.js';
import { DEFAULT_MAX_LAYER_BYTES } from '../../layers/apply.js';
import { ThrottledProgress } from '../../distribution/progress.js';
import { meter } from '../../distribution/decompress.js';
import { applyChanges } from '../commit.js';
import type { ImageRecord, ProgressSink } from '../types.js';
import type { TransferDeps } from './load.js';
import { OCI_LAYER_TAR } from './layer-source.js';
import { archiveStream } from './source.js';
import { outboundRefusal } from '../../../util/outbound.js';

export interface ImportRequest {
  /** '-' (the body) or a URL the daemon fetches. */
  src: string;
  body: Readable;
  /** Full reference to tag ('docker.io/library/x:tag'); none: an untagged image. */
  reference?: string;
  message?: string;
  changes: string[];
  platform?: string;
  engineVersion: string;
  maxBytes: number;
}

/** The body, or the URL's response body with dockerd's "Downloading from" and "Importing" progress. */
async function openSource(req: ImportRequest, out: ProgressSink): Promise<{ stream: Readable; src: string }> {
  if (req.src === '-') return { stream: req.body, src: '-' };
  const src = req.src.includes('://') ? req.src : `http://${req.src}`;
  let url: URL;
  try {
    url = new URL(src);
  } catch {
    throw new InvalidParameterError(`invalid URL ${JSON.stringify(req.src)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidParameterError(`unsupported URL scheme ${url.protocol} in ${JSON.stringify(req.src)}`);
  const refused = outboundRefusal(url.href);
  if (refused) throw new InvalidParameterError(`error downloading ${src}: ${refused}`);
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    (url.protocol === 'https:' ? https : http).get(url, resolve).on('error', (e) => reject(new InvalidParameterError(`error downloading ${src}: ${e.message}`)));
  });
  const status = res.statusCode ?? 0;
  if (status >= 400) {
    res.resume();
    const msg = `failed to GET ${url.href} with status ${status} ${res.statusMessage ?? ''}`.trimEnd();
    throw status === 404 ? new NotFoundError(msg) : new InvalidParameterError(msg);
  }
  out({ status: `Downloading from ${url.href}` });
  const total = Number(res.headers['content-length'] ?? 0);
  const bar = new ThrottledProgress(out, '', 'Importing', total);
  let n = 0;
  // Counted in a pass-through (a 'data' listener would start the flow before the reader is there).
  const counted = res.pipe(meter((c) => { n += c.length; bar.update(n); }));
  res.on('error', (e) => counted.destroy(e));
  return { stream: counted, src };
}

export async function importImage(deps: TransferDeps, req: ImportRequest, out: ProgressSink): Promise<ImageRecord> {
  const platform = req.platform ? parsePlatform(req.platform) : hostPlatform();
  if (platform.os !== 'linux') throw new InvalidParameterError(`operating system is not supported: ${platform.os}`);
  // The config first: a bad change is refused before anything is read.
  const config = applyChanges({}, req.changes);
  const { stream, src } = await openSource(req, out);
  const message = req.message || `Imported from ${src}`;

  const writer = await deps.content.writer();
  let received = 0;
  const tee = (async function* () {
    for await (const c of archiveStream(stream, req.maxBytes)) {
      received += c.length;
      await writer.write(c);
      yield c;
    }
  })();
  let applied;
  try {
    applied = await deps.layers.apply(null, Readable.from(tee, { objectMode: false }), undefined, { maxBytes: Math.min(req.maxBytes, DEFAULT_MAX_LAYER_BYTES) });
  } catch (e) {
    await writer.abort();
    throw e;
  }
  if (received === 0) {
    // Nothing was sent: no image of an empty layer (dockerd fails reading the empty stream too).
    await writer.abort();
    await deps.images.releaseChain([applied.chainID], []).catch(() => undefined);
    throw new InvalidParameterError(`fromSrc=${req.src}: the archive is empty (a tar archive is expected)`);
  }
  const release = deps.layers.hold([applied.chainID]);
  try {
    const size = writer.offset;
    const digest = await writer.commit();
    const created = new Date().toISOString();
    const image = {
      architecture: platform.architecture,
      ...(platform.variant ? { variant: platform.variant } : {}),
      comment: message,
      config,
      created,
      docker_version: req.engineVersion,
      history: [{ created, comment: message }],
      os: platform.os,
      rootfs: { type: 'layers', diff_ids: [applied.diffID] },
    };
    const blob = { mediaType: OCI_LAYER_TAR, digest, size };
    try {
      return await deps.images.create(Buffer.from(JSON.stringify(image)), {
        chainIDs: [applied.chainID],
        repoTag: req.reference,
        blobs: [digest],
        layerBlobs: [blob],
      });
    } catch (e) {
      release();
      await deps.images.releaseChain([applied.chainID], []).catch(() => undefined);
      if (!deps.images.list().some((r) => r.blobs?.includes(digest))) await deps.content.delete(digest).catch(() => undefined);
      throw e;
    }
  } finally {
    release();
  }
}
