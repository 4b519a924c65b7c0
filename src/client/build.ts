/**
 * The client side of a build: the context folder as a tar (docker/cli's rules: `.dockerignore`
 * or `<Dockerfile>.dockerignore` applied, the Dockerfile and .dockerignore always sent, a
 * Dockerfile outside the context or from stdin added under a random name) and POST /build.
 */
import { randomBytes } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { dataPadding, encodeHeader, END_OF_ARCHIVE } from '../util/tar-writer.js';
import { isIgnored, mayReinclude, parseDockerignore, type IgnorePattern } from '../util/dockerignore.js';
import type { EngineClient, Query } from './index.js';

export interface LocalContext {
  /** the tar stream */
  body: Readable;
  /** the `dockerfile` parameter */
  dockerfile: string;
  /** bytes in the context (for the "Sending build context" line) */
  size: number;
}

/** Where the Dockerfile is: inside the context (its path there) or outside (its bytes). */
function locateDockerfile(contextDir: string, file: string | undefined, stdinDockerfile?: Buffer): { inside?: string; bytes?: Buffer } {
  if (stdinDockerfile) return { bytes: stdinDockerfile };
  if (!file) return { inside: 'Dockerfile' };
  const abs = isAbsolute(file) ? file : resolve(file);
  const rel = relative(resolve(contextDir), abs);
  if (!rel.startsWith('..') && !isAbsolute(rel)) return { inside: rel.split(sep).join('/') };
  return { bytes: readFileSync(abs) };
}

/** The context folder as a tar stream, with what the daemon needs to find the Dockerfile. */
export async function localContext(contextDir: string, file: string | undefined, stdinDockerfile?: Buffer): Promise<LocalContext> {
  const where = locateDockerfile(contextDir, file, stdinDockerfile);
  const dockerfile = where.inside ?? `.dockerfile.${randomBytes(10).toString('hex')}`;
  let patterns: IgnorePattern[] = [];
  for (const name of [`${where.inside ?? basename(file ?? 'Dockerfile')}.dockerignore`, '.dockerignore']) {
    try { patterns = parseDockerignore(readFileSync(join(contextDir, name), 'utf8')); break; } catch { /* none */ }
  }
  const always = new Set([dockerfile, '.dockerignore']);
  const entries: Array<{ rel: string; st: Stats }> = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(contextDir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(contextDir, r));
      const ignored = !always.has(r) && isIgnored(r, patterns);
      if (ignored && !(st.isDirectory() && mayReinclude(r, patterns))) continue;
      if (!ignored) entries.push({ rel: r, st });
      if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  let size = where.bytes?.length ?? 0;
  for (const { st } of entries) if (st.isFile()) size += st.size;
  async function* tar(): AsyncGenerator<Buffer> {
    for (const { rel, st } of entries) {
      const common = { name: rel, mode: st.mode & 0o7777, mtime: st.mtimeMs / 1000, uid: 0, gid: 0 };
      if (st.isDirectory()) yield encodeHeader({ ...common, type: 'directory' });
      else if (st.isSymbolicLink()) yield encodeHeader({ ...common, type: 'symlink', linkname: readlinkSync(join(contextDir, rel)) });
      else if (st.isFile()) {
        const data = readFileSync(join(contextDir, rel));
        yield encodeHeader({ ...common, type: 'file', size: data.length });
        yield data;
        yield dataPadding(data.length);
      }
    }
    if (where.bytes) {
      yield encodeHeader({ name: dockerfile, mode: 0o644, mtime: Date.now() / 1000, uid: 0, gid: 0, type: 'file', size: where.bytes.length });
      yield where.bytes;
      yield dataPadding(where.bytes.length);
    }
    yield END_OF_ARCHIVE;
  }
  return { body: Readable.from(tar()), dockerfile, size };
}

export function isRemoteContext(s: string): boolean {
  return /^(https?:\/\/|git:\/\/|git@|github\.com\/)/.test(s);
}

/** POST /build: the JSON message stream. */
export function buildImage(client: EngineClient, body: Readable | undefined, query: Query): Promise<IncomingMessage> {
  return client.request('POST', '/build', {
    query,
    body,
    headers: { 'Content-Type': 'application/x-tar', 'X-Registry-Config': 'e30=' },
  });
}
