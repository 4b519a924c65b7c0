/**
 * `POST /build` (the legacy builder's API, moby builder/dockerfile read for its behaviour):
 * the context is unpacked, the Dockerfile parsed (parser.ts) and planned (stages.ts: only the
 * stages the target needs, independent ones at once, output in stage order by output.ts), and
 * each instruction becomes an image: config-only steps a new image record on the same layers,
 * RUN a container of the current image run to its end and its upper dir committed
 * (images/commit.ts commitLayer), COPY/ADD a staging folder committed the same way (copy.ts).
 * Every step first asks the cache (cache.ts). Step containers and staging folders are removed
 * when the step ends, fails or the client goes away.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { InvalidParameterError, SystemError } from '../errors.js';
import { commitLayer, EMPTY_LAYER_DIFF_ID, type CommitDeps } from '../images/commit.js';
import { imageLayerBlobs } from '../images/layer-blobs.js';
import type { CreateImageOptions } from '../images/store.js';
import type { ImageConfig, ImageRecord, JSONMessage, LayerBlob, ProgressSink } from '../images/types.js';
import type { AttachSession } from '../containers/hub.js';
import { readEtcFile, readRegularFileInRoot, resolveEntry } from '../host/in-root.js';
import { resolveUser } from '../runtime/spec.js';
import { familiarString, parseDockerRef } from '../../wire/reference.js';
import { isIgnored, parseDockerignore, type IgnorePattern } from '../../util/dockerignore.js';
import { BuildCache, cacheKey } from './cache.js';
import { parsePruneFilters, pruneMatches } from '../prune.js';
import type { FilterArgs } from '../filters.js';
import { decompressContext, extractContext, unpackContext } from './context.js';
import { remoteContext } from './remote.js';
import { collectSources, copySources, CopyNotFoundError, ensureDir, hashSources, writeOneFile, type CopySource, type Owner } from './copy.js';
import { OrderedOutput } from './output.js';
import { parseDockerfile, type Node } from './parser.js';
import { keyValues, processWord, processWords, type Env } from './shell-lex.js';
import { argPairs, planStages, stageRef, type Plan, type Stage } from './stages.js';
import { healthcheckOf } from './healthcheck.js';
import { outboundRefusal } from '../../util/outbound.js';

export interface BuildOptions {
  dockerfile: string;
  tags: string[];
  buildArgs: Record<string, string | null>;
  labels: Record<string, string>;
  target?: string;
  noCache: boolean;
  quiet: boolean;
  /** remove step containers (rm, forcerm: always, also after a failure) */
  rm: boolean;
  pull: boolean;
  networkMode?: string;
  extraHosts: string[];
  shmSize?: number;
  cacheFrom: string[];
  platform?: string;
  /** resource limits for RUN containers (HostConfig fields) */
  resources: Record<string, unknown>;
}

export interface BuildImages {
  get(ref: string): ImageRecord | undefined;
  pull(ref: string, progress: ProgressSink, platform?: string): Promise<ImageRecord>;
  lowerDirs(rec: ImageRecord): string[];
  create(configBytes: Uint8Array, opts: CreateImageOptions): Promise<ImageRecord>;
  tag(id: string, ref: string): Promise<void>;
  commitDeps(): CommitDeps;
}

export interface BuildContainers {
  create(body: Record<string, unknown>): Promise<string>;
  attach(id: string): AttachSession;
  start(id: string): Promise<void>;
  wait(id: string): Promise<{ StatusCode: number }>;
  kill(id: string): Promise<void>;
  /** forced, with its anonymous volumes */
  remove(id: string): Promise<void>;
  upperDir(id: string): string;
}

export interface BuilderDeps {
  dir: string;
  images: BuildImages;
  containers: BuildContainers;
  engineVersion: string;
}

type Config = Record<string, unknown> & {
  Env?: string[]; Cmd?: string[] | null; Entrypoint?: string[] | null; WorkingDir?: string; User?: string;
  Labels?: Record<string, string>; ExposedPorts?: Record<string, object>; Volumes?: Record<string, object> | null;
  Shell?: string[]; OnBuild?: string[] | null; StopSignal?: string; Healthcheck?: unknown;
};

/** Build arguments usable without an ARG line (moby's builtinAllowedBuildArgs). */
export const PREDEFINED_ARGS = new Set([
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy',
]);
const DEFAULT_SHELL = ['/bin/sh', '-c'];

/** The failure of a RUN: errorDetail.code is its exit code. */
export class RunFailedError extends InvalidParameterError {
  constructor(message: string, readonly exitCode: number) { super(message); }
}

export class BuildAbortedError extends SystemError {
  constructor() { super('the build was cancelled'); }
}

export function hostPlatform(): { os: string; architecture: string } {
  const arch = ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[process.arch] ?? process.arch;
  return { os: 'linux', architecture: arch };
}

/** A platform the host runs (`linux`, `linux/amd64`), else a 400. */
export function checkPlatform(p: string | undefined): void {
  if (!p) return;
  const { os, architecture } = hostPlatform();
  const [pos, parch] = p.toLowerCase().split('/');
  if (pos !== os || (parch !== undefined && parch !== architecture)) {
    throw new InvalidParameterError(`platform ${p} is not supported by Berth: it builds for ${os}/${architecture} only`);
  }
}

