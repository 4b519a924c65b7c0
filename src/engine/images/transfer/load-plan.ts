/**
 * What an image archive holds, read from its index files once the whole archive is in: the
 * `manifest.json` of docker save (both layouts: Docker 25+'s `blobs/sha256/…` paths and the older
 * `<id>.json` + `<id>/layer.tar`), else an OCI layout's `index.json` (oci-archive). Every name the
 * index gives must be a clean path to a file inside the archive; configs must list exactly as many
 * diffIDs as there are layers. Nothing is written here.
 */
import type { ContentStore } from '../../content/store.js';
import { hostPlatform } from '../../distribution/platform.js';
import { familiarString, parseNormalizedNamed } from '../../../wire/reference.js';
import type { ImageConfig } from '../types.js';
import { archivePath, type ArchiveFile, type ArchiveIndex } from './archive-index.js';
import { InvalidArchiveError } from './errors.js';

export type LayerSource = Exclude<ArchiveFile, { kind: 'alias' } | { kind: 'outside' }>;

export interface LoadItem {
  configBytes: Buffer;
  config: ImageConfig;
  /** Bottom first, aligned with config.rootfs.diff_ids. */
  layers: LayerSource[];
  /** Familiar name:tag strings ('busybox:latest'). */
  repoTags: string[];
}

const JSON_MAX = 8 << 20;
const SHA256 = /^sha256:[a-f0-9]{64}$/;
const ANNOTATION_IMAGE_NAME = 'io.containerd.image.name';
const MANIFEST_TYPES = new Set(['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json']);
const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);

export class LoadPlanner {
  constructor(private readonly archive: ArchiveIndex, private readonly content: ContentStore) {}

  async plan(): Promise<LoadItem[]> {
    if (this.archive.has('manifest.json')) return this.fromManifest();
    if (this.archive.has('index.json')) return this.fromOciIndex();
    throw new InvalidArchiveError('no manifest.json or index.json in the archive (the pre-1.10 layout of repositories and <id>/json alone is not supported)');
  }

  private file(name: string, what: string): LayerSource {
    const path = archivePath(name, what);
    const f = this.archive.lookup(path);
    if (!f) throw new InvalidArchiveError(`${what} ${JSON.stringify(name)} is not in the archive`);
    if (f.kind === 'outside') throw new InvalidArchiveError(`${what} ${JSON.stringify(name)} links outside the archive (${JSON.stringify(f.target)})`);
    return f;
  }

  private async bytes(name: string, what: string): Promise<Buffer> {
    const f = this.file(name, what);
    if (f.kind === 'memory') return f.data;
    if (f.size > JSON_MAX) throw new InvalidArchiveError(`${what} ${JSON.stringify(name)} is too large (${f.size} bytes)`);
    return this.content.read(f.digest);
  }

  private async json(name: string, what: string): Promise<unknown> {
    const b = await this.bytes(name, what);
    try {
      return JSON.parse(b.toString('utf8'));
    } catch (e) {
      throw new InvalidArchiveError(`${what} ${JSON.stringify(name)} is not valid JSON: ${(e as Error).message}`);
    }
  }

  private async item(configName: string, layerNames: unknown, tags: unknown, what: string): Promise<LoadItem> {
    if (!Array.isArray(layerNames) || !layerNames.every((l) => typeof l === 'string')) {
      throw new InvalidArchiveError(`${what}: Layers must be a list of paths`);
    }
    const configBytes = await this.bytes(configName, 'config');
    let config: ImageConfig;
    try {
      config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
    } catch (e) {
      throw new InvalidArchiveError(`config ${JSON.stringify(configName)} is not valid JSON: ${(e as Error).message}`);
    }
    const diffIDs = (config as { rootfs?: { diff_ids?: unknown } } | null)?.rootfs?.diff_ids;
    if (!Array.isArray(diffIDs) || !diffIDs.every((d) => typeof d === 'string' && SHA256.test(d))) {
      throw new InvalidArchiveError(`config ${JSON.stringify(configName)} has no valid rootfs.diff_ids`);
    }
    if (diffIDs.length !== layerNames.length) {
      throw new InvalidArchiveError(`invalid manifest, layers length mismatch: expected ${diffIDs.length}, got ${layerNames.length}`);
    }
    const layers = (layerNames as string[]).map((l) => this.file(l, 'layer'));
    return { configBytes, config, layers, repoTags: repoTags(tags) };
  }

