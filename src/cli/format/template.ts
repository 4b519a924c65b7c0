// A small Go text/template subset for --format: fields, pipelines, if/else/range/with, and
// docker/cli's template functions (json, join, split, lower, upper, title, pad, truncate, println).

type Node =
  | { k: 'text'; v: string }
  | { k: 'action'; p: Pipeline }
  | { k: 'if' | 'with'; p: Pipeline; then: Node[]; else: Node[] }
  | { k: 'range'; p: Pipeline; then: Node[]; else: Node[] };

type Operand =
  | { k: 'field'; base: 'dot' | 'var'; name?: string; path: string[]; pos?: number; src?: string }
  | { k: 'lit'; v: unknown }
  | { k: 'ident'; name: string }
  | { k: 'sub'; p: Pipeline };

type Command = Operand[];
interface Pipeline {
  decl?: string;
  /** `$k, $v := …` in range */
  decl2?: [string, string];
  cmds: Command[];
}

export class TemplateError extends Error {}

/* ------------------------------------------------------------------ lexing */

interface RawToken {
  text?: string;
  action?: string;
  /** Offset of the (trimmed) action body in the source. */
  pos?: number;
}

function splitActions(src: string): RawToken[] {
  const out: RawToken[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      out.push({ text: src.slice(i) });
      break;
    }
    let text = src.slice(i, open);
    let j = open + 2;
    if (src[j] === '-' && /\s/.test(src[j + 1] ?? '')) {
      text = text.replace(/\s+$/, '');
      j += 1;
    }
    if (text) out.push({ text });
    // find the closing braces outside string literals
    let k = j;
    let q: string | null = null;
    for (; k < src.length; k++) {
      const c = src[k];
      if (q) {
        if (c === '\\' && q === '"') k++;
        else if (c === q) q = null;
      } else if (c === '"' || c === '`' || c === "'") q = c;
      else if (c === '}' && src[k + 1] === '}') break;
    }
    if (k >= src.length) throw new TemplateError(`template: :${lineOf(src, open)}: unclosed action`);
    let body = src.slice(j, k);
    const lead = /^\s*/.exec(body)![0].length;
    i = k + 2;
    if (/\s-$/.test(body)) {
      body = body.slice(0, -1);
      const m = /^\s*/.exec(src.slice(i));
      i += m ? m[0].length : 0;
    }
    out.push({ action: body.trim(), pos: j + lead });
  }
  return out;
}

function lineOf(src: string, pos: number): number {
  let n = 1;
  for (let i = 0; i < pos && i < src.length; i++) if (src[i] === '\n') n++;
  return n;
}

type Toks = string[] & { pos?: number[] };