interface StageState {
  stage: Stage;
  image?: ImageRecord;
  config: Config;
  author?: string;
  /** this stage's ARGs in effect */
  args: Map<string, string>;
  cmdSet: boolean;
}

const id12 = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

export class Builder {
  readonly cache: BuildCache;
  private readonly tmp: string;

  constructor(private readonly deps: BuilderDeps) {
    this.cache = new BuildCache(deps.dir);
    this.tmp = join(deps.dir, 'tmp');
  }

  async init(): Promise<void> {
    await mkdir(this.deps.dir, { recursive: true, mode: 0o700 });
    // contexts and staging folders of builds a crash interrupted
    await rm(this.tmp, { recursive: true, force: true });
    await mkdir(this.tmp, { recursive: true, mode: 0o700 });
    await this.cache.init();
  }

  /**
   * Runs one build; returns the image ID. Progress and output go to `emit` as JSON messages.
   * `source`: the request body, or a `remote` (a git repository, a tarball or Dockerfile URL).
   */
  async build(source: { body: AsyncIterable<Uint8Array> } | { remote: string }, opts: BuildOptions, emit: (m: JSONMessage) => void, signal: AbortSignal): Promise<string> {
    const top = await mkdtemp(join(this.tmp, 'ctx-'));
    let run: BuildRun | undefined;
    try {
      let ctxDir = join(top, 'c');
      await mkdir(ctxDir);
      if ('body' in source) await unpackContext(ctxDir, source.body, opts.dockerfile);
      else ctxDir = await remoteContext(source.remote, ctxDir, opts.dockerfile, signal);
      run = new BuildRun(this, this.deps, ctxDir, opts, emit, signal, this.tmp);
      return await run.run();
    } finally {
      await run?.seal().catch(() => undefined);
      await run?.cleanup();
      await rm(top, { recursive: true, force: true });
    }
  }

  /**
   * Empties the cache and removes the step images nothing else holds (`removeImage` says whether
   * it removed one: never a tagged image, one with children or one a container uses); the bytes
   * of the steps whose images went.
   */
  async prune(filters: FilterArgs, keepStorage: number, removeImage: (id: string) => Promise<boolean>): Promise<{ CachesDeleted: string[]; SpaceReclaimed: number }> {
    if (keepStorage) throw new InvalidParameterError('keep-storage is not supported by Berth\'s build cache');
    // cache records carry no labels: `label=` matches none of them, `label!=` all
    const f = parsePruneFilters(filters, ['until', 'label', 'label!']);
    const deleted: string[] = [];
    let space = 0;
    const entries = this.cache.entries().filter(([, r]) => pruneMatches(f, Date.parse(r.lastUsed), {}));
    await this.cache.delete(entries.map(([k]) => k));
    // newest first: a step's image is the parent of the next one's
    for (const [key, rec] of entries.sort((a, b) => b[1].created.localeCompare(a[1].created))) {
      deleted.push(key.slice(0, 25));
      if (await removeImage(rec.image).catch(() => false)) space += rec.size;
    }
    return { CachesDeleted: deleted, SpaceReclaimed: space };
  }

  /** GET /system/df's BuildCache records. */
  usage(): Array<Record<string, unknown>> {
    return this.cache.entries().map(([key, r]) => ({
      ID: key.slice(0, 25), Type: 'regular', Description: r.description, InUse: false, Shared: false,
      Size: r.size, CreatedAt: r.created, LastUsedAt: r.lastUsed, UsageCount: r.usageCount,
    }));
  }
}

class BuildRun {
  private readonly ignore: IgnorePattern[] = [];
  private plan!: Plan;
  private escape = '\\';
  private readonly stageImages = new Map<number, Promise<StageState>>();
  private readonly metaArgs = new Map<string, string>();
  private readonly usedArgs = new Set<string>();
  private readonly buildArgs: Map<string, string>;
  private total = 0;
  private readonly firstStep = new Map<number, number>();
  private out!: OrderedOutput;
  private readonly cacheFromIds?: Set<string>;
  private readonly containers = new Set<string>();
  /** aborted when a stage fails, so the others stop */
  private readonly failed = new AbortController();
  private readonly signal: AbortSignal;
  /** something was written unsynced: seal() before the image is reported */
  private wrote = false;

  constructor(
    private readonly builder: Builder, private readonly deps: BuilderDeps, private readonly ctxDir: string,
    private readonly opts: BuildOptions, private readonly emit: (m: JSONMessage) => void,
    clientGone: AbortSignal, private readonly tmp: string,
  ) {
    this.signal = AbortSignal.any([clientGone, this.failed.signal]);
    this.buildArgs = new Map(Object.entries(opts.buildArgs).filter((e): e is [string, string] => e[1] !== null));
    if (opts.cacheFrom.length) {
      this.cacheFromIds = new Set();
      for (const ref of opts.cacheFrom) {
        for (let img = deps.images.get(ref); img; img = img.parent ? deps.images.get(img.parent) : undefined) this.cacheFromIds.add(img.id);
      }
    }
  }

