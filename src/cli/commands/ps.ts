// ps (container ls): docker/cli's container formatter (ContainerContext) and its ports column.
import type { ContainerSummary, Port } from '../../client/index.js';
import type { CommandDef, Ctx } from '../context.js';
import { StatusError } from '../context.js';
import type { ParsedFlags } from '../flags.js';
import { humanDuration, humanSizeWithPrecision } from '../../util/units.js';
import { isSha256Digest, truncateId } from '../../wire/reference.js';
import { ellipsis, filterFlag, FORMAT_FLAG, goQuote, goTimeString, parseFilters, writeFormatted } from './common.js';
import { SUMMARY } from '../summaries.js';

export function displayablePorts(ports: Port[] | null | undefined): string {
  if (!ports || !ports.length) return '';
  const sorted = [...ports].sort((a, b) => {
    if ((a.PrivatePort ?? 0) !== (b.PrivatePort ?? 0)) return (a.PrivatePort ?? 0) - (b.PrivatePort ?? 0);
    if ((a.Type ?? '') !== (b.Type ?? '')) return (a.Type ?? '') < (b.Type ?? '') ? -1 : 1;
    return (a.IP ?? '') < (b.IP ?? '') ? -1 : (a.IP ?? '') > (b.IP ?? '') ? 1 : 0;
  });
  // group consecutive ports into ranges per (IP, type, public offset)
  const groups = new Map<string, Array<{ priv: number; pub: number }>>();
  const order: string[] = [];
  const out: string[] = [];
  for (const p of sorted) {
    const ip = p.IP ?? '';
    const key = p.PublicPort ? `${ip.includes(':') ? `[${ip}]` : ip}:` : '';
    const gkey = `${key}|${p.Type}`;
    if (!groups.has(gkey)) {
      groups.set(gkey, []);
      order.push(gkey);
    }
    groups.get(gkey)!.push({ priv: p.PrivatePort, pub: p.PublicPort ?? 0 });
  }
  for (const gkey of order) {
    const [hostPart, type] = gkey.split('|');
    const list = groups.get(gkey)!;
    let i = 0;
    while (i < list.length) {
      let j = i;
      while (
        j + 1 < list.length &&
        list[j + 1].priv === list[j].priv + 1 &&
        (hostPart === '' || list[j + 1].pub === list[j].pub + 1)
      )
        j++;
      const priv = i === j ? `${list[i].priv}` : `${list[i].priv}-${list[j].priv}`;
      if (hostPart) {
        const pub = i === j ? `${list[i].pub}` : `${list[i].pub}-${list[j].pub}`;
        out.push(`${hostPart}${pub}->${priv}/${type}`);
      } else out.push(`${priv}/${type}`);
      i = j + 1;
    }
  }
  return out.join(', ');
}

