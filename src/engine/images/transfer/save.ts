/**
 * docker save (GET /images/get, GET /images/{name}/get): the layout Docker 25+ writes (moby's
 * image/tarexport, read for facts), streamed without a temporary copy:
 *
 *   blobs/sha256/<hex>   configs, one OCI manifest per image, and each layer as the uncompressed
 *                        tar whose digest is its diffID (so image IDs and layer digests are the
 *                        source's); entries sorted as Docker's tar of its temp dir sorts them
 *   index.json           one manifest descriptor per tag, with the io.containerd.image.name and
 *                        org.opencontainers.image.ref.name annotations (one without them for an
 *                        image saved by ID only)
 *   manifest.json        [{Config, RepoTags, Layers}] as `blobs/sha256/…` paths
 *   oci-layout, repositories (name → tag → the top layer's diffID hex)
 *
 * The layer bytes come from the blob each layer was pulled, committed, loaded or imported with,
 * decompressed and checked against the diffID as they stream; their sizes (tar headers need them
 * first) are counted once beforehand and remembered.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { InvalidParameterError, NotFoundError, SystemError } from '../../errors.js';
import { decompress } from '../../distribution/decompress.js';
import { dataPadding, encodeHeader, END_OF_ARCHIVE } from '../../layers/tar-writer.js';
import { familiarName, familiarString, isFullId, parseNormalizedNamed, referenceString, type Reference } from '../../../wire/reference.js';
import { imageLayerBlobs } from '../layer-blobs.js';
import type { ImageRecord, LayerBlob } from '../types.js';
import type { TransferDeps } from './load.js';
import { openBlob } from './layer-source.js';

export interface SaveImage {
  record: ImageRecord;
  /** Tagged references to write for it (none when saved by ID). */
  refs: Reference[];
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar';
const OCI_LAYOUT = '{"imageLayoutVersion": "1.0.0"}';

/** Which images (and which of their tags) the names ask for, as moby's parseNames. */
export function resolveNames(deps: TransferDeps, names: string[]): SaveImage[] {
  const byId = new Map<string, SaveImage>();
  const add = (rec: ImageRecord, ref?: Reference): void => {
    let e = byId.get(rec.id);
    if (!e) byId.set(rec.id, e = { record: rec, refs: [] });
    if (ref && ref.tag !== undefined && !ref.digest && !e.refs.some((r) => familiarString(r) === familiarString(ref))) e.refs.push(ref);
  };
  for (const name of names) {
    if (isFullId(name) || /^sha256:[a-f0-9]{64}$/.test(name)) {
      add(deps.images.resolve(name));
      continue;
    }
    let ref: Reference;
    try {
      ref = parseNormalizedNamed(name);
    } catch (e) {
      // A short ID prefix ("sha256:abc", "abc") is not a name.
      const rec = deps.images.searchId(name);
      if (rec) { add(rec); continue; }
      throw e;
    }
    if (ref.tag === undefined && ref.digest === undefined) {
      const family = familiarName(ref);
      let found = false;
      for (const rec of deps.images.list()) {
        for (const t of rec.repoTags) {
          const r = parseNormalizedNamed(t);
          if (familiarName(r) === family) { add(rec, r); found = true; }
        }
      }
      if (!found) {
        const rec = deps.images.searchId(name);
        if (!rec) throw new NotFoundError(`No such image: ${name}`);
        add(rec);
      }
      continue;
    }
    const rec = deps.images.get(name);
    if (!rec) throw new NotFoundError('reference does not exist');
    add(rec, ref);
  }
  return [...byId.values()];
}

interface LayerEntry { blob: LayerBlob; diffID: string; size: number }
type BlobEntry = { kind: 'bytes'; data: Buffer; mtime: number } | { kind: 'layer'; layer: LayerEntry; mtime: number };

/** Uncompressed sizes by diffID, counted once per daemon (tar headers need them first). */
const SIZE_CACHE = new Map<string, number>();