  async run(): Promise<string> {
    const text = await this.readDockerfile();
    const df = parseDockerfile(text);
    this.escape = df.escape;
    this.plan = planStages(df, (metaArgs) => {
      for (const n of metaArgs) {
        for (const [k, dflt] of argPairs(n, this.metaArgs, this.escape)) {
          const v = this.buildArgs.get(k) ?? dflt;
          if (v !== undefined) this.metaArgs.set(k, v);
          if (this.buildArgs.has(k)) this.usedArgs.add(k);
        }
      }
      return this.metaArgs;
    }, this.opts.target);
    checkPlatform(this.opts.platform);
    const target = this.plan.stages[this.plan.target]!;
    if (Object.keys(this.opts.labels).length) {
      // --label is a last LABEL step of the target, as the legacy builder adds it
      const line = 'LABEL ' + Object.entries(this.opts.labels).map(([k, v]) => `${JSON.stringify(k)}=${JSON.stringify(v)}`).join(' ');
      const label = parseDockerfile(line).nodes[0]!;
      target.nodes.push({ ...label, startLine: 0, endLine: 0 });
    }
    this.total = this.plan.metaArgs.length + this.plan.needed.reduce((s, i) => s + 1 + this.plan.stages[i]!.nodes.length, 0);
    let step = this.plan.metaArgs.length;
    for (const i of this.plan.needed) { this.firstStep.set(i, step); step += 1 + this.plan.stages[i]!.nodes.length; }
    this.out = new OrderedOutput([-1, ...this.plan.needed], (m) => this.emit(m));
    this.plan.metaArgs.forEach((n, k) => this.step(-1, k + 1, n));
    this.out.finish(-1);

    for (const i of this.plan.needed) {
      const p = this.runStage(this.plan.stages[i]!);
      p.catch(() => this.failed.abort()); // one stage failed: the others stop at their next step
      this.stageImages.set(i, p);
    }
    const results = await Promise.allSettled(this.plan.needed.map((i) => this.stageImages.get(i)!));
    // the first stage (in order) whose failure is its own, not the stop the others got
    const k = results.findIndex((r) => r.status === 'rejected' && !(r.reason instanceof BuildAbortedError));
    const first = k >= 0 ? k : results.findIndex((r) => r.status === 'rejected');
    if (first >= 0) {
      this.out.flushThrough(this.plan.needed[first]!);
      throw (results[first] as PromiseRejectedResult).reason;
    }
    const final = await this.stageImages.get(this.plan.target)!;
    const image = final.image ?? await this.writeImage(final, '', null);
    await this.seal();
    const unused = [...this.buildArgs.keys()].filter((k) => !this.usedArgs.has(k) && !PREDEFINED_ARGS.has(k)).sort();
    if (unused.length) this.emit({ stream: `[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n` });
    this.emit({ aux: { ID: image.id } });
    if (this.opts.quiet) this.emit({ stream: `${image.id}\n` });
    else this.emit({ stream: `Successfully built ${id12(image.id)}\n` });
    for (const t of this.opts.tags) {
      await this.deps.images.tag(image.id, t);
      if (!this.opts.quiet) this.emit({ stream: `Successfully tagged ${familiarString(parseDockerRef(t))}\n` });
    }
    return image.id;
  }

  private async readDockerfile(): Promise<string> {
    const name = this.opts.dockerfile || 'Dockerfile';
    const cap = 16 << 20;
    let text: string;
    try {
      text = await readRegularFileInRoot(this.ctxDir, name, cap);
    } catch {
      try {
        if (this.opts.dockerfile) throw new Error();
        text = await readRegularFileInRoot(this.ctxDir, 'dockerfile', cap);
      } catch {
        throw new InvalidParameterError(`Cannot locate specified Dockerfile: ${name}`);
      }
    }
    for (const ignoreFile of [`${name}.dockerignore`, '.dockerignore']) {
      try {
        this.ignore.push(...parseDockerignore(await readRegularFileInRoot(this.ctxDir, ignoreFile, cap)));
        break;
      } catch { /* none */ }
    }
    return text;
  }

  // ---------------------------------------------------------------- output

  private write(stage: number, msg: JSONMessage): void {
    if (this.opts.quiet && msg.stream !== undefined) return;
    this.out.write(stage, msg);
  }

  private step(stage: number, n: number, node: Node): void {
    this.write(stage, { stream: `Step ${n}/${this.total} : ${node.original}` });
    this.write(stage, { stream: '\n' });
  }

  private checkAborted(): void {
    if (this.signal.aborted) throw new BuildAbortedError();
  }

  // ---------------------------------------------------------------- stages

  private async runStage(stage: Stage): Promise<StageState> {
    const state = await this.stageSteps(stage);
    this.out.finish(stage.index);
    return state;
  }

  private async stageSteps(stage: Stage): Promise<StageState> {
    let n = this.firstStep.get(stage.index)! + 1;
    this.step(stage.index, n++, stage.from);
    const state = await this.fromStep(stage);
    for (const node of stage.nodes) {
      this.checkAborted();
      this.step(stage.index, n++, node);
      await this.dispatch(state, node);
    }
    return state;
  }

