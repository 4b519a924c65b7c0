import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyProbe, goDuration, mergeHealthcheck, nextProbeDelayMs, probeCommand, validateHealth, type HealthState } from '../../src/engine/containers/health.js';

const S = 1e9;
const at = (ms: number) => new Date(ms).toISOString();
const probe = (startMs: number, exit: number) => ({ Start: at(startMs), End: at(startMs + 5), ExitCode: exit, Output: '' });

test('healthcheck status: starting → healthy → unhealthy after Retries failures; start period failures do not count', () => {
  const hc = { Test: ['CMD', 'true'], Retries: 2, StartPeriod: 10 * S };
  let s: HealthState = { Status: 'starting', FailingStreak: 0, Log: [] };
  s = applyProbe(s, probe(1000, 1), hc, 0); // inside the start period, still starting
  assert.deepEqual([s.Status, s.FailingStreak], ['starting', 0]);
  s = applyProbe(s, probe(2000, 0), hc, 0);
  assert.deepEqual([s.Status, s.FailingStreak], ['healthy', 0]);
  s = applyProbe(s, probe(3000, 1), hc, 0); // healthy: failures count even inside the period
  assert.deepEqual([s.Status, s.FailingStreak], ['healthy', 1]);
  s = applyProbe(s, probe(4000, 7), hc, 0);
  assert.deepEqual([s.Status, s.FailingStreak], ['unhealthy', 2]);
  for (let i = 0; i < 6; i++) s = applyProbe(s, probe(5000 + i, 1), hc, 0);
  assert.equal(s.Log.length, 5, 'the last 5 probes are kept');
  assert.equal(s.Log.at(-1)!.Start, at(5005));
  // Default retries: 3.
  let d: HealthState = { Status: 'starting', FailingStreak: 0, Log: [] };
  for (let i = 0; i < 2; i++) d = applyProbe(d, probe(i, 1), { Test: ['CMD', 'x'] }, 0);
  assert.equal(d.Status, 'starting');
  d = applyProbe(d, probe(3, 1), { Test: ['CMD', 'x'] }, 0);
  assert.equal(d.Status, 'unhealthy');
});

test('healthcheck timing, commands, merge with the image, validation', () => {
  const hc = { Interval: 30 * S, StartPeriod: 60 * S, StartInterval: 2 * S };
  assert.equal(nextProbeDelayMs(hc, 'starting', 0, 1000), 2000, 'start interval while starting in the period');
  assert.equal(nextProbeDelayMs(hc, 'healthy', 0, 1000), 30000);
  assert.equal(nextProbeDelayMs(hc, 'starting', 0, 50000), 10000, 'the rest of the start period when shorter');
  assert.equal(nextProbeDelayMs({}, 'starting', 0, 0), 30000, 'defaults: 30 s, no start period');
  assert.deepEqual(probeCommand({ Test: ['CMD-SHELL', 'curl -f x'] }), ['/bin/sh', '-c', 'curl -f x']);
  assert.deepEqual(probeCommand({ Test: ['CMD', 'true', 'a'] }), ['true', 'a']);
  assert.equal(probeCommand({ Test: ['NONE'] }), undefined);
  assert.equal(probeCommand(undefined), undefined);
  assert.deepEqual(mergeHealthcheck({ Interval: 5 * S }, { Test: ['CMD', 'x'], Interval: 9 * S, Retries: 4 }), { Test: ['CMD', 'x'], Interval: 5 * S, Retries: 4 });
  assert.deepEqual(mergeHealthcheck(undefined, { Test: ['CMD', 'x'] }), { Test: ['CMD', 'x'] });
  assert.deepEqual(mergeHealthcheck({ Test: ['NONE'] }, { Test: ['CMD', 'x'] }), { Test: ['NONE'] });
  assert.throws(() => validateHealth({ Interval: 5 }, undefined), /^BerthError: Interval in Healthcheck cannot be less than 1ms$/);
  assert.throws(() => validateHealth({ Retries: -1 }, undefined), /Retries in Healthcheck cannot be negative/);
  assert.throws(() => validateHealth({ StartInterval: -2 }, undefined), /StartInterval in Healthcheck cannot be less than 1ms/);
  assert.throws(() => validateHealth(undefined, 'reboot'), /invalid HealthOnFailure 'reboot'/);
  validateHealth({ Interval: 0, Timeout: 2 * S, Retries: 0 }, 'restart');
  assert.deepEqual([goDuration(200e6), goDuration(1.5 * S), goDuration(90 * S), goDuration(7200 * S), goDuration(30 * S)], ['200ms', '1.5s', '1m30s', '2h0m0s', '30s']);
});
