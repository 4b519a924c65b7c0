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

/**
 * Inside the engine: the stores sit below the services that use them, and the host-facing parts
 * (runtime, network) below the container service that drives them.
 */
const ENGINE_MAY_NOT_IMPORT: Record<string, string[]> = {
  content: ['images', 'containers', 'distribution', 'exec', 'network', 'volumes', 'events', 'runtime', 'layers', 'engine.ts'],
  layers: ['images', 'containers', 'distribution', 'exec', 'network', 'volumes', 'events', 'runtime', 'engine.ts'],
  host: ['images', 'containers', 'distribution', 'exec', 'network', 'volumes', 'events', 'runtime', 'layers', 'content', 'engine.ts'],
  runtime: ['containers', 'exec', 'images', 'network', 'volumes', 'engine.ts'],
  network: ['containers', 'exec', 'images', 'volumes', 'engine.ts'],
};

test('engine: stores import no service above them; runtime and network do not import containers', () => {
  const engine = join(projectRoot(), 'src', 'engine');
  const violations: string[] = [];
  for (const file of files(engine)) {
    const area = relative(engine, file).split('/')[0]!;
    const banned = ENGINE_MAY_NOT_IMPORT[area];
    if (!banned) continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import\()\s*'(\.[^']+)'/g)) {
      const target = relative(engine, resolve(dirname(file), m[1]!));
      if (target.startsWith('..')) continue;
      const top = target.split('/')[0]!.replace(/\.js$/, '.ts');
      if (banned.includes(top)) violations.push(`engine/${relative(engine, file)} imports ${m[1]} (${area} → ${top})`);
    }
  }
  assert.deepEqual(violations, []);
});
