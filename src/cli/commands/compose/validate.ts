// Schema validation of one compose file with ajv, errors naming the file, the line and the key.
import type { ErrorObject } from 'ajv';
import { isMap, isScalar, isSeq, LineCounter, type Document } from 'yaml';
import { ComposeError } from './errors.js';
// ajv's code for schema.ts, generated ahead (gen-validator.ts): compiling the schema at run time
// took most of a compose command's start-up.
import validator from './schema-validator.generated.js';

/** The line of the YAML node at a path (or of its nearest ancestor that exists in the file). */
function lineOf(doc: Document, lc: LineCounter, path: string[], key: boolean): number {
  let node: unknown = doc.contents;
  let offset = (node as { range?: [number] } | null)?.range?.[0] ?? 0;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === seg);
      if (!pair) break;
      const last = i === path.length - 1;
      const k = pair.key as { range?: [number] };
      offset = (last && key ? k.range?.[0] : (pair.value as { range?: [number] } | null)?.range?.[0] ?? k.range?.[0]) ?? offset;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)] as { range?: [number] } | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else break;
  }
  return lc.linePos(offset).line;
}

function decode(pointer: string): string[] {
  return pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function message(e: ErrorObject): { path: string[]; text: string; key: boolean } {
  const path = decode(e.instancePath);
  const at = path.join('.') || '(root)';
  switch (e.keyword) {
    case 'additionalProperties': {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      return { path: [...path, extra], text: `${at} additional properties '${extra}' not allowed`, key: true };
    }
    case 'required':
      return { path, text: `${at} missing property '${(e.params as { missingProperty: string }).missingProperty}'`, key: false };
    case 'type':
      return { path, text: `${at} must be a ${String((e.params as { type: string | string[] }).type).replace(/,/g, ' or ')}`, key: false };
    case 'enum':
      return { path, text: `${at} must be one of ${((e.params as { allowedValues: unknown[] }).allowedValues).map((v) => JSON.stringify(v)).join(', ')}`, key: false };
    case 'pattern':
      return { path, text: `${at} does not match pattern '${(e.params as { pattern: string }).pattern}'`, key: false };
    case 'uniqueItems':
      return { path, text: `${at} must not contain duplicate items`, key: false };
    default:
      return { path, text: `${at} ${e.message ?? 'is invalid'}`, key: false };
  }
}

/** The error to show among ajv's: the deepest one, an unknown key before a type mismatch. */
function best(errors: ErrorObject[]): ErrorObject {
  const rank = (e: ErrorObject) => (e.keyword === 'oneOf' ? -1 : e.keyword === 'additionalProperties' ? 2 : e.keyword === 'required' ? 1 : 0);
  return [...errors].sort((a, b) => {
    const da = a.instancePath.split('/').length;
    const db = b.instancePath.split('/').length;
    return db - da || rank(b) - rank(a);
  })[0];
}

/** Validate a file's (interpolated) content; throws a ComposeError "validating FILE: line N: key …". */
export function validateCompose(file: string, data: unknown, doc: Document, lc: LineCounter): void {
  if (validator(data)) return;
  const e = best(validator.errors ?? []);
  const m = message(e);
  const line = lineOf(doc, lc, m.path, m.key);
  throw new ComposeError(`validating ${file}: line ${line}: ${m.text}`);
}
