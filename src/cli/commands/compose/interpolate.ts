// Compose's variable interpolation (compose-spec "Interpolation"): $VAR, ${VAR}, ${VAR:-default},
// ${VAR-default}, ${VAR:?err}, ${VAR?err}, ${VAR:+alt}, ${VAR+alt}, and $$ for a literal $.
// Defaults and alternatives may themselves hold variables. Applied to every string value of the
// YAML (never to keys).
import { ComposeError } from './errors.js';

export type Env = Record<string, string | undefined>;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Interpolate one string; `where` names the key for error messages. */
export function interpolateString(s: string, env: Env, where: string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = s[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      const end = closingBrace(s, i + 2);
      if (end < 0) throw new ComposeError(`invalid interpolation format for ${where}: "${s}"; you may need to escape any $ with another $`);
      out += braced(s.slice(i + 2, end), env, where, s);
      i = end + 1;
      continue;
    }
    const m = NAME.exec(s.slice(i + 1));
    if (m) {
      out += env[m[0]] ?? '';
      i += 1 + m[0].length;
      continue;
    }
    // A lone $ stays as it is (compose-go keeps it).
    out += c;
    i++;
  }
  return out;
}

/** Index of the } closing the ${ opened before `from`, nested ${…} included. */
function closingBrace(s: string, from: number): number {
  let depth = 1;
  for (let i = from; i < s.length; i++) {
    if (s[i] === '$' && s[i + 1] === '{') {
      depth++;
      i++;
    } else if (s[i] === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function braced(body: string, env: Env, where: string, whole: string): string {
  const m = NAME.exec(body);
  if (!m) throw new ComposeError(`invalid interpolation format for ${where}: "${whole}"; you may need to escape any $ with another $`);
  const name = m[0];
  const rest = body.slice(name.length);
  const value = env[name];
  if (rest === '') return value ?? '';
  const op = /^(:?[-?+])/.exec(rest);
  if (!op) throw new ComposeError(`invalid interpolation format for ${where}: "${whole}"; you may need to escape any $ with another $`);
  const arg = rest.slice(op[1].length);
  const colon = op[1].startsWith(':');
  const unset = colon ? value === undefined || value === '' : value === undefined;
  switch (op[1].slice(-1)) {
    case '-':
      return unset ? interpolateString(arg, env, where) : (value as string);
    case '+':
      return unset ? '' : interpolateString(arg, env, where);
    default: {
      if (!unset) return value as string;
      const msg = interpolateString(arg, env, where);
      throw new ComposeError(`required variable ${name} is missing a value${msg ? `: ${msg}` : ''}`);
    }
  }
}

/** Interpolate every string value of a parsed YAML tree (keys untouched); returns a new tree. */
export function interpolateTree(v: unknown, env: Env, path: string[] = []): unknown {
  if (typeof v === 'string') return interpolateString(v, env, path.join('.') || 'value');
  if (Array.isArray(v)) return v.map((x, i) => interpolateTree(x, env, [...path, String(i)]));
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = interpolateTree(x, env, [...path, k]);
    return o;
  }
  return v;
}

/** A .env / env_file: KEY=VALUE lines, # comments, optional quotes, `export` prefix; KEY alone reads env. */
export function parseEnvFile(text: string, env: Env = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    if (line.startsWith('export ')) line = line.slice(7).trim();
    const eq = line.indexOf('=');
    if (eq < 0) {
      const v = env[line];
      if (v !== undefined) out[line] = v;
      continue;
    }
    const key = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    const q = value[0];
    if ((q === '"' || q === "'") && value.length >= 2 && value.endsWith(q)) {
      value = value.slice(1, -1);
      if (q === '"') value = value.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    } else {
      const hash = value.search(/\s#/);
      if (hash >= 0) value = value.slice(0, hash).trim();
    }
    if (q !== "'") value = interpolateString(value, { ...env, ...out }, key);
    out[key] = value;
  }
  return out;
}
