/**
 * The client side of files in and out: docker cp's archive endpoints, diff, export, and Berth's
 * volume export/import. Kept apart from index.ts (one job: moving tars).
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { decodePathStat, type ContainerPathStat } from '../wire/path-stat.js';
import { ApiError, readBody, send } from './http.js';
import type { EngineClient } from './index.js';

const STAT_HEADER = 'x-docker-container-path-stat';

function statOf(res: IncomingMessage): ContainerPathStat {
  const h = res.headers[STAT_HEADER];
  if (typeof h !== 'string' || !h) throw new Error('unable to get resource stat from response: no X-Docker-Container-Path-Stat header');
  return decodePathStat(h);
}

const cpath = (id: string): string => `/containers/${encodeURIComponent(id)}`;

/** HEAD /containers/{id}/archive; a 404 (the body of a HEAD is empty) as an ApiError with dockerd's words. */
export async function containerStatPath(c: EngineClient, id: string, path: string): Promise<ContainerPathStat> {
  const res = await send(c.endpoint, c.host, { method: 'HEAD', path: `/v${c.apiVersion}${cpath(id)}/archive?path=${encodeURIComponent(path)}` });
  await readBody(res).catch(() => undefined);
  const status = res.statusCode ?? 500;
  if (status === 404) throw new ApiError(404, `Could not find the file ${path} in container ${id}`);
  if (status >= 400) throw new ApiError(status, `request returned ${status} for the stat of ${path} in container ${id}`);
  return statOf(res);
}

/** GET /containers/{id}/archive: the path's stat and its tar (read `body` to the end). */
export async function copyFromContainer(c: EngineClient, id: string, path: string): Promise<{ stat: ContainerPathStat; body: IncomingMessage }> {
  const res = await c.request('GET', `${cpath(id)}/archive`, { query: { path } });
  return { stat: statOf(res), body: res };
}

/** PUT /containers/{id}/archive: extract the tar `content` into the directory `path`. */
export async function copyToContainer(c: EngineClient, id: string, path: string, content: Readable, opts: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean } = {}): Promise<void> {
  const res = await c.request('PUT', `${cpath(id)}/archive`, {
    query: { path, noOverwriteDirNonDir: opts.noOverwriteDirNonDir ? 'true' : undefined, copyUIDGID: opts.copyUIDGID ? 'true' : undefined },
    body: content,
    headers: { 'Content-Type': 'application/x-tar' },
  });
  await readBody(res);
}

export interface ContainerChange { Path: string; Kind: 0 | 1 | 2 }

/** GET /containers/{id}/changes */
export async function containerChanges(c: EngineClient, id: string): Promise<ContainerChange[]> {
  return (await c.json<ContainerChange[] | null>('GET', `${cpath(id)}/changes`)) ?? [];
}

/** GET /containers/{id}/export: the root filesystem's tar. */
export function containerExport(c: EngineClient, id: string): Promise<IncomingMessage> {
  return c.request('GET', `${cpath(id)}/export`);
}

/** GET /volumes/{name}/archive (Berth's own): the volume's content as a tar. */
export function volumeExport(c: EngineClient, name: string): Promise<IncomingMessage> {
  return c.request('GET', `/volumes/${encodeURIComponent(name)}/archive`);
}

/** PUT /volumes/{name}/archive (Berth's own): unpack a tar into the volume (made when missing). */
export function volumeImport(c: EngineClient, name: string, content: Readable): Promise<{ Entries: number; Size: number }> {
  return c.json('PUT', `/volumes/${encodeURIComponent(name)}/archive`, { body: content, headers: { 'Content-Type': 'application/x-tar' } });
}
