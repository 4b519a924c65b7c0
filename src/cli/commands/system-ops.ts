// System-wide commands: events, image prune, system prune.
import type { EngineClient, EventMessage } from '../../client/index.js';
import type { CommandDef, Ctx } from '../context.js';
import { StatusError } from '../context.js';
import type { ParsedFlags } from '../flags.js';
import { parseFormat, Template } from '../format/template.js';
import { humanSize } from '../../util/units.js';
import { getTimestamp, parseFilters, INSPECT_FORMAT_USAGE } from './common.js';
import { confirm, pruneContainers, pruneFilters } from './container-ops.js';

/* -------------------------------------------------------------- events */

/** Go's RFC3339NanoFixed in local time: 2006-01-02T15:04:05.000000000Z07:00. */
export function rfc3339NanoFixed(timeNano: number | bigint, tzOffsetMin = -new Date(Number(BigInt(timeNano) / 1_000_000n)).getTimezoneOffset()): string {
  const ns = BigInt(timeNano);
  const ms = Number(ns / 1_000_000n);
  const d = new Date(ms + tzOffsetMin * 60_000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const frac = String(ns % 1_000_000_000n).padStart(9, '0');
  const zone = tzOffsetMin === 0 ? 'Z'
    : `${tzOffsetMin > 0 ? '+' : '-'}${p(Math.trunc(Math.abs(tzOffsetMin) / 60))}:${p(Math.abs(tzOffsetMin) % 60)}`;
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${frac}${zone}`;
}

/** docker/cli's prettyPrintEvent: time, type, action, actor ID, then (k=v, …) sorted by key. */
export function prettyEvent(e: EventMessage): string {
  let line = '';
  if (e.timeNano) line += rfc3339NanoFixed(e.timeNano) + ' ';
  else if (e.time) line += rfc3339NanoFixed(BigInt(e.time) * 1_000_000_000n) + ' ';
  line += `${e.Type} ${e.Action} ${e.Actor?.ID ?? ''}`;
  const attrs = e.Actor?.Attributes ?? {};
  const keys = Object.keys(attrs).sort();
  if (keys.length) line += ` (${keys.map((k) => `${k}=${attrs[k]}`).join(', ')})`;
  return line + '\n';
}

async function runEvents(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  const format = f.format as string;
  let tmpl: Template | undefined;
  if (format && format !== 'json') {
    try {
      tmpl = new Template(parseFormat(format, '').template);
    } catch (e) {
      throw new StatusError(64, `template parsing error: ${(e as Error).message}`);
    }
  }
  const client = await ctx.client();
  const since = f.since ? getTimestamp(f.since as string) : undefined;
  const until = f.until ? getTimestamp(f.until as string) : undefined;
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  try {
    for await (const e of client.events({ since, until, filters: parseFilters(f.filter as string[]), signal: abort.signal })) {
      if (format === 'json') ctx.out.write(JSON.stringify(e) + '\n');
      else if (tmpl) ctx.out.write(tmpl.execute(e) + '\n');
      else ctx.out.write(prettyEvent(e));
    }
  } catch (e) {
    if (abort.signal.aborted) return 0;
    throw e;
  }
  return 0;
}

/* --------------------------------------------------------------- prune */

async function pruneImages(client: EngineClient, all: boolean, filters: Record<string, string[]>): Promise<[number, string]> {
  const r = await client.imagesPrune({ ...filters, dangling: [String(!all)] });
  const items = r.ImagesDeleted ?? [];
  if (!items.length) return [0, ''];
  let out = 'Deleted Images:\n';
  for (const it of items) out += it.Untagged ? `untagged: ${it.Untagged}\n` : `deleted: ${it.Deleted}\n`;
  return [r.SpaceReclaimed ?? 0, out];
}

async function runImagePrune(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const all = p.flags.all as boolean;
  const filters = pruneFilters(p.flags.filter as string[]);
  const warning = all
    ? 'WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?'
    : 'WARNING! This will remove all dangling images.\nAre you sure you want to continue?';
  if (!(p.flags.force as boolean) && !(await confirm(ctx, warning))) return 0;
  const [space, output] = await pruneImages(await ctx.client(), all, filters);
  if (output) ctx.out.write(output + '\n');
  ctx.out.write(`Total reclaimed space: ${humanSize(space)}\n`);
  return 0;
}

async function runSystemPrune(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const all = p.flags.all as boolean;
  const filters = pruneFilters(p.flags.filter as string[]);
  if (p.flags.volumes && filters.until) throw new StatusError(1, 'ERROR: The "until" filter is not supported with "--volumes"');
  if (!(p.flags.force as boolean)) {
    const warnings = ['all stopped containers', 'all networks not used by at least one container'];
    if (p.flags.volumes) warnings.push('all anonymous volumes not used by at least one container');
    warnings.push(all ? 'all images without at least one container associated to them' : 'all dangling images');
    warnings.push(all ? 'all build cache' : 'unused build cache');
    const shown: string[] = [];
    for (const k of ['label', 'label!', 'until']) for (const v of filters[k] ?? []) shown.push(`${k}=${v}`);
    shown.sort();
    let msg = `WARNING! This will remove:\n${warnings.map((w) => `  - ${w}`).join('\n')}\n`;
    if (shown.length) msg += `\n  Items to be pruned will be filtered with:\n${shown.map((w) => `  - ${w}`).join('\n')}\n`;
    if (!(await confirm(ctx, `${msg}\nAre you sure you want to continue?`))) return 0;
  }
  const client = await ctx.client();
  let total = 0;
  const step = (space: number, output: string) => {
    total += space;
    if (output) ctx.out.write(output + '\n');
  };
  step(...await pruneContainers(client, filters));
  const nets = await client.networksPrune(filters);
  if (nets.NetworksDeleted?.length) step(0, `Deleted Networks:\n${nets.NetworksDeleted.map((n) => n + '\n').join('')}`);
  if (p.flags.volumes) {
    const { pruneVolumes } = await import('./volume.js');
    step(...await pruneVolumes(ctx, filters, false));
  }
  step(...await pruneImages(client, all, filters));
  const cache = await client.buildPrune({ ...filters, ...(all ? {} : {}) });
  if (cache.CachesDeleted?.length) step(cache.SpaceReclaimed ?? 0, `Deleted build cache objects:\n${cache.CachesDeleted.map((c) => c + '\n').join('')}`);
  ctx.out.write(`Total reclaimed space: ${humanSize(total)}\n`);
  return 0;
}

/* ------------------------------------------------------------- registry */

export const commands: Record<string, CommandDef> = {
  events: {
    spec: {
      use: '[OPTIONS]',
      short: 'Get real time events from the server',
      aliases: ['system events', 'events'],
      flags: [
        { name: 'filter', short: 'f', type: 'list', typeName: 'filter', usage: 'Filter output based on conditions provided' },
        { name: 'format', type: 'string', usage: INSPECT_FORMAT_USAGE },
        { name: 'since', type: 'string', usage: 'Show all events created since timestamp' },
        { name: 'until', type: 'string', usage: 'Stream events until this timestamp' },
      ],
      maxArgs: 0,
    },
    run: runEvents,
  },
  'image-prune': {
    spec: {
      use: '[OPTIONS]',
      short: 'Remove unused images',
      flags: [
        { name: 'all', short: 'a', type: 'bool', usage: 'Remove all unused images, not just dangling ones' },
        { name: 'filter', type: 'list', typeName: 'filter', usage: 'Provide filter values (e.g. "until=<timestamp>")' },
        { name: 'force', short: 'f', type: 'bool', usage: 'Do not prompt for confirmation' },
      ],
      maxArgs: 0,
    },
    run: runImagePrune,
  },
  'system-prune': {
    spec: {
      use: '[OPTIONS]',
      short: 'Remove unused data',
      flags: [
        { name: 'all', short: 'a', type: 'bool', usage: 'Remove all unused images not just dangling ones' },
        { name: 'filter', type: 'list', typeName: 'filter', usage: 'Provide filter values (e.g. "label=<key>=<value>")' },
        { name: 'force', short: 'f', type: 'bool', usage: 'Do not prompt for confirmation' },
        { name: 'volumes', type: 'bool', usage: 'Prune anonymous volumes' },
      ],
      maxArgs: 0,
    },
    run: runSystemPrune,
  },
};
