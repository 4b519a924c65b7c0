// A small pflag/cobra-compatible flag parser and help renderer.

export type FlagType = 'bool' | 'string' | 'list' | 'int' | 'uint' | 'float';

export interface FlagSpec {
  name: string;
  short?: string;
  type: FlagType;
  /** Placeholder shown in help (pflag varname): "string", "list", "int", "filter", "duration"… */
  typeName?: string;
  def?: string | number | boolean | string[];
  usage: string;
  hidden?: boolean;
}

export interface CommandSpec {
  /** Path after the program name, e.g. "run" or "container ls". Filled in by the caller when invoked. */
  path?: string;
  /** Usage after the path, e.g. "[OPTIONS] IMAGE [COMMAND] [ARG...]" */
  use: string;
  short: string;
  aliases?: string[];
  flags: FlagSpec[];
  /** false for run/create/exec: the first positional argument stops flag parsing. */
  interspersed?: boolean;
  minArgs?: number;
  maxArgs?: number;
}

export type FlagValue = string | number | boolean | string[];

export interface ParsedFlags {
  flags: Record<string, FlagValue>;
  /** Which flags were given explicitly. */
  changed: Set<string>;
  args: string[];
  help: boolean;
}

/** A usage error: printed with the command's usage line, exit 125 (like cobra in docker/cli). */
export class FlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlagError';
  }
}

function defaultOf(f: FlagSpec): FlagValue {
  if (f.def !== undefined) return Array.isArray(f.def) ? [...f.def] : f.def;
  switch (f.type) {
    case 'bool':
      return false;
    case 'list':
      return [];
    case 'int':
    case 'uint':
    case 'float':
      return 0;
    default:
      return '';
  }
}

function flagTitle(f: FlagSpec): string {
  return f.short ? `-${f.short}, --${f.name}` : `--${f.name}`;
}

function parseBool(v: string, f: FlagSpec): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw new FlagError(`invalid argument "${v}" for "${flagTitle(f)}" flag: strconv.ParseBool: parsing "${v}": invalid syntax`);
}

function setValue(out: ParsedFlags, f: FlagSpec, v: string): void {
  out.changed.add(f.name);
  switch (f.type) {
    case 'bool':
      out.flags[f.name] = parseBool(v, f);
      return;
    case 'list': {
      const cur = out.flags[f.name] as string[];
      cur.push(v);
      return;
    }
    case 'int':
    case 'uint': {
      if (!/^[+-]?\d+$/.test(v.trim()) || (f.type === 'uint' && v.trim().startsWith('-'))) {
        const fn = f.type === 'uint' ? 'ParseUint' : 'ParseInt';
        throw new FlagError(`invalid argument "${v}" for "${flagTitle(f)}" flag: strconv.${fn}: parsing "${v}": invalid syntax`);
      }
      out.flags[f.name] = parseInt(v, 10);
      return;
    }
    case 'float': {
      const n = Number(v);
      if (v.trim() === '' || Number.isNaN(n))
        throw new FlagError(`invalid argument "${v}" for "${flagTitle(f)}" flag: strconv.ParseFloat: parsing "${v}": invalid syntax`);
      out.flags[f.name] = n;
      return;
    }
    default:
      out.flags[f.name] = v;
  }
}

const HELP: FlagSpec = { name: 'help', type: 'bool', usage: 'Show this help', hidden: true };

export function parseFlags(spec: Pick<CommandSpec, 'flags' | 'interspersed'>, argv: string[]): ParsedFlags {
  const byLong = new Map<string, FlagSpec>();
  const byShort = new Map<string, FlagSpec>();
  for (const f of spec.flags) {
    byLong.set(f.name, f);
    if (f.short) byShort.set(f.short, f);
  }
  if (!byLong.has('help')) byLong.set('help', HELP);
  const out: ParsedFlags = { flags: {}, changed: new Set(), args: [], help: false };
  for (const f of spec.flags) out.flags[f.name] = defaultOf(f);
  const interspersed = spec.interspersed !== false;

  let i = 0;
  while (i < argv.length) {
    const a = argv[i++];
    if (a === '--') {
      out.args.push(...argv.slice(i));
      break;
    }
    if (a.length < 2 || a[0] !== '-') {
      out.args.push(a);
      if (!interspersed) {
        out.args.push(...argv.slice(i));
        break;
      }
      continue;
    }
    if (a.startsWith('--')) {
      const body = a.slice(2);
      const eq = body.indexOf('=');
      const name = eq >= 0 ? body.slice(0, eq) : body;
      if (name.length === 0 || name[0] === '-' || name[0] === '=') throw new FlagError(`bad flag syntax: ${a}`);
      const f = byLong.get(name);
      if (!f) throw new FlagError(`unknown flag: --${name}`);
      if (f === HELP || name === 'help') {
        out.help = true;
        continue;
      }
      if (eq >= 0) setValue(out, f, body.slice(eq + 1));
      else if (f.type === 'bool') setValue(out, f, 'true');
      else if (i < argv.length) setValue(out, f, argv[i++]);
      else throw new FlagError(`flag needs an argument: --${name}`);
      continue;
    }
    // shorthand cluster
    let s = a.slice(1);
    while (s.length) {
      const c = s[0];
      const f = byShort.get(c);
      if (!f) {
        if (c === 'h') {
          out.help = true;
          s = s.slice(1);
          continue;
        }
        throw new FlagError(`unknown shorthand flag: '${c}' in -${s}`);
      }
      if (s.length > 2 && s[1] === '=') {
        setValue(out, f, s.slice(2));
        s = '';
      } else if (f.type === 'bool') {
        setValue(out, f, 'true');
        s = s.slice(1);
      } else if (s.length > 1) {
        setValue(out, f, s.slice(1));
        s = '';
      } else if (i < argv.length) {
        setValue(out, f, argv[i++]);
        s = '';
      } else {
        throw new FlagError(`flag needs an argument: '${c}' in -${c}`);
      }
    }
  }
  return out;
}