  private async fromStep(stage: Stage): Promise<StageState> {
    checkPlatform(stage.platform);
    const state: StageState = { stage, config: {}, args: new Map(), cmdSet: false };
    const dep = stageRef(this.plan.stages.slice(0, stage.index), stage.base.toLowerCase(), false);
    if (dep !== undefined) {
      const from = await this.stageImages.get(dep)!;
      state.image = from.image ?? await this.writeImage(from, '', null);
    } else if (stage.base.toLowerCase() !== 'scratch') {
      state.image = await this.baseImage(stage.index, stage.base);
    }
    if (state.image) {
      state.config = JSON.parse(JSON.stringify(state.image.config.config ?? {})) as Config;
      this.write(stage.index, { stream: ` ---> ${id12(state.image.id)}\n` });
      const triggers = state.config.OnBuild ?? [];
      if (triggers.length) {
        this.write(stage.index, { stream: `# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n` });
        state.config.OnBuild = null;
        for (const t of triggers) {
          const node = parseDockerfile(t).nodes[0];
          if (node) await this.dispatch(state, node);
        }
      }
    } else {
      this.write(stage.index, { stream: ' ---> \n' });
    }
    return state;
  }

  private async baseImage(stage: number, ref: string): Promise<ImageRecord> {
    const have = this.deps.images.get(ref);
    if (have && !this.opts.pull) return have;
    try {
      return await this.deps.images.pull(ref, (m) => this.write(stage, m), this.opts.platform);
    } catch (e) {
      if (have) return have;
      throw e;
    }
  }

  // ---------------------------------------------------------------- instructions

  private env(state: StageState): Env {
    const env = new Map(state.args);
    for (const e of state.config.Env ?? []) {
      const i = e.indexOf('=');
      env.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
    }
    return env;
  }

  private word(state: StageState, s: string): string { return processWord(s, this.env(state), this.escape); }

  private async dispatch(state: StageState, node: Node): Promise<void> {
    const c = state.config;
    const env = this.env(state);
    switch (node.cmd) {
      case 'run': return this.runStep(state, node);
      case 'copy': case 'add': return this.copyStep(state, node);
      case 'workdir': return this.workdirStep(state, node);
      case 'env': {
        const list = [...(c.Env ?? [])];
        for (const [k, v] of keyValues('ENV', node.rest, env, this.escape)) {
          const i = list.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) list[i] = `${k}=${v}`; else list.push(`${k}=${v}`);
        }
        c.Env = list;
        break;
      }
      case 'label': {
        c.Labels = { ...(c.Labels ?? {}) };
        for (const [k, v] of keyValues('LABEL', node.rest, env, this.escape)) c.Labels[k] = v;
        break;
      }
      case 'arg':
        for (const [k, dflt] of argPairs(node, env, this.escape)) {
          const v = this.buildArgs.get(k) ?? dflt ?? this.metaArgs.get(k);
          if (this.buildArgs.has(k)) this.usedArgs.add(k);
          if (v !== undefined) state.args.set(k, v); else state.args.delete(k);
        }
        break;
      case 'cmd':
        c.Cmd = node.json ?? [...(c.Shell ?? DEFAULT_SHELL), node.rest];
        state.cmdSet = true;
        break;
      case 'entrypoint':
        c.Entrypoint = node.json ?? (node.rest.trim() ? [...(c.Shell ?? DEFAULT_SHELL), node.rest] : null);
        if (!state.cmdSet) c.Cmd = null;
        break;
      case 'user': {
        const u = this.word(state, node.rest.trim());
        if (!u) throw new InvalidParameterError('USER requires exactly one argument');
        c.User = u;
        break;
      }
      case 'expose': {
        c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
        for (const p of processWords(node.rest, env, this.escape)) for (const port of exposedPorts(p)) c.ExposedPorts[port] = {};
        break;
      }
      case 'volume': {
        c.Volumes = { ...(c.Volumes ?? {}) };
        const list = node.json ?? processWords(node.rest, env, this.escape);
        if (list.length === 0) throw new InvalidParameterError('VOLUME requires at least one argument');
        for (const v of list) {
          const p = node.json ? processWord(v, env, this.escape) : v;
          if (!p.trim()) throw new InvalidParameterError('VOLUME specified can not be an empty string');
          c.Volumes[p] = {};
        }
        break;
      }
      case 'stopsignal': {
        const s = this.word(state, node.rest.trim());
        if (!/^(SIG)?[A-Z0-9+-]+$|^\d+$/i.test(s)) throw new InvalidParameterError(`Invalid signal: ${s}`);
        c.StopSignal = s;
        break;
      }
      case 'shell':
        if (!node.json || node.json.length === 0) throw new InvalidParameterError('SHELL requires the arguments to be in JSON form');
        c.Shell = node.json;
        break;
      case 'healthcheck':
        c.Healthcheck = healthcheckOf(node, c.Shell ?? DEFAULT_SHELL);
        break;
      case 'onbuild': {
        const inner = node.rest.trim();
        const kw = inner.split(/\s+/)[0]!.toUpperCase();
        if (kw === 'ONBUILD') throw new InvalidParameterError('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
        if (kw === 'FROM' || kw === 'MAINTAINER') throw new InvalidParameterError(`${kw} isn't allowed as an ONBUILD trigger`);
        c.OnBuild = [...(c.OnBuild ?? []), inner];
        break;
      }
      case 'maintainer':
        state.author = node.rest.trim();
        break;
      default:
        throw new InvalidParameterError(`${node.cmd.toUpperCase()} is not supported here`);
    }
    await this.metaCommit(state, node);
  }

