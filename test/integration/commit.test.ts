/**
 * docker commit against a real berthd: a container's changes (a new file, a deleted image file,
 * a deleted directory) become an image layer; --change instructions; a running container (paused meanwhile); the
 * real docker CLI; history shows the new entry.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemonWithMirror, type TestDaemon } from '../helpers/daemon.js';

let d: TestDaemon;

before(async () => {
  d = await startDaemonWithMirror({ images: ['busybox'] });
  const r = await d.berth(['pull', 'busybox']);
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  await d?.stop();
});

async function ok(args: string[], via: 'berth' | 'docker' = 'berth'): Promise<string> {
  const r = await d[via](args, { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `${via} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

test('commit: new file kept, deleted image files stay deleted, a recreated directory is opaque, CMD kept', async () => {
  await ok(['run', '--name', 'c1', 'busybox', 'sh', '-c', 'mkdir -p /data/sub && echo hello > /data/sub/hello.txt && rm /bin/ls /etc/passwd && rm -r /sbin && mkdir /sbin && echo x > /sbin/only']);
  const id = (await ok(['commit', '-m', 'my change', '-a', 'Tester', 'c1', 'mine/box:v1'])).trim();
  assert.match(id, /^sha256:[0-9a-f]{64}$/);

  assert.equal(await ok(['run', '--rm', 'mine/box:v1', 'cat', '/data/sub/hello.txt']), 'hello\n');
  const ls = await d.berth(['run', '--rm', 'mine/box:v1', 'sh', '-c', 'test -e /bin/ls && echo present || echo gone; test -e /etc/passwd && echo passwd || echo nopasswd; echo /sbin/*']);
  assert.equal(ls.stdout, 'gone\nnopasswd\n/sbin/only\n', ls.stderr);
  // The parent image is untouched.
  assert.equal(await ok(['run', '--rm', 'busybox', 'sh', '-c', 'test -e /bin/ls && test -e /etc/passwd && test -e /sbin/init && echo intact']), 'intact\n');

  // The config: parent's Cmd unless changed, history entry with the comment and the container's Cmd.
  const inspect = JSON.parse(await ok(['image', 'inspect', 'mine/box:v1']))[0];
  assert.equal(inspect.Id, id);
  assert.deepEqual(inspect.Config.Cmd, ['sh', '-c', 'mkdir -p /data/sub && echo hello > /data/sub/hello.txt && rm /bin/ls /etc/passwd && rm -r /sbin && mkdir /sbin && echo x > /sbin/only']);
  assert.equal(inspect.Author, 'Tester');
  assert.equal(inspect.Comment, 'my change');
  assert.equal(inspect.RootFS.Layers.length, 2);
  const hist = await ok(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Comment}}', 'mine/box:v1']);
  assert.equal(hist.split('\n')[0], 'sh -c mkdir -p /data/sub && echo hello > /data/sub/hello.txt && rm /bin/ls /etc/passwd && rm -r /sbin && mkdir /sbin && echo x > /sbin/only|my change');

  const table = await ok(['history', 'mine/box:v1']);
  const lines = table.trimEnd().split('\n');
  assert.match(lines[0], /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
  assert.match(lines[1], new RegExp(`^${id.slice(7, 19)}\\s+\\S.*? ago\\s+sh -c mkdir -p /data/sub && echo hello > /da…\\s+\\d+B\\s+my change$`));
  // The parent's entries: its own ID on its top one, <missing> below, as Docker shows them.
  const parentId = (await ok(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).trim().slice(7, 19);
  assert.match(lines[2], new RegExp(`^${parentId}\\s+.*CMD \\["sh"\\]`));
  assert.match(lines[3], /^<missing>\s+/);
  assert.equal(lines.length, 4);
  const quiet = await ok(['history', '-q', 'mine/box:v1']);
  assert.equal(quiet.split('\n')[0], id.slice(7, 19));
});

test('commit --change: CMD, ENV, WORKDIR, LABEL, EXPOSE, USER; a bad instruction is refused', async () => {
  await ok(['create', '--name', 'c2', 'busybox']);
  await ok(['commit', '--change', 'CMD ["echo","hi"]', '-c', 'ENV A=1 B="two words"', '-c', 'WORKDIR /tmp',
    '-c', 'LABEL org.x=y', '-c', 'EXPOSE 8080', '-c', 'USER 0', 'c2', 'mine/changed']);
  assert.equal(await ok(['run', '--rm', 'mine/changed']), 'hi\n');
  assert.equal(await ok(['run', '--rm', 'mine/changed', 'sh', '-c', 'echo $A $B; pwd']), '1 two words\n/tmp\n');
  const cfg = JSON.parse(await ok(['image', 'inspect', '-f', '{{json .Config}}', 'mine/changed']));
  assert.deepEqual(cfg.Labels, { 'org.x': 'y' });
  assert.deepEqual(cfg.ExposedPorts, { '8080/tcp': {} });
  assert.equal(cfg.User, '0');
  // Nothing changed in the container: no new layer, an empty_layer history entry.
  const layers = JSON.parse(await ok(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', 'mine/changed']));
  assert.equal(layers.length, 1);

  const bad = await d.berth(['commit', '-c', 'RUN echo no', 'c2', 'mine/bad']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Error response from daemon: run is not a valid change command/);
  const none = await d.berth(['commit', 'nosuch', 'x']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /No such container: nosuch/);
});

test('commit of a running container with the docker CLI; dangling commit without a name', async () => {
  // Its full ID for the events filter: as dockerd, `container=` also matches ID prefixes, and
  // `c3` is a prefix of about one container ID in 256.
  const c3 = (await ok(['run', '-d', '--name', 'c3', 'busybox', 'sh', '-c', 'echo running > /state; sleep 60'])).trim();
  for (let i = 0; i < 50; i++) {
    const r = await d.berth(['exec', 'c3', 'cat', '/state']);
    if (r.stdout === 'running\n') break;
    await new Promise((res) => setTimeout(res, 100));
  }
  const since = String(Math.floor(Date.now() / 1000) - 1);
  const id = (await ok(['commit', 'c3', 'mine/live:1'], 'docker')).trim();
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  // Paused while its files were read, running again after; the events say so.
  assert.equal((await ok(['inspect', '-f', '{{.State.Status}}', 'c3'])).trim(), 'running');
  const ev = await ok(['events', '--since', since, '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', `container=${c3}`, '--format', '{{.Action}}'], 'docker');
  assert.deepEqual(ev.trim().split('\n').filter((a) => ['pause', 'unpause', 'commit'].includes(a)), ['pause', 'unpause', 'commit']);
  assert.equal(await ok(['run', '--rm', 'mine/live:1', 'cat', '/state'], 'docker'), 'running\n');
  const dangling = (await ok(['commit', 'c3'])).trim();
  const images = await ok(['images', '--no-trunc', '--format', '{{.ID}} {{.Repository}}']);
  assert.ok(images.includes(`${dangling} <none>`), images);
  await ok(['rm', '-f', 'c3']);
});
