import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSignal, signalName } from '../../src/engine/runtime/signals.js';
import { translateStartError } from '../../src/engine/runtime/start-errors.js';
import { InvalidParameterError } from '../../src/engine/errors.js';

test('parseSignal accepts Docker forms', () => {
  for (const s of ['SIGTERM', 'TERM', 'term', 'sigterm', '15', 15]) assert.equal(parseSignal(s), 15);
  assert.equal(parseSignal('KILL'), 9);
  assert.equal(parseSignal('SIGUSR1'), 10);
  assert.equal(parseSignal('HUP'), 1);
  assert.equal(parseSignal('RTMIN'), 34);
  assert.equal(parseSignal('SIGRTMIN+3'), 37);
  assert.equal(parseSignal('RTMAX-1'), 63);
  assert.equal(parseSignal('64'), 64);
});

test('parseSignal rejects bad names with Docker wording', () => {
  for (const s of ['NOPE', 'SIGFOO', '0', '65', '', '-1', 'RTMIN+40']) {
    assert.throws(() => parseSignal(s), (e: unknown) => e instanceof InvalidParameterError && e.message === `Invalid signal: ${s}`, String(s));
  }
});

test('signalName', () => {
  assert.equal(signalName(15), 'SIGTERM');
  assert.equal(signalName(9), 'SIGKILL');
  assert.equal(signalName(36), 'SIGRTMIN+2');
});

test('start errors are translated to Docker wording (CLI exit codes 127/126)', () => {
  assert.match(translateStartError('executable file `nosuch` not found in $PATH: No such file or directory\n', 'nosuch'),
    /exec: "nosuch": executable file not found in \$PATH: unknown$/);
  assert.match(translateStartError('executable file `/x/y` not found in $PATH: No such file or directory', '/x/y'),
    /exec: "\/x\/y": stat \/x\/y: no such file or directory/);
  assert.match(translateStartError('open executable: Permission denied', '/bin/f'), /exec: "\/bin\/f": permission denied/);
  assert.equal(translateStartError('time="2026-01-01T00:00:00Z" level=error msg="runc run failed: unable to start container process: exec: \\"nosuch\\": executable file not found in $PATH"', 'nosuch'),
    'failed to create task for container: failed to create shim task: OCI runtime create failed: unable to start container process: exec: "nosuch": executable file not found in $PATH: unknown');
  assert.match(translateStartError('crun: something else', 'a'), /^failed to create task for container: .*something else: unknown$/);
});