  /** The args in effect, as `|N k=v …` the way the legacy builder prefixes RUN in history. */
  private argsPrefix(state: StageState): { list: string[]; prefix: string } {
    const list = [...state.args].map(([k, v]) => `${k}=${v}`).sort();
    return { list, prefix: list.length ? `|${list.length} ${list.join(' ')} ` : '' };
  }

  /** Cached image for `key`, announced; undefined on a miss. */
  private cached(state: StageState, key: string): ImageRecord | undefined {
    if (this.opts.noCache) return undefined;
    const rec = this.builder.cache.get(key);
    if (!rec) return undefined;
    const img = this.deps.images.get(rec.image);
    if (!img || (this.cacheFromIds && !this.cacheFromIds.has(img.id))) return undefined;
    this.builder.cache.used(key);
    this.write(state.stage.index, { stream: ' ---> Using cache\n' });
    return img;
  }

  private adopt(state: StageState, img: ImageRecord): void {
    state.image = img;
    state.config = JSON.parse(JSON.stringify(img.config.config ?? {})) as Config;
    this.write(state.stage.index, { stream: ` ---> ${id12(img.id)}\n` });
  }

  private async metaCommit(state: StageState, node: Node): Promise<void> {
    const key = cacheKey([state.image?.id ?? 'scratch', 'meta', node.original, [...state.args], state.config, state.author ?? '']);
    const hit = this.cached(state, key);
    if (hit) return this.adopt(state, hit);
    const img = await this.writeImage(state, `/bin/sh -c #(nop)  ${node.original}`, null);
    this.builder.cache.record(key, { image: img.id, description: node.original, size: 0 });
    this.adopt(state, img);
  }

  /** A new image: the state's config on the current layers plus `layer` (none: an empty layer). */
  private async writeImage(state: StageState, createdBy: string, layer: Awaited<ReturnType<typeof commitLayer>> | null): Promise<ImageRecord> {
    const parent = state.image;
    const pc: Partial<ImageConfig> = parent?.config ?? {};
    const created = new Date().toISOString();
    const addsLayer = layer !== null && !layer.empty && layer.diffID !== EMPTY_LAYER_DIFF_ID;
    const history = [...(pc.history ?? [])];
    if (createdBy) history.push({ created, created_by: createdBy, ...(addsLayer ? {} : { empty_layer: true }) });
    const platform = hostPlatform();
    const image: Record<string, unknown> = {
      architecture: pc.architecture ?? platform.architecture,
      ...(pc.variant ? { variant: pc.variant } : {}),
      os: pc.os ?? platform.os,
      ...(state.author ?? (pc as Record<string, unknown>).author ? { author: state.author ?? (pc as Record<string, unknown>).author } : {}),
      config: state.config,
      created,
      docker_version: this.deps.engineVersion,
      history,
      rootfs: { type: 'layers', diff_ids: [...(pc.rootfs?.diff_ids ?? []), ...(addsLayer ? [layer.diffID] : [])] },
    };
    const parentChain = parent?.chainIDs ?? [];
    const commitDeps = this.deps.images.commitDeps();
    this.wrote = true;
    // a step image records its blobs; only a base image needs its manifest looked up (which
    // reads every small blob it holds: the layers too, once per step)
    const parentBlobs = !parent ? []
      : parent.layerBlobs?.length === parent.chainIDs.length ? parent.layerBlobs
        : (await imageLayerBlobs(parent, commitDeps.content)).layers;
    const layerBlobs = addsLayer ? [...parentBlobs, layer.blob] : [...parentBlobs];
    return this.deps.images.create(Buffer.from(JSON.stringify(image)), {
      chainIDs: addsLayer ? [...parentChain, layer.chainID] : [...parentChain],
      ...(parent ? { parent: parent.id } : {}),
      blobs: layerBlobs.filter((b): b is LayerBlob => b !== null).map((b) => b.digest),
      layerBlobs,
      deferSync: true,
    });
  }

  /**
   * Makes what this build wrote durable: its layers, blobs and image records were written without
   * fsyncs (an fsync per file and a syncfs per layer were most of a cold build's time), so one
   * syncfs covers them all (LayerStore.seal) before the build reports its image, then the cache
   * index is saved, naming only sealed images. Also after a failure: the steps that ran stay.
   */
  async seal(): Promise<void> {
    if (!this.wrote) return;
    this.wrote = false;
    await this.deps.images.commitDeps().layers.seal({ always: true });
    await this.builder.cache.save();
  }

  private lowerDirs(state: StageState): string[] {
    return state.image ? this.deps.images.lowerDirs(state.image) : [];
  }

