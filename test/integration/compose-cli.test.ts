/**
 * `berth compose` (and `docker compose` through Berth's CLI plugin) against a real berthd with
 * busybox services: Compose v2 names and labels, reconciliation (a change in one service
 * recreates only that one, `up` again changes nothing), --scale, depends_on with
 * service_healthy and service_completed_successfully, orphans, logs with prefixes, exec, run,
 * stop/start/pause, and schema errors with their line.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/util/paths.js';
import { removeContainersAndStop, startDaemonWithImages, type RunResult, type TestDaemon } from '../helpers/daemon.js';

let d: TestDaemon;
let dir = '';

const BASE = `services:
  db:
    image: busybox
    command: sh -c "sleep 1; touch /tmp/ready; exec sleep 600"
    stop_grace_period: 1s
    healthcheck:
      test: ["CMD", "test", "-e", "/tmp/ready"]
      interval: 1s
      retries: 60
  init:
    image: busybox
    command: sh -c "echo init-done"
  web:
    image: busybox
    command: sh -c "echo web-started; exec sleep 600"
    stop_grace_period: 1s
    environment:
      GREETING: \${GREETING:-hello}
    depends_on:
      db: {condition: service_healthy}
      init: {condition: service_completed_successfully}
    labels: [tier=front]
`;

before(async () => {
  d = await startDaemonWithImages(['busybox']);
  dir = mkdtempSync('/tmp/bt-compose-cli-');
  writeFileSync(join(dir, 'compose.yaml'), BASE);
  mkdirSync(join(d.root, 'docker-config', 'cli-plugins'), { recursive: true });
  symlinkSync(join(projectRoot(), 'bin', 'docker-compose-plugin'), join(d.root, 'docker-config', 'cli-plugins', 'docker-compose'));
});

after(async () => {
  if (dir) {
    await compose(['down', '-v', '-t', '1', '--remove-orphans']).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  await removeContainersAndStop(d);
});

function compose(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return d.berth(['compose', '-p', 'cli', '-f', join(dir, 'compose.yaml'), ...args], { env, timeoutMs: 180_000 });
}

async function ids(): Promise<Record<string, string>> {
  const r = await d.docker(['ps', '-a', '--filter', 'label=com.docker.compose.project=cli', '--format', '{{.Names}} {{.ID}}']);
  return Object.fromEntries(r.stdout.trim().split('\n').filter(Boolean).map((l) => l.split(' ')));
}

test('up: dependency conditions, Compose names and labels; up again changes nothing', async () => {
  const up = await compose(['up', '-d']);
  assert.equal(up.code, 0, up.stderr);
  const lines = up.stderr.split('\n');
  const at = (s: string) => lines.findIndex((l) => l.trim() === s);
  assert.ok(at('Container cli-db-1  Healthy') > 0, up.stderr);
  assert.ok(at('Container cli-init-1  Exited') > 0, up.stderr);
  assert.ok(at('Container cli-web-1  Creating') > at('Container cli-db-1  Healthy'), up.stderr);
  assert.ok(at('Container cli-web-1  Creating') > at('Container cli-init-1  Exited'), up.stderr);
  assert.match(up.stderr, /Network cli_default {2}Created/);

  const labels = JSON.parse((await d.docker(['inspect', '--format', '{{json .Config.Labels}}', 'cli-web-1'])).stdout);
  assert.equal(labels['com.docker.compose.project'], 'cli');
  assert.equal(labels['com.docker.compose.service'], 'web');
  assert.equal(labels['com.docker.compose.container-number'], '1');
  assert.equal(labels['com.docker.compose.oneoff'], 'False');
  assert.equal(labels.tier, 'front');
  assert.match(labels['com.docker.compose.config-hash'], /^[0-9a-f]{64}$/);
  const aliases = (await d.docker(['inspect', '--format', '{{json .NetworkSettings.Networks.cli_default.Aliases}}', 'cli-web-1'])).stdout;
  assert.match(aliases, /"web"/);

  const before = await ids();
  const again = await compose(['up', '-d']);
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /Recreate|Creating/);
  assert.deepEqual(await ids(), before);
});

test('a change in one service recreates only that one; --force-recreate recreates all', async () => {
  const before = await ids();
  const up = await compose(['up', '-d'], { GREETING: 'changed' });
  assert.equal(up.code, 0, up.stderr);
  const now = await ids();
  assert.notEqual(now['cli-web-1'], before['cli-web-1']);
  assert.equal(now['cli-db-1'], before['cli-db-1']);
  assert.equal(now['cli-init-1'], before['cli-init-1']);
  const env = (await d.docker(['inspect', '--format', '{{json .Config.Env}}', 'cli-web-1'])).stdout;
  assert.match(env, /GREETING=changed/);

  const forced = await compose(['up', '-d', '--force-recreate', 'db'], { GREETING: 'changed' });
  assert.equal(forced.code, 0, forced.stderr);
  assert.notEqual((await ids())['cli-db-1'], now['cli-db-1']);
  assert.equal((await ids())['cli-web-1'], now['cli-web-1']);
});

test('--scale adds and removes numbered containers; ps lists them', async () => {
  const up = await compose(['up', '-d', '--scale', 'web=3'], { GREETING: 'changed' });
  assert.equal(up.code, 0, up.stderr);
  const ps = await compose(['ps', '--format', '{{.Name}}', 'web']);
  assert.deepEqual(ps.stdout.trim().split('\n'), ['cli-web-1', 'cli-web-2', 'cli-web-3']);
  const down = await compose(['up', '-d', '--scale', 'web=1'], { GREETING: 'changed' });
  assert.equal(down.code, 0, down.stderr);
  assert.deepEqual((await compose(['ps', '--format', '{{.Name}}', 'web'])).stdout.trim().split('\n'), ['cli-web-1']);
});

test('up without -d follows the logs until the containers exit', async () => {
  const up = await compose(['up', '--no-deps', 'init']);
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stdout, /^cli-init-1 {2}\| init-done$/m);
  assert.match(up.stdout, /^cli-init-1 exited with code 0$/m);
});

test('logs are prefixed per container; exec and run reach the service', async () => {
  const logs = await compose(['logs', 'web', 'init']);
  assert.match(logs.stdout, /^cli-init-1 {2}\| init-done$/m);
  assert.match(logs.stdout, /^cli-web-1 {3}\| web-started$/m);
  const exec = await compose(['exec', '-T', 'web', 'sh', '-c', 'echo $GREETING']);
  assert.equal(exec.code, 0, exec.stderr);
  assert.equal(exec.stdout, 'changed\n');
  const code = await compose(['exec', '-T', 'web', 'sh', '-c', 'exit 3']);
  assert.equal(code.code, 3);
  const runR = await compose(['run', '--rm', '--no-deps', '-T', 'web', 'echo', 'one-off']);
  assert.equal(runR.code, 0, runR.stderr);
  assert.equal(runR.stdout, 'one-off\n');
  assert.equal((await d.docker(['ps', '-aq', '--filter', 'label=com.docker.compose.oneoff=True'])).stdout, '');
});

test('stop, start, pause, unpause, restart act on the project containers', async () => {
  assert.equal((await compose(['stop', 'web'])).code, 0);
  assert.equal((await d.docker(['inspect', '--format', '{{.State.Status}}', 'cli-web-1'])).stdout.trim(), 'exited');
  assert.equal((await compose(['start', 'web'])).code, 0);
  assert.equal((await d.docker(['inspect', '--format', '{{.State.Status}}', 'cli-web-1'])).stdout.trim(), 'running');
  assert.equal((await compose(['pause', 'web'])).code, 0);
  assert.equal((await d.docker(['inspect', '--format', '{{.State.Status}}', 'cli-web-1'])).stdout.trim(), 'paused');
  assert.equal((await compose(['unpause', 'web'])).code, 0);
  const top = await compose(['top', 'web']);
  assert.match(top.stdout, /^cli-web-1\n/m);
  assert.match(top.stdout, /sleep 600/);
  const ls = await d.berth(['compose', 'ls']);
  assert.match(ls.stdout, /^cli +exited\(1\), running\(2\) /m);
});

test('orphans: warned about, removed with --remove-orphans', async () => {
  writeFileSync(join(dir, 'compose.yaml'), BASE.replace(/ {2}init:\n(?: {4}.*\n)+/, '').replace(/ {6}init: \{condition: service_completed_successfully\}\n/, ''));
  const up = await compose(['up', '-d'], { GREETING: 'changed' });
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stderr, /Found orphan containers \(cli-init-1\)/);
  const rm = await compose(['up', '-d', '--remove-orphans'], { GREETING: 'changed' });
  assert.equal(rm.code, 0, rm.stderr);
  assert.equal((await ids())['cli-init-1'], undefined);
  writeFileSync(join(dir, 'compose.yaml'), BASE);
});

test('invalid files: the schema error names the file, line and key (berth compose and docker compose)', async () => {
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'services:\n  web:\n    image: busybox\n    ports:\n      - 80\n    restrat: always\n');
  const r = await d.berth(['compose', '-f', bad, 'config']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `validating ${bad}: line 6: services.web additional properties 'restrat' not allowed\n`);
  const viaDocker = await d.docker(['compose', '-f', bad, 'up', '-d']);
  assert.equal(viaDocker.code, 1);
  assert.match(viaDocker.stderr, /line 6: services\.web additional properties 'restrat' not allowed/);
  writeFileSync(bad, 'services:\n  web:\n    image: ${MISSING:?set MISSING}\n');
  const missing = await d.berth(['compose', '-f', bad, 'config']);
  assert.match(missing.stderr, /required variable MISSING is missing a value: set MISSING/);
  assert.ok(readFileSync(bad, 'utf8').length > 0);
});

test('down removes containers and the network; config prints the resolved model', async () => {
  const cfg = await compose(['config'], { GREETING: 'x' });
  assert.equal(cfg.code, 0, cfg.stderr);
  assert.match(cfg.stdout, /^name: cli\n/);
  assert.match(cfg.stdout, /GREETING: x/);
  const down = await compose(['down', '-t', '1']);
  assert.equal(down.code, 0, down.stderr);
  assert.deepEqual(await ids(), {});
  assert.doesNotMatch((await d.docker(['network', 'ls'])).stdout, /cli_default/);
});
