// berth cp (container cp): files between a container and the local filesystem, as docker/cli's
// cp.go: the container side speaks HEAD/GET/PUT /containers/{id}/archive, the local side is
// cp-local.ts; `-` is a tar on stdin or stdout. Path rules as docker's archive.CopyInfo and
// PrepareArchiveCopy: a destination that is a directory receives the source by its name (or its
// content with `SRC/.`), one that does not exist takes the source's content under its own name.
import { lstat, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import type { CommandDef, Ctx } from '../context.js';
import { StatusError } from '../context.js';
import type { ParsedFlags } from '../flags.js';
import { containerStatPath, copyFromContainer, copyToContainer } from '../../client/archive.js';
import { ApiError } from '../../client/index.js';
import { goModeIsDir, goModeIsSymlink } from '../../wire/path-stat.js';
import { humanSizeWithPrecision } from '../../util/units.js';
import { packLocal, unpackLocal } from './cp-local.js';
import { SUMMARY } from '../summaries.js';

/** docker/cli's splitCpArg: `container:path`, unless the argument is an absolute or ./ path. */
export function splitCpArg(arg: string): { container: string; path: string } {
  if (arg.startsWith('/')) return { container: '', path: arg };
  const i = arg.indexOf(':');
  if (i < 0 || arg.startsWith('.')) return { container: '', path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

/** docker's SplitPathDirEntry: the parent and the last entry ('.' kept) of a path. */
function splitDirEntry(p: string): { dir: string; base: string } {
  let cleaned = p.replace(/\/+$/, '') || '/';
  if (p.endsWith('/.')) cleaned = p;
  const i = cleaned.lastIndexOf('/');
  if (i < 0) return { dir: '.', base: cleaned };
  return { dir: cleaned.slice(0, i) || '/', base: cleaned.slice(i + 1) || '/' };
}

const assertsDirectory = (p: string): boolean => p.endsWith('/') || p.endsWith('/.');

/** A stream that counts what goes through it. */
function counter(): Transform & { bytes: number } {
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) { (t as Transform & { bytes: number }).bytes += chunk.length; cb(null, chunk); },
  }) as Transform & { bytes: number };
  t.bytes = 0;
  return t;
}

function copied(ctx: Ctx, quiet: boolean, bytes: number, to: string): void {
  if (!quiet) ctx.err.write(`Successfully copied ${humanSizeWithPrecision(bytes, 3)} to ${to}\n`);
}

async function fromContainer(ctx: Ctx, container: string, srcPath: string, dstPath: string, f: Record<string, unknown>): Promise<void> {
  const client = await ctx.client();
  let src = srcPath;
  let rebaseTo = '';
  if (f['follow-link']) {
    const st = await containerStatPath(client, container, src).catch(() => undefined);
    if (st && goModeIsSymlink(st.mode)) {
      let target = st.linkTarget;
      if (!target.startsWith('/')) target = join(splitDirEntry(src).dir, target);
      rebaseTo = splitDirEntry(src).base;
      src = target;
    }
  }
  const { stat, body } = await copyFromContainer(client, container, src);
  if (dstPath === '-') {
    await new Promise<void>((res, rej) => { body.pipe(ctx.out); body.on('end', res); body.on('error', rej); });
    return;
  }
  const srcBase = splitDirEntry(src).base;
  const srcIsDir = goModeIsDir(stat.mode);
  const count = counter();
  const tarIn = body.pipe(count);
  // Where the destination is and what it is (a symlink to a directory counts as that directory).
  const dst = resolve(dstPath);
  const dstStat = await stat_(dst);
  let dir: string;
  let rebase: { from: string; to: string } | undefined;
  const from = stat.name || srcBase;
  if (dstStat?.isDirectory()) {
    dir = dst;
    if (rebaseTo) rebase = { from, to: rebaseTo };
  } else if (dstStat) {
    if (srcIsDir) throw new StatusError(1, `cannot copy directory`);
    dir = dirname(dst);
    rebase = { from, to: basename(dst) };
  } else {
    if (assertsDirectory(dstPath) && !srcIsDir) throw new StatusError(1, `Error: destination directory "${dstPath}" does not exist`);
    dir = dirname(dst);
    const parent = await stat_(dir);
    if (!parent?.isDirectory()) throw new StatusError(1, `Error: destination directory "${dirname(dstPath)}" does not exist`);
    rebase = { from, to: basename(dst) };
  }
  await unpackLocal(tarIn, dir, rebase);
  copied(ctx, !!f.quiet, count.bytes, dstPath);
}

