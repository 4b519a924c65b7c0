/**
 * docker commit: a container's changes as a new image (moby daemon/commit.go and image/image.go,
 * read for facts):
 *
 *   config   = the request's Config, else the container's; then the `changes` (Dockerfile
 *              instructions) applied to it; then merged with the container's Config (empty fields
 *              filled in: User, ExposedPorts, Env by key, Labels, Cmd/Entrypoint, WorkingDir…);
 *   layer    = the container's upper dir as an OCI tar (diff.ts), applied by the layer store on the
 *              image's top layer (a snapshot keyed by its chain ID), and stored gzip-compressed in
 *              the content store for push, in one pass; an empty diff adds no layer, only a
 *              history entry with empty_layer (as moby's layer.IsEmpty);
 *   image    = the parent's config with config, container, container_config, created, author,
 *              docker_version, rootfs.diff_ids + the new diffID and one more history entry
 *              (created_by = the container's Cmd joined by spaces, comment, author).
 */
import { PassThrough, Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { InvalidParameterError } from '../errors.js';
import type { ContainerConfig, ContainerRecord } from '../containers/types.js';
import { CONTAINER_MOUNTPOINTS, diffTar } from '../layers/diff.js';
import { END_OF_ARCHIVE } from '../layers/tar-writer.js';
import type { ContentStore } from '../content/store.js';
import type { LayerStore } from '../layers/store.js';
import type { ImageStore } from './store.js';
import { imageLayerBlobs } from './layer-blobs.js';
import type { ImageConfig, ImageRecord, LayerBlob } from './types.js';

/** sha256 of the empty tar (1024 zero bytes): moby's layer.DigestSHA256EmptyTar. */
export const EMPTY_LAYER_DIFF_ID = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';
export const DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

export interface CommitDeps {
  content: ContentStore;
  layers: LayerStore;
  images: ImageStore;
}

export interface CommitOptions {
  /** Full reference to tag ('docker.io/library/x:latest' or 'x:tag'); none: a dangling image. */
  reference?: string;
  comment?: string;
  author?: string;
  /** Dockerfile instructions (`--change`). */
  changes?: string[];
  /** The request body: Config overrides (null/undefined: the container's Config). */
  config?: Partial<ContainerConfig> | null;
  engineVersion?: string;
}

type Config = Partial<ContainerConfig> & Record<string, unknown>;

function clone<T>(v: T): T {
  return v === undefined ? v : JSON.parse(JSON.stringify(v)) as T;
}

// ------------------------------------------------------------------ --change

/** Splits a Dockerfile line into instruction and the rest. */
function splitInstruction(line: string): [string, string] {
  const m = /^\s*(\S+)\s*(.*?)\s*$/s.exec(line);
  if (!m) return ['', ''];
  return [m[1]!.toUpperCase(), m[2]!];
}

/** JSON array form (exec form) or shell form → ["/bin/sh","-c",…]. */
function execOrShell(rest: string, shell: string[] = ['/bin/sh', '-c']): string[] {
  const t = rest.trim();
  if (t.startsWith('[')) {
    try {
      const v = JSON.parse(t) as unknown;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    } catch { /* not JSON: shell form, as Docker */ }
  }
  return [...shell, t];
}

/** Dockerfile word splitting for ENV/LABEL: quotes and backslash escapes. */
function words(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: '"' | "'" | null = null;
  let has = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) { quote = null; continue; }
      if (c === '\\' && quote === '"' && i + 1 < s.length) { cur += s[++i]; continue; }
      cur += c;
      continue;
    }
    if (c === '"' || c === "'") { quote = c; has = true; continue; }
    if (c === '\\' && i + 1 < s.length) { cur += s[++i]; has = true; continue; }
    if (/\s/.test(c)) {
      if (cur || has) out.push(cur);
      cur = '';
      has = false;
      continue;
    }
    cur += c;
    has = true;
  }
  if (quote) throw new InvalidParameterError(`unexpected end of statement while looking for matching ${quote}`);
  if (cur || has) out.push(cur);
  return out;
}

/** `k=v k2="v 2"` pairs, or the legacy `k v` form (one pair). */
function keyValues(what: string, rest: string): Array<[string, string]> {
  const ws = words(rest);
  if (ws.length === 0) throw new InvalidParameterError(`${what} requires at least one argument`);
  if (!ws[0]!.includes('=')) {
    // legacy form: the first word is the key, the rest of the line (as written) the value
    const m = /^\s*\S+\s+(.*)$/s.exec(rest);
    if (!m) throw new InvalidParameterError(`${what} must have two arguments`);
    return [[ws[0]!, words(m[1]!).join(' ')]];
  }
  return ws.map((w) => {
    const i = w.indexOf('=');
    if (i <= 0) throw new InvalidParameterError(`${what} names can not be blank`);
    return [w.slice(0, i), w.slice(i + 1)];
  });
}

/**
 * Applies `--change` instructions to a config (moby's dockerfile.BuildFromConfig for the commands
 * commit allows). ENTRYPOINT clears a Cmd not set by a CMD of the same batch, as in a Dockerfile.
 */
