/**
 * API views of an ImageRecord: GET /images/json items (ImageSummary) and GET /images/{name}/json
 * (ImageInspect), shaped per API version as moby does:
 *  - API < 1.43: untagged images show RepoTags ["<none>:<none>"], RepoDigests ["<none>@<none>"];
 *  - API < 1.44: VirtualSize (= Size) is present;
 *  - API < 1.45: inspect has Container and ContainerConfig;
 *  - API < 1.50: inspect Config has the full legacy container-config field set.
 */
import { compareVersions } from '../../util/version.js';
import { rfc3339NanoFromMs, ZERO_TIME } from '../../util/time.js';
import { join } from 'node:path';
import { familiarizeString } from '../../wire/reference.js';
import type { ContainerConfigPart, ImageRecord } from './types.js';

import { MAX_API_VERSION as LATEST_API_VERSION } from '../../wire/api-version.js';

/** a < b for 'X.Y' API versions. */
export function versionLess(a: string, b: string): boolean {
  return compareVersions(a, b) < 0;
}

/** Go's time.RFC3339Nano for a JS time (trailing zeros of the fraction trimmed). */
export function rfc3339Nano(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2024-01-02T03:04:05.678Z
  return iso.replace(/\.(\d*?)0*Z$/, (_m, f: string) => (f ? `.${f}Z` : 'Z'));
}


/** Unix seconds of the config's `created` (0 when absent or unparsable). */
export function createdUnix(rec: ImageRecord): number {
  const c = rec.config.created;
  if (!c) return 0;
  const t = Date.parse(c);
  return Number.isFinite(t) ? Math.floor(t / 1000) : 0;
}

function familiar(refs: string[]): string[] {
  return refs.map((r) => {
    try { return familiarizeString(r); } catch { return r; }
  });
}

export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: number;
  Size: number;
  SharedSize: number;
  VirtualSize?: number;
  Labels: Record<string, string>;
  Containers: number;
}

export function toSummary(rec: ImageRecord, opts: { apiVersion?: string; containers?: number; sharedSize?: number } = {}): ImageSummary {
  const v = opts.apiVersion ?? LATEST_API_VERSION;
  let repoTags = familiar(rec.repoTags);
  let repoDigests = familiar(rec.repoDigests);
  if (versionLess(v, '1.43') && repoTags.length === 0 && repoDigests.length === 0) {
    repoTags = ['<none>:<none>'];
    repoDigests = ['<none>@<none>'];
  }
  const s: ImageSummary = {
    Id: rec.id,
    ParentId: rec.parent ?? '',
    RepoTags: repoTags,
    RepoDigests: repoDigests,
    Created: createdUnix(rec),
    Size: rec.size,
    SharedSize: opts.sharedSize ?? -1,
    Labels: rec.config.config?.Labels ?? {},
    Containers: opts.containers ?? -1,
  };
  if (versionLess(v, '1.44')) s.VirtualSize = rec.size;
  return s;
}

/** Docker's container.Config shape as images carry it (legacy field set for API < 1.50). */
export function inspectConfig(c: ContainerConfigPart | undefined, apiVersion: string): Record<string, unknown> | null {
  if (!c && !versionLess(apiVersion, '1.50')) return null;
  const cfg = c ?? {};
  if (!versionLess(apiVersion, '1.50')) {
    // OCI-style image config (moby 28+): only what images carry, empty fields omitted.
    const out: Record<string, unknown> = {};
    if (cfg.User) out.User = cfg.User;
    if (cfg.ExposedPorts && Object.keys(cfg.ExposedPorts).length) out.ExposedPorts = cfg.ExposedPorts;
    if (cfg.Env?.length) out.Env = cfg.Env;
    if (cfg.Entrypoint?.length) out.Entrypoint = cfg.Entrypoint;
    if (cfg.Cmd?.length) out.Cmd = cfg.Cmd;
    if (cfg.Volumes && Object.keys(cfg.Volumes).length) out.Volumes = cfg.Volumes;
    if (cfg.WorkingDir) out.WorkingDir = cfg.WorkingDir;
    if (cfg.Labels && Object.keys(cfg.Labels).length) out.Labels = cfg.Labels;
    if (cfg.StopSignal) out.StopSignal = cfg.StopSignal;
    if (cfg.Healthcheck) out.Healthcheck = cfg.Healthcheck;
    if (cfg.OnBuild?.length) out.OnBuild = cfg.OnBuild;
    if (cfg.Shell?.length) out.Shell = cfg.Shell;
    return out;
  }
  const out: Record<string, unknown> = {
    Hostname: '',
    Domainname: '',
    User: cfg.User ?? '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
  };
  if (cfg.ExposedPorts && Object.keys(cfg.ExposedPorts).length) out.ExposedPorts = cfg.ExposedPorts;
  out.Tty = false;
  out.OpenStdin = false;
  out.StdinOnce = false;
  out.Env = cfg.Env ?? null;
  out.Cmd = cfg.Cmd ?? null;
  if (cfg.Healthcheck) out.Healthcheck = cfg.Healthcheck;
  out.Image = '';
  out.Volumes = cfg.Volumes ?? null;
  out.WorkingDir = cfg.WorkingDir ?? '';
  out.Entrypoint = cfg.Entrypoint ?? null;
  out.OnBuild = cfg.OnBuild ?? null;
  out.Labels = cfg.Labels ?? null;
  if (cfg.StopSignal) out.StopSignal = cfg.StopSignal;
  if (cfg.Shell?.length) out.Shell = cfg.Shell;
  return out;
}

