// Image commands: images (image ls), pull, push, history, tag, rmi (image rm), image inspect.
import type { EngineClient, ImageHistoryItem, ImageSummary } from '../../client/index.js';
import type { CommandDef, Ctx } from '../context.js';
import { StatusError } from '../context.js';
import type { ParsedFlags } from '../flags.js';
import { humanDuration, humanSize, humanSizeWithPrecision } from '../../util/units.js';
import { eachArg, ellipsis, errorText, filterFlag, FORMAT_FLAG, goTimeString, INSPECT_FORMAT_FLAG, inspectEach, parseFilters, renderProgress, writeFormatted } from './common.js';
import { familiarName, familiarString, parseAnyReference, parseNormalizedNamed, referenceString, truncateId, withDefaultTag, type Reference } from '../../wire/reference.js';
import { SUMMARY } from '../summaries.js';

/* ---------------------------------------------------------------- images */

interface ImageRow {
  image: ImageSummary;
  repo: string;
  tag: string;
  digest: string;
}

/** A RepoTags/RepoDigests entry as docker/cli reads it: entries that do not parse are skipped. */
function parseListedRef(s: string): Reference | undefined {
  try {
    return parseNormalizedNamed(s);
  } catch {
    return undefined; // '<none>:<none>', '<none>@<none>' and anything else unparseable
  }
}

export function imageRows(images: ImageSummary[], showDigests: boolean): ImageRow[] {
  const rows: ImageRow[] = [];
  for (const image of images) {
    const tags = image.RepoTags ?? [];
    const digests = image.RepoDigests ?? [];
    const dangling =
      (tags.length === 0 && digests.length === 0) ||
      (tags.length === 1 && tags[0] === '<none>:<none>' && digests.length === 1 && digests[0] === '<none>@<none>');
    if (dangling) {
      rows.push({ image, repo: '<none>', tag: '<none>', digest: '<none>' });
      continue;
    }
    const repoTags = new Map<string, string[]>();
    const repoDigests = new Map<string, string[]>();
    for (const t of tags) {
      const r = parseListedRef(t);
      if (r?.tag === undefined) continue;
      const n = familiarName(r);
      repoTags.set(n, [...(repoTags.get(n) ?? []), r.tag]);
    }
    for (const d of digests) {
      const r = parseListedRef(d);
      if (r?.digest === undefined) continue;
      const n = familiarName(r);
      repoDigests.set(n, [...(repoDigests.get(n) ?? []), r.digest]);
    }
    for (const [repo, ts] of repoTags) {
      let ds = repoDigests.get(repo) ?? [];
      repoDigests.delete(repo);
      if (!showDigests) ds = [];
      for (const tag of ts) {
        if (!ds.length) rows.push({ image, repo, tag, digest: '<none>' });
        else for (const d of ds) rows.push({ image, repo, tag, digest: d });
      }
    }
    for (const [repo, ds] of repoDigests) {
      if (showDigests) for (const d of ds) rows.push({ image, repo, tag: '<none>', digest: d });
      else rows.push({ image, repo, tag: '<none>', digest: '' });
    }
  }
  return rows;
}

export class ImageContext {
  static readonly goType = '*formatter.ImageContext';
  constructor(
    private readonly r: ImageRow,
    private readonly trunc: boolean,
    private readonly now = Date.now(),
  ) {}
  get ID(): string {
    return this.trunc ? truncateId(this.r.image.Id) : this.r.image.Id;
  }
  get Repository(): string {
    return this.r.repo;
  }
  get Tag(): string {
    return this.r.tag;
  }
  get Digest(): string {
    return this.r.digest;
  }
  get CreatedSince(): string {
    const c = this.r.image.Created;
    if (!c) return 'N/A';
    return humanDuration(this.now - c * 1000) + ' ago';
  }
  get CreatedAt(): string {
    return goTimeString(this.r.image.Created);
  }
  get Size(): string {
    return humanSizeWithPrecision(this.r.image.Size, 3);
  }
  get VirtualSize(): string {
    return humanSize((this.r.image.VirtualSize as number | undefined) ?? this.r.image.Size);
  }
  get SharedSize(): string {
    const s = this.r.image.SharedSize;
    return s === -1 || s === undefined ? 'N/A' : humanSize(s);
  }
  get UniqueSize(): string {
    const s = this.r.image.SharedSize;
    return s === -1 || s === undefined ? 'N/A' : humanSize(this.r.image.Size - s);
  }
  get Containers(): string {
    const c = this.r.image.Containers;
    return c === -1 || c === undefined ? 'N/A' : String(c);
  }
  toJSON(): Record<string, string> {
    return {
      Containers: this.Containers,
      CreatedAt: this.CreatedAt,
      CreatedSince: this.CreatedSince,
      Digest: this.Digest,
      ID: this.ID,
      Repository: this.Repository,
      SharedSize: this.SharedSize,
      Size: this.Size,
      Tag: this.Tag,
      UniqueSize: this.UniqueSize,
      VirtualSize: this.VirtualSize,
    };
  }
}

