/**
 * Restart policies on a real berthd through both CLIs, as dockerd applies them: "restarting"
 * during the growing back-off (inspect and ps show it), on-failure's count, stop / kill / rm -f
 * cancelling a pending restart, rm without -f refused, dockerd's validation messages, and a
 * container caught in its back-off when the daemon goes down restarted when it comes back.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { run, removeContainersAndStop, startDaemonWithImages, type TestDaemon } from '../helpers/daemon.js';

let d: TestDaemon;

before(async () => {
  d = await startDaemonWithImages(['busybox']);
});

after(() => removeContainersAndStop(d));

async function ok(p: Promise<{ code: number; stdout: string; stderr: string }>): Promise<string> {
  const r = await p;
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

async function state(name: string): Promise<{ status: string; count: number }> {
  const [status, count] = (await ok(d.docker(['inspect', '-f', '{{.State.Status}} {{.RestartCount}}', name]))).split(' ');
  return { status, count: Number(count) };
}

async function until(what: string, check: () => Promise<boolean>, ms = 20000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`never: ${what}`);
}

test('on-failure:N restarts up to N times, "restarting" during the back-off, then stays exited', async () => {
  await ok(d.docker(['run', '-d', '--name', 'rp1', '--restart', 'on-failure:4', 'busybox', 'sh', '-c', 'exit 3']));
  // The back-off doubles (200 ms, 400 ms, 800 ms…): the later ones are long enough to be seen.
  await until('rp1 restarting', async () => (await state('rp1')).status === 'restarting');
  assert.match(await ok(d.docker(['ps', '--filter', 'name=rp1', '--format', '{{.Status}}'])), /^(Restarting \(3\) .* ago|Up .*)$/);
  await until('rp1 done', async () => { const s = await state('rp1'); return s.status === 'exited' && s.count === 4; });
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(await state('rp1'), { status: 'exited', count: 4 });
  assert.equal(await ok(d.docker(['inspect', '-f', '{{.State.ExitCode}}', 'rp1'])), '3');
});

test('stop and kill cancel a pending restart; rm without -f is refused while restarting', async () => {
  for (const [cli, verb] of [['docker', 'stop'], ['berth', 'kill']] as const) {
    const name = `rp-${verb}`;
    await ok(d[cli](['run', '-d', '--name', name, '--restart', 'always', 'busybox', 'sh', '-c', 'exit 1']));
    await until(`${name} restarting with a long back-off`, async () => { const s = await state(name); return s.status === 'restarting' && s.count >= 3; });
    const rm = await d[cli](['rm', name]);
    assert.notEqual(rm.code, 0);
    assert.match(rm.stderr, new RegExp(`cannot remove container "${name}": container is restarting: stop the container before removing or force remove`));
    await ok(d[cli]([verb, name]));
    const after = await state(name);
    assert.equal(after.status, 'exited');
    await new Promise((r) => setTimeout(r, 2500));
    assert.deepEqual(await state(name), after, `${verb} did not cancel the restart`);
  }
  await ok(d.docker(['run', '-d', '--name', 'rp-rmf', '--restart', 'always', 'busybox', 'sh', '-c', 'exit 1']));
  await until('rp-rmf restarting', async () => (await state('rp-rmf')).status === 'restarting');
  await ok(d.berth(['rm', '-f', 'rp-rmf']));
  assert.notEqual((await d.docker(['inspect', 'rp-rmf'])).code, 0);
});

test('restart policies are validated as dockerd', async () => {
  for (const [policy, msg] of [[{ Name: 'always', MaximumRetryCount: 3 }, "invalid restart policy: maximum retry count can only be used with 'on-failure'"],
    [{ Name: 'no', MaximumRetryCount: -1 }, "invalid restart policy: maximum retry count can only be used with 'on-failure' and cannot be negative"],
    [{ Name: 'on-failure', MaximumRetryCount: -1 }, 'invalid restart policy: maximum retry count cannot be negative'],
    [{ Name: 'sometimes', MaximumRetryCount: 0 }, "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"]] as const) {
    const r = await run('curl', ['-s', '-w', '\n%{http_code}', '-X', 'POST', '-H', 'Content-Type: application/json',
      '-d', JSON.stringify({ Image: 'busybox', HostConfig: { RestartPolicy: policy } }), '--unix-socket', d.socket, 'http://d/v1.45/containers/create']);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.at(-1), '400', r.stdout);
    assert.equal(JSON.parse(lines[0]).message, msg);
  }
  const bad = await d.berth(['run', '--restart', 'unless-stopped:2', 'busybox']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /invalid restart policy: maximum retry count can only be used with 'on-failure'/);
});

test('a container in its back-off when the daemon goes down is restarted when it comes back', async () => {
  await ok(d.docker(['run', '-d', '--name', 'rp-boot', '--restart', 'on-failure:20', 'busybox', 'sh', '-c', 'exit 2']));
  await until('rp-boot in a long back-off', async () => { const s = await state('rp-boot'); return s.status === 'restarting' && s.count >= 5; });
  const before = (await state('rp-boot')).count;
  await d.kill('SIGKILL');
  await d.restart();
  await until('rp-boot restarted after the daemon came back', async () => (await state('rp-boot')).count > before);
  await ok(d.docker(['rm', '-f', 'rp-boot']));
});