async function stat_(p: string) {
  return stat(p).catch(() => undefined);
}

async function toContainer(ctx: Ctx, srcPath: string, container: string, dstPath: string, f: Record<string, unknown>): Promise<void> {
  const client = await ctx.client();
  let dstInfoPath = dstPath;
  let dst = await containerStatPath(client, container, dstPath).catch((e) => {
    if (e instanceof ApiError && e.statusCode === 404) return undefined;
    throw e;
  });
  if (dst && goModeIsSymlink(dst.mode)) {
    let target = dst.linkTarget;
    if (!target.startsWith('/')) target = join(splitDirEntry(dstPath).dir, target);
    dstInfoPath = target;
    dst = await containerStatPath(client, container, target).catch(() => undefined);
  }
  const dstIsDir = !!dst && goModeIsDir(dst.mode);
  let content: Readable;
  let extractDir: string;
  if (srcPath === '-') {
    if (!dstIsDir) throw new StatusError(1, `destination "${container}:${dstPath}" must be a directory`);
    content = process.stdin;
    extractDir = dstInfoPath;
  } else {
    let local = resolve(srcPath);
    if (srcPath.endsWith('/.')) local += '/.';
    const lst = await lstat(local).catch(() => { throw new StatusError(1, `lstat ${local.replace(/\/\.$/, '')}: no such file or directory`); });
    let source = local;
    if (f['follow-link'] && lst.isSymbolicLink()) source = await realpath(local);
    const srcSt = await stat_(source);
    const srcIsDir = !!srcSt?.isDirectory() && !(lst.isSymbolicLink() && !f['follow-link']);
    const { base: srcBase } = splitDirEntry(srcPath.endsWith('/.') ? local : local.replace(/\/+$/, ''));
    const name = srcPath.endsWith('/.') ? '.' : srcBase;
    let rebase: { from: string; to: string } | undefined;
    if (dstIsDir) {
      extractDir = dstInfoPath;
    } else if (dst) {
      if (srcIsDir) throw new StatusError(1, `cannot copy directory`);
      extractDir = splitDirEntry(dstInfoPath).dir;
      rebase = { from: name, to: splitDirEntry(dstInfoPath).base };
    } else {
      if (assertsDirectory(dstPath) && !srcIsDir) throw new StatusError(1, `Error response from daemon: Could not find the file ${dstPath} in container ${container}`);
      extractDir = splitDirEntry(dstInfoPath).dir;
      rebase = { from: name, to: splitDirEntry(dstInfoPath).base };
    }
    content = packLocal(source, name, rebase);
  }
  const count = counter();
  await copyToContainer(client, container, extractDir, content.pipe(count), { noOverwriteDirNonDir: true, copyUIDGID: !!f.archive });
  copied(ctx, !!f.quiet, count.bytes, `${container}:${dstPath}`);
}

async function runCp(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const [a, b] = p.args as [string, string];
  const src = splitCpArg(a);
  const dst = splitCpArg(b);
  if (src.container && dst.container) throw new StatusError(1, 'copying between containers is not supported');
  if (!src.container && !dst.container) throw new StatusError(1, 'must specify at least one container source');
  if (src.container) {
    if (src.path === '') throw new StatusError(1, 'source can not be empty');
    await fromContainer(ctx, src.container, src.path, dst.path, p.flags);
  } else {
    if (dst.path === '') throw new StatusError(1, 'destination can not be empty');
    await toContainer(ctx, src.path, dst.container, isAbsolute(dst.path) ? dst.path : '/' + dst.path, p.flags);
  }
  return 0;
}

export const commands: Record<string, CommandDef> = {
  cp: {
    spec: {
      use: '[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
      short: SUMMARY.cp,
      aliases: ['container cp', 'cp'],
      flags: [
        { name: 'archive', short: 'a', type: 'bool', usage: 'Keep the uid/gid ownership of the copied files' },
        { name: 'follow-link', short: 'L', type: 'bool', usage: 'Copy what a symbolic link SRC_PATH points to, not the link' },
        { name: 'quiet', short: 'q', type: 'bool', usage: "Don't print progress (never printed without a terminal anyway)" },
      ],
      minArgs: 2,
      maxArgs: 2,
    },
    run: runCp,
  },
};
