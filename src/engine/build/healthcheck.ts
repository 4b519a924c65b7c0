/**
 * HEALTHCHECK as the builder reads it: `NONE`, or `[--interval=D] [--timeout=D] [--start-period=D]
 * [--start-interval=D] [--retries=N] CMD <command>` (Go durations, nanoseconds in the config).
 */
import { InvalidParameterError } from '../errors.js';
import type { Node } from './parser.js';

const UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds. */
export function parseDuration(s: string): number {
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let at = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) { total += Number(m[1]) * UNITS[m[2]!]!; at = re.lastIndex; }
  if (at !== s.length || s.length === 0) throw new InvalidParameterError(`time: invalid duration "${s}"`);
  return Math.round(total);
}

export function healthcheckOf(node: Node, shell: string[]): Record<string, unknown> {
  const rest = node.rest.trim();
  const [kw, ...more] = rest.split(/\s+/);
  const type = (kw ?? '').toUpperCase();
  if (type === 'NONE') {
    if (more.length || node.flags.size) throw new InvalidParameterError('HEALTHCHECK NONE takes no arguments');
    return { Test: ['NONE'] };
  }
  if (type !== 'CMD') throw new InvalidParameterError(`Unknown type "${kw ?? ''}" in HEALTHCHECK (try CMD)`);
  const cmdText = rest.slice(kw!.length).trim();
  if (!cmdText) throw new InvalidParameterError('Missing command after HEALTHCHECK CMD');
  let test: string[];
  try {
    const v = JSON.parse(cmdText) as unknown;
    test = Array.isArray(v) && v.every((x) => typeof x === 'string') ? ['CMD', ...(v as string[])] : ['CMD-SHELL', cmdText];
  } catch {
    test = ['CMD-SHELL', cmdText];
  }
  void shell;
  const hc: Record<string, unknown> = { Test: test };
  const dur = (flag: string, field: string) => {
    const v = node.flags.get(flag);
    if (typeof v !== 'string') return;
    const ns = parseDuration(v);
    if (ns !== 0 && ns < 1e6) throw new InvalidParameterError(`Interval "${flag}" cannot be less than 1ms`);
    hc[field] = ns;
  };
  dur('interval', 'Interval');
  dur('timeout', 'Timeout');
  dur('start-period', 'StartPeriod');
  dur('start-interval', 'StartInterval');
  const retries = node.flags.get('retries');
  if (typeof retries === 'string') {
    const n = Number(retries);
    if (!Number.isInteger(n)) throw new InvalidParameterError(`strconv.ParseInt: parsing "${retries}": invalid syntax`);
    if (n < 1) throw new InvalidParameterError(`--retries must be at least 1 (not ${n})`);
    hc.Retries = n;
  }
  return hc;
}
