import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanSize, renderProgress, ThrottledProgress, shortId, layerStatus } from '../../src/engine/distribution/progress.js';
import type { JSONMessage } from '../../src/engine/images/types.js';

test('humanSize: go-units HumanSize (decimal, %.4g)', () => {
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(512), '512B');
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(1000), '1kB');
  assert.equal(humanSize(1500), '1.5kB');
  assert.equal(humanSize(3123), '3.123kB');
  assert.equal(humanSize(22956), '22.96kB');
  assert.equal(humanSize(2152262), '2.152MB');
  assert.equal(humanSize(999_999), '1000kB');
  assert.equal(humanSize(1_000_000), '1MB');
  assert.equal(humanSize(5.5e9), '5.5GB');
});

test('renderProgress: bar of 50 cells, %8v/%v numbers', () => {
  assert.equal(renderProgress(0, 0), '');
  assert.equal(renderProgress(22956, 2152262), `[>${' '.repeat(50)}]  22.96kB/2.152MB`);
  assert.equal(renderProgress(1076131, 2152262), `[${'='.repeat(25)}>${' '.repeat(25)}]  1.076MB/2.152MB`);
  assert.equal(renderProgress(2152262, 2152262), `[${'='.repeat(50)}>]  2.152MB/2.152MB`);
  // a wonky current above total drops the total
  assert.equal(renderProgress(3000, 2000), `[${'='.repeat(50)}>]      3kB`);
  // unknown total: just the size, padded to 8
  assert.equal(renderProgress(512, 0), '    512B');
  assert.equal(renderProgress(3123, 6200), `[${'='.repeat(25)}>${' '.repeat(25)}]  3.123kB/6.2kB`);
});

test('ThrottledProgress: first and last always, at most one per interval in between', () => {
  const msgs: JSONMessage[] = [];
  let now = 1000;
  const p = new ThrottledProgress((m) => msgs.push(m), 'abc', 'Downloading', 1000, 100, () => now);
  p.update(10);
  p.update(20); // same instant: dropped
  now += 50;
  p.update(30); // 50 ms later: dropped
  now += 60;
  p.update(40); // 110 ms after the first: sent
  p.update(1000); // final: sent at once
  p.update(1000); // repeat: dropped
  assert.deepEqual(msgs.map((m) => m.progressDetail?.current), [10, 40, 1000]);
  assert.equal(msgs[0]!.status, 'Downloading');
  assert.equal(msgs[0]!.id, 'abc');
  assert.deepEqual(msgs[2]!.progressDetail, { current: 1000, total: 1000 });
  assert.match(msgs[2]!.progress!, /^\[=+>\]/);
});

test('shortId and layerStatus', () => {
  assert.equal(shortId('sha256:97e70d161e81aa5ed9b8c2c3e1d4a0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7'), '97e70d161e81');
  assert.deepEqual(layerStatus('97e70d161e81', 'Pull complete'), { status: 'Pull complete', progressDetail: {}, id: '97e70d161e81' });
});
