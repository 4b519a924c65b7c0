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