export function applyChanges(config: Config, changes: string[]): Config {
  let cmdSet = false;
  for (const raw of changes) {
    for (const line of raw.split('\n')) {
      if (!line.trim() || line.trim().startsWith('#')) continue;
      const [ins, rest] = splitInstruction(line);
      switch (ins) {
        case 'CMD':
          config.Cmd = execOrShell(rest);
          cmdSet = true;
          break;
        case 'ENTRYPOINT':
          config.Entrypoint = rest.trim() ? execOrShell(rest) : null;
          if (!cmdSet) config.Cmd = null;
          break;
        case 'ENV': {
          const env = [...(config.Env ?? [])];
          for (const [k, v] of keyValues('ENV', rest)) {
            const i = env.findIndex((e) => e.split('=')[0] === k);
            if (i >= 0) env[i] = `${k}=${v}`;
            else env.push(`${k}=${v}`);
          }
          config.Env = env;
          break;
        }
        case 'LABEL': {
          const labels = { ...(config.Labels ?? {}) };
          for (const [k, v] of keyValues('LABEL', rest)) labels[k] = v;
          config.Labels = labels;
          break;
        }
        case 'WORKDIR': {
          const w = words(rest).join(' ');
          if (!w) throw new InvalidParameterError('WORKDIR requires exactly one argument');
          config.WorkingDir = w.startsWith('/') ? w : `${(config.WorkingDir || '/').replace(/\/+$/, '')}/${w}`;
          break;
        }
        case 'USER': {
          const u = words(rest);
          if (u.length !== 1) throw new InvalidParameterError('USER requires exactly one argument');
          config.User = u[0]!;
          break;
        }
        case 'EXPOSE': {
          const ports = { ...(config.ExposedPorts ?? {}) };
          for (const p of words(rest)) {
            if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p)) throw new InvalidParameterError(`Invalid containerPort: ${p}`);
            ports[p.includes('/') ? p.toLowerCase() : `${p}/tcp`] = {};
          }
          config.ExposedPorts = ports;
          break;
        }
        case 'VOLUME': {
          const vols = { ...(config.Volumes ?? {}) };
          const t = rest.trim();
          const list = t.startsWith('[') ? (JSON.parse(t) as string[]) : words(t);
          for (const v of list) vols[v] = {};
          config.Volumes = vols;
          break;
        }
        case 'STOPSIGNAL':
          config.StopSignal = words(rest)[0] ?? '';
          break;
        case 'ONBUILD':
          config.OnBuild = [...(config.OnBuild ?? []), rest.trim()];
          break;
        default:
          throw new InvalidParameterError(`${ins.toLowerCase()} is not a valid change command`);
      }
    }
  }
  return config;
}

/** moby's merge(userConf, imageConf): fills what the user config leaves empty. */
export function mergeConfig(user: Config, base: Partial<ContainerConfig>): Config {
  if (!user.User) user.User = base.User ?? '';
  if (!user.ExposedPorts || Object.keys(user.ExposedPorts).length === 0) user.ExposedPorts = base.ExposedPorts;
  else for (const p of Object.keys(base.ExposedPorts ?? {})) user.ExposedPorts[p] ??= {};
  if (!user.Env || user.Env.length === 0) user.Env = base.Env ?? [];
  else {
    const keys = new Set(user.Env.map((e) => e.split('=')[0]));
    for (const e of base.Env ?? []) if (!keys.has(e.split('=')[0])) user.Env.push(e);
  }
  user.Labels ??= {};
  for (const [k, v] of Object.entries(base.Labels ?? {})) if (!(k in user.Labels)) user.Labels[k] = v;
  if (!user.Entrypoint || user.Entrypoint.length === 0) {
    if (!user.Cmd || user.Cmd.length === 0) user.Cmd = base.Cmd ?? null;
    if (user.Entrypoint === undefined || user.Entrypoint === null) user.Entrypoint = base.Entrypoint ?? null;
  }
  if (!user.WorkingDir) user.WorkingDir = base.WorkingDir ?? '';
  if (!user.Volumes || Object.keys(user.Volumes).length === 0) user.Volumes = base.Volumes ?? null;
  else for (const v of Object.keys(base.Volumes ?? {})) user.Volumes[v] ??= {};
  if (!user.StopSignal && base.StopSignal) user.StopSignal = base.StopSignal;
  if (user.Healthcheck === undefined && base.Healthcheck !== undefined) user.Healthcheck = base.Healthcheck;
  return user;
}

/** The config a commit writes (before the layer is known). */
export function commitConfig(container: ContainerRecord, opts: CommitOptions): Config {
  const start: Config = clone(opts.config ?? container.Config) as Config;
  const changed = applyChanges(start, opts.changes ?? []);
  return mergeConfig(changed, container.Config);
}

// ------------------------------------------------------------------ the layer