function tokenizeAction(s: string, base = 0): Toks {
  const toks: Toks = [];
  const positions: number[] = [];
  toks.pos = positions;
  const push0 = toks.push.bind(toks);
  let at = 0;
  toks.push = (...items: string[]) => {
    for (let k = 0; k < items.length; k++) positions.push(base + at);
    return push0(...items);
  };
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    at = i;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      toks.push(s.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const j = s.indexOf('`', i + 1);
      toks.push(s.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    if (c === '|' || c === '(' || c === ')') {
      toks.push(c);
      i++;
      continue;
    }
    if (c === ':' && s[i + 1] === '=') {
      toks.push(':=');
      i += 2;
      continue;
    }
    let j = i;
    while (j < s.length && !/[\s|()]/.test(s[j]) && !(s[j] === ':' && s[j + 1] === '=')) j++;
    toks.push(s.slice(i, j));
    i = j;
  }
  return toks;
}

function parseOperand(t: string, pos?: number): Operand {
  if (t.startsWith('"')) return { k: 'lit', v: JSON.parse(t.replace(/\t/g, '\\t').replace(/\n/g, '\\n')) };
  if (t.startsWith('`')) return { k: 'lit', v: t.slice(1, -1) };
  if (t === 'true' || t === 'false') return { k: 'lit', v: t === 'true' };
  if (t === 'nil') return { k: 'lit', v: null };
  if (/^-?\d+(\.\d+)?$/.test(t)) return { k: 'lit', v: Number(t) };
  if (t === '.') return { k: 'field', base: 'dot', path: [], pos, src: t };
  if (t.startsWith('.')) return { k: 'field', base: 'dot', path: t.slice(1).split('.'), pos, src: t };
  if (t.startsWith('$')) {
    const [name, ...path] = t.split('.');
    return { k: 'field', base: 'var', name, path, pos, src: t };
  }
  return { k: 'ident', name: t };
}

function parsePipeline(toks: Toks): Pipeline {
  let pos = 0;
  const p: Pipeline = { cmds: [] };
  if (toks.length > 2 && toks[0].startsWith('$') && toks[1] === ':=') {
    p.decl = toks[0];
    pos = 2;
  } else if (toks.length > 3 && toks[0].startsWith('$') && toks[0].endsWith(',') && toks[1].startsWith('$') && toks[2] === ':=') {
    p.decl2 = [toks[0].slice(0, -1), toks[1]];
    pos = 3;
  }
  const parseCmds = (stopAtParen: boolean): Command[] => {
    const cmds: Command[] = [];
    let cur: Command = [];
    while (pos < toks.length) {
      const t = toks[pos++];
      if (t === '|') {
        cmds.push(cur);
        cur = [];
      } else if (t === '(') {
        const sub: Pipeline = { cmds: parseCmds(true) };
        cur.push({ k: 'sub', p: sub });
      } else if (t === ')') {
        if (stopAtParen) break;
        throw new TemplateError('template: unexpected )');
      } else cur.push(parseOperand(t, toks.pos ? toks.pos[pos - 1] : undefined));
    }
    if (cur.length) cmds.push(cur);
    return cmds;
  };
  p.cmds = parseCmds(false);
  return p;
}

export function parseTemplate(src: string): Node[] {
  const raw = splitActions(src);
  let pos = 0;
  const parseList = (stop: string[]): { nodes: Node[]; end: string } => {
    const nodes: Node[] = [];
    while (pos < raw.length) {
      const r = raw[pos++];
      if (r.text !== undefined) {
        nodes.push({ k: 'text', v: r.text });
        continue;
      }
      const a = r.action as string;
      if (a.startsWith('/*')) continue;
      const word = a.split(/\s+/)[0];
      if (stop.includes(word)) return { nodes, end: a };
      if (word === 'if' || word === 'range' || word === 'with') {
        const p = parsePipeline(tokenizeAction(a.slice(word.length), (r.pos ?? 0) + word.length));
        const body = parseList(['else', 'end']);
        let elseNodes: Node[] = [];
        if (body.end.split(/\s+/)[0] === 'else') {
          const rest = body.end.slice(4).trim();
          if (rest.startsWith('if ')) {
            // else if: nest
            pos--;
            raw[pos] = { action: rest };
            const nested = parseList(['end']);
            elseNodes = nested.nodes;
            // parseList consumed the nested if plus its end; the outer end was that same end
          } else {
            elseNodes = parseList(['end']).nodes;
          }
        }
        nodes.push({ k: word, p, then: body.nodes, else: elseNodes } as Node);
        continue;
      }
      if (word === 'end' || word === 'else') throw new TemplateError(`template: unexpected {{${word}}}`);
      nodes.push({ k: 'action', p: parsePipeline(tokenizeAction(a, r.pos ?? 0)) });
    }
    if (stop.length) throw new TemplateError('template: unexpected EOF');
    return { nodes, end: '' };
  };
  return parseList([]).nodes;
}

/* --------------------------------------------------------------- printing */

export function goPrint(v: unknown): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return '[' + v.map(goPrintInner).join(' ') + ']';
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.toString === 'function' && o.toString !== Object.prototype.toString) return o.toString();
    const keys = Object.keys(o).sort();
    return 'map[' + keys.map((k) => `${k}:${goPrintInner(o[k])}`).join(' ') + ']';
  }
  return String(v);
}

function goPrintInner(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  return goPrint(v);
}

function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0 || typeof (v as { toJSON?: unknown }).toJSON === 'function';
  return true;
}

function titleCase(s: string): string {
  return s.replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, a: string, b: string) => a + b.toUpperCase());
}

