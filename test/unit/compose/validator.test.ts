/** The generated validator is ajv's code for the current schema.ts (regenerate with gen-validator.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { GENERATED, validatorSource } from '../../../src/cli/commands/compose/gen-validator.js';

test('schema-validator.generated.js is up to date with schema.ts', () => {
  assert.ok(readFileSync(GENERATED, 'utf8') === validatorSource(), 'run: node --import tsx src/cli/commands/compose/gen-validator.ts');
});
