import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { EventBus } from '../../src/engine/events/bus.js';

test('events persist across bus instances and rotate past the size limit, history spanning both files', async () => {
  const dir = mkdtempSync('/tmp/bt-events-');
  try {
    const file = join(dir, 'events.jsonl');
    const bus = new EventBus(file, 2000);
    const seen: string[] = [];
    const off = bus.subscribe((e) => seen.push(e.Action));
    for (let i = 0; i < 600; i++) bus.publish('container', `a${i}`, 'x'.repeat(64), { name: 'n' });
    off();
    await bus.flush();
    assert.equal(seen.length, 600);
    assert.ok(existsSync(`${file}.1`), 'no rotation happened');
    const again = new EventBus(file, 2000);
    const past = await again.history(0);
    assert.ok(past.length > 0 && past.length < 600, `kept ${past.length}`);
    assert.equal(past.at(-1)!.Action, 'a599');
    // Oldest first, contiguous.
    const n = Number(past[0].Action.slice(1));
    assert.deepEqual(past.map((e) => e.Action), Array.from({ length: past.length }, (_, i) => `a${n + i}`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stream: history then live, nothing lost or doubled between, ending at until', async () => {
  const dir = mkdtempSync('/tmp/bt-events-');
  try {
    const bus = new EventBus(join(dir, 'events.jsonl'));
    for (let i = 0; i < 50; i++) bus.publish('container', `old${i}`, 'c1');
    const until = new Date(Date.now() + 400).toISOString();
    const stream = bus.stream({ since: '0', until });
    const seen: string[] = [];
    const reading = (async () => { for await (const e of stream) seen.push(e.Action); })();
    // Published while the history is being read: each must come exactly once.
    for (let i = 0; i < 50; i++) { bus.publish('container', `new${i}`, 'c1'); await new Promise((r) => setImmediate(r)); }
    await reading;
    assert.deepEqual(seen, [...Array.from({ length: 50 }, (_, i) => `old${i}`), ...Array.from({ length: 50 }, (_, i) => `new${i}`)]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stream filters: labels all match, other values are alternatives, keys name their own type, unknown keys refused', async () => {
  const dir = mkdtempSync('/tmp/bt-events-');
  try {
    const bus = new EventBus(join(dir, 'events.jsonl'));
    bus.publish('container', 'start', 'aaa111', { name: 'web', image: 'busybox:latest', a: '1', b: '2' });
    bus.publish('container', 'die', 'bbb222', { name: 'db', image: 'busybox', a: '1' });
    bus.publish('image', 'tag', 'sha256:ccc', { name: 'busybox:latest' });
    bus.publish('container', 'exec_start: sh -c true', 'aaa111', { name: 'web', image: 'busybox' });
    const actions = async (filters: Record<string, string[]>) => {
      const out: string[] = [];
      for await (const e of bus.stream({ since: '0', until: new Date(Date.now() + 50).toISOString(), filters: new Map(Object.entries(filters)) })) out.push(e.Action);
      return out;
    };
    assert.deepEqual(await actions({ label: ['a=1', 'b=2'] }), ['start']);
    assert.deepEqual(await actions({ label: ['a=1'] }), ['start', 'die']);
    assert.deepEqual(await actions({ event: ['start', 'die'] }), ['start', 'die']);
    assert.deepEqual(await actions({ container: ['aaa'] }), ['start', 'exec_start: sh -c true']);
    assert.deepEqual(await actions({ container: ['db'], type: ['container'] }), ['die']);
    assert.deepEqual(await actions({ event: ['exec_start'] }), ['exec_start: sh -c true']);
    assert.deepEqual(await actions({ image: ['busybox'] }), ['start', 'die', 'tag', 'exec_start: sh -c true']);
    assert.throws(() => bus.stream({ filters: new Map([['colour', ['red']]]) }), /invalid filter 'colour'/);
    assert.throws(() => bus.stream({ since: '20', until: '10' }), /cannot be after/);
    assert.throws(() => bus.stream({ since: 'yesterday' }), /failed to parse/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
