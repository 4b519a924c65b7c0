// Image transfer requests (save, load, import): raw responses, rendered by the CLI's commands.
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { EngineClient } from './index.js';

/** GET /images/get?names=…: the archive as a tar stream. */
export function imageSave(client: EngineClient, names: string[]): Promise<IncomingMessage> {
  return client.request('GET', '/images/get', { query: { names } });
}

/** POST /images/load?quiet=: the archive is the body; a JSON message stream answers. */
export function imageLoad(client: EngineClient, body: Readable, quiet: boolean): Promise<IncomingMessage> {
  return client.request('POST', '/images/load', { query: { quiet }, body, headers: { 'Content-Type': 'application/x-tar' } });
}

export interface ImportRequest {
  /** '-' (then `body`) or a URL the daemon fetches. */
  fromSrc: string;
  body?: Readable;
  repo?: string;
  message?: string;
  changes?: string[];
  platform?: string;
}

/** POST /images/create?fromSrc=: a JSON message stream whose last status is the image ID. */
export function imageImport(client: EngineClient, r: ImportRequest): Promise<IncomingMessage> {
  return client.request('POST', '/images/create', {
    query: { fromSrc: r.fromSrc, repo: r.repo, message: r.message, changes: r.changes, platform: r.platform },
    body: r.body,
    headers: r.body ? { 'Content-Type': 'application/x-tar' } : undefined,
  });
}