/* ----------------------------------------------------------------- help */

function wrapN(i: number, slop: number, s: string): [string, string] {
  if (i + slop > s.length) return [s, ''];
  const head = s.slice(0, i);
  let w = -1;
  for (let k = head.length - 1; k >= 0; k--) {
    if (head[k] === ' ' || head[k] === '\t' || head[k] === '\n') {
      w = k;
      break;
    }
  }
  if (w <= 0) return [s, ''];
  const nl = head.lastIndexOf('\n');
  if (nl > 0 && nl < w) return [s.slice(0, nl), s.slice(nl + 1)];
  return [s.slice(0, w), s.slice(w + 1)];
}

/** pflag's wrap(): wrap s to w columns, continuation lines indented by i. */
export function wrapText(i: number, w: number, s: string): string {
  if (w === 0) return s.replace(/\n/g, '\n' + ' '.repeat(i));
  let wrap = w - i;
  let r = '';
  if (wrap < 24) {
    i = 16;
    wrap = w - i;
    r += '\n' + ' '.repeat(i);
  }
  if (wrap < 24) return s.replace(/\n/g, r);
  const slop = 5;
  wrap -= slop;
  let l: string;
  [l, s] = wrapN(wrap, slop, s);
  r += l.replace(/\n/g, '\n' + ' '.repeat(i));
  while (s !== '') {
    let t: string;
    [t, s] = wrapN(wrap, slop, s);
    r += '\n' + ' '.repeat(i) + t.replace(/\n/g, '\n' + ' '.repeat(i));
  }
  return r;
}

function defaultText(f: FlagSpec): string {
  const d = f.def;
  if (d === undefined) return '';
  if (f.type === 'bool') return d === true ? ' (default true)' : '';
  if (f.type === 'string') return d === '' ? '' : ` (default "${d}")`;
  if (f.type === 'list') return Array.isArray(d) && d.length ? ` (default [${d.join(',')}])` : '';
  return d === 0 ? '' : ` (default ${d})`;
}

export function flagUsages(flags: FlagSpec[], cols: number): string {
  const lines: string[] = [];
  let maxlen = 0;
  for (const f of flags) {
    if (f.hidden) continue;
    let line = f.short ? `  -${f.short}, --${f.name}` : `      --${f.name}`;
    const varname = f.type === 'bool' ? '' : (f.typeName ?? (f.type === 'list' ? 'list' : f.type === 'float' ? 'float' : f.type));
    if (varname) line += ' ' + varname;
    line += '\x00';
    if (line.length > maxlen) maxlen = line.length;
    line += f.usage + defaultText(f);
    lines.push(line);
  }
  let buf = '';
  for (const line of lines) {
    const sidx = line.indexOf('\x00');
    const spacing = ' '.repeat(maxlen - sidx);
    buf += line.slice(0, sidx) + ' ' + spacing + ' ' + wrapText(maxlen + 2, cols, line.slice(sidx + 1)) + '\n';
  }
  return buf;
}

export function usageLine(prog: string, spec: CommandSpec): string {
  return `${prog} ${spec.path}${spec.use ? ' ' + spec.use : ''}`;
}

export function renderHelp(prog: string, spec: CommandSpec): string {
  const cols = Math.max(0, (process.stdout.isTTY ? process.stdout.columns || 80 : 80) - 1);
  let s = `Usage:  ${usageLine(prog, spec)}\n\n${spec.short}\n`;
  if (spec.aliases && spec.aliases.length) s += `\nAliases:\n  ${spec.aliases.map((a) => `${prog} ${a}`).join(', ')}\n`;
  const visible = spec.flags.filter((f) => !f.hidden);
  if (visible.length) s += `\nOptions:\n${flagUsages(visible, cols).replace(/\s+$/, '')}\n`;
  return s;
}
