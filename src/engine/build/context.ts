/**
 * The build context: the request body (a tar, plain or gzip/bzip2/xz/zstd compressed, whatever
 * the Content-Encoding said) unpacked into a private folder. Entries are checked as layer entries
 * are (no absolute names, no `..` above the root, never written through a symlink); devices and
 * FIFOs are skipped, owners dropped (COPY gives 0:0 unless --chown). The folder is only ever read
 * through in-root resolution (host/in-root.ts), so a symlink in the context cannot reach the host.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { chmod, link, lstat, mkdir, open, rm, symlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InvalidParameterError } from '../errors.js';
import { readTar } from '../layers/tar-reader.js';
import { entryComponents, SafeDirs } from '../layers/safe-path.js';
import { peekBytes } from '../../util/peek.js';

const MAGIC: Array<[Buffer, string[] | 'gzip']> = [
  [Buffer.from([0x1f, 0x8b]), 'gzip'],
  [Buffer.from('BZh'), ['bzip2', '-dc']],
  [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), ['xz', '-dc']],
  [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), ['zstd', '-dc']],
];

/** Peeks at the first bytes and returns the stream decompressed as they say. */
export async function decompressContext(src: AsyncIterable<Uint8Array>): Promise<AsyncIterable<Uint8Array>> {
  const { head, all } = await peekBytes(src, 6);
  const kind = MAGIC.find(([m]) => head.length >= m.length && head.subarray(0, m.length).equals(m))?.[1];
  if (!kind) return all();
  const input = Readable.from(all());
  if (kind === 'gzip') {
    const gz = createGunzip();
    input.on('error', (e) => gz.destroy(e));
    return input.pipe(gz);
  }
  const child = spawn(kind[0]!, kind.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  input.pipe(child.stdin);
  child.stdin.on('error', () => undefined);
  input.on('error', (e) => child.stdout.destroy(e));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  child.on('error', (e) => child.stdout.destroy(new InvalidParameterError(`cannot decompress the build context: ${e.message}`)));
  async function* out(): AsyncGenerator<Uint8Array> {
    yield* child.stdout;
    if (await exited !== 0) throw new InvalidParameterError(`cannot decompress the build context: ${stderr.trim()}`);
  }
  return out();
}

/** A tar header block: ustar magic, or an old-style header whose checksum adds up. */
function looksLikeTar(block: Buffer): boolean {
  if (block.length < 512) return false;
  if (block.subarray(257, 262).toString('latin1') === 'ustar') return true;
  const stored = parseInt(block.subarray(148, 156).toString('latin1').replace(/\0.*$/s, '').trim(), 8);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
  return stored === sum;
}

/**
 * The request body into `dest`: a tar (plain or compressed) is unpacked; anything else is taken
 * as a Dockerfile alone (`docker build - < Dockerfile` through the API), written as `name`.
 */
export async function unpackContext(dest: string, body: AsyncIterable<Uint8Array>, name: string): Promise<void> {
  const { head, all } = await peekBytes(await decompressContext(body), 512);
  if (head.length === 0 || looksLikeTar(head) || head.subarray(0, 512).every((b) => b === 0)) {
    // The docker CLI's tar of a context with a Dockerfile from outside ends without the last
    // entry's padding nor the end marker (dockerd's reader takes that): complete it.
    async function* completed(): AsyncGenerator<Uint8Array> {
      let n = 0;
      for await (const c of all()) { n += c.length; yield c; }
      yield Buffer.alloc((512 - (n % 512)) % 512 + 1024);
    }
    await extractContext(dest, completed());
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of all()) {
    size += c.length;
    if (size > 16 << 20) throw new InvalidParameterError('the Dockerfile sent as the build context is larger than 16 MiB');
    chunks.push(Buffer.from(c));
  }
  const fh = await open(join(dest, entryComponents(name).join('_') || 'Dockerfile'), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  try { await fh.write(Buffer.concat(chunks)); } finally { await fh.close(); }
}

/** Unpacks the (decompressed) context tar into `dest`, an empty private folder. */
export async function extractContext(dest: string, src: AsyncIterable<Uint8Array>): Promise<void> {
  const dirs = new SafeDirs(dest);
  const dirTimes: Array<[string, number]> = [];
  for await (const { header: h, body } of readTar(src)) {
    const comps = entryComponents(h.name);
    if (comps.length === 0) continue;
    const parent = await dirs.dir(comps.slice(0, -1), h.name);
    const target = join(parent, comps[comps.length - 1]!);
    const rel = comps.join('/');
    const st = await lstat(target).catch(() => undefined);
    if (st && !(st.isDirectory() && h.type === 'directory')) {
      await rm(target, { recursive: true, force: true });
      dirs.forget(rel);
    }
    const mode = h.mode & 0o7777;
    switch (h.type) {
      case 'directory':
        if (!st?.isDirectory()) await mkdir(target, { mode: 0o755 });
        await chmod(target, mode);
        dirs.remember(rel);
        dirTimes.push([target, h.mtime]);
        break;
      case 'file': {
        const fh = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        try {
          for await (const chunk of body) await fh.write(chunk);
          await fh.chmod(mode);
        } finally {
          await fh.close();
        }
        await utimes(target, h.mtime, h.mtime);
        break;
      }
      case 'symlink':
        await symlink(h.linkname, target);
        break;
      case 'link': {
        const to = entryComponents(h.linkname, 'link target');
        const from = join(await dirs.dir(to.slice(0, -1), h.name, false), to[to.length - 1] ?? '');
        const fst = await lstat(from).catch(() => undefined);
        if (!fst?.isFile()) throw new InvalidParameterError(`build context: hard link ${h.name} to ${h.linkname}, which is not a file in the context`);
        await link(from, target);
        break;
      }
      default:
        break; // devices, FIFOs: nothing a COPY could use
    }
  }
  for (const [p, t] of dirTimes.reverse()) await utimes(p, t, t).catch(() => undefined);
}
