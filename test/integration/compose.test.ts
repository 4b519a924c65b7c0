/**
 * docker-compose (Debian's v1, through docker-py at API 1.41) against a real berthd: a project
 * with two services on the project's network, one resolving the other by service name, a
 * published port and a named volume; `up`, `ps`, `logs`, `down -v`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, startDaemonWithMirror, type TestDaemon } from '../helpers/daemon.js';

let d: TestDaemon;
let dir = '';

const COMPOSE = `version: "3"
services:
  db:
    image: busybox
    command: sh -c "mkdir -p /www && echo hello-from-db > /www/index.html && httpd -f -p 8080 -h /www"
  web:
    image: busybox
    command: sh -c "until wget -qO- http://db:8080/; do sleep 0.2; done; echo; echo saved > /data/mark; sleep 300"
    depends_on: [db]
    ports: ["0:80"]
    volumes: ["data:/data"]
volumes:
  data:
`;

before(async () => {
  d = await startDaemonWithMirror();
  dir = mkdtempSync('/tmp/bt-compose-');
  writeFileSync(join(dir, 'docker-compose.yml'), COMPOSE);
});

after(async () => {
  if (dir) {
    await compose(['down', '-v', '-t', '1']).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  await d?.stop();
});

function compose(args: string[]) {
  return run('docker-compose', ['-p', 'proj', '-f', join(dir, 'docker-compose.yml'), ...args], {
    env: { ...process.env, DOCKER_HOST: d.host }, timeoutMs: 90_000,
  });
}

test('compose up: services find each other by name; ps lists each once; down -v removes it all', async () => {
  const up = await compose(['up', '-d']);
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stderr, /Creating network "proj_default"/);
  let logs = '';
  for (let i = 0; i < 50 && !logs.includes('hello-from-db'); i++) {
    logs = (await compose(['logs', '--no-color', 'web'])).stdout;
    if (!logs.includes('hello-from-db')) await new Promise((r) => setTimeout(r, 200));
  }
  assert.match(logs, /hello-from-db/);

  const ps = await compose(['ps']);
  assert.equal(ps.code, 0, ps.stderr);
  const rows = ps.stdout.split('\n').filter((l) => l.startsWith('proj_'));
  assert.deepEqual(rows.map((l) => l.split(/\s+/)[0]).sort(), ['proj_db_1', 'proj_web_1']);
  assert.match(ps.stdout, /0\.0\.0\.0:\d+->80\/tcp/);

  const mark = await d.docker(['run', '--rm', '-v', 'proj_data:/data', 'busybox', 'cat', '/data/mark']);
  assert.equal(mark.stdout, 'saved\n', mark.stderr);

  const down = await compose(['down', '-v', '-t', '1']);
  assert.equal(down.code, 0, down.stderr);
  assert.equal((await d.docker(['ps', '-aq', '--filter', 'label=com.docker.compose.project=proj'])).stdout, '');
  assert.doesNotMatch((await d.docker(['network', 'ls'])).stdout, /proj_default/);
  assert.doesNotMatch((await d.docker(['volume', 'ls'])).stdout, /proj_data/);
});
