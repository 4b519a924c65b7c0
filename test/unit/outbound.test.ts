import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outboundRefusal } from '../../src/util/outbound.js';

test('fuzz-off-loopback: with BERTH_OUTBOUND=loopback only loopback hosts may be reached (a fuzzed 10.0.0.0/33 reached a host)', () => {
  const saved = process.env.BERTH_OUTBOUND;
  try {
    delete process.env.BERTH_OUTBOUND;
    assert.equal(outboundRefusal('https://10.0.0.0/v2/'), undefined, 'unset: nothing limited');
    process.env.BERTH_OUTBOUND = 'loopback';
    for (const ok of ['http://127.0.0.1:5000/v2/', 'http://localhost:8080/x.tar', 'http://[::1]:5000/v2/', 'http://127.9.9.9/']) {
      assert.equal(outboundRefusal(ok), undefined, ok);
    }
    for (const bad of ['https://10.0.0.0/v2/33/manifests/latest', 'https://registry.example/v2/', 'git@host.example:repo.git', 'https://127.0.0.1.example/', 'not a url']) {
      assert.match(outboundRefusal(bad) ?? '', /outbound connections are limited to loopback/, bad);
    }
  } finally {
    if (saved === undefined) delete process.env.BERTH_OUTBOUND;
    else process.env.BERTH_OUTBOUND = saved;
  }
});
