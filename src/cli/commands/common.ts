// Helpers shared by command groups: output formatting, docker/cli string helpers, errors.
import { tabwrite } from '../format/tabwriter.js';
import { parseFormat, Template } from '../format/template.js';
import { PROG, StatusError, type Ctx } from '../context.js';
import type { FlagSpec } from '../flags.js';
import type { IncomingMessage } from 'node:http';

/** formatter.Ellipsis: shorten to maxWidth display columns, ending in "…". */
export function ellipsis(s: string, maxWidth: number): string {
  const chars = [...s];
  if (chars.length <= maxWidth) return s;
  if (maxWidth <= 0) return '';
  if (maxWidth === 1) return chars[0];
  return chars.slice(0, maxWidth - 1).join('') + '…';
}

/** Go's strconv.Quote. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\x07') out += '\\a';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\v') out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else if ((c >= 0x80 && c < 0xa0) || c === 0xfffd) out += c <= 0xffff ? '\\u' + c.toString(16).padStart(4, '0') : ch;
    else out += ch;
  }
  return out + '"';
}

/**
 * Write items with a docker-style --format: "table", "table TMPL", "json", or a template.
 * `headers` maps field names to column titles for the table header row.
 */
export function writeFormatted(
  out: { write(s: string): unknown },
  format: string,
  defaultTable: string,
  items: unknown[],
  headers: Record<string, string>,
): void {
  const pf = parseFormat(format, defaultTable);
  let tmpl: Template;
  try {
    tmpl = new Template(pf.template);
  } catch (e) {
    throw new StatusError(1, `failed to parse template: ${(e as Error).message}`);
  }
  let body = '';
  try {
    for (const it of items) body += tmpl.execute(it) + '\n';
  } catch (e) {
    throw new StatusError(1, `failed to execute template: ${(e as Error).message}`);
  }
  if (!pf.table) {
    out.write(body);
    return;
  }
  const headerCtx = new Proxy(
    {},
    {
      has: () => true,
      get: (_t, prop) => {
        if (typeof prop !== 'string') return undefined;
        const h = headers[prop] ?? prop.toUpperCase();
        return prop === 'Label' ? () => 'LABEL' : h;
      },
    },
  );
  let header = '';
  try {
    header = tmpl.execute(headerCtx);
  } catch {
    header = '';
  }
  out.write(tabwrite(header + '\n' + body, { minwidth: 10, padding: 3 }));
}

/** The run/create-style daemon error: "berth: <msg>\n\nRun 'berth run --help' for more information". */
export function runStyleError(err: unknown, path: string, status = 125): StatusError {
  return new StatusError(status, `${PROG}: ${errorText(err)}\n\nRun '${PROG} ${path} --help' for more information`);
}

export function errorText(err: unknown): string {
  const e = err as { name?: string; message?: string };
  if (e && e.name === 'ApiError') return `Error response from daemon: ${e.message}`;
  return e && e.message !== undefined ? e.message : String(err);
}

export function isNotFound(err: unknown): boolean {
  return !!err && (err as { statusCode?: number }).statusCode === 404;
}

/** timetypes.GetTimestamp: durations relative to now, RFC3339 dates, or raw unix seconds. */
export function getTimestamp(value: string, now = Date.now()): string {
  if (!value) return value;
  const dur = parseGoDuration(value);
  if (dur !== null) {
    const t = now - dur;
    const sec = Math.floor(t / 1000);
    const nanos = Math.round((t - sec * 1000) * 1e6);
    return `${sec}.${String(nanos).padStart(9, '0')}`;
  }
  if (/^\d+(\.\d+)?$/.test(value)) return value;
  let v = value;
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) v += 'T00:00:00';
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(v)) v += 'Z';
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) return value;
  const fracMatch = /\.(\d+)/.exec(value);
  const sec = Math.floor(ms / 1000);
  const nanos = fracMatch ? fracMatch[1].padEnd(9, '0').slice(0, 9) : '000000000';
  return `${sec}.${nanos}`;
}

/** time.ParseDuration subset → milliseconds, or null if not a duration. */
export function parseGoDuration(s: string): number | null {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  if (!/^(\d+(?:\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(s)) return null;
  const mult: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };
  let total = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) total += Number(m[1]) * mult[m[2]];
  return total;
}

