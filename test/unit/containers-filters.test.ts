import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectContainers, type ContainerListOptions } from '../../src/engine/containers/filters.js';
import type { ContainerRecord, ContainerStatus } from '../../src/engine/containers/types.js';
import { NotFoundError } from '../../src/engine/errors.js';

function rec(name: string, minute: number, status: ContainerStatus, extra: { labels?: Record<string, string>; image?: string; exitCode?: number; ports?: Record<string, Array<{ HostIp: string; HostPort: string }> | null>; network?: [string, string] } = {}): ContainerRecord {
  return {
    Id: `${name}`.padEnd(64, '0'), Name: name, Created: new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString(),
    ImageID: extra.image ?? 'sha256:aaa', Path: 'true', Args: [],
    Config: { Labels: extra.labels ?? {}, ExposedPorts: Object.fromEntries(Object.keys(extra.ports ?? {}).map((k) => [k, {}])) } as ContainerRecord['Config'],
    HostConfig: {} as ContainerRecord['HostConfig'],
    State: { Status: status, Pid: 0, ShimPid: 0, ExitCode: extra.exitCode ?? 0, Error: '', OOMKilled: false, StartedAt: status === 'created' ? '0001-01-01T00:00:00Z' : '2026-01-01T00:00:00Z', FinishedAt: '' },
    NetworkSettings: {
      Ports: extra.ports ?? {},
      Networks: extra.network ? { [extra.network[0]]: { NetworkID: extra.network[1] } } : {},
    } as unknown as ContainerRecord['NetworkSettings'],
    RestartCount: 0, LowerDirs: [], Layers: [],
  };
}

const all = [
  rec('a1', 1, 'exited', { labels: { a: '1' }, exitCode: 3 }),
  rec('b2', 2, 'running', { labels: { a: '1', b: '2' }, ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }], '53/udp': null }, network: ['front', 'f00d'] }),
  rec('c3', 3, 'created', { image: 'sha256:bbb' }),
  rec('d4', 4, 'paused'),
];
const lookups = {
  container: (ref: string) => {
    const r = all.find((c) => c.Name === ref);
    if (!r) throw new NotFoundError(`No such container: ${ref}`);
    return r;
  },
  imageId: (ref: string) => (ref === 'busybox' ? 'sha256:bbb' : undefined),
};
const names = (opts: ContainerListOptions & { f?: Record<string, string[]> }) =>
  selectContainers(all, { ...opts, filters: new Map(Object.entries(opts.f ?? {})) }, lookups).map((c) => c.Name);

test('ps: running and paused by default, newest first; all; limit implies all', () => {
  assert.deepEqual(names({}), ['d4', 'b2']);
  assert.deepEqual(names({ all: true }), ['d4', 'c3', 'b2', 'a1']);
  assert.deepEqual(names({ limit: 2 }), ['d4', 'c3']);
});

test('ps: before and since walk the list newest first; stopped ones only with all', () => {
  assert.deepEqual(names({ all: true, f: { since: ['b2'] } }), ['d4', 'c3']);
  assert.deepEqual(names({ f: { since: ['b2'] } }), ['d4']);
  assert.deepEqual(names({ all: true, f: { before: ['c3'] } }), ['b2', 'a1']);
  assert.deepEqual(names({ f: { before: ['c3'] } }), ['b2']);
  assert.deepEqual(names({ all: true, before: 'b2' }), ['a1'], 'the old query parameter');
  assert.throws(() => names({ f: { since: ['nosuch'] } }), /No such container: nosuch/);
});

test('ps: labels all match; other keys are alternatives; values are checked', () => {
  assert.deepEqual(names({ all: true, f: { label: ['a=1', 'b=2'] } }), ['b2']);
  assert.deepEqual(names({ f: { status: ['exited', 'created'] } }), ['c3', 'a1']);
  assert.deepEqual(names({ all: true, f: { exited: ['3'] } }), ['a1']);
  assert.deepEqual(names({ all: true, f: { exited: ['0'] } }), [], 'a created container has not exited');
  assert.deepEqual(names({ all: true, f: { name: ['^b', '^/c'] } }), ['c3', 'b2']);
  assert.deepEqual(names({ all: true, f: { name: ['('] } }), [], 'a pattern that does not compile matches nothing');
  assert.deepEqual(names({ all: true, f: { ancestor: ['busybox'] } }), ['c3']);
  assert.deepEqual(names({ all: true, f: { ancestor: ['nosuch'] } }), []);
  assert.deepEqual(names({ all: true, f: { network: ['front'] } }), ['b2']);
  assert.deepEqual(names({ all: true, f: { network: ['f0'] } }), ['b2'], 'by ID prefix');
  assert.deepEqual(names({ all: true, f: { publish: ['8080'] } }), ['b2'], 'a host port');
  assert.deepEqual(names({ all: true, f: { publish: ['8000-8100/tcp'] } }), ['b2']);
  assert.deepEqual(names({ all: true, f: { publish: ['80'] } }), [], 'not the container port');
  assert.deepEqual(names({ all: true, f: { publish: ['8080/udp'] } }), [], 'the protocol counts');
  assert.deepEqual(names({ all: true, f: { expose: ['53/udp'] } }), ['b2'], 'exposed, not published');
  assert.deepEqual(names({ all: true, f: { expose: ['80'] } }), ['b2'], 'a published port is exposed too');
  assert.deepEqual(names({ all: true, f: { publish: ['9999'], expose: ['80'] } }), ['b2'], 'either one');
  assert.deepEqual(names({ all: true, f: { 'is-task': ['true'] } }), []);
  assert.deepEqual(names({ all: true, f: { health: ['none'] } }), ['d4', 'c3', 'b2', 'a1']);
  assert.throws(() => names({ f: { colour: ['red'] } }), /invalid filter 'colour'/);
  assert.throws(() => names({ f: { status: ['sleepy'] } }), /invalid filter 'status=sleepy'/);
  assert.throws(() => names({ f: { exited: ['x'] } }), /invalid filter 'exited=x'/);
  assert.throws(() => names({ f: { 'is-task': ['maybe'] } }), /invalid filter 'is-task=maybe'/);
  assert.throws(() => names({ f: { publish: ['127.0.0.1:80'] } }), /should not include ':'/);
});
