import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeRecord, decodeRecord, splitRecords, readLogs } from '../../src/engine/runtime/logfile.js';
import { encodeFrame, FrameDecoder, FRAME } from '../../src/engine/runtime/shimconn.js';
import type { OutputRecord } from '../../src/engine/runtime/types.js';

const rec = (stream: 'stdout' | 'stderr', s: string, t: number, partial = false): OutputRecord =>
  ({ stream, data: Buffer.from(s), timeNs: BigInt(t) * 1_000_000_000n, partial });

test('record codec round-trips and rejects torn/corrupt records', () => {
  const r = rec('stderr', 'héllo\n', 1700000000, true);
  const b = encodeRecord(r);
  assert.equal(b.length, 16 + Buffer.byteLength('héllo\n') + 4);
  assert.equal(b[0], 0xb7);
  const d = decodeRecord(b)!;
  assert.deepEqual(d.rec, r);
  assert.equal(d.size, b.length);
  assert.equal(decodeRecord(b.subarray(0, b.length - 1)), undefined);
  const bad = Buffer.from(b); bad[0] = 0;
  assert.equal(decodeRecord(bad), undefined);
  const bad2 = Buffer.from(b); bad2.writeUInt32LE(1, b.length - 4);
  assert.equal(decodeRecord(bad2), undefined);
});

test('splitRecords: newlines, partial tail, 16 KiB cap', () => {
  const rs = splitRecords('stdout', Buffer.from('a\nbc\nde'), 5n);
  assert.deepEqual(rs.map((r) => [r.data.toString(), r.partial]), [['a\n', false], ['bc\n', false], ['de', true]]);
  const big = splitRecords('stdout', Buffer.alloc(40000, 0x41), 1n);
  assert.deepEqual(big.map((r) => [r.data.length, r.partial]), [[16384, true], [16384, true], [7232, true]]);
});

