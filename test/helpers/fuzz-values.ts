/**
 * The fuzzing harness's hostile values: strings, numbers JSON.stringify cannot write (1e400,
 * -0, 30-digit integers), wrong types, deep nesting, and mutations of a valid JSON body at any
 * depth; plus broken JSON texts.
 */
import type { Rng } from './fuzz-rng.js';

/** A JSON number (or any text) written verbatim into the body. */
export class RawJson {
  constructor(readonly text: string) {}
}

export type FuzzJson = null | boolean | number | string | RawJson | FuzzJson[] | { [k: string]: FuzzJson };

export function toJsonText(v: FuzzJson): string {
  if (v instanceof RawJson) return v.text;
  if (Array.isArray(v)) return `[${v.map(toJsonText).join(',')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${toJsonText(x)}`).join(',')}}`;
  return JSON.stringify(v);
}

const STRINGS = [
  '', ' ', 'a', 'A', '-', '.', '..', '../../../../etc/passwd', '/', '//', '/etc/shadow', '\u0000', 'a\u0000b',
  '\n', 'x\ny', '\r\n\r\n', '%', '%zz', '%00', '%2e%2e', '${HOME}', '$(id)', '`id`', ';rm -rf /', '|', '*', '?',
  '(((((', '[', '\\', '"', "'", '{}', '[]', 'null', 'true', '0', '-1', '1e400', 'NaN', 'Infinity', '\u202e', '😀',
  'é', '\udc00', 'busybox', 'busybox:latest', 'hello-world', 'UPPER/Case', 'a:b:c', 'a@sha256:zz', 'sha256:', 'bridge',
  'host', 'none', 'container:', 'SIGKILL', 'SIGFOO', '9', '65', 'always', 'on-failure', 'tcp', '80/tcp', '0.0.0.0',
  '::1', '999.1.1.1', '10.0.0.0/33', 'root', '0:0', 'nobody:nogroup', '/tmp:/tmp', 'nope:/x:rw,z', 'json-file', 'local',
];

const NUMBERS = [
  '0', '-0', '1', '-1', '1.5', '-1.5', '0.0000001', '1e3', '1E+2', '1e400', '-1e400', '1e-400', '2147483648',
  '-2147483649', '4294967296', '9007199254740993', '9223372036854775807', '9223372036854775808', '-9223372036854775809',
  '18446744073709551616', '123456789012345678901234567890', '1.7976931348623157e308', '5e-324', '100000000000000000000e-10',
];

export function junkString(rng: Rng): string {
  switch (rng.int(0, 5)) {
    case 0: return 'x'.repeat(rng.pick([64, 255, 256, 4097, 70000]));
    case 1: return String.fromCharCode(...Array.from({ length: rng.int(1, 12) }, () => rng.int(0, 0xffff)));
    default: return rng.pick(STRINGS);
  }
}

export function junkNumber(rng: Rng): RawJson { return new RawJson(rng.pick(NUMBERS)); }

/** A value of any JSON type, sometimes deep. */
export function junkValue(rng: Rng, depth = 0): FuzzJson {
  const kind = rng.int(0, depth > 2 ? 5 : 8);
  switch (kind) {
    case 0: return null;
    case 1: return rng.chance(0.5);
    case 2: case 3: return junkNumber(rng);
    case 4: case 5: return junkString(rng);
    case 6: return Array.from({ length: rng.int(0, 3) }, () => junkValue(rng, depth + 1));
    case 7: {
      const o: Record<string, FuzzJson> = {};
      for (let i = rng.int(0, 3); i > 0; i--) o[junkString(rng)] = junkValue(rng, depth + 1);
      return o;
    }
    default: return rng.chance(0.5) ? deepArray(rng.pick([50, 1000, 20000])) : deepObject(rng.pick([50, 1000]));
  }
}

function deepArray(n: number): RawJson { return new RawJson('['.repeat(n) + ']'.repeat(n)); }
function deepObject(n: number): RawJson { return new RawJson('{"a":'.repeat(n) + '1' + '}'.repeat(n)); }

/** Every path to a node of the value (object keys and array indexes). */
function paths(v: FuzzJson, at: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v !== null && typeof v === 'object' && !(v instanceof RawJson)) for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

function clone<T>(v: T): T {
  if (v instanceof RawJson) return v;
  if (Array.isArray(v)) return v.map(clone) as T;
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clone(x)])) as T;
  return v;
}

/**
 * A valid body with 1-3 changes at random depths: a node replaced by a value of another type (or
 * a hostile number or string), an unknown field added, a field or element removed.
 */
export function mutate(rng: Rng, valid: FuzzJson): FuzzJson {
  let root = clone(valid);
  for (let n = rng.int(1, 3); n > 0; n--) {
    const all = paths(root);
    const path = rng.pick(all);
    if (path.length === 0) {
      if (rng.chance(0.3)) root = junkValue(rng);
      continue;
    }
    const parent = path.slice(0, -1).reduce<FuzzJson>((o, k) => (o as Record<string, FuzzJson>)[k as string], root);
    if (parent === null || typeof parent !== 'object' || parent instanceof RawJson) continue;
    const key = path[path.length - 1];
    const obj = parent as Record<string | number, FuzzJson>;
    switch (rng.int(0, 5)) {
      case 0: if (Array.isArray(parent)) parent.splice(key as number, 1); else delete obj[key]; break;
      case 1: if (!Array.isArray(parent)) obj[junkString(rng)] = junkValue(rng); else parent.push(junkValue(rng)); break;
      case 2: obj[key] = junkNumber(rng); break;
      case 3: obj[key] = junkString(rng); break;
      default: obj[key] = junkValue(rng);
    }
  }
  return root;
}

/** Text that is not JSON, or is cut, or is JSON of the wrong shape for any body. */
export function brokenJson(rng: Rng, valid: FuzzJson): string {
  const text = toJsonText(valid);
  return rng.pick([
    () => text.slice(0, rng.int(0, Math.max(0, text.length - 1))),
    () => text + rng.pick(['}', ']', ',', 'x', '{}', '\u0000']),
    () => text.replace(/"/g, "'"),
    () => text.replace(/:/, ''),
    () => '{"a":NaN}', () => '{"a":Infinity}', () => '{"a":-Infinity}', () => '{"a":undefined}', () => "{'a':1}",
    () => '{"a":1,}', () => '[1,2,]', () => '\ufeff' + text, () => '{"a":"\\ud800"}', () => '{"a":"\\x41"}', () => '"str"',
    () => '12', () => 'null', () => 'true', () => '[]', () => '[' + text + ']', () => text + text, () => '{' + '"a":1,'.repeat(5000) + '"b":2}',
    () => '{"__proto__":{"polluted":true}}', () => '{"constructor":{"prototype":{"x":1}}}',
  ])();
}