const IMAGE_HEADERS: Record<string, string> = {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
  VirtualSize: 'VIRTUAL SIZE',
};

async function runImages(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  const client = await ctx.client();
  const filters = parseFilters(f.filter as string[]);
  if (p.args[0]) (filters.reference ??= []).push(p.args[0]);
  const showDigests = f.digests as boolean;
  const list = await client.imageList({ all: f.all as boolean, filters, digests: showDigests });
  const trunc = !(f['no-trunc'] as boolean);
  let format = f.format as string;
  if (f.quiet) format = '{{.ID}}';
  const def = showDigests
    ? 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}'
    : 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
  if (format === '' || format === 'table') format = def;
  const now = Date.now();
  writeFormatted(ctx.out, format, def, imageRows(list, showDigests).map((r) => new ImageContext(r, trunc, now)), IMAGE_HEADERS);
  return 0;
}

/* ------------------------------------------------------------------ pull */

/**
 * --disable-content-trust=false asks for signed images (Notary), which Berth cannot check:
 * refused rather than pulling or pushing unverified.
 */
function refuseContentTrust(p: ParsedFlags): void {
  if (p.flags['disable-content-trust'] === false) {
    throw new StatusError(1, 'content trust is not supported: images cannot be signed or verified (--disable-content-trust=false)');
  }
}

/** os[/arch[/variant]] as containerd's platforms.Parse normalizes it ("amd64" alone is linux/amd64). */
function normalizePlatform(s: string): string {
  const parts = s.toLowerCase().split('/');
  if (parts.length === 1 && !['linux', 'windows', 'darwin', 'freebsd'].includes(parts[0])) parts.unshift('linux');
  const arch: Record<string, string> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', armhf: 'arm', armel: 'arm' };
  if (parts[1]) parts[1] = arch[parts[1]] ?? parts[1];
  if (parts[1] === 'arm64' && parts[2] === 'v8') parts.length = 2;
  return parts.join('/');
}

/**
 * --platform of history and push: the daemon keeps one platform per image, so the image must be of
 * the platform asked for (moby's error otherwise); the command then works on that image.
 */
async function checkPlatform(client: EngineClient, name: string, platform: string): Promise<void> {
  if (!platform) return;
  const img = await client.imageInspect(name);
  const variant = typeof img.Variant === 'string' ? img.Variant : '';
  const actual = normalizePlatform([img.Os, img.Architecture, variant].filter(Boolean).join('/'));
  const wanted = normalizePlatform(platform);
  if (wanted !== actual && !actual.startsWith(wanted + '/')) {
    throw new StatusError(1, `Error response from daemon: image with reference ${name} was found but does not match the specified platform: wanted ${wanted}, actual: ${actual}`);
  }
}

async function runPull(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  const allTags = f['all-tags'] as boolean;
  refuseContentTrust(p);
  // As docker/cli: the reference is checked here, and its error printed as is.
  let ref = parseNormalizedNamed(p.args[0]);
  if (allTags && !isNameOnly(ref)) throw new StatusError(1, 'tag can\'t be used with --all-tags/-a');
  if (!allTags && isNameOnly(ref)) {
    ref = withDefaultTag(ref);
    if (!f.quiet) ctx.out.write(`Using default tag: ${ref.tag}\n`);
  } else if (allTags && !f.quiet) {
    ctx.out.write(`Pulling all tags from ${referenceString(ref)}\n`);
  }
  const client = await ctx.client();
  const res = await client.imagePullStream(familiarName(ref), ref.digest ?? ref.tag, { platform: (f.platform as string) || undefined, registryAuth: await registryAuthFor(ref.domain, ctx.configDir) });
  await renderProgress(res, f.quiet ? undefined : ctx.out);
  ctx.out.write(referenceString(ref) + '\n');
  return 0;
}

