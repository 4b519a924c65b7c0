import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBlkio, parseKeyValues, parseLimit, parseSystemCpu, statsJson, type Sample } from '../../src/engine/containers/stats.js';
import { parsePsOutput, validatePsArgs } from '../../src/engine/containers/top.js';
import { goDuration, parsePruneFilters, pruneMatches } from '../../src/engine/prune.js';
import { statsRow } from '../../src/cli/commands/stats.js';
import { prettyEvent, rfc3339NanoFixed } from '../../src/cli/commands/events.js';

test('cgroup v1 files: key/values, blkio, /proc/stat, limits', () => {
  assert.deepEqual(parseKeyValues('cache 4096\nrss 8192\ntotal_inactive_file 100\n'), { cache: 4096, rss: 8192, total_inactive_file: 100 });
  assert.deepEqual(parseBlkio('8:0 Read 4096\n8:0 Write 512\n8:0 Total 4608\nTotal 4608\n').filter((e) => e.op !== 'Total'),
    [{ major: 8, minor: 0, op: 'Read', value: 4096 }, { major: 8, minor: 0, op: 'Write', value: 512 }]);
  assert.equal(parseSystemCpu('cpu  100 0 50 1000 10 0 5 0 0 0\ncpu0 50 0 25 500 5 0 2 0 0 0\n'), 1165 * 1e7);
  assert.equal(parseLimit('9223372036854771712\n'), undefined);
  assert.equal(parseLimit('max\n'), undefined);
  assert.equal(parseLimit('104857600\n'), 104857600);
});

test('stats: shape, and the CLI row computed as docker/cli does', () => {
  const sample = (total: number, system: number): Sample => ({
    read: '2024-01-01T00:00:01.000000000Z',
    cpu: { cpu_usage: { total_usage: total, percpu_usage: [total], usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: system, online_cpus: 2, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
    memory: { usage: 10_000, limit: 100_000, stats: { total_inactive_file: 2_000 } },
    pids: { current: 3 },
    blkio: { io_service_bytes_recursive: [{ major: 8, minor: 0, op: 'Read', value: 1000 }, { major: 8, minor: 0, op: 'Write', value: 24 }], io_serviced_recursive: null },
  });
  const s = statsJson('web', 'abc', sample(2e9, 20e9), sample(1e9, 10e9));
  assert.equal(s.name, '/web');
  assert.equal(s.preread, '2024-01-01T00:00:01.000000000Z');
  const row = statsRow('web', s as never);
  assert.equal(row.cpu.toFixed(2), '20.00'); // 1e9/10e9 * 2 CPUs * 100
  assert.equal(row.mem, 8_000);
  assert.equal(row.memPerc, 8);
  assert.equal(row.blkRead, 1000);
  assert.equal(row.blkWrite, 24);
  assert.equal(row.pids, 3);
  const empty = statsJson('web', 'abc', undefined, undefined);
  assert.equal(empty.read, '0001-01-01T00:00:00Z');
  assert.deepEqual(empty.memory_stats, {});
});

test('ps output: the container\'s rows, thread rows, commands with spaces', () => {
  const out = 'UID PID PPID CMD\nroot 1 0 /sbin/init\nroot 42 1 sleep 300 now\nroot - - -\nroot 43 42 sh\n';
  assert.deepEqual(parsePsOutput(out, [42]), { Titles: ['UID', 'PID', 'PPID', 'CMD'], Processes: [['root', '42', '1', 'sleep 300 now'], ['root', '-', '-', '-']] });
  assert.throws(() => parsePsOutput('UID CMD\nroot x\n', [1]), /Couldn't find PID field/);
  assert.throws(() => validatePsArgs('-o user= PID'), /not allowed/);
  validatePsArgs('-o pid=PID');
});

test('prune filters: until (durations and times), label, label!, dangling', () => {
  const now = Date.parse('2024-06-01T00:00:00Z');
  assert.equal(goDuration('1h30m'), 5_400_000);
  assert.equal(goDuration('busybox'), undefined);
  const f = parsePruneFilters(new Map([['until', ['24h']], ['label', ['a=1', 'b']], ['label!', ['c']]]), ['until', 'label', 'label!'], now);
  assert.equal(f.untilMs, now - 86_400_000);
  assert.ok(pruneMatches(f, now - 2 * 86_400_000, { a: '1', b: 'x' }));
  assert.ok(!pruneMatches(f, now - 3_600_000, { a: '1', b: 'x' }), 'too recent');
  assert.ok(!pruneMatches(f, 0, { a: '2', b: 'x' }));
  assert.ok(!pruneMatches(f, 0, { a: '1', b: 'x', c: '' }));
  assert.equal(parsePruneFilters(new Map([['until', ['2024-05-01']]]), ['until']).untilMs, Date.parse('2024-05-01T00:00:00Z'));
  assert.throws(() => parsePruneFilters(new Map([['nope', ['1']]]), ['until']), /invalid filter 'nope'/);
  assert.throws(() => parsePruneFilters(new Map([['until', ['1', '2']]]), ['until']), /more than one until/);
  assert.equal(parsePruneFilters(new Map([['dangling', ['false']]]), ['dangling']).danglingOnly, false);
  assert.throws(() => parsePruneFilters(new Map([['dangling', ['maybe']]]), ['dangling']), /invalid filter 'dangling=maybe'/);
});

test('events: docker/cli\'s line format', () => {
  assert.equal(rfc3339NanoFixed(1_700_000_000_123_456_789n, 0), '2023-11-14T22:13:20.123456789Z');
  assert.equal(rfc3339NanoFixed(1_700_000_000_000_000_000n, 120), '2023-11-15T00:13:20.000000000+02:00');
  const line = prettyEvent({ Type: 'container', Action: 'start', Actor: { ID: 'abc', Attributes: { name: 'web', image: 'busybox' } }, time: 1_700_000_000, timeNano: 1_700_000_000_000_000_000 });
  assert.match(line, /^\S+ container start abc \(image=busybox, name=web\)\n$/);
});
