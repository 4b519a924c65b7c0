/** Stage planning, ordered output, EXPOSE ranges and HEALTHCHECK durations of the builder. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from '../../../src/engine/build/parser.js';
import { planStages } from '../../../src/engine/build/stages.js';
import { OrderedOutput } from '../../../src/engine/build/output.js';
import { exposedPorts } from '../../../src/engine/build/builder.js';
import { healthcheckOf, parseDuration } from '../../../src/engine/build/healthcheck.js';
import type { JSONMessage } from '../../../src/engine/images/types.js';

const DF = `ARG V=1
FROM busybox AS a
RUN a
FROM busybox AS b
RUN b
FROM a AS c
COPY --from=b /x /x
FROM busybox AS d
COPY --from=0 /y /y
`;

const plan = (text: string, target?: string, env = new Map<string, string>()) => planStages(parseDockerfile(text), () => env, target);

const PLANS: Array<[string | undefined, number[]]> = [
  [undefined, [0, 3]], // d needs stage 0 only
  ['c', [0, 1, 2]],
  ['b', [1]],
  ['A', [0]], // stage names are case-insensitive
];
for (const [target, needed] of PLANS) {
  test(`target ${target ?? '(last)'} needs stages ${needed}`, () => assert.deepEqual(plan(DF, target).needed, needed));
}

test('global ARGs before FROM; FROM names expanded with them', () => {
  const p = plan('ARG B=busybox\nFROM ${B}:1.36 AS x\n', undefined, new Map([['B', 'busybox']]));
  assert.equal(p.metaArgs.length, 1);
  assert.equal(p.stages[0]!.base, 'busybox:1.36');
});

const PLAN_ERRORS: Array<[string, string | undefined, RegExp]> = [
  ['FROM a\n', 'nope', /failed to reach build target nope in Dockerfile/],
  ['RUN x\nFROM a\n', undefined, /line 1: no build stage in current context/],
  ['FROM a AS x\nFROM b AS X\n', undefined, /duplicate name x/],
  ['FROM a AS 1x\n', undefined, /invalid name for build stage/],
  ['FROM a b\n', undefined, /FROM requires either one or three arguments/],
  ['ARG X\n', undefined, /cannot be empty/],
];
for (const [text, target, want] of PLAN_ERRORS) {
  test(`plan error ${JSON.stringify(text)}`, () => assert.throws(() => plan(text, target), want));
}

test('OrderedOutput: later stages wait for earlier ones; a failure releases up to the failed stage only', () => {
  const got: string[] = [];
  const out = new OrderedOutput([-1, 0, 1, 2], (m: JSONMessage) => got.push(m.stream!));
  out.write(-1, { stream: 'meta' });
  out.finish(-1);
  out.write(1, { stream: 'b1' });
  out.write(0, { stream: 'a1' });
  out.write(2, { stream: 'c1' });
  assert.deepEqual(got, ['meta', 'a1']);
  out.write(0, { stream: 'a2' });
  out.finish(0);
  assert.deepEqual(got, ['meta', 'a1', 'a2', 'b1']);
  out.write(1, { stream: 'b2' });
  out.flushThrough(1);
  assert.deepEqual(got, ['meta', 'a1', 'a2', 'b1', 'b2']);
});

test('EXPOSE: ports, protocols and ranges', () => {
  assert.deepEqual(exposedPorts('80'), ['80/tcp']);
  assert.deepEqual(exposedPorts('53/UDP'), ['53/udp']);
  assert.deepEqual(exposedPorts('8000-8002'), ['8000/tcp', '8001/tcp', '8002/tcp']);
  assert.throws(() => exposedPorts('x'), /Invalid containerPort: x/);
  assert.throws(() => exposedPorts('9-1'), /Invalid containerPort/);
});

test('HEALTHCHECK: durations as Go reads them, CMD forms, NONE', () => {
  assert.equal(parseDuration('1m30s'), 90e9);
  assert.equal(parseDuration('500ms'), 5e8);
  assert.equal(parseDuration('1.5h'), 5400e9);
  assert.throws(() => parseDuration('5'), /invalid duration "5"/);
  const node = (text: string) => parseDockerfile(text).nodes[0]!;
  assert.deepEqual(healthcheckOf(node('HEALTHCHECK --interval=5s --retries=2 CMD curl -f x || exit 1'), []),
    { Test: ['CMD-SHELL', 'curl -f x || exit 1'], Interval: 5e9, Retries: 2 });
  assert.deepEqual(healthcheckOf(node('HEALTHCHECK CMD ["true"]'), []), { Test: ['CMD', 'true'] });
  assert.deepEqual(healthcheckOf(node('HEALTHCHECK NONE'), []), { Test: ['NONE'] });
  assert.throws(() => healthcheckOf(node('HEALTHCHECK FOO'), []), /Unknown type "FOO"/);
  assert.throws(() => healthcheckOf(node('HEALTHCHECK --retries=0 CMD x'), []), /--retries must be at least 1/);
});