/** Go's time.Time.String() for a unix time, in local time ("2006-01-02 15:04:05 -0700 MST"). */
export function goTimeString(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const off = -d.getTimezoneOffset();
  const p = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');
  const sign = off >= 0 ? '+' : '-';
  const offStr = `${sign}${p(Math.trunc(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`;
  const zone = off === 0 ? 'UTC' : offStr;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${offStr} ${zone}`;
}

/**
 * Parse `-f key=value` filter flags into the filters map. `flag` names the flag in the error,
 * as pflag does ("-f, --filter", or "--filter" where the flag has no shorthand).
 */
export function parseFilters(list: string[], flag = '-f, --filter'): Record<string, string[]> {
  const f: Record<string, string[]> = {};
  for (const item of list) {
    const i = item.indexOf('=');
    if (i < 0) throw new StatusError(125, `invalid argument "${item}" for "${flag}" flag: bad format of filter (expected name=value)`);
    const k = item.slice(0, i).trim().toLowerCase();
    (f[k] ??= []).push(item.slice(i + 1));
  }
  return f;
}

export const FORMAT_USAGE =
  "How to print the output:\ntable           columns with a header (default)\ntable TEMPLATE  header, then TEMPLATE per row\njson            one JSON object per line\nTEMPLATE        a Go template applied to each item";

export const INSPECT_FORMAT_USAGE = "How to print the output:\njson      as JSON\nTEMPLATE  a Go template applied to each object";

/** `--format` of list commands (table, json or a template). */
export const FORMAT_FLAG: FlagSpec = { name: 'format', type: 'string', usage: FORMAT_USAGE };

/** `-f, --format` of inspect-like commands (json or a template). */
export const INSPECT_FORMAT_FLAG: FlagSpec = { name: 'format', short: 'f', type: 'string', usage: INSPECT_FORMAT_USAGE };

/** A `--filter` flag spec; list commands have `-f`, prune commands do not. */
export function filterFlag(usage = 'Show only what matches a condition (name=value)', shorthand = true): FlagSpec {
  return { name: 'filter', ...(shorthand ? { short: 'f' } : {}), type: 'list', typeName: 'filter', usage };
}

/**
 * docker/cli's loop over the arguments of a multi-object command (stop, rm, pause, volume rm…):
 * run `fn` for each in order and print what it returns (the argument itself for undefined,
 * nothing for null); errors are collected and reported together at the end (exit 1).
 */
export async function eachArg(ctx: Ctx, names: string[], fn: (name: string) => Promise<string | null | void>): Promise<number> {
  const errs: string[] = [];
  for (const n of names) {
    try {
      const out = await fn(n);
      if (out !== null) ctx.out.write((out ?? n) + '\n');
    } catch (e) {
      errs.push(errorText(e));
    }
  }
  if (errs.length) throw new StatusError(1, errs.join('\n'));
  return 0;
}

/**
 * docker/cli's inspect loop: fetch each object, print those found with `--format` (writeInspect),
 * then the errors of the others together (exit 1).
 */
export async function inspectEach(ctx: Ctx, names: string[], format: string, get: (name: string) => Promise<unknown>): Promise<number> {
  const items: unknown[] = [];
  const errors: string[] = [];
  for (const n of names) {
    try {
      items.push(await get(n));
    } catch (e) {
      errors.push(errorText(e));
    }
  }
  writeInspect(ctx.out, items, format);
  if (errors.length) throw new StatusError(1, errors.join('\n'));
  return 0;
}

/** Write inspect results the way docker does: indented JSON array, or one template execution per item. */
export function writeInspect(out: { write(s: string): unknown }, items: unknown[], format: string): void {
  if (!format || format === 'json') {
    if (format === 'json') {
      for (const it of items) out.write(JSON.stringify(it) + '\n');
      return;
    }
    out.write((items.length ? JSON.stringify(items, null, 4) : '[]') + '\n');
    return;
  }
  const f = format.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  let tmpl: Template;
  try {
    tmpl = new Template(f, { missingKeyError: true });
  } catch (e) {
    throw new StatusError(64, `template parsing error: ${(e as Error).message}`);
  }
  for (const it of items) {
    let text: string;
    try {
      text = tmpl.execute(it);
    } catch (e) {
      out.write('\n');
      throw new StatusError(1, `template parsing error: ${(e as Error).message}`);
    }
    out.write(text + '\n');
  }
}

/** Render a pull/push progress stream (JSONMessages) to `out`, or consume it silently (quiet). */
export async function renderProgress(res: IncomingMessage, out: NodeJS.WriteStream | undefined): Promise<void> {
  const { iterateJSON } = await import('../../client/jsonstream.js');
  const { ProgressRenderer } = await import('../format/progress.js');
  const sink = out ?? { write: () => true };
  const r = new ProgressRenderer(sink, !!out?.isTTY, typeof out?.columns === 'number' ? out.columns : 200);
  for await (const m of iterateJSON(res)) r.write(m);
}