  private async withStaging<T>(fn: (dir: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(this.tmp, 'stage-'));
    try {
      return await fn(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async commitStaging(state: StageState, staging: string, createdBy: string, key: string, description: string): Promise<void> {
    const top = state.image?.chainIDs.at(-1) ?? null;
    this.wrote = true;
    const layer = await commitLayer(this.deps.images.commitDeps(), staging, top, { deferSync: true });
    const img = await this.writeImage(state, createdBy, layer);
    const size = layer.empty ? 0 : img.size - (state.image?.size ?? 0);
    this.builder.cache.record(key, { image: img.id, description, size });
    this.adopt(state, img);
  }

  private async workdirStep(state: StageState, node: Node): Promise<void> {
    const w = this.word(state, node.rest.trim());
    if (!w) throw new InvalidParameterError('WORKDIR requires exactly one argument');
    const dir = posix.resolve(state.config.WorkingDir || '/', w);
    state.config.WorkingDir = dir;
    const lowers = this.lowerDirs(state);
    const existing = lowers.length ? await resolveEntry(lowers, dir) : undefined;
    if (existing?.st?.isDirectory()) return this.metaCommit(state, node);
    const key = cacheKey([state.image?.id ?? 'scratch', 'workdir', dir, state.config]);
    const hit = this.cached(state, key);
    if (hit) return this.adopt(state, hit);
    await this.withStaging(async (staging) => {
      const at = await resolveEntry([staging, ...lowers], dir);
      if (at.notDir) throw new InvalidParameterError(`Cannot mkdir: ${at.notDir} is not a directory`);
      await ensureDir([staging, ...lowers], at.path);
      await this.commitStaging(state, staging, `/bin/sh -c #(nop) WORKDIR ${dir}`, key, node.original);
    });
  }

  // ---------------------------------------------------------------- RUN

  private async runStep(state: StageState, node: Node): Promise<void> {
    for (const f of node.flags.keys()) throw new InvalidParameterError(`RUN --${f} is not supported by Berth's builder`);
    const shell = state.config.Shell ?? DEFAULT_SHELL;
    let argv: string[];
    if (node.json) argv = node.json;
    else if (node.heredocs.length === 1 && /^<<-?["']?\w+["']?$/.test(node.rest.trim())) {
      // `RUN <<EOF … EOF`: the heredoc is the script
      argv = [...shell, node.heredocs[0]!.content];
    } else {
      let script = node.rest;
      for (const h of node.heredocs) script += `\n${h.content}${h.name}`;
      argv = [...shell, script];
    }
    const { list: argEnv, prefix } = this.argsPrefix(state);
    const proxyEnv = [...this.buildArgs].filter(([k]) => PREDEFINED_ARGS.has(k) && !state.args.has(k)).map(([k, v]) => `${k}=${v}`);
    const key = cacheKey([state.image?.id ?? 'scratch', 'run', argv, argEnv]);
    const hit = this.cached(state, key);
    if (hit) return this.adopt(state, hit);
    if (!state.image) throw new InvalidParameterError('Please provide a source image with `from` prior to run');
    const stage = state.stage.index;
    const envKeys = new Set((state.config.Env ?? []).map((e) => e.split('=')[0]));
    const body: Record<string, unknown> = {
      Image: state.image.id,
      Cmd: argv,
      Entrypoint: [''],
      Env: [...(state.config.Env ?? []), ...[...argEnv, ...proxyEnv].filter((e) => !envKeys.has(e.split('=')[0]))],
      WorkingDir: state.config.WorkingDir ?? '',
      User: state.config.User ?? '',
      AttachStdout: true,
      AttachStderr: true,
      Healthcheck: { Test: ['NONE'] },
      Labels: {},
      HostConfig: {
        NetworkMode: this.opts.networkMode || 'default',
        ExtraHosts: this.opts.extraHosts.length ? this.opts.extraHosts : null,
        ...(this.opts.shmSize ? { ShmSize: this.opts.shmSize } : {}),
        ...this.opts.resources,
      },
    };
    const id = await this.deps.containers.create(body);
    this.containers.add(id);
    let removed = false;
    const remove = async () => {
      if (removed) return;
      removed = true;
      this.containers.delete(id);
      await this.deps.containers.remove(id);
    };
    const onAbort = () => { void this.deps.containers.kill(id).catch(() => undefined); };
    try {
      this.write(stage, { stream: ` ---> Running in ${id12(id)}\n` });
      const session = this.deps.containers.attach(id);
      const pump = (async () => {
        for await (const rec of session.output) this.write(stage, { stream: rec.data.toString('utf8') });
      })();
      this.signal.addEventListener('abort', onAbort);
      this.checkAborted();
      try {
        await this.deps.containers.start(id);
      } catch (e) {
        session.detach();
        await pump.catch(() => undefined);
        throw e;
      }
      const { StatusCode } = await this.deps.containers.wait(id);
      await pump.catch(() => undefined);
      this.checkAborted();
      if (StatusCode !== 0) {
        throw new RunFailedError(`The command '${argv.join(' ')}' returned a non-zero code: ${StatusCode}`, StatusCode);
      }
      this.wrote = true;
      const layer = await commitLayer(this.deps.images.commitDeps(), this.deps.containers.upperDir(id), state.image.chainIDs.at(-1) ?? null, { deferSync: true });
      const img = await this.writeImage(state, `${prefix}${argv.join(' ')}`, layer);
      if (this.opts.rm) {
        await remove();
        this.write(stage, { stream: `Removing intermediate container ${id12(id)}\n` });
      }
      this.builder.cache.record(key, { image: img.id, description: node.original, size: img.size - state.image.size });
      this.adopt(state, img);
    } finally {
      this.signal.removeEventListener('abort', onAbort);
      if (this.opts.rm || this.signal.aborted) await remove().catch(() => undefined);
    }
  }

  // ---------------------------------------------------------------- COPY / ADD

  private async owner(state: StageState, chown: string | undefined, lowers: string[]): Promise<Owner | undefined> {
    if (!chown) return undefined;
    const [u, g] = chown.split(':');
    const numeric = (s: string) => /^\d+$/.test(s);
    if (numeric(u!) && (g === undefined || numeric(g))) return { uid: Number(u), gid: Number(g ?? u) };
    const passwd = lowers.length ? await readEtcFile(lowers, 'passwd') : undefined;
    const group = lowers.length ? await readEtcFile(lowers, 'group') : undefined;
    try {
      const r = resolveUser(g === undefined ? u : `${u}:${g}`, passwd, group);
      return { uid: r.uid, gid: g === undefined ? r.uid : r.gid };
    } catch (e) {
      throw new InvalidParameterError(`unable to convert uid/gid chown string to host mapping: ${(e as Error).message}`);
    }
  }

  private async copyStep(state: StageState, node: Node): Promise<void> {
    const isAdd = node.cmd === 'add';
    const what = node.cmd.toUpperCase();
    const env = this.env(state);
    for (const f of ['parents', 'exclude', 'checksum', 'keep-git-dir']) {
      if (node.flags.has(f)) throw new InvalidParameterError(`${what} --${f} is not supported by Berth`);
    }
    const flag = (n: string) => { const v = node.flags.get(n); return typeof v === 'string' ? processWord(v, env, this.escape) : undefined; };
    const chmodText = flag('chmod');
    let chmodBits: number | undefined;
    if (chmodText !== undefined) {
      if (!/^[0-7]{1,4}$/.test(chmodText)) throw new InvalidParameterError(`invalid chmod parameter ${chmodText}: only octal modes are supported`);
      chmodBits = parseInt(chmodText, 8);
    }
    let args = node.json ? node.json.map((a) => processWord(a, env, this.escape)) : processWords(node.rest, env, this.escape);
    const heredocs = new Map(node.heredocs.map((h) => [`<<${h.name}`, h]));
    args = args.map((a) => a.replace(/^<<-?["']?(\w+)["']?$/, '<<$1'));
    if (args.length < 2) throw new InvalidParameterError(`${what} requires at least two arguments, but only one was provided. Destination could not be determined.`);
    const destRaw = args.at(-1)!;
    const srcs = args.slice(0, -1);
    const workdir = state.config.WorkingDir || '/';
    let dest = posix.resolve(workdir, destRaw) + (destRaw.endsWith('/') || destRaw === '.' || destRaw.endsWith('/.') ? '/' : '');
    if (dest === '//') dest = '/';
    if (srcs.length > 1 && !dest.endsWith('/')) {
      throw new InvalidParameterError(`When using ${what} with more than one source file, the destination must be a directory and end with a /`);
    }
    // where the sources come from
    const fromText = flag('from');
    let stack: string[] = [this.ctxDir];
    let fromContext = true;
    if (fromText !== undefined) {
      if (isAdd) throw new InvalidParameterError('ADD --from is not supported: use COPY --from');
      const dep = stageRef(this.plan.stages.slice(0, state.stage.index), fromText.toLowerCase(), true);
      let img: ImageRecord | undefined;
      if (dep !== undefined) {
        const s = await this.stageImages.get(dep)!;
        img = s.image;
      } else {
        img = await this.baseImage(state.stage.index, fromText);
      }
      stack = img ? this.deps.images.lowerDirs(img) : [];
      fromContext = false;
    }
    const exclude = fromContext && this.ignore.length ? (rel: string) => isIgnored(rel, this.ignore) : undefined;
    const lowers = this.lowerDirs(state);
    const owner = await this.owner(state, flag('chown'), lowers);
    // gather every source (heredoc, URL, path) with a hash for the key
    type Item = { kind: 'files'; sources: CopySource[]; archive: boolean } | { kind: 'data'; name: string; data: Buffer; mode: number; mtime?: number };
    const items: Item[] = [];
    const hashes: string[] = [];
    for (const src of srcs) {
      const h = heredocs.get(src);
      if (h) {
        const content = h.expand ? processWord(`"${h.content.replace(/(["\\])/g, '\\$1')}"`, env, this.escape) : h.content;
        items.push({ kind: 'data', name: h.name, data: Buffer.from(content), mode: chmodBits ?? 0o644 });
        hashes.push(cacheKey(['heredoc', h.name, content]));
        continue;
      }
      if (/^https?:\/\//i.test(src)) {
        if (!isAdd) throw new InvalidParameterError('source can\'t be a URL for COPY');
        const got = await download(src, this.signal);
        items.push({ kind: 'data', name: got.name, data: got.data, mode: chmodBits ?? 0o600, mtime: got.mtime });
        hashes.push(cacheKey(['url', got.name, got.data.toString('base64')]));
        continue;
      }
      if (fromContext && isIgnored(src, this.ignore) && src.replace(/^\/+|\/+$/g, '') !== '') {
        throw new CopyNotFoundError(`${what} failed: file not found in build context or excluded by .dockerignore: stat ${src}: file does not exist`);
      }
      const sources = await collectSources(stack, src, exclude);
      if (sources.length === 0) {
        if (/[*?[]/.test(src)) throw new CopyNotFoundError(`${what} failed: no source files were specified`);
        throw new CopyNotFoundError(fromContext
          ? `${what} failed: file not found in build context or excluded by .dockerignore: stat ${src}: file does not exist`
          : `${what} failed: stat ${src}: file does not exist`);
      }
      const archive = isAdd && sources.length === 1 && sources[0]!.entries[0]!.st.isFile() && await isArchive(sources[0]!.entries[0]!.host);
      items.push({ kind: 'files', sources, archive });
      hashes.push(await hashSources(sources));
    }
    const contentHash = cacheKey(hashes);
    const key = cacheKey([state.image?.id ?? 'scratch', node.cmd, dest, owner ?? null, chmodBits ?? null, fromText ?? null, contentHash]);
    const hit = this.cached(state, key);
    if (hit) return this.adopt(state, hit);
    const kindOf = items.length > 1 ? 'multi' : items[0]!.kind === 'files' && (items[0] as { sources: CopySource[] }).sources[0]!.entries[0]!.st.isDirectory() ? 'dir' : 'file';
    const createdBy = `/bin/sh -c #(nop) ${what} ${kindOf}:${contentHash} in ${dest} `;
    await this.withStaging(async (staging) => {
      const layers = [staging, ...lowers];
      const multi = srcs.length > 1;
      for (const it of items) {
        if (it.kind === 'data') {
          await writeOneFile(layers, multi && !dest.endsWith('/') ? dest + '/' : dest, it.name, it.data, it.mode, owner ?? { uid: 0, gid: 0 }, it.mtime);
        } else if (it.archive) {
          await this.extractArchive(layers, it.sources[0]!.entries[0]!.host, dest, owner);
        } else {
          await copySources(it.sources, { layers, dest, owner, keepOwner: !fromContext, chmod: chmodBits });
        }
      }
      await this.commitStaging(state, staging, createdBy, key, node.original);
    });
  }

  /** ADD of a local tar (plain or compressed): its content unpacked at dest. */
  private async extractArchive(layers: string[], file: string, dest: string, owner: Owner | undefined): Promise<void> {
    const dir = await mkdtemp(join(this.tmp, 'tar-'));
    try {
      const { createReadStream } = await import('node:fs');
      await extractContext(dir, await decompressContext(createReadStream(file)));
      // the archive's root: its entries land in dest as they are named in it
      const sources = await collectSources([dir], '/');
      await copySources(sources, { layers, dest: dest.endsWith('/') ? dest : dest + '/', owner, keepOwner: false });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Kills and removes what this build still runs (the client left). */
  async cleanup(): Promise<void> {
    for (const id of this.containers) await this.deps.containers.remove(id).catch(() => undefined);
  }
}

/** `80`, `80/udp`, `8000-8002` → the ExposedPorts keys. */
export function exposedPorts(spec: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(spec);
  if (!m) throw new InvalidParameterError(`Invalid containerPort: ${spec}`);
  const proto = (m[3] ?? 'tcp').toLowerCase();
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (b < a || b > 65535) throw new InvalidParameterError(`Invalid containerPort: ${spec}`);
  const out: string[] = [];
  for (let p = a; p <= b; p++) out.push(`${p}/${proto}`);
  return out;
}

async function isArchive(file: string): Promise<boolean> {
  const { open } = await import('node:fs/promises');
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, 512, 0);
    const head = buf.subarray(0, bytesRead);
    if (head[0] === 0x1f && head[1] === 0x8b) return true;
    if (head.subarray(0, 3).toString() === 'BZh') return true;
    if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return true;
    if (head.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return true;
    return bytesRead >= 262 && head.subarray(257, 262).toString() === 'ustar';
  } finally {
    await fh.close();
  }
}

/** ADD <url>: the file's bytes, its name (the URL path's last part) and Last-Modified time. */
async function download(url: string, signal: AbortSignal): Promise<{ name: string; data: Buffer; mtime?: number }> {
  const refused = outboundRefusal(url);
  if (refused) throw new InvalidParameterError(`failed to GET ${url}: ${refused}`);
  let res: Response;
  try {
    res = await fetch(url, { signal, redirect: 'follow' });
  } catch (e) {
    throw new InvalidParameterError(`failed to GET ${url}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new InvalidParameterError(`failed to GET ${url} with status ${res.status} ${res.statusText}`);
  const data = Buffer.from(await res.arrayBuffer());
  const name = posix.basename(new URL(url).pathname) || randomBytes(4).toString('hex');
  const lm = res.headers.get('last-modified');
  const t = lm ? Date.parse(lm) : NaN;
  return { name, data, ...(Number.isNaN(t) ? {} : { mtime: t / 1000 }) };
}
