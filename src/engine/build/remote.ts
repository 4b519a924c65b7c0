/**
 * `remote=` contexts (moby builder/remotecontext/detect.go, read for its rules): a git repository
 * (`git://`, `git@`, `github.com/…`, a URL ending in `.git`, with `#ref:subdir`), cloned
 * shallowly; any other http(s) URL is downloaded: a tar (plain or compressed) is the context,
 * anything else the Dockerfile alone.
 */
import { Readable } from 'node:stream';
import { posix } from 'node:path';
import { InvalidParameterError } from '../errors.js';
import { runCommand } from '../host/command.js';
import { resolveEntry } from '../host/in-root.js';
import { unpackContext } from './context.js';
import { outboundRefusal } from '../../util/outbound.js';

export function isGitUrl(s: string): boolean {
  if (/^(git:\/\/|git@|github\.com\/)/.test(s)) return true;
  return /^https?:\/\//.test(s) && /\.git(#.*)?$/.test(s);
}

/** Fills `dir` from the remote; returns the context folder (a subfolder for `#ref:subdir`). */
export async function remoteContext(remote: string, dir: string, dockerfile: string, signal: AbortSignal): Promise<string> {
  const refused = outboundRefusal(remote.startsWith('github.com/') ? `https://${remote}` : remote);
  if (refused) throw new InvalidParameterError(`unable to prepare context: ${refused}`);
  if (isGitUrl(remote)) {
    const [url, fragment = ''] = remote.split('#', 2) as [string, string?];
    const [ref, sub] = fragment.split(':', 2) as [string, string?];
    const repo = url.startsWith('github.com/') ? `https://${url}` : url;
    const args = ['clone', '--depth', '1', '--recurse-submodules', ...(ref ? ['--branch', ref] : []), '--', repo, dir + '/repo'];
    const r = await runCommand('git', ['-c', 'core.askPass=true', ...args], { timeoutMs: 10 * 60_000 });
    if (r.code !== 0) throw new InvalidParameterError(`unable to prepare context: unable to 'git clone' to temporary context directory: ${r.stderr.trim()}`);
    if (!sub) return dir + '/repo';
    const e = await resolveEntry(dir + '/repo', sub);
    if (!e.st?.isDirectory()) throw new InvalidParameterError(`unable to prepare context: path "${sub}" not found`);
    return posix.join(dir, 'repo', ...e.path);
  }
  if (!/^https?:\/\//i.test(remote)) throw new InvalidParameterError(`unable to prepare context: remote ${remote} is neither a URL nor a git repository`);
  let res: Response;
  try {
    res = await fetch(remote, { signal, redirect: 'follow' });
  } catch (e) {
    throw new InvalidParameterError(`unable to prepare context: error downloading remote context ${remote}: ${(e as Error).message}`);
  }
  if (!res.ok || !res.body) throw new InvalidParameterError(`unable to prepare context: error downloading remote context ${remote}: ${res.status} ${res.statusText}`);
  await unpackContext(dir, Readable.fromWeb(res.body as never), dockerfile);
  return dir;
}
