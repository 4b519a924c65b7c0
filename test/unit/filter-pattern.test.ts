/** name-filter-regex: `ps -f name=…` and `network ls -f name=…` patterns are bounded (issue 8). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePattern, patternShape, MAX_PATTERN_LENGTH } from '../../src/engine/filter-pattern.js';
import { matchPattern } from '../../src/engine/filters.js';
import { selectContainers } from '../../src/engine/containers/filters.js';
import { networkMatches, parseNetworkFilters } from '../../src/engine/network/filters.js';
import { InvalidParameterError } from '../../src/engine/errors.js';
import { statusOf } from '../../src/api/errors.js';

const EVIL_NAME = 'a'.repeat(40) + 'b';

/** Runs fn, which must return or throw a 400 naming `filter`, within a second. */
function boundedOrRefused(filter: string, fn: () => unknown): void {
  const t0 = Date.now();
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof InvalidParameterError, String(e));
    assert.equal(statusOf(e), 400);
    assert.match((e as Error).message, new RegExp(`invalid filter '${filter}=`));
  }
  assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
}

test('name-filter-regex: (a+)+$ against aaaa…b returns within a second', () => {
  boundedOrRefused('name', () => matchPattern('(a+)+$', EVIL_NAME));
  assert.throws(() => compilePattern('name', '(a+)+$'), /invalid filter 'name=\(a\+\)\+\$': nested quantifiers/);
});

test('name-filter-regex: other backtracking shapes are bounded by the time budget', () => {
  for (const p of ['(a|a)+$', '(a|aa)*c', 'a?'.repeat(16) + 'a'.repeat(16) + 'x', 'a*a*a*a*a*a*a*a*a*c', '(x+x+)+y']) {
    // a whole list of names: the budget is shared, so the total stays bounded
    boundedOrRefused('name', () => {
      const m = compilePattern('name', p);
      for (let i = 0; i < 50; i++) m(EVIL_NAME + i);
    });
  }
});

test('name-filter-regex: a pattern whose compile alone would stall is refused before it runs', () => {
  // V8 compiles (uninterruptibly) before matching: (?:a|b)? × 20 takes seconds there.
  for (const p of ['(?:a|b)?'.repeat(20) + 'a'.repeat(20), 'a?'.repeat(60) + 'a'.repeat(60)]) {
    boundedOrRefused('name', () => matchPattern(p, 'zz'));
    assert.throws(() => compilePattern('name', p), /more than 16 repetitions and alternatives/);
  }
  assert.equal(matchPattern('^(web|db|cache|queue)-[0-9]+$', 'db-1'), true, 'a usual alternation is fine');
});

test('name-filter-regex: a pattern longer than 256 characters is refused', () => {
  assert.throws(() => compilePattern('id', 'a'.repeat(MAX_PATTERN_LENGTH + 1)),
    (e: unknown) => e instanceof InvalidParameterError && /invalid filter 'id=a+…': regular expression longer than 256/.test((e as Error).message));
  assert.equal(compilePattern('id', 'a'.repeat(MAX_PATTERN_LENGTH))('a'.repeat(MAX_PATTERN_LENGTH)), true);
});

test('name-filter-regex: ordinary patterns keep dockerd\'s semantics', () => {
  assert.equal(matchPattern('web', 'my-web-1'), true, 'unanchored');
  assert.equal(matchPattern('^web', 'my-web-1'), false);
  assert.equal(matchPattern('^my-.*-[0-9]+$', 'my-web-1'), true);
  assert.equal(matchPattern('(foo|bar)+', 'xxbarfoo'), true, 'a repeated group runs under the budget');
  assert.equal(matchPattern('a[', 'a['), true, 'an invalid expression matches its own text');
  assert.equal(matchPattern('a[', 'a[b'), false);
  assert.equal(patternShape('^web-[a-z]+$').simple, true);
  assert.equal(patternShape('(a|b)+').simple, false, 'repeated alternatives take the budgeted path');
  assert.equal(patternShape('(-[0-9])+$').simple, true, 'a repeated group without alternatives does not');
  assert.equal(patternShape('a|b').simple, true);
  assert.equal(patternShape('[(a+)+]x').refuse, undefined, 'inside a class, nothing nests');
  assert.equal(patternShape('\\(a+\\)+').refuse, undefined, 'escaped parentheses are not a group');
  assert.ok(patternShape('(?:a{2,})*').refuse);
  assert.ok(patternShape('((a)+)*').refuse);
});

test('name-filter-regex: ps and network ls refuse with a 400 naming the filter', () => {
  const filters = new Map([['name', ['(a+)+$']]]);
  const lookups = { container: () => { throw new Error('not asked'); }, imageId: () => undefined };
  assert.throws(() => selectContainers([], { filters }, lookups), /invalid filter 'name=\(a\+\)\+\$'/);
  assert.throws(() => parseNetworkFilters(filters), /invalid filter 'name=\(a\+\)\+\$'/);
  const f = parseNetworkFilters(new Map([['name', ['^br']]]));
  assert.equal(networkMatches(f, { Name: 'bridge', Id: 'x' } as never, () => false), true);
});
