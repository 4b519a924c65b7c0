/**
 * DESIGN.md's one direction: cli → client → (socket) → api → engine → stores/host. Each layer may
 * import only the layers below it and util/; this test reads every import in src/ and fails on an
 * arrow pointing back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { projectRoot } from '../../src/util/paths.js';

const ALLOWED: Record<string, string[]> = {
  cli: ['cli', 'client', 'wire', 'util'],
  client: ['client', 'wire', 'util'],
  daemon: ['daemon', 'api', 'engine', 'wire', 'util'],
  api: ['api', 'engine', 'wire', 'util'],
  engine: ['engine', 'wire', 'util'],
  // Wire types, reference parsing, the API version and the error vocabulary: below client and engine.
  wire: ['wire', 'util'],
  util: ['util'],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('no import points back up the layers', () => {
  const src = join(projectRoot(), 'src');
  const violations: string[] = [];
  for (const file of files(src)) {
    const layer = relative(src, file).split('/')[0]!;
    const allowed = ALLOWED[layer];
    assert.ok(allowed, `unknown layer ${layer} (add it to the test and to docs/ARCHITECTURE.md)`);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import\()\s*'(\.[^']+)'/g)) {
      const target = relative(src, resolve(dirname(file), m[1]!)).split('/')[0]!;
      if (!allowed.includes(target)) violations.push(`${relative(src, file)} imports ${m[1]} (${layer} → ${target})`);
    }
  }
  assert.deepEqual(violations, []);
});