function isNameOnly(ref: Reference): boolean {
  return ref.tag === undefined && ref.digest === undefined;
}

/* ------------------------------------------------------------- tag / rmi */

/** The Go client's ImageTag checks: both references parse, the target carries no digest. */
async function runTag(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const [src, target] = p.args;
  const invalidRef = (name: string, e: unknown) =>
    new StatusError(1, `Error parsing reference: "${name}" is not a valid repository/tag: ${errorText(e)}`);
  try {
    parseAnyReference(src);
  } catch (e) {
    throw invalidRef(src, e);
  }
  let ref: Reference;
  try {
    ref = parseNormalizedNamed(target);
  } catch (e) {
    throw invalidRef(target, e);
  }
  if (ref.digest) throw new StatusError(1, 'refusing to create a tag with a digest reference');
  const client = await ctx.client();
  await client.imageTag(src, familiarName(ref), ref.tag ?? 'latest');
  return 0;
}

async function runRmi(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  return eachArg(ctx, p.args, async (n) => {
    const items = await client.imageRemove(n, { force: p.flags.force as boolean, noprune: p.flags['no-prune'] as boolean });
    for (const it of items ?? []) {
      if (it.Deleted) ctx.out.write(`Deleted: ${it.Deleted}\n`);
      else if (it.Untagged) ctx.out.write(`Untagged: ${it.Untagged}\n`);
    }
    return null;
  });
}

async function runImageInspect(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  return inspectEach(ctx, p.args, p.flags.format as string, (n) => client.imageInspect(n));
}

/* ------------------------------------------------------------------ push */

/** X-Registry-Auth for a registry host from the client's config.json (src/client/credentials.ts). */
async function registryAuthFor(domain: string, configDir: string | undefined): Promise<string> {
  const { registryAuthHeader } = await import('../../client/credentials.js');
  return registryAuthHeader(domain, configDir);
}

async function runPush(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  refuseContentTrust(p);
  let ref = parseNormalizedNamed(p.args[0]);
  if (ref.digest) throw new StatusError(1, 'cannot push a digest reference');
  if (f['all-tags'] && ref.tag) throw new StatusError(1, "tag can't be used with --all-tags/-a");
  if (!f['all-tags'] && !ref.tag) {
    ref = withDefaultTag(ref);
    if (!f.quiet) ctx.out.write(`Using default tag: ${ref.tag}\n`);
  }
  const client = await ctx.client();
  await checkPlatform(client, familiarString(ref), f.platform as string);
  const res = await client.imagePushStream(familiarName(ref), f['all-tags'] ? undefined : ref.tag, { registryAuth: await registryAuthFor(ref.domain, ctx.configDir) });
  await renderProgress(res, f.quiet ? undefined : ctx.out);
  if (f.quiet) ctx.out.write(referenceString(ref) + '\n');
  return 0;
}

/* --------------------------------------------------------------- history */

