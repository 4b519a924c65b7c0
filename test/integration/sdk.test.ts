/**
 * docker-py (Debian's python3-docker, API 1.41 by default) against a real berthd: the SDK path
 * users script with. Its `containers.run` reads output through /logs, maps 404s to NotFound and
 * non-zero exits to ContainerError.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { run, startDaemonWithMirror, type TestDaemon } from '../helpers/daemon.js';

const PYTHON = '/usr/bin/python3'; // Debian's, which sees python3-docker

let d: TestDaemon;

before(async () => {
  d = await startDaemonWithMirror();
});

after(async () => {
  await d?.stop();
});

function py(script: string) {
  return run(PYTHON, ['-c', `import docker, json\nc = docker.DockerClient(base_url=${JSON.stringify(d.host)})\n${script}`]);
}

test('docker-py: pull, run with output, errors as exceptions', async () => {
  const r = await py(`
img = c.images.pull('busybox', tag='latest')
print(json.dumps(img.tags))
print(c.containers.run('busybox', 'echo hi from python', remove=True).decode(), end='')
try:
    c.containers.run('busybox', 'sh -c "exit 4"', remove=True)
except docker.errors.ContainerError as e:
    print('exit', e.exit_status)
try:
    c.containers.get('nosuch')
except docker.errors.NotFound:
    print('not found')
try:
    c.images.get('nosuch:tag')
except docker.errors.ImageNotFound:
    print('image not found')
`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '["busybox:latest"]\nhi from python\nexit 4\nnot found\nimage not found\n');
});

test('docker-py: detached container, logs, kill, wait, remove', async () => {
  const r = await py(`
ct = c.containers.run('busybox', ['sh', '-c', 'echo ready; sleep 60'], detach=True, name='pyc')
import time
for _ in range(50):
    if ct.logs() == b'ready\\n': break
    time.sleep(0.1)
ct.reload()
print(ct.status, ct.name, ct.logs().decode(), end='')
ct.kill()
print(ct.wait()['StatusCode'])
ct.remove()
print(len(c.containers.list(all=True, filters={'name': 'pyc'})))
`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'running pyc ready\n137\n0\n');
});