function sprintf(fmt: string, args: unknown[]): string {
  let i = 0;
  return fmt.replace(/%([-+ #0]*\d*(?:\.\d+)?)([svdqtfx%])/g, (_m, _flags: string, verb: string) => {
    if (verb === '%') return '%';
    const a = args[i++];
    switch (verb) {
      case 'q':
        return JSON.stringify(goPrint(a));
      case 'd':
        return String(Math.trunc(Number(a)));
      default:
        return goPrint(a);
    }
  });
}

export const FUNCS: Record<string, (...a: unknown[]) => unknown> = {
  json: (v) => {
    if (v && typeof (v as { toJSON?: unknown }).toJSON === 'function')
      return JSON.stringify((v as { toJSON(): unknown }).toJSON())
        .replace(/</g, '\\u003c')
        .replace(/>/g, '\\u003e')
        .replace(/&/g, '\\u0026');
    return JSON.stringify(v ?? null);
  },
  join: (a, sep) => (Array.isArray(a) ? a.map(goPrint).join(String(sep)) : goPrint(a)),
  split: (s, sep) => String(s).split(String(sep)),
  lower: (s) => goPrint(s).toLowerCase(),
  upper: (s) => goPrint(s).toUpperCase(),
  title: (s) => titleCase(goPrint(s)),
  pad: (s, l, r) => ' '.repeat(Number(l)) + goPrint(s) + ' '.repeat(Number(r)),
  truncate: (s, n) => [...goPrint(s)].slice(0, Number(n)).join(''),
  println: (...a) => a.map(goPrint).join(' ') + '\n',
  print: (...a) => a.map(goPrint).join(''),
  printf: (f, ...a) => sprintf(String(f), a),
  len: (v) => (Array.isArray(v) || typeof v === 'string' ? v.length : v && typeof v === 'object' ? Object.keys(v).length : 0),
  index: (v, ...keys) => {
    let cur: unknown = v;
    for (const k of keys) cur = cur == null ? undefined : (cur as Record<string, unknown>)[k as string];
    return cur;
  },
  eq: (a, ...b) => b.some((x) => x === a),
  ne: (a, b) => a !== b,
  lt: (a, b) => (a as number) < (b as number),
  le: (a, b) => (a as number) <= (b as number),
  gt: (a, b) => (a as number) > (b as number),
  ge: (a, b) => (a as number) >= (b as number),
  not: (a) => !truthy(a),
  and: (...a) => {
    for (const x of a) if (!truthy(x)) return x;
    return a[a.length - 1];
  },
  or: (...a) => {
    for (const x of a) if (truthy(x)) return x;
    return a[a.length - 1];
  },
};

/* -------------------------------------------------------------- execution */

interface Scope {
  dot: unknown;
  vars: Map<string, unknown>;
  opts: ExecOptions;
  src: string;
}

export interface ExecOptions {
  /** Go's missingkey=error: a missing map key is an error instead of "<no value>". */
  missingKeyError?: boolean;
}


function fieldOf(obj: unknown, name: string, args: unknown[], sc: Scope, op: Operand & { k: 'field' }, seg: number): unknown {
  if (obj === null || obj === undefined) return undefined;
  const rec = obj as Record<string, unknown>;
  const isClass = typeof obj === 'object' && Object.getPrototypeOf(obj) !== Object.prototype && !Array.isArray(obj);
  if (!(name in rec)) {
    const where = () => {
      let pos = op.pos ?? 0;
      if (op.base === 'dot') for (let i = 0; i < seg; i++) pos += op.path[i].length + 1;
      else pos += (op.name?.length ?? 0);
      const before = sc.src.slice(0, pos);
      const line = before.split('\n').length;
      const col = pos - (before.lastIndexOf('\n') + 1);
      return `template: :${line}:${col}: executing "" at <${op.src}>`;
    };
    if (isClass && typeof obj === 'object') {
      // classes may declare `static goType` (the Go type docker/cli would name in this error)
      const ctor = (obj as object).constructor as { goType?: string; name: string };
      const t = ctor.goType ?? ctor.name;
      throw new TemplateError(`${where()}: can't evaluate field ${name} in type ${t}`);
    }
    if (sc.opts.missingKeyError) throw new TemplateError(`${where()}: map has no entry for key "${name}"`);
    return undefined;
  }
  const v = rec[name];
  if (typeof v === 'function') return (v as (...a: unknown[]) => unknown).apply(obj, args);
  return v;
}

function evalOperand(op: Operand, sc: Scope, args: unknown[], final: unknown, hasFinal: boolean): unknown {
  switch (op.k) {
    case 'lit':
      return op.v;
    case 'sub':
      return evalPipeline(op.p, sc);
    case 'ident': {
      const f = FUNCS[op.name];
      if (!f) throw new TemplateError(`template: function "${op.name}" not defined`);
      return f(...args, ...(hasFinal ? [final] : []));
    }
    case 'field': {
      let cur = op.base === 'dot' ? sc.dot : sc.vars.get(op.name as string);
      for (let i = 0; i < op.path.length; i++) {
        const last = i === op.path.length - 1;
        cur = fieldOf(cur, op.path[i], last ? [...args, ...(hasFinal ? [final] : [])] : [], sc, op, i);
      }
      return cur;
    }
  }
}

function evalCommand(cmd: Command, sc: Scope, final: unknown, hasFinal: boolean): unknown {
  const [head, ...rest] = cmd;
  const args = rest.map((o) => evalOperand(o, sc, [], undefined, false));
  if (head.k === 'ident' || (head.k === 'field' && head.path.length > 0)) return evalOperand(head, sc, args, final, hasFinal);
  return evalOperand(head, sc, [], undefined, false);
}

function evalPipeline(p: Pipeline, sc: Scope): unknown {
  let val: unknown;
  let has = false;
  for (const c of p.cmds) {
    val = evalCommand(c, sc, val, has);
    has = true;
  }
  if (p.decl) sc.vars.set(p.decl, val);
  return val;
}

function execNodes(nodes: Node[], sc: Scope, out: string[]): void {
  for (const n of nodes) {
    switch (n.k) {
      case 'text':
        out.push(n.v);
        break;
      case 'action': {
        const v = evalPipeline(n.p, sc);
        if (!n.p.decl) out.push(goPrint(v));
        break;
      }
      case 'if': {
        const v = evalPipeline(n.p, sc);
        execNodes(truthy(v) ? n.then : n.else, sc, out);
        break;
      }
      case 'with': {
        const v = evalPipeline(n.p, sc);
        if (truthy(v)) execNodes(n.then, { ...sc, dot: v }, out);
        else execNodes(n.else, sc, out);
        break;
      }
      case 'range': {
        const v = evalPipeline(n.p, sc);
        const items: Array<[unknown, unknown]> = Array.isArray(v)
          ? v.map((x, i) => [i, x])
          : v && typeof v === 'object'
            ? Object.keys(v as object)
                .sort()
                .map((k) => [k, (v as Record<string, unknown>)[k]])
            : [];
        if (!items.length) execNodes(n.else, sc, out);
        for (const [key, item] of items) {
          if (n.p.decl) sc.vars.set(n.p.decl, item);
          if (n.p.decl2) {
            sc.vars.set(n.p.decl2[0], key);
            sc.vars.set(n.p.decl2[1], item);
          }
          execNodes(n.then, { ...sc, dot: item }, out);
        }
        break;
      }
    }
  }
}

export class Template {
  readonly nodes: Node[];
  readonly src: string;
  readonly opts: ExecOptions;
  constructor(src: string, opts: ExecOptions = {}) {
    this.src = src;
    this.opts = opts;
    this.nodes = parseTemplate(src);
  }
  execute(data: unknown): string {
    const out: string[] = [];
    execNodes(this.nodes, { dot: data, vars: new Map([['$', data]]), opts: this.opts, src: this.src }, out);
    return out.join('');
  }
}

export function renderTemplate(src: string, data: unknown): string {
  return new Template(src).execute(data);
}

/** docker/cli format keywords: "table", "table <tmpl>", "json", "<tmpl>". */
export interface ParsedFormat {
  table: boolean;
  template: string;
}

export function parseFormat(format: string, defaultTable: string): ParsedFormat {
  format = format.replace(/^ +| +$/g, '').replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  if (format === '' || format === 'table') return { table: true, template: defaultTable };
  if (format === 'json') return { table: false, template: '{{json .}}' };
  if (format.startsWith('table')) return { table: true, template: format.slice(5).replace(/^\s+/, '') };
  return { table: false, template: format };
}