export interface InspectDirs {
  /** Diff dirs of the image's layers, top first. */
  diffDirs: string[];
}

export function toInspect(rec: ImageRecord, dirs: InspectDirs, opts: { apiVersion?: string } = {}): Record<string, unknown> {
  const v = opts.apiVersion ?? LATEST_API_VERSION;
  const c = rec.config;
  const out: Record<string, unknown> = {
    Id: rec.id,
    RepoTags: familiar(rec.repoTags),
    RepoDigests: familiar(rec.repoDigests),
    Parent: rec.parent ?? '',
    Comment: c.history?.length ? (c.history[c.history.length - 1]!.comment ?? '') : '',
    Created: c.created ?? (versionLess(v, '1.44') ? ZERO_TIME : ''),
  };
  if (versionLess(v, '1.45')) {
    out.Container = c.container ?? '';
    out.ContainerConfig = inspectConfig(c.container_config, '1.44');
  }
  out.DockerVersion = (c as { docker_version?: string }).docker_version ?? '';
  out.Author = c.author ?? '';
  out.Config = inspectConfig(c.config, v);
  out.Architecture = c.architecture;
  if (c.variant) out.Variant = c.variant;
  out.Os = c.os;
  const osVersion = (c as { 'os.version'?: string })['os.version'];
  if (osVersion) out.OsVersion = osVersion;
  out.Size = rec.size;
  if (versionLess(v, '1.44')) out.VirtualSize = rec.size;
  const [top, ...lower] = dirs.diffDirs;
  const data: Record<string, string> = {};
  if (top) {
    const base = join(top, '..');
    if (lower.length) data.LowerDir = lower.join(':');
    data.MergedDir = join(base, 'merged');
    data.UpperDir = top;
    data.WorkDir = join(base, 'work');
  }
  out.GraphDriver = { Data: data, Name: 'overlay2' };
  out.RootFS = { Type: 'layers', Layers: [...(c.rootfs?.diff_ids ?? [])] };
  out.Metadata = { LastTagTime: rec.lastTagTime ? rfc3339NanoFromMs(rec.lastTagTime) : ZERO_TIME };
  return out;
}

/** One item of GET /images/{name}/history. */
export interface HistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

/**
 * Image history, newest first, as moby: one item per config history entry, sizes from the layer
 * each non-empty entry produced; IDs filled from the image up its parent chain, '<missing>' beyond.
 * `layerSize(i)` gives the size of the i-th layer (bottom first); `image(id)` finds parents.
 */
export function toHistory(
  rec: ImageRecord,
  layerSize: (index: number) => number,
  image: (id: string) => ImageRecord | undefined,
): HistoryItem[] {
  const out: HistoryItem[] = [];
  let layer = 0;
  const diffIDs = rec.config.rootfs?.diff_ids ?? [];
  for (const h of rec.config.history ?? []) {
    let size = 0;
    if (!h.empty_layer) {
      if (layer < diffIDs.length) size = layerSize(layer);
      layer++;
    }
    const t = h.created ? Date.parse(h.created) : NaN;
    out.unshift({
      Id: '<missing>',
      Created: Number.isFinite(t) ? Math.floor(t / 1000) : 0,
      CreatedBy: h.created_by ?? '',
      Tags: null,
      Size: size,
      Comment: h.comment ?? '',
    });
  }
  let cur: ImageRecord | undefined = rec;
  for (const item of out) {
    if (!cur) break;
    item.Id = cur.id;
    const tags = familiar(cur.repoTags);
    item.Tags = tags.length ? tags : null;
    cur = cur.parent ? image(cur.parent) : undefined;
  }
  return out;
}