/** Pulls the first chunk of the diff: an empty diff is just the end-of-archive marker. */
async function openDiff(upperDir: string): Promise<{ empty: boolean; stream: Readable }> {
  const it = diffTar(upperDir, { skipMountpoints: CONTAINER_MOUNTPOINTS })[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done || (first.value.length === END_OF_ARCHIVE.length && first.value.equals(END_OF_ARCHIVE))) {
    await it.return?.(undefined);
    return { empty: true, stream: Readable.from([]) };
  }
  async function* all() {
    yield first.value!;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return { empty: false, stream: Readable.from(all()) };
}

/**
 * The upper dir as a new layer on `parentChainID`: applied (snapshot by chain ID) and stored
 * gzip-compressed, from one read of the tree. `deferSync`: without fsyncs, the snapshot pending
 * until the caller's LayerStore.seal() (a build seals once, before it reports the image).
 */
export async function commitLayer(deps: CommitDeps, upperDir: string, parentChainID: string | null, opts: { deferSync?: boolean } = {}): Promise<
  { empty: true } | { empty: false; chainID: string; diffID: string; blob: LayerBlob }
> {
  const { empty, stream } = await openDiff(upperDir);
  if (empty) return { empty: true };
  const toApply = new PassThrough({ highWaterMark: 1 << 20 });
  const toGzip = new PassThrough({ highWaterMark: 1 << 20 });
  stream.on('error', (e) => { toApply.destroy(e); toGzip.destroy(e); });
  stream.pipe(toApply);
  stream.pipe(toGzip);
  const gz = toGzip.pipe(createGzip());
  toGzip.on('error', (e) => gz.destroy(e));
  const writer = await deps.content.writer({}, { sync: !opts.deferSync });
  const stored = (async () => {
    try {
      for await (const chunk of gz) await writer.write(chunk as Buffer);
      const size = writer.offset;
      return { digest: await writer.commit(), size };
    } catch (e) {
      await writer.abort();
      throw e;
    }
  })();
  stored.catch(() => {});
  let applied;
  try {
    applied = await deps.layers.apply(parentChainID, toApply, undefined, undefined, opts.deferSync);
  } catch (e) {
    stream.destroy(e as Error);
    // The store's side fails with the same error (its input was destroyed): wait for its cleanup only.
    await stored.catch(() => undefined);
    throw e;
  }
  const blob = await stored;
  return { empty: false, chainID: applied.chainID, diffID: applied.diffID, blob: { mediaType: DOCKER_LAYER_GZIP, ...blob } };
}

// ------------------------------------------------------------------ the image

export async function commitContainer(
  deps: CommitDeps, container: ContainerRecord, upperDir: string, parent: ImageRecord, opts: CommitOptions,
): Promise<ImageRecord> {
  const config = commitConfig(container, opts);
  const parentChain = parent.chainIDs;
  const top = parentChain.length ? parentChain[parentChain.length - 1]! : null;
  const layer = await commitLayer(deps, upperDir, top);
  const parentBlobs = (await imageLayerBlobs(parent, deps.content)).layers;

  const created = new Date().toISOString();
  const pc = parent.config;
  const emptyLayer = layer.empty || layer.diffID === EMPTY_LAYER_DIFF_ID;
  const history = [...(pc.history ?? [])];
  const h: NonNullable<ImageConfig['history']>[number] = { created };
  if (opts.author) h.author = opts.author;
  h.created_by = (container.Config.Cmd ?? []).join(' ');
  if (opts.comment) h.comment = opts.comment;
  if (emptyLayer) h.empty_layer = true;
  history.push(h);

  const image: Record<string, unknown> = {
    architecture: pc.architecture,
    ...(pc.variant ? { variant: pc.variant } : {}),
    os: pc.os,
    ...(opts.author ? { author: opts.author } : {}),
    config,
    container: container.Id,
    container_config: container.Config,
    created,
    docker_version: opts.engineVersion ?? '',
    history,
    rootfs: { type: 'layers', diff_ids: [...(pc.rootfs?.diff_ids ?? []), ...(emptyLayer ? [] : [layer.empty ? '' : layer.diffID])] },
  };
  for (const k of ['os.version', 'os.features'] as const) {
    const v = (pc as unknown as Record<string, unknown>)[k];
    if (v !== undefined) image[k] = v;
  }
  const configBytes = Buffer.from(JSON.stringify(image));
  const chainIDs = emptyLayer || layer.empty ? [...parentChain] : [...parentChain, layer.chainID];
  const layerBlobs = emptyLayer || layer.empty ? [...parentBlobs] : [...parentBlobs, layer.blob];
  if (emptyLayer && !layer.empty) {
    // A diff that is only the end marker was still snapshotted: it is not part of the image.
    await deps.content.delete(layer.blob.digest).catch(() => undefined);
  }
  return deps.images.create(configBytes, {
    chainIDs,
    parent: parent.id,
    repoTag: opts.reference,
    blobs: layerBlobs.filter((b): b is LayerBlob => b !== null).map((b) => b.digest),
    layerBlobs,
  });
}