  private async fromManifest(): Promise<LoadItem[]> {
    const m = await this.json('manifest.json', 'file');
    if (!Array.isArray(m)) throw new InvalidArchiveError('manifest.json is not a list');
    const out: LoadItem[] = [];
    for (const [i, e] of m.entries()) {
      const entry = e as { Config?: unknown; Layers?: unknown; RepoTags?: unknown } | null;
      if (!entry || typeof entry !== 'object' || typeof entry.Config !== 'string') {
        throw new InvalidArchiveError(`manifest.json entry ${i} has no Config`);
      }
      out.push(await this.item(entry.Config, entry.Layers ?? [], entry.RepoTags, `manifest.json entry ${i}`));
    }
    return out;
  }

  private async fromOciIndex(): Promise<LoadItem[]> {
    const idx = await this.json('index.json', 'file') as { manifests?: unknown };
    if (!Array.isArray(idx?.manifests)) throw new InvalidArchiveError('index.json has no manifests');
    const out: LoadItem[] = [];
    const byManifest = new Map<string, LoadItem>();
    for (const d of idx.manifests as Descriptor[]) {
      const desc = await this.manifestOf(d, 0);
      const name = d.annotations?.[ANNOTATION_IMAGE_NAME];
      const existing = byManifest.get(desc.digest);
      if (existing) {
        if (name) existing.repoTags.push(...repoTags([name]));
        continue;
      }
      const m = await this.json(blobPath(desc.digest), 'manifest') as { config?: Descriptor; layers?: Descriptor[] };
      if (!m?.config || !Array.isArray(m.layers)) throw new InvalidArchiveError(`manifest ${desc.digest} has no config or layers`);
      const item = await this.item(blobPath(m.config.digest), m.layers.map((l) => blobPath(l?.digest)), name ? [name] : [], `manifest ${desc.digest}`);
      byManifest.set(desc.digest, item);
      out.push(item);
    }
    return out;
  }

  /** An index entry's image manifest: nested indexes resolved to this host's platform. */
  private async manifestOf(d: Descriptor, depth: number): Promise<Descriptor> {
    if (!d || typeof d.digest !== 'string') throw new InvalidArchiveError('index.json has an entry without a digest');
    if (MANIFEST_TYPES.has(d.mediaType ?? '') || !INDEX_TYPES.has(d.mediaType ?? '')) return d;
    if (depth > 4) throw new InvalidArchiveError('index nesting too deep');
    const idx = await this.json(blobPath(d.digest), 'index') as { manifests?: Descriptor[] };
    const host = hostPlatform();
    const pick = (idx?.manifests ?? []).find((m) => !m?.platform || (m.platform.os === host.os && m.platform.architecture === host.architecture));
    if (!pick) throw new InvalidArchiveError(`index ${d.digest} has no image for ${host.os}/${host.architecture}`);
    return this.manifestOf(pick, depth + 1);
  }
}

interface Descriptor {
  mediaType?: string;
  digest: string;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string };
}

function blobPath(digest: unknown): string {
  if (typeof digest !== 'string' || !SHA256.test(digest)) throw new InvalidArchiveError(`invalid digest ${JSON.stringify(digest)}`);
  return `blobs/sha256/${digest.slice(7)}`;
}

/** RepoTags as dockerd checks them: each a name with a tag. */
function repoTags(tags: unknown): string[] {
  if (tags === undefined || tags === null) return [];
  if (!Array.isArray(tags)) throw new InvalidArchiveError('RepoTags must be a list');
  return tags.map((t) => {
    if (typeof t !== 'string') throw new InvalidArchiveError('RepoTags must be strings');
    let ref;
    try {
      ref = parseNormalizedNamed(t);
    } catch {
      throw new InvalidArchiveError(`invalid tag ${JSON.stringify(t)}`);
    }
    if (!ref.tag || ref.digest) throw new InvalidArchiveError(`invalid tag ${JSON.stringify(t)}`);
    return familiarString(ref);
  });
}
