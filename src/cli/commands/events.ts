// events (system events): the daemon's event stream, as docker/cli prints it.
import type { EventMessage } from '../../client/index.js';
import type { CommandDef, Ctx } from '../context.js';
import { StatusError } from '../context.js';
import type { ParsedFlags } from '../flags.js';
import { parseFormat, Template } from '../format/template.js';
import { filterFlag, getTimestamp, parseFilters, INSPECT_FORMAT_USAGE } from './common.js';
import { SUMMARY } from '../summaries.js';

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

export const commands: Record<string, CommandDef> = {
  events: {
    spec: {
      use: '[OPTIONS]',
      short: SUMMARY.events,
      aliases: ['system events', 'events'],
      flags: [
        filterFlag(),
        { name: 'format', type: 'string', usage: INSPECT_FORMAT_USAGE },
        { name: 'since', type: 'string', usage: 'Start with the events since this time' },
        { name: 'until', type: 'string', usage: 'Stop streaming at this time' },
      ],
      maxArgs: 0,
    },
    run: runEvents,
  },
};
