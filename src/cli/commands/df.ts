// `berth system df [-v] [--format]`: docker/cli's disk usage summary and its verbose sections.
import type { SystemDiskUsage, Volume } from '../../client/index.js';
import type { CommandDef, Ctx } from '../context.js';
import { StatusError } from '../context.js';
import type { ParsedFlags } from '../flags.js';
import { parseFormat, Template } from '../format/template.js';
import { humanSize } from '../../util/units.js';
import { FORMAT_FLAG, writeFormatted } from './common.js';
import { ImageContext, imageRows } from './image.js';
import { ContainerContext } from './ps.js';
import { SUMMARY } from '../summaries.js';

/** "1.2MB (50%)" as docker/cli writes a reclaimable size: the share of the total, rounded down. */
function reclaimable(bytes: number, total: number): string {
  return total > 0 ? `${humanSize(bytes)} (${Math.floor((bytes * 100) / total)}%)` : humanSize(bytes);
}

/** One row of the summary table. */
class UsageRow {
  static readonly goType = '*formatter.diskUsageContext';
  constructor(readonly Type: string, readonly TotalCount: string, readonly Active: string, readonly Size: string, readonly Reclaimable: string) {}
  toJSON(): Record<string, string> {
    return { Active: this.Active, Reclaimable: this.Reclaimable, Size: this.Size, TotalCount: this.TotalCount, Type: this.Type };
  }
}

const ACTIVE_STATES = ['running', 'paused', 'restarting'];

/** The four rows, computed from /system/df as docker/cli does. */
function summary(du: SystemDiskUsage): UsageRow[] {
  const images = du.Images ?? [];
  const layers = du.LayersSize ?? 0;
  let imagesUsed = 0;
  for (const i of images) if (i.Containers && i.Containers > 0 && i.Size !== -1 && i.SharedSize !== -1) imagesUsed += i.Size - (i.SharedSize ?? 0);
  const containers = du.Containers ?? [];
  const active = (state: string | undefined) => ACTIVE_STATES.some((s) => (state ?? '').includes(s));
  let cTotal = 0;
  let cFree = 0;
  for (const c of containers) { cTotal += c.SizeRw ?? 0; if (!active(c.State)) cFree += c.SizeRw ?? 0; }
  const volumes = du.Volumes ?? [];
  let vTotal = 0;
  let vFree = 0;
  for (const v of volumes) {
    const size = v.UsageData?.Size ?? -1;
    if (size === -1) continue;
    vTotal += size;
    if ((v.UsageData?.RefCount ?? 0) === 0) vFree += size;
  }
  return [
    new UsageRow('Images', String(images.length), String(images.filter((i) => (i.Containers ?? 0) > 0).length), humanSize(layers), reclaimable(layers - imagesUsed, layers)),
    new UsageRow('Containers', String(containers.length), String(containers.filter((c) => active(c.State)).length), humanSize(cTotal), reclaimable(cFree, cTotal)),
    new UsageRow('Local Volumes', String(volumes.length), String(volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length), humanSize(vTotal), reclaimable(vFree, vTotal)),
    // No build cache in Berth: always empty.
    new UsageRow('Build Cache', '0', '0', '0B', '0B'),
  ];
}

class VolumeRow {
  static readonly goType = '*formatter.volumeContext';
  constructor(private readonly v: Volume) {}
  get Name(): string { return this.v.Name; }
  get Driver(): string { return this.v.Driver; }
  get Links(): string { const n = this.v.UsageData?.RefCount ?? -1; return n === -1 ? 'N/A' : String(n); }
  get Size(): string { const n = this.v.UsageData?.Size ?? -1; return n === -1 ? 'N/A' : humanSize(n); }
  toJSON(): Record<string, string> {
    return { Driver: this.Driver, Links: this.Links, Name: this.Name, Size: this.Size };
  }
}

const HEADERS: Record<string, string> = {
  Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE',
  Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', CreatedSince: 'CREATED', SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE', Containers: 'CONTAINERS', Image: 'IMAGE', Command: 'COMMAND',
  LocalVolumes: 'LOCAL VOLUMES', RunningFor: 'CREATED', Status: 'STATUS', Names: 'NAMES', Name: 'VOLUME NAME', Links: 'LINKS',
};
const CONTAINER_HEADERS = { ...HEADERS, ID: 'CONTAINER ID' };
const BUILD_CACHE_HEADER = 'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}';
const BUILD_CACHE_HEADERS = { ID: 'CACHE ID', CacheType: 'CACHE TYPE', Size: 'SIZE', CreatedSince: 'CREATED', LastUsedSince: 'LAST USED', UsageCount: 'USAGE', Shared: 'SHARED' };

function verboseParts(du: SystemDiskUsage, trunc: boolean) {
  const now = Date.now();
  return {
    // The first tag only; an untagged image is <none> <none> even when it has a digest.
    Images: (du.Images ?? []).map((i) => {
      const tagged = (i.RepoTags ?? []).some((t) => t !== '<none>:<none>');
      const row = tagged ? imageRows([{ ...i, RepoDigests: [] }], false)[0] : undefined;
      return new ImageContext(row ?? { image: i, repo: '<none>', tag: '<none>', digest: '' }, trunc, now);
    }),
    // docker/cli does not show the virtual size here.
    Containers: (du.Containers ?? []).map((c) => new ContainerContext({ ...c, SizeRootFs: 0 }, trunc, now)),
    Volumes: (du.Volumes ?? []).map((v) => new VolumeRow(v)),
    BuildCache: [] as unknown[],
  };
}

function writeVerboseTable(ctx: Ctx, du: SystemDiskUsage): void {
  const parts = verboseParts(du, true);
  ctx.out.write('Images space usage:\n\n');
  writeFormatted(ctx.out, 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}', '', parts.Images, HEADERS);
  ctx.out.write('\nContainers space usage:\n\n');
  writeFormatted(ctx.out, 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}', '', parts.Containers, CONTAINER_HEADERS);
  ctx.out.write('\nLocal Volumes space usage:\n\n');
  writeFormatted(ctx.out, 'table {{.Name}}\t{{.Links}}\t{{.Size}}', '', parts.Volumes, HEADERS);
  ctx.out.write('\nBuild cache usage: 0B\n\n');
  writeFormatted(ctx.out, BUILD_CACHE_HEADER, '', [], BUILD_CACHE_HEADERS);
}

async function runDf(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const format = (p.flags.format as string) || 'table';
  const client = await ctx.client();
  const du = await client.systemDf();
  if (!p.flags.verbose) {
    const def = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
    writeFormatted(ctx.out, format === 'table' ? def : format, def, summary(du), HEADERS);
    return 0;
  }
  if (format === 'table') {
    writeVerboseTable(ctx, du);
    return 0;
  }
  // A verbose template (or json) sees the whole document once, as docker/cli's.
  const pf = parseFormat(format, '');
  let tmpl: Template;
  try { tmpl = new Template(pf.template); } catch (e) { throw new StatusError(1, `failed to parse template: ${(e as Error).message}`); }
  try { ctx.out.write(tmpl.execute(verboseParts(du, false)) + '\n'); } catch (e) { throw new StatusError(1, `failed to execute template: ${(e as Error).message}`); }
  return 0;
}

export const commands: Record<string, CommandDef> = {
  df: {
    spec: {
      use: '[OPTIONS]',
      short: SUMMARY['system df'],
      flags: [
        FORMAT_FLAG,
        { name: 'verbose', short: 'v', type: 'bool', usage: 'Break the usage down object by object' },
      ],
      maxArgs: 0,
    },
    run: runDf,
  },
};
