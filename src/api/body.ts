/**
 * JSON types of request bodies, checked as Go's encoding/json checks them when dockerd decodes
 * into its structs: a wrong type at any depth (a float or an out-of-range number where an integer
 * goes included) is a 400 naming the field, never a TypeError (a 500) further in. `null` is a
 * field's zero value and unknown fields are ignored, as in Go.
 */
import { InvalidParameterError } from '../wire/errors.js';

/** A Go type: a scalar by name, or a struct, slice, map, or fixed-size array of another. */
export type GoType =
  | 'string' | 'bool' | 'int' | 'int64' | 'uint16' | 'uint32' | 'uint64' | 'uint'
  /** Docker's StrSlice: a string or a list of strings. */
  | 'strslice'
  /** Any JSON (interface{}, json.RawMessage, struct{} whose content is ignored). */
  | 'any'
  | { struct: string; fields: Record<string, GoType> }
  | { slice: GoType }
  | { array: GoType; len: number }
  | { map: GoType };

const INT_RANGE: Record<string, [number, number]> = {
  int: [-(2 ** 63), 2 ** 63], int64: [-(2 ** 63), 2 ** 63], uint16: [0, 65535], uint32: [0, 2 ** 32 - 1],
  uint64: [0, 2 ** 64], uint: [0, 2 ** 64],
};

/** What a value of the type is, in the words of the house message ("must be a string"). */
function describe(t: GoType): string {
  if (typeof t === 'string') {
    switch (t) {
      case 'string': return 'a string';
      case 'bool': return 'a boolean';
      case 'strslice': return 'a string or a list of strings';
      case 'any': return 'any JSON value';
      case 'int': case 'int64': return 'an integer';
      default: return `an integer from 0 to ${t === 'uint16' ? 65535 : t === 'uint32' ? 4294967295 : '2^64-1'}`;
    }
  }
  if ('struct' in t || 'map' in t) return 'an object';
  if ('slice' in t) return t.slice === 'string' ? 'a list of strings' : 'a list';
  return `a list of at most ${t.len} elements`;
}

/**
 * The value Go leaves for a JSON null inside a list or a map of `t`: "", false, 0, an empty
 * list or object; `null` only where any JSON goes.
 */
function zeroOf(t: GoType): unknown {
  if (t === 'any') return null;
  if (t === 'string') return '';
  if (t === 'bool') return false;
  if (t === 'strslice') return [];
  if (typeof t === 'string') return 0;
  return 'struct' in t || 'map' in t ? {} : [];
}

/** The first place where `v` does not decode into `t`: [JSON path, expected type]. */
function mismatch(v: unknown, t: GoType, path: string): [string, GoType] | undefined {
  if (v === null || v === undefined || t === 'any') return undefined;
  const at = (k: string) => (path ? `${path}.${k}` : k);
  if (typeof t === 'string') {
    switch (t) {
      case 'string': return typeof v === 'string' ? undefined : [path, t];
      case 'bool': return typeof v === 'boolean' ? undefined : [path, t];
      case 'strslice':
        if (typeof v === 'string') return undefined;
        if (!Array.isArray(v)) return [path, t];
        for (let i = 0; i < v.length; i++) if (v[i] === null) v[i] = '';
        return v.every((x) => typeof x === 'string') ? undefined : [path, t];
      default: {
        const [lo, hi] = INT_RANGE[t];
        return typeof v === 'number' && Number.isInteger(v) && v >= lo && v < hi ? undefined : [path, t];
      }
    }
  }
  if ('struct' in t) {
    if (typeof v !== 'object' || Array.isArray(v)) return [path, t];
    for (const [k, ft] of Object.entries(t.fields)) {
      const bad = mismatch((v as Record<string, unknown>)[k], ft, at(k));
      if (bad) return bad;
    }
    return undefined;
  }
  if ('map' in t) {
    if (typeof v !== 'object' || Array.isArray(v)) return [path, t];
    for (const [k, x] of Object.entries(v as object)) {
      if (x === null) (v as Record<string, unknown>)[k] = zeroOf(t.map);
      const bad = mismatch((v as Record<string, unknown>)[k], t.map, at(k));
      if (bad) return bad;
    }
    return undefined;
  }
  const elem = 'slice' in t ? t.slice : t.array;
  if (!Array.isArray(v) || ('array' in t && v.length > t.len)) return [path, t];
  for (let i = 0; i < v.length; i++) {
    // A null in a list is the element's zero value, as Go decodes it: made so here, so the code
    // further in never meets null where an object or a string goes (`Ulimits: [null]` and
    // `Env: [null]` were 500s).
    if (v[i] === null) v[i] = zeroOf(elem);
    const bad = mismatch(v[i], elem, `${path}[${i}]`);
    if (bad) return bad;
  }
  return undefined;
}

/**
 * Check `body` against a Go struct; absent or null is the zero value ({}), and so is a null in a
 * list or a map (replaced in place by the element's zero value). The message names the field by its JSON path:
 * `invalid JSON: field HostConfig.Memory must be an integer`.
 */
export function checkBody(body: unknown, t: GoType & { struct: string }): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new InvalidParameterError('invalid JSON: the request body must be an object');
  const bad = mismatch(body, t, '');
  if (bad) throw new InvalidParameterError(`invalid JSON: field ${bad[0]} must be ${describe(bad[1])}`);
  return body as Record<string, unknown>;
}

export const struct = (name: string, fields: Record<string, GoType>): { struct: string; fields: Record<string, GoType> } => ({ struct: name, fields });
export const slice = (t: GoType): GoType => ({ slice: t });
export const map = (t: GoType): GoType => ({ map: t });
