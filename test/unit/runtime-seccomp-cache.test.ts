import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { BPF_ANNOTATION, SeccompCache } from '../../src/engine/runtime/seccomp-cache.js';

test('seccomp cache: learns what crun compiled, hands it back by annotation, skips what it must not', async () => {
  const cache = new SeccompCache();
  const spec = { linux: { seccomp: { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] } } };
  const key = cache.keyOf(spec, '/usr/bin/crun')!;
  assert.ok(key);
  assert.equal(cache.apply(spec, key), false);
  const state = mkdtempSync(join(tmpdir(), 'bt-seccomp-'));
  mkdirSync(join(state, 'c1'));
  writeFileSync(join(state, 'c1', 'seccomp.bpf'), Buffer.alloc(12)); // not whole instructions: not kept
  await cache.learn(key, state, 'c1');
  assert.equal(cache.size, 0);
  writeFileSync(join(state, 'c1', 'seccomp.bpf'), Buffer.alloc(16, 1));
  await cache.learn(key, state, 'c1');
  const again = structuredClone(spec) as typeof spec & { annotations?: Record<string, string> };
  assert.equal(cache.apply(again, cache.keyOf(again, '/usr/bin/crun')), true);
  assert.equal(again.annotations![BPF_ANNOTATION], Buffer.alloc(16, 1).toString('base64'));
  // Another profile, another runtime binary, the user's own seccomp annotations, a listener: no reuse.
  assert.notEqual(cache.keyOf({ linux: { seccomp: { ...spec.linux.seccomp, defaultAction: 'SCMP_ACT_KILL' } } }, '/usr/bin/crun'), key);
  assert.notEqual(cache.keyOf(spec, '/opt/crun'), key);
  assert.equal(cache.keyOf({ ...spec, annotations: { 'run.oci.seccomp_fail_unknown_syscall': '1' } }, '/usr/bin/crun'), undefined);
  assert.equal(cache.keyOf({ linux: { seccomp: { ...spec.linux.seccomp, listenerPath: '/x' } } }, '/usr/bin/crun'), undefined);
  assert.equal(cache.keyOf({ linux: {} }, '/usr/bin/crun'), undefined);
});