/** The archive as a stream of chunks. Everything that can fail before the first byte fails here. */
export async function saveArchive(deps: TransferDeps, images: SaveImage[]): Promise<AsyncGenerator<Buffer>> {
  const blobs = new Map<string, BlobEntry>();
  const index: unknown[] = [];
  const manifest: unknown[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const { record, refs } of images) {
    const diffIDs = record.config.rootfs?.diff_ids ?? [];
    if (diffIDs.length === 0) throw new SystemError('empty export - not implemented');
    const created = Math.floor((Date.parse(record.config.created ?? '') || 0) / 1000);
    const stored = (await imageLayerBlobs(record, deps.content)).layers;
    const layerDescs = [];
    for (let i = 0; i < diffIDs.length; i++) {
      const blob = stored[i];
      if (!blob) throw new SystemError(`layer ${i} of image ${record.id} has no stored blob to export`);
      const diffID = diffIDs[i]!;
      const size = await uncompressedSize(deps, blob, diffID);
      blobs.set(diffID.slice(7), { kind: 'layer', layer: { blob, diffID, size }, mtime: created });
      layerDescs.push({ mediaType: OCI_LAYER, digest: diffID, size });
    }
    const config = await deps.content.read(record.id);
    blobs.set(record.id.slice(7), { kind: 'bytes', data: config, mtime: created });
    const m = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: record.id, size: config.length },
      layers: layerDescs,
    }));
    const mDigest = `sha256:${createHash('sha256').update(m).digest('hex')}`;
    blobs.set(mDigest.slice(7), { kind: 'bytes', data: m, mtime: 0 });
    const platform = { architecture: record.config.architecture, os: record.config.os, ...(record.config.variant ? { variant: record.config.variant } : {}) };
    const desc = { mediaType: OCI_MANIFEST, digest: mDigest, size: m.length };
    for (const ref of refs) {
      (repositories[familiarName(ref)] ??= {})[ref.tag!] = diffIDs[diffIDs.length - 1]!.slice(7);
      index.push({ ...desc, annotations: { 'io.containerd.image.name': referenceString(ref), 'org.opencontainers.image.ref.name': ref.tag }, platform });
    }
    if (refs.length === 0) index.push({ ...desc, platform });
    manifest.push({
      Config: `blobs/sha256/${record.id.slice(7)}`,
      RepoTags: refs.length ? refs.map((r) => familiarString(r)) : null,
      Layers: diffIDs.map((d) => `blobs/sha256/${d.slice(7)}`),
    });
  }
  const now = Math.floor(Date.now() / 1000);
  const tail: Array<[string, Buffer, number]> = [
    ['index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: index })), now],
    ['manifest.json', Buffer.from(JSON.stringify(manifest) + '\n'), 0],
    ['oci-layout', Buffer.from(OCI_LAYOUT), 0],
  ];
  if (Object.keys(repositories).length) tail.push(['repositories', Buffer.from(JSON.stringify(repositories) + '\n'), 0]);
  // The blobs stay while they stream, whatever an rmi meanwhile does.
  const release = deps.content.hold([...blobs.values()].map((e) => (e.kind === 'layer' ? e.layer.blob.digest : '')).filter(Boolean));
  return (async function* () {
    try {
      yield* write(deps, [...blobs.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)), tail);
    } finally {
      release();
    }
  })();
}

async function* write(deps: TransferDeps, blobs: Array<[string, BlobEntry]>, tail: Array<[string, Buffer, number]>): AsyncGenerator<Buffer> {
  const dir = (name: string): Buffer => encodeHeader({ name, type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: 0 });
  const file = (name: string, size: number, mtime: number): Buffer => encodeHeader({ name, type: 'file', mode: 0o644, uid: 0, gid: 0, size, mtime });
  yield dir('blobs/');
  yield dir('blobs/sha256/');
  for (const [hex, e] of blobs) {
    const name = `blobs/sha256/${hex}`;
    if (e.kind === 'bytes') {
      yield Buffer.concat([file(name, e.data.length, e.mtime), e.data, dataPadding(e.data.length)]);
      continue;
    }
    yield file(name, e.layer.size, e.mtime);
    yield* layerBytes(deps, e.layer);
    yield dataPadding(e.layer.size);
  }
  for (const [name, data, mtime] of tail) yield Buffer.concat([file(name, data.length, mtime), data, dataPadding(data.length)]);
  yield END_OF_ARCHIVE;
}

async function openUncompressed(deps: TransferDeps, blob: LayerBlob, diffID: string): Promise<Readable> {
  const raw = await openBlob(deps.content, blob.digest);
  return blob.digest === diffID ? raw : decompress(raw);
}

/** The layer's tar, checked against its diffID and size as it goes (a corrupt store ends the stream). */
async function* layerBytes(deps: TransferDeps, l: LayerEntry): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  let n = 0;
  for await (const c of await openUncompressed(deps, l.blob, l.diffID)) {
    const b = c as Buffer;
    n += b.length;
    if (n > l.size) throw new SystemError(`layer ${l.diffID}: stored blob ${l.blob.digest} is longer than counted`);
    hash.update(b);
    yield b;
  }
  if (n !== l.size || `sha256:${hash.digest('hex')}` !== l.diffID) {
    throw new SystemError(`layer ${l.diffID}: stored blob ${l.blob.digest} does not match the diffID`);
  }
}

async function uncompressedSize(deps: TransferDeps, blob: LayerBlob, diffID: string): Promise<number> {
  if (blob.digest === diffID) return blob.size;
  const known = SIZE_CACHE.get(diffID);
  if (known !== undefined) return known;
  const hash = createHash('sha256');
  let n = 0;
  for await (const c of await openUncompressed(deps, blob, diffID)) {
    n += (c as Buffer).length;
    hash.update(c as Buffer);
  }
  if (`sha256:${hash.digest('hex')}` !== diffID) throw new SystemError(`layer ${diffID}: stored blob ${blob.digest} does not match the diffID`);
  SIZE_CACHE.set(diffID, n);
  return n;
}

/** The `names` query of GET /images/get: at least one. */
export function checkNames(names: string[]): void {
  if (names.length === 0) throw new InvalidParameterError('no images specified');
}
