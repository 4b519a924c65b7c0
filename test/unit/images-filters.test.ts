import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globToRegExp, parseImageFilters, selectImages } from '../../src/engine/images/filters.js';
import { InvalidParameterError, NotFoundError } from '../../src/engine/errors.js';
import type { ImageRecord } from '../../src/engine/images/types.js';

function image(id: string, created: string, refs: string[], labels?: Record<string, string>, parent?: string): ImageRecord {
  return {
    id: `sha256:${id.padEnd(64, '0')}`,
    config: { architecture: 'amd64', os: 'linux', created, rootfs: { type: 'layers', diff_ids: [] }, config: labels ? { Labels: labels } : {} },
    chainIDs: [],
    repoTags: refs.filter((r) => !r.includes('@')),
    repoDigests: refs.filter((r) => r.includes('@')),
    size: 0,
    loaded: 0,
    ...(parent ? { parent: `sha256:${parent.padEnd(64, '0')}` } : {}),
  };
}

const digest = `sha256:${'d'.repeat(64)}`;
const busybox = image('b', '2024-01-01T00:00:00.000000001Z', ['docker.io/library/busybox:latest', `docker.io/library/busybox@${digest}`]);
const mine = image('c', '2024-01-02T00:00:00Z', ['docker.io/library/busybox:old', 'docker.io/mine/box:v1'], { a: '1', b: '2' });
const dangling = image('e', '2024-01-03T00:00:00Z', [], { a: '1' });
const base = image('f', '2023-12-01T00:00:00Z', []);
const child = image('a', '2024-01-04T00:00:00Z', ['docker.io/library/child:latest'], undefined, 'f');
const all = [busybox, mine, dangling, base, child];

function lookup(ref: string): ImageRecord {
  const found = all.find((i) => i.id.includes(ref) || i.repoTags.some((t) => t.endsWith(`/${ref}`)));
  if (!found) throw new NotFoundError(`No such image: ${ref}`);
  return found;
}

function list(filters: Record<string, string[]>, opts = { all: false }): string[] {
  const f = parseImageFilters(new Map(Object.entries(filters)), lookup, Date.parse('2024-01-05T00:00:00Z'));
  const hasChildren = (id: string) => all.some((i) => i.parent === id);
  return selectImages(all, f, { all: opts.all, hasChildren }).map((i) => [...i.repoTags, ...i.repoDigests].join(',') || i.id.slice(7, 8));
}

test('no filters: newest first, intermediate images only with all', () => {
  assert.deepEqual(list({}), ['docker.io/library/child:latest', 'e', 'docker.io/library/busybox:old,docker.io/mine/box:v1', `docker.io/library/busybox:latest,docker.io/library/busybox@${digest}`]);
  assert.equal(list({}, { all: true }).length, 5);
});

test('reference: familiar name, name:tag and globs; only matching references are listed', () => {
  assert.deepEqual(list({ reference: ['busybox'] }), ['docker.io/library/busybox:old', `docker.io/library/busybox:latest,docker.io/library/busybox@${digest}`]);
  assert.deepEqual(list({ reference: ['busybox:latest'] }), ['docker.io/library/busybox:latest']);
  assert.deepEqual(list({ reference: ['bus*'] }), list({ reference: ['busybox'] }));
  assert.deepEqual(list({ reference: ['*:latest'] }), ['docker.io/library/child:latest', 'docker.io/library/busybox:latest']);
  // `*` stops at a slash, as Go's path.Match: 'mine/box' is not matched by '*box'.
  assert.deepEqual(list({ reference: ['*box'] }), list({ reference: ['busybox'] }));
  assert.deepEqual(list({ reference: ['mine/*'] }), ['docker.io/mine/box:v1']);
  // Alternatives: either pattern.
  assert.deepEqual(list({ reference: ['child', 'mine/box'] }), ['docker.io/library/child:latest', 'docker.io/mine/box:v1']);
  assert.deepEqual(list({ reference: ['nothing'] }), []);
});

test('dangling: true lists untagged heads only, false leaves them out', () => {
  assert.deepEqual(list({ dangling: ['true'] }), ['e']);
  assert.deepEqual(list({ dangling: ['true'] }, { all: true }), ['e'], 'an intermediate image is not dangling');
  assert.deepEqual(list({ dangling: ['false'] }).length, 3);
  assert.throws(() => list({ dangling: ['maybe'] }), InvalidParameterError);
});

test('label: every spec must hold', () => {
  assert.deepEqual(list({ label: ['a'] }), ['e', 'docker.io/library/busybox:old,docker.io/mine/box:v1']);
  assert.deepEqual(list({ label: ['a=1', 'b=2'] }), ['docker.io/library/busybox:old,docker.io/mine/box:v1']);
  assert.deepEqual(list({ label: ['a=1', 'b=3'] }), []);
});

test('before, since (by reference or ID) and until', () => {
  assert.deepEqual(list({ before: ['box:v1'] }), [`docker.io/library/busybox:latest,docker.io/library/busybox@${digest}`]);
  assert.deepEqual(list({ since: ['box:v1'] }), ['docker.io/library/child:latest', 'e']);
  assert.deepEqual(list({ since: ['b'] }).length, 3, 'the nanosecond after midnight counts');
  // Several values: the oldest before, the newest since.
  assert.deepEqual(list({ before: ['box:v1', 'child:latest'] }).length, 1);
  assert.deepEqual(list({ since: ['box:v1', 'b'] }).length, 2);
  assert.deepEqual(list({ until: ['2024-01-02T12:00:00Z'] }).length, 2);
  assert.deepEqual(list({ until: ['60h'] }).length, 2, 'a duration back from now');
  assert.throws(() => list({ before: ['nosuch'] }), NotFoundError);
});

test('unknown keys are refused as dockerd does', () => {
  assert.throws(() => list({ nope: ['x'] }), { message: "invalid filter 'nope'" });
});

test('globToRegExp follows Go path.Match', () => {
  assert.ok(globToRegExp('b?sy[a-z]ox').test('busybox'));
  assert.ok(globToRegExp('[^a]usybox').test('busybox'));
  assert.ok(!globToRegExp('[^b]usybox').test('busybox'));
  assert.ok(globToRegExp('a\\*b').test('a*b'));
  assert.ok(!globToRegExp('a\\*b').test('axb'));
  assert.ok(globToRegExp('x.y').test('x.y') && !globToRegExp('x.y').test('xzy'));
  for (const bad of ['[', '[]', 'a\\', '[z-a]']) assert.throws(() => globToRegExp(bad), { message: 'syntax error in pattern' }, bad);
});