test('readLogs: all, streams, since/until, tail (backwards), torn end', async () => {
  const dir = await mkdtemp('/tmp/bt-');
  try {
    const p = join(dir, 'log');
    const recs: OutputRecord[] = [];
    for (let i = 0; i < 5000; i++) recs.push(rec(i % 3 === 0 ? 'stderr' : 'stdout', `line ${i} ${'x'.repeat(i % 200)}\n`, 1000 + i));
    await writeFile(p, Buffer.concat(recs.map(encodeRecord)));
    const all: OutputRecord[] = [];
    for await (const r of readLogs(p, { stdout: true, stderr: true })) all.push(r);
    assert.equal(all.length, 5000);
    assert.deepEqual(all[4999], recs[4999]);

    const out: string[] = [];
    for await (const r of readLogs(p, { stdout: true, stderr: false, tail: 3 })) out.push(r.data.toString().split(' ').slice(0, 2).join(' '));
    assert.deepEqual(out, ['line 4996', 'line 4997', 'line 4999']); // 4998 is stderr

    const tailAll: number[] = [];
    for await (const r of readLogs(p, { stdout: true, stderr: true, tail: 10 })) tailAll.push(Number(r.timeNs / 1_000_000_000n));
    assert.deepEqual(tailAll, Array.from({ length: 10 }, (_, i) => 5990 + i));

    const big: OutputRecord[] = [];
    for await (const r of readLogs(p, { stdout: true, stderr: true, tail: 100000 })) big.push(r);
    assert.equal(big.length, 5000);

    let n = 0;
    for await (const _ of readLogs(p, { stdout: true, stderr: true, tail: 0 })) n++;
    assert.equal(n, 0);

    const since: number[] = [];
    for await (const r of readLogs(p, { stdout: true, stderr: true, since: 5995, until: 5998 })) since.push(Number(r.timeNs / 1_000_000_000n));
    assert.deepEqual(since, [5995, 5996, 5997]);

    // torn record at the end (crash mid-write): ignored by both readers
    await appendFile(p, encodeRecord(rec('stdout', 'torn\n', 9999)).subarray(0, 10));
    const t2: string[] = [];
    for await (const r of readLogs(p, { stdout: true, stderr: true, tail: 1 })) t2.push(r.data.toString());
    assert.deepEqual(t2, [recs[4999]!.data.toString()]);
    let c = 0;
    for await (const _ of readLogs(p, { stdout: true, stderr: true })) c++;
    assert.equal(c, 5000);

    let none = 0;
    for await (const _ of readLogs(join(dir, 'missing'), { stdout: true, stderr: true })) none++;
    assert.equal(none, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('shim frame codec', () => {
  const f1 = encodeFrame(FRAME.STDIN, Buffer.from('abc'));
  const f2 = encodeFrame(FRAME.GO);
  const got: Array<[number, number, string]> = [];
  const d = new FrameDecoder();
  const both = Buffer.concat([f1, f2]);
  for (let i = 0; i < both.length; i++) d.push(both.subarray(i, i + 1), (t, f, p) => got.push([t, f, p.toString()]));
  assert.deepEqual(got, [[0x11, 0, 'abc'], [0x10, 0, '']]);
});

test('readLogs spans rotated files (log.2, log.1, log) in order, tail across files', async () => {
  const dir = await mkdtemp('/tmp/bt-');
  try {
    const p = join(dir, 'log');
    const mk = (from: number, to: number): Buffer => Buffer.concat(
      Array.from({ length: to - from }, (_, i) => encodeRecord(rec('stdout', `l${from + i}\n`, from + i))));
    await writeFile(`${p}.2`, mk(0, 10));
    await writeFile(`${p}.1`, mk(10, 20));
    await writeFile(p, mk(20, 23));
    const all: string[] = [];
    for await (const r of readLogs(p, { stdout: true, stderr: true })) all.push(r.data.toString().trim());
    assert.deepEqual(all, Array.from({ length: 23 }, (_, i) => `l${i}`));
    const t: string[] = [];
    for await (const r of readLogs(p, { stdout: true, stderr: true, tail: 5 })) t.push(r.data.toString().trim());
    assert.deepEqual(t, ['l18', 'l19', 'l20', 'l21', 'l22']);
    const t2: string[] = [];
    for await (const r of readLogs(p, { stdout: true, stderr: true, tail: 15 })) t2.push(r.data.toString().trim());
    assert.deepEqual(t2, Array.from({ length: 15 }, (_, i) => `l${8 + i}`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// Hole: a partial write (disk full, crash) left a short record in the middle of container.log,
// and the reader stopped there, hiding every later line. It must resynchronise and read on.
test('log-torn-record: a short record in the middle or at the end does not hide later lines', async () => {
  const dir = await mkdtemp('/tmp/bt-');
  try {
    const p = join(dir, 'container.log');
    const lines = (from: number, to: number): OutputRecord[] =>
      Array.from({ length: to - from }, (_, i) => rec('stdout', `line ${from + i} ${'y'.repeat((from + i) % 300)}\n`, 1000 + from + i));
    const torn = (r: OutputRecord, keep: number): Buffer => encodeRecord(r).subarray(0, keep);
    const a = lines(0, 3000); // ~0.5 MiB: the torn record lands past the first read chunk
    const b = lines(3000, 3005);
    const c = lines(3005, 3010);
    const big = rec('stderr', 'z'.repeat(16000) + '\n', 5000);
    await writeFile(p, Buffer.concat([
      ...a.map(encodeRecord),
      torn(big, 16 + 100), // header claims 16001 bytes; only 100 were written
      ...b.map(encodeRecord),
      torn(rec('stdout', 'half\n', 6000), 9), // short header
      Buffer.from([0xb7, 0x01, 0, 0, 0xff, 0xff, 0xff, 0x7f]), // garbage length
      ...c.map(encodeRecord),
      torn(rec('stdout', 'lost at the end\n', 7000), 20),
    ]));
    const read = async (tail?: number): Promise<string[]> => {
      const out: string[] = [];
      for await (const r of readLogs(p, { stdout: true, stderr: true, ...(tail === undefined ? {} : { tail }) })) out.push(r.data.toString());
      return out;
    };
    const want = [...a, ...b, ...c].map((r) => r.data.toString());
    assert.deepEqual(await read(), want);
    assert.deepEqual(await read(7), want.slice(-7)); // tail across the torn records
    assert.deepEqual(await read(100000), want);
    // the shim goes on appending after the torn end: those lines are read too
    await appendFile(p, encodeRecord(rec('stdout', 'after\n', 8000)));
    assert.deepEqual((await read()).slice(-2), [want.at(-1), 'after\n']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
