/**
 * The container output hub on its own, with a fake shim connection: a slow reader is cut off at
 * the queue cap (attach-slow-reader-unbounded), stdin is refused past its cap before the start and
 * the writer woken at connect (stdin-no-backpressure), and the end of stdin that comes before the
 * start reaches the run (issue 7: `echo hi | docker run -i busybox cat` hung).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { MAX_PENDING_STDIN, MAX_QUEUED_BYTES, OutputHub } from '../../src/engine/containers/hub.js';
import type { OutputRecord, ShimConnection } from '../../src/engine/runtime/types.js';

class FakeConn extends EventEmitter implements ShimConnection {
  stdin: Buffer[] = [];
  closed = 0;
  writeStdin(data: Buffer): boolean { this.stdin.push(data); return true; }
  stdinWritable(): Promise<void> { return Promise.resolve(); }
  closeStdin(): void { this.closed++; }
  resize(): void {}
  close(): void {}
}

const rec = (n: number): OutputRecord => ({ stream: 'stdout', partial: true, timeNs: 1n, data: Buffer.alloc(n, 0x61) });

test('attach-slow-reader-unbounded: a reader that falls behind the cap is dropped, a reader that keeps up is not', async () => {
  const hub = new OutputHub();
  const conn = new FakeConn();
  hub.connect(conn);
  const slow = hub.subscribe({ stdout: true, stderr: true });
  const fast = hub.subscribe({ stdout: true, stderr: true });
  let fastBytes = 0;
  const reading = (async () => { for await (const r of fast.records) fastBytes += r.data.length; })();
  for (let i = 0; i < 2 * MAX_QUEUED_BYTES / 65536; i++) {
    conn.emit('output', rec(65536));
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(slow.dropped, true);
  assert.equal(fast.dropped, false);
  let slowBytes = 0;
  for await (const r of slow.records) slowBytes += r.data.length;
  assert.equal(slowBytes, 0, 'a dropped reader gets nothing more: its queue is freed');
  hub.exited({ exitCode: 0, finishedAt: '', oomKilled: false });
  await reading;
  assert.equal(fastBytes, 2 * MAX_QUEUED_BYTES);
});

test('stdin-no-backpressure: stdin before the start is refused past its cap and the writer woken at connect', async () => {
  const hub = new OutputHub();
  assert.equal(hub.writeStdin(Buffer.alloc(MAX_PENDING_STDIN - 1)), true);
  assert.equal(hub.writeStdin(Buffer.alloc(1)), false);
  let woken = false;
  const waiting = hub.stdinWritable().then(() => { woken = true; });
  await new Promise((r) => setImmediate(r));
  assert.equal(woken, false);
  const conn = new FakeConn();
  hub.connect(conn);
  await waiting;
  assert.equal(Buffer.concat(conn.stdin).length, MAX_PENDING_STDIN);
});

test('stdin-eof-before-start: the end of stdin that came before the start reaches the run; the next run starts fresh', () => {
  const hub = new OutputHub();
  hub.writeStdin(Buffer.from('hi\n'));
  hub.closeStdin();
  const conn = new FakeConn();
  hub.connect(conn);
  assert.equal(Buffer.concat(conn.stdin).toString(), 'hi\n');
  assert.equal(conn.closed, 1);
  hub.disconnect(conn);
  hub.exited({ exitCode: 0, finishedAt: '', oomKilled: false });
  const next = new FakeConn();
  hub.connect(next);
  assert.equal(next.closed, 0);
});
