/**
 * Log drivers on a real berthd through both CLIs: json-file (the default) and local keep logs,
 * `none` keeps nothing (attach still streams; `logs` is dockerd's 501), other drivers and
 * options Berth does not apply are refused at create with a 400 naming them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { removeContainersAndStop, startDaemonWithImages, type TestDaemon } from '../helpers/daemon.js';

let d: TestDaemon;

before(async () => {
  d = await startDaemonWithImages(['busybox']);
});

after(() => removeContainersAndStop(d));

test('json-file (default) and local keep logs; inspect shows the driver in effect', async () => {
  for (const [cli, driver] of [['docker', ''], ['berth', 'local'], ['docker', 'json-file']] as const) {
    const args = ['run', '-d', ...(driver ? ['--log-driver', driver] : []), 'busybox', 'echo', `kept by ${driver || 'default'}`];
    const id = (await d[cli](args)).stdout.trim();
    await d.docker(['wait', id]);
    assert.equal((await d[cli](['logs', id])).stdout, `kept by ${driver || 'default'}\n`);
    assert.equal((await d.docker(['inspect', '-f', '{{.HostConfig.LogConfig.Type}}', id])).stdout.trim(), driver || 'json-file');
  }
});

test('--log-driver none: no log file, attach still streams, logs is dockerd\'s error', async () => {
  for (const cli of ['docker', 'berth'] as const) {
    const r = await d[cli](['run', '--name', `nolog-${cli}`, '--log-driver', 'none', 'busybox', 'echo', 'streamed']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'streamed\n');
    const dir = (await d.docker(['inspect', '-f', '{{.LogPath}}', `nolog-${cli}`])).stdout.trim();
    assert.ok(!existsSync(dir), `${dir} exists`);
    const logs = await d[cli](['logs', `nolog-${cli}`]);
    assert.notEqual(logs.code, 0);
    assert.match(logs.stderr, /configured logging driver does not support reading/);
  }
});

test('other drivers and unapplied options are refused with a 400 naming them', async () => {
  for (const cli of ['docker', 'berth'] as const) {
    const syslog = await d[cli](['create', '--log-driver', 'syslog', 'busybox']);
    assert.notEqual(syslog.code, 0);
    assert.match(syslog.stderr, /logger: no log driver named 'syslog' is registered/);
    const opt = await d[cli](['create', '--log-opt', 'max-bytes=5', 'busybox']);
    assert.notEqual(opt.code, 0);
    assert.match(opt.stderr, /unknown log opt 'max-bytes' for json-file log driver/);
    const tag = await d[cli](['create', '--log-opt', 'tag={{.Name}}', 'busybox']);
    assert.notEqual(tag.code, 0);
    assert.match(tag.stderr, /log opt 'tag' is not supported by Berth/);
    const none = await d[cli](['create', '--log-driver', 'none', '--log-opt', 'max-size=1m', 'busybox']);
    assert.notEqual(none.code, 0);
    // The docker CLI refuses this one itself.
    assert.match(none.stderr, cli === 'docker' ? /invalid logging opts for driver none/ : /unknown log opt 'max-size' for none log driver/);
  }
});
