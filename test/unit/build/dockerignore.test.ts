/** .dockerignore rules as moby/patternmatcher's, case by case. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIgnored, parseDockerignore } from '../../../src/util/dockerignore.js';

const CASES: Array<[string, string, boolean]> = [
  ['*.md', 'README.md', true],
  ['*.md', 'docs/README.md', false],
  ['**/*.md', 'docs/a/README.md', true],
  ['**/*.md', 'README.md', true],
  ['docs', 'docs/a/b.txt', true],
  ['/docs/', 'docs/a', true],
  ['./docs', 'docs', true],
  ['doc?', 'docs', true],
  ['doc?', 'doc', false],
  ['d[a-o]cs', 'docs', true],
  ['d[!o]cs', 'docs', false],
  ['*.md\n!README.md', 'README.md', false],
  ['*.md\n!README.md', 'OTHER.md', true],
  ['!README.md\n*.md', 'README.md', true],
  ['a/**', 'a/b/c', true],
  ['a/**', 'b/a', false],
  ['a/**/z', 'a/b/c/z', true],
  ['a/**/z', 'a/z', true],
  ['# comment\n\n  x  ', 'x', true],
  ['# x', 'x', false],
  ['a\\*b', 'a*b', true],
  ['a\\*b', 'axb', false],
  ['node_modules\n!node_modules/keep', 'node_modules/keep/f', false],
  ['node_modules\n!node_modules/keep', 'node_modules/other', true],
  ['*', 'anything/deep', true],
  ['*\n!src', 'src/a.ts', false],
];
for (const [patterns, path, want] of CASES) {
  test(`${JSON.stringify(patterns)} ${want ? 'excludes' : 'keeps'} ${path}`, () => {
    assert.equal(isIgnored(path, parseDockerignore(patterns)), want);
  });
}