export class ContainerContext {
  static readonly goType = '*formatter.ContainerContext';
  constructor(
    private readonly c: ContainerSummary,
    private readonly trunc: boolean,
    private readonly now = Date.now(),
  ) {}
  get ID(): string {
    return this.trunc ? truncateId(this.c.Id) : this.c.Id;
  }
  get Names(): string {
    const names = (this.c.Names ?? [])
      .map((n) => n.replace(/^\//, ''))
      .filter((n) => !this.trunc || !n.includes('/'));
    return names.join(',');
  }
  get Image(): string {
    let image = this.c.Image ?? '';
    if (!image) return '<no image>';
    if (this.trunc) {
      if (this.c.ImageID && truncateId(this.c.ImageID) === truncateId(image)) return truncateId(image);
      if (isSha256Digest(image)) return truncateId(image);
      const at = image.indexOf('@');
      if (at >= 0) image = image.slice(0, at);
    }
    return image;
  }
  get Command(): string {
    const cmd = this.c.Command ?? '';
    return goQuote(this.trunc ? ellipsis(cmd, 20) : cmd);
  }
  get CreatedAt(): string {
    return goTimeString(this.c.Created);
  }
  get RunningFor(): string {
    return humanDuration(this.now - this.c.Created * 1000) + ' ago';
  }
  get Ports(): string {
    return displayablePorts(this.c.Ports);
  }
  get State(): string {
    return this.c.State ?? '';
  }
  get Status(): string {
    return this.c.Status ?? '';
  }
  get Size(): string {
    if (this.c.SizeRw === undefined && this.c.SizeRootFs === undefined) return '0B';
    const srw = humanSizeWithPrecision(this.c.SizeRw ?? 0, 3);
    const sv = humanSizeWithPrecision(this.c.SizeRootFs ?? 0, 3);
    return (this.c.SizeRootFs ?? 0) > 0 ? `${srw} (virtual ${sv})` : srw;
  }
  get Labels(): string {
    const l = this.c.Labels ?? {};
    return Object.keys(l)
      .sort()
      .map((k) => `${k}=${l[k]}`)
      .join(',');
  }
  Label(name: string): string {
    return (this.c.Labels ?? {})[name] ?? '';
  }
  get Mounts(): string {
    return (this.c.Mounts ?? [])
      .map((m) => {
        const name = m.Name || m.Source || '';
        return this.trunc ? ellipsis(name, 15) : name;
      })
      .join(',');
  }
  get LocalVolumes(): string {
    return String((this.c.Mounts ?? []).filter((m) => (m as { Driver?: string }).Driver === 'local').length);
  }
  get Networks(): string {
    return Object.keys(this.c.NetworkSettings?.Networks ?? {})
      .sort()
      .join(',');
  }
  get RunningForRaw(): number {
    return this.c.Created;
  }
  toJSON(): Record<string, string> {
    return {
      Command: this.Command,
      CreatedAt: this.CreatedAt,
      ID: this.ID,
      Image: this.Image,
      Labels: this.Labels,
      LocalVolumes: this.LocalVolumes,
      Mounts: this.Mounts,
      Names: this.Names,
      Networks: this.Networks,
      Platform: null as unknown as string,
      Ports: this.Ports,
      RunningFor: this.RunningFor,
      Size: this.Size,
      State: this.State,
      Status: this.Status,
    };
  }
}

const PS_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Names: 'NAMES',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  Networks: 'NETWORKS',
  LocalVolumes: 'LOCAL VOLUMES',
};

async function runPs(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  let limit = f.last as number;
  if (f.latest && limit === -1) limit = 1;
  const quiet = f.quiet as boolean;
  let size = f.size as boolean;
  let format = f.format as string;
  if (format && format !== 'table' && format !== 'json' && !quiet) {
    // docker/cli pre-executes the template against an empty context (errors early, detects .Size)
    const { parseFormat, Template } = await import('../format/template.js');
    const pf = parseFormat(format, '');
    let tmpl;
    try {
      tmpl = new Template(pf.template);
    } catch (e) {
      throw new StatusError(1, `failed to parse template: ${(e as Error).message}`);
    }
    try {
      tmpl.execute(new ContainerContext({ Id: '', Names: [], Image: '', ImageID: '', Command: '', Created: 0, Ports: [], Labels: {}, State: '', Status: '' }, true));
    } catch (e) {
      throw new StatusError(1, `failed to execute template: ${(e as Error).message}`);
    }
    if (/\.Size\b/.test(pf.template)) size = true;
  }
  const client = await ctx.client();
  const filters = parseFilters(f.filter as string[]);
  const list = await client.containerList({
    all: (f.all as boolean) || limit > 0,
    limit: limit > 0 ? limit : undefined,
    size: size && !quiet,
    filters,
  });
  const trunc = !(f['no-trunc'] as boolean);
  if (quiet) format = '{{.ID}}';
  let def = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
  if (size) def += '\t{{.Size}}';
  if (format === '' || format === 'table') format = def;
  const now = Date.now();
  writeFormatted(ctx.out, format, def, list.map((c) => new ContainerContext(c, trunc, now)), PS_HEADERS);
  return 0;
}

export const commands: Record<string, CommandDef> = {
  ps: {
    spec: {
      use: '[OPTIONS]',
      short: SUMMARY.ps,
      aliases: ['container ls', 'container list', 'container ps', 'ps'],
      flags: [
        { name: 'all', short: 'a', type: 'bool', usage: 'Include stopped containers (only running ones by default)' },
        filterFlag(),
        FORMAT_FLAG,
        { name: 'last', short: 'n', type: 'int', def: -1, usage: 'Show the n most recently created containers, in any state' },
        { name: 'latest', short: 'l', type: 'bool', usage: 'Show the most recently created container, in any state' },
        { name: 'no-trunc', type: 'bool', usage: 'Print values in full, without shortening them' },
        { name: 'quiet', short: 'q', type: 'bool', usage: 'Print container IDs only' },
        { name: 'size', short: 's', type: 'bool', usage: 'Add the size of each container' },
      ],
      maxArgs: 0,
    },
    run: runPs,
  },
};
