/**
 * Image views: GET /images/json items, GET /images/{name}/json and GET /images/{name}/history,
 * shaped from the engine's records per negotiated API version as moby does:
 *  - API < 1.43: untagged images list RepoTags ["<none>:<none>"], RepoDigests ["<none>@<none>"];
 *  - API < 1.44: VirtualSize (= Size) is present;
 *  - API < 1.45: inspect has Container and ContainerConfig;
 *  - API < 1.50: inspect Config has the full legacy container-config field set.
 */
import { join } from 'node:path';
import type { ContainerConfigPart, ImageDetails, ImageHistoryEntry, ImageListEntry, ImageRecord } from '../../engine/images/types.js';
import { familiarizeString } from '../../wire/reference.js';
import type { ContainerConfig, ImageHistoryItem, ImageInspect, ImageSummary } from '../../wire/types.js';
import { rfc3339NanoFromMs, ZERO_TIME } from '../../util/time.js';
import { compareVersions, MAX_API_VERSION } from '../version.js';

function before(v: string | undefined, api: string): boolean {
  return compareVersions(v ?? MAX_API_VERSION, api) < 0;
}

/** Familiar forms ('busybox:latest') of stored full references. */
function familiar(refs: readonly string[]): string[] {
  return refs.map((r) => {
    try { return familiarizeString(r); } catch { return r; } // stored refs were valid; never hide one
  });
}

/** Unix seconds of an RFC 3339 time (0 when absent or unparsable). */
function unixSeconds(t: string | undefined): number {
  const ms = t ? Date.parse(t) : NaN;
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : 0;
}

/** One item of GET /images/json (and of /system/df's Images). */
export function imageSummary(entry: ImageListEntry, version?: string): ImageSummary {
  const rec = entry.record;
  let repoTags = familiar(rec.repoTags);
  let repoDigests = familiar(rec.repoDigests);
  if (before(version, '1.43') && repoTags.length === 0 && repoDigests.length === 0) {
    repoTags = ['<none>:<none>'];
    repoDigests = ['<none>@<none>'];
  }
  const s: ImageSummary = {
    Id: rec.id,
    ParentId: rec.parent ?? '',
    RepoTags: repoTags,
    RepoDigests: repoDigests,
    Created: unixSeconds(rec.config.created),
    Size: rec.size,
    SharedSize: -1,
    Labels: rec.config.config?.Labels ?? {},
    Containers: entry.containers,
  };
  if (before(version, '1.44')) s.VirtualSize = rec.size;
  return s;
}

/** Docker's container.Config as images carry it (the legacy field set for API < 1.50). */
function inspectConfig(c: ContainerConfigPart | undefined, version: string | undefined): ContainerConfig | null {
  if (!before(version, '1.50')) {
    if (!c) return null;
    // OCI-style image config (moby 28+): only what images carry, empty fields omitted.
    const out: ContainerConfig = {};
    if (c.User) out.User = c.User;
    if (c.ExposedPorts && Object.keys(c.ExposedPorts).length) out.ExposedPorts = c.ExposedPorts;
    if (c.Env?.length) out.Env = c.Env;
    if (c.Entrypoint?.length) out.Entrypoint = c.Entrypoint;
    if (c.Cmd?.length) out.Cmd = c.Cmd;
    if (c.Volumes && Object.keys(c.Volumes).length) out.Volumes = c.Volumes;
    if (c.WorkingDir) out.WorkingDir = c.WorkingDir;
    if (c.Labels && Object.keys(c.Labels).length) out.Labels = c.Labels;
    if (c.StopSignal) out.StopSignal = c.StopSignal;
    if (c.Healthcheck) out.Healthcheck = c.Healthcheck;
    if (c.OnBuild?.length) out.OnBuild = c.OnBuild;
    if (c.Shell?.length) out.Shell = c.Shell;
    return out;
  }
  const cfg = c ?? {};
  // The legacy shape has explicit nulls, which the wire type's optional fields leave out.
  const out: Record<string, unknown> = {
    Hostname: '', Domainname: '', User: cfg.User ?? '', AttachStdin: false, AttachStdout: false, AttachStderr: false,
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
  return out as ContainerConfig;
}

/** GraphDriver.Data of an image whose layer dirs are `dirs`, top first. */
function graphDriverData(dirs: readonly string[]): Record<string, string> {
  const [top, ...lower] = dirs;
  const data: Record<string, string> = {};
  if (!top) return data;
  const base = join(top, '..');
  if (lower.length) data.LowerDir = lower.join(':');
  data.MergedDir = join(base, 'merged');
  data.UpperDir = top;
  data.WorkDir = join(base, 'work');
  return data;
}

/** GET /images/{name}/json. */
export function imageInspect(details: ImageDetails, version?: string): ImageInspect {
  const rec: ImageRecord = details.record;
  const c = rec.config;
  const history = c.history ?? [];
  const head = {
    Id: rec.id,
    RepoTags: familiar(rec.repoTags),
    RepoDigests: familiar(rec.repoDigests),
    Parent: rec.parent ?? '',
    Comment: history.length ? (history[history.length - 1]!.comment ?? '') : '',
    Created: c.created ?? (before(version, '1.44') ? ZERO_TIME : ''),
  };
  const legacy = before(version, '1.45')
    ? { Container: c.container ?? '', ContainerConfig: inspectConfig(c.container_config, '1.44') }
    : {};
  const out: ImageInspect = {
    ...head,
    ...legacy,
    DockerVersion: c.docker_version ?? '',
    Author: c.author ?? '',
    Config: inspectConfig(c.config, version),
    Architecture: c.architecture,
    ...(c.variant ? { Variant: c.variant } : {}),
    Os: c.os,
    ...(c['os.version'] ? { OsVersion: c['os.version'] } : {}),
    Size: rec.size,
    ...(before(version, '1.44') ? { VirtualSize: rec.size } : {}),
    GraphDriver: { Data: graphDriverData(details.layerDirs), Name: 'overlay2' },
    RootFS: { Type: 'layers', Layers: [...(c.rootfs?.diff_ids ?? [])] },
    Metadata: { LastTagTime: rec.lastTagTime ? rfc3339NanoFromMs(rec.lastTagTime) : ZERO_TIME },
  };
  return out;
}

/** GET /images/{name}/history. */
export function imageHistory(entries: readonly ImageHistoryEntry[]): ImageHistoryItem[] {
  return entries.map((e) => {
    const tags = familiar(e.tags);
    return {
      Id: e.imageId ?? '<missing>',
      Created: unixSeconds(e.created),
      CreatedBy: e.createdBy,
      Tags: e.imageId && tags.length ? tags : null,
      Size: e.size,
      Comment: e.comment,
    };
  });
}