function rfc3339(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const off = -d.getTimezoneOffset();
  const p = (n: number) => String(Math.abs(n)).padStart(2, '0');
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${p(Math.trunc(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}${zone}`;
}

export class HistoryContext {
  static readonly goType = '*formatter.historyContext';
  constructor(
    private readonly h: ImageHistoryItem,
    private readonly trunc: boolean,
    private readonly human: boolean,
    private readonly now = Date.now(),
  ) {}
  get ID(): string {
    return this.trunc && this.h.Id !== '<missing>' ? truncateId(this.h.Id) : this.h.Id;
  }
  get CreatedSince(): string {
    if (!this.human) return this.CreatedAt;
    return humanDuration(this.now - this.h.Created * 1000) + ' ago';
  }
  get CreatedAt(): string {
    return rfc3339(this.h.Created);
  }
  get CreatedBy(): string {
    const by = this.h.CreatedBy.replace(/\t/g, ' ');
    return this.trunc ? ellipsis(by, 45) : by;
  }
  get Size(): string {
    return this.human ? humanSizeWithPrecision(this.h.Size, 3) : String(this.h.Size);
  }
  get Comment(): string {
    return this.h.Comment;
  }
  toJSON(): Record<string, string> {
    return { Comment: this.Comment, CreatedAt: this.CreatedAt, CreatedBy: this.CreatedBy, CreatedSince: this.CreatedSince, ID: this.ID, Size: this.Size };
  }
}

const HISTORY_HEADERS: Record<string, string> = {
  ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT',
};

async function runHistory(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  const client = await ctx.client();
  await checkPlatform(client, p.args[0], f.platform as string);
  const items = await client.imageHistory(p.args[0]);
  const def = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
  let format = f.format as string;
  if (f.quiet) format = '{{.ID}}';
  if (format === '' || format === 'table') format = def;
  const now = Date.now();
  const trunc = !(f['no-trunc'] as boolean);
  writeFormatted(ctx.out, format, def, items.map((h) => new HistoryContext(h, trunc, f.human as boolean, now)), HISTORY_HEADERS);
  return 0;
}

export const commands: Record<string, CommandDef> = {
  images: {
    spec: {
      use: '[OPTIONS] [REPOSITORY[:TAG]]',
      short: SUMMARY.images,
      aliases: ['image ls', 'image list', 'images'],
      flags: [
        { name: 'all', short: 'a', type: 'bool', usage: 'Include intermediate images (hidden by default)' },
        { name: 'digests', type: 'bool', usage: 'Add a DIGEST column' },
        filterFlag(),
        FORMAT_FLAG,
        { name: 'no-trunc', type: 'bool', usage: 'Print values in full, without shortening them' },
        { name: 'quiet', short: 'q', type: 'bool', usage: 'Print image IDs only' },
      ],
      maxArgs: 1,
    },
    run: runImages,
  },
  pull: {
    spec: {
      use: '[OPTIONS] NAME[:TAG|@DIGEST]',
      short: SUMMARY.pull,
      aliases: ['image pull', 'pull'],
      flags: [
        { name: 'all-tags', short: 'a', type: 'bool', usage: 'Pull every tag of the repository' },
        { name: 'disable-content-trust', type: 'bool', def: true, usage: 'Do not verify the image' },
        { name: 'platform', type: 'string', usage: 'Platform to use, as os[/arch[/variant]] (for daemons that serve several)' },
        { name: 'quiet', short: 'q', type: 'bool', usage: "Don't print progress" },
      ],
      minArgs: 1,
      maxArgs: 1,
    },
    run: runPull,
  },
  tag: {
    spec: {
      use: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
      short: SUMMARY.tag,
      aliases: ['image tag', 'tag'],
      flags: [],
      minArgs: 2,
      maxArgs: 2,
    },
    run: runTag,
  },
  rmi: {
    spec: {
      use: '[OPTIONS] IMAGE [IMAGE...]',
      short: SUMMARY.rmi,
      aliases: ['image rm', 'image remove', 'rmi'],
      flags: [
        { name: 'force', short: 'f', type: 'bool', usage: 'Remove the image even when stopped containers use it or other tags name it' },
        { name: 'no-prune', type: 'bool', usage: 'Keep untagged parent images' },
      ],
      minArgs: 1,
    },
    run: runRmi,
  },
  push: {
    spec: {
      use: '[OPTIONS] NAME[:TAG]',
      short: SUMMARY.push,
      aliases: ['image push', 'push'],
      flags: [
        { name: 'all-tags', short: 'a', type: 'bool', usage: 'Push every tag of the image' },
        { name: 'disable-content-trust', type: 'bool', def: true, usage: 'Do not sign the image' },
        { name: 'platform', type: 'string', usage: "Push only this platform's manifest, as a single-platform image" },
        { name: 'quiet', short: 'q', type: 'bool', usage: "Don't print progress" },
      ],
      minArgs: 1,
      maxArgs: 1,
    },
    run: runPush,
  },
  history: {
    spec: {
      use: '[OPTIONS] IMAGE',
      short: SUMMARY.history,
      aliases: ['image history', 'history'],
      flags: [
        FORMAT_FLAG,
        { name: 'human', short: 'H', type: 'bool', def: true, usage: 'Show sizes and dates in an easy-to-read form' },
        { name: 'no-trunc', type: 'bool', usage: 'Print values in full, without shortening them' },
        { name: 'platform', type: 'string', usage: 'Platform whose history to show' },
        { name: 'quiet', short: 'q', type: 'bool', usage: 'Print image IDs only' },
      ],
      minArgs: 1,
      maxArgs: 1,
    },
    run: runHistory,
  },
  inspect: {
    spec: {
      use: '[OPTIONS] IMAGE [IMAGE...]',
      short: SUMMARY['image inspect'],
      flags: [INSPECT_FORMAT_FLAG],
      minArgs: 1,
    },
    run: runImageInspect,
  },
};
