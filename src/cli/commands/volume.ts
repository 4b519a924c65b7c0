// Volume commands: volume create, ls, inspect, rm (docker/cli's cli/command/volume).
import type { Volume } from '../../client/index.js';
import type { CommandDef, Ctx } from '../context.js';
import { StatusError } from '../context.js';
import type { ParsedFlags } from '../flags.js';
import { eachArg, filterFlag, FORMAT_FLAG, INSPECT_FORMAT_FLAG, inspectEach, parseFilters, writeFormatted } from './common.js';
import { createReadStream } from 'node:fs';
import { volumeExport, volumeImport } from '../../client/archive.js';
import { saveTar } from './diff-export.js';
import { SUMMARY } from '../summaries.js';


/** `k=v` list → object, as docker's --label and --opt (a bare key gets ""). */
function keyValues(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const i = item.indexOf('=');
    out[i >= 0 ? item.slice(0, i) : item] = i >= 0 ? item.slice(i + 1) : '';
  }
  return out;
}

async function runCreate(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const flagName = p.flags.name as string;
  const argName = p.args[0];
  if (flagName && argName && flagName !== argName) {
    throw new StatusError(1, `conflicting options: cannot specify a volume-name through both --name and as a positional arg`);
  }
  const client = await ctx.client();
  const v = await client.volumeCreate({
    Name: argName || flagName || '',
    Driver: (p.flags.driver as string) || 'local',
    DriverOpts: keyValues(p.flags.opt as string[]),
    Labels: keyValues(p.flags.label as string[]),
  });
  ctx.out.write(v.Name + '\n');
  return 0;
}

/** The fields `volume ls --format` offers (docker/cli's volumeContext). */
class VolumeRow {
  constructor(private readonly v: Volume) {}
  get Name(): string { return this.v.Name; }
  get Driver(): string { return this.v.Driver; }
  get Scope(): string { return this.v.Scope; }
  get Mountpoint(): string { return this.v.Mountpoint; }
  get Labels(): string {
    return Object.entries(this.v.Labels ?? {}).map(([k, val]) => `${k}=${val}`).join(',');
  }
  Label(name: string): string { return (this.v.Labels ?? {})[name] ?? ''; }
  get Links(): string { return 'N/A'; }
  get Size(): string { return 'N/A'; }
  toJSON() {
    return { Availability: 'N/A', Driver: this.Driver, Group: 'N/A', Labels: this.Labels, Links: this.Links, Mountpoint: this.Mountpoint, Name: this.Name, Scope: this.Scope, Size: this.Size, Status: 'N/A' };
  }
}

async function runLs(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  const filters = parseFilters(p.flags.filter as string[], '--filter');
  const r = await client.volumeList(filters);
  const vols = [...(r.Volumes ?? [])].sort((a, b) => a.Name.localeCompare(b.Name));
  const format = (p.flags.format as string) || (p.flags.quiet ? '{{.Name}}' : 'table');
  if (format === 'json') {
    for (const v of vols) ctx.out.write(JSON.stringify(new VolumeRow(v).toJSON()) + '\n');
    return 0;
  }
  writeFormatted(ctx.out, format, '{{.Driver}}\t{{.Name}}', vols.map((v) => new VolumeRow(v)), {
    Name: 'VOLUME NAME', Driver: 'DRIVER', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS', Links: 'LINKS', Size: 'SIZE',
  });
  return 0;
}

async function runInspect(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  return inspectEach(ctx, p.args, p.flags.format as string, (n) => client.volumeInspect(n));
}

async function runRm(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  return eachArg(ctx, p.args, async (n) => {
    await client.volumeRemove(n, { force: p.flags.force as boolean });
  });
}

/** Berth's own: the volume's content as a tar, to -o FILE or stdout. */
async function runExport(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const output = (p.flags.output as string) || undefined;
  if (!output && ctx.out.isTTY) throw new StatusError(1, 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
  await saveTar(ctx, await volumeExport(await ctx.client(), p.args[0]!), output);
  return 0;
}

/** Berth's own: a tar from -i FILE or stdin unpacked into the volume (created when missing). */
async function runImport(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const input = (p.flags.input as string) || undefined;
  if (!input && process.stdin.isTTY) throw new StatusError(1, 'requested load from stdin, but stdin is empty');
  const src = input ? createReadStream(input) : process.stdin;
  if (input) await new Promise<void>((res, rej) => { src.once('open', () => res()); src.once('error', (e: Error) => rej(new StatusError(1, `open ${input}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`))); });
  const r = await volumeImport(await ctx.client(), p.args[0]!, src);
  if (!p.flags.quiet) ctx.err.write(`Imported ${r.Entries} entries into volume ${p.args[0]}\n`);
  return 0;
}

export const commands: Record<string, CommandDef> = {
  export: {
    spec: {
      use: '[OPTIONS] VOLUME',
      short: SUMMARY['volume export'],
      flags: [{ name: 'output', short: 'o', type: 'string', usage: 'File to write to instead of STDOUT' }],
      minArgs: 1,
      maxArgs: 1,
    },
    run: runExport,
  },
  import: {
    spec: {
      use: '[OPTIONS] VOLUME',
      short: SUMMARY['volume import'],
      flags: [
        { name: 'input', short: 'i', type: 'string', usage: 'Archive file to read instead of STDIN' },
        { name: 'quiet', short: 'q', type: 'bool', usage: "Don't print the summary" },
      ],
      minArgs: 1,
      maxArgs: 1,
    },
    run: runImport,
  },
  create: {
    spec: {
      use: '[OPTIONS] [VOLUME]',
      short: SUMMARY['volume create'],
      flags: [
        { name: 'driver', short: 'd', type: 'string', def: 'local', usage: 'Volume driver' },
        { name: 'label', type: 'list', usage: 'Label for the volume, as key=value' },
        { name: 'name', type: 'string', usage: 'Name for the volume', hidden: true },
        { name: 'opt', short: 'o', type: 'list', typeName: 'map', usage: 'Option for the volume driver' },
      ],
      maxArgs: 1,
    },
    run: runCreate,
  },
  ls: {
    spec: {
      use: '[OPTIONS]',
      short: SUMMARY['volume ls'],
      aliases: ['volume ls', 'volume list'],
      flags: [
        filterFlag('Show only what matches a condition, e.g. dangling=true'),
        FORMAT_FLAG,
        { name: 'quiet', short: 'q', type: 'bool', usage: 'Print volume names only' },
      ],
      maxArgs: 0,
    },
    run: runLs,
  },
  inspect: {
    spec: {
      use: '[OPTIONS] VOLUME [VOLUME...]',
      short: SUMMARY['volume inspect'],
      flags: [INSPECT_FORMAT_FLAG],
      minArgs: 1,
    },
    run: runInspect,
  },
  rm: {
    spec: {
      use: '[OPTIONS] VOLUME [VOLUME...]',
      short: SUMMARY['volume rm'],
      aliases: ['volume rm', 'volume remove'],
      flags: [{ name: 'force', short: 'f', type: 'bool', usage: 'Remove the volumes, ignoring ones that do not exist' }],
      minArgs: 1,
    },
    run: runRm,
  },
};
