/**
 * `berth compose` (and `docker compose` through Berth's CLI plugin) against a real berthd with
 * busybox services: Compose v2 names and labels, reconciliation (a change in one service
 * recreates only that one, `up` again changes nothing), --scale, depends_on with
 * service_healthy and service_completed_successfully, orphans, logs with prefixes, exec, run,
 * stop/start/pause, and schema errors with their line; the global --progress, --ansi, --parallel
 * and --compatibility flags, ps/ls --filter, restart --no-deps and kill --remove-orphans.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { projectRoot } from '../../src/util/paths.js';
import { DOCKER_CLI, removeContainersAndStop, run, startDaemonWithImages, type RunResult, type TestDaemon } from '../helpers/daemon.js';

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

test('global --progress, --ansi and --help; ps and ls --filter (berth compose and docker compose)', async () => {
  const quiet = await compose(['--progress', 'quiet', 'stop', '-t', '0', 'web']);
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.equal(quiet.stderr, '');
  const json = await compose(['--progress', 'json', 'start', 'web']);
  assert.equal(json.code, 0, json.stderr);
  const events = json.stderr.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(events, [{ id: 'Container cli-web-1', text: 'Starting' }, { id: 'Container cli-web-1', text: 'Started' }]);
  const badProgress = await compose(['--progress', 'fancy', 'ps']);
  assert.equal(badProgress.code, 1);
  assert.match(badProgress.stderr, /unsupported --progress value "fancy"/);
  assert.match((await compose(['--ansi', 'never', '--progress', 'tty', 'ps'])).stderr, /can't use --progress tty while ANSI support is disabled/);

  // --ansi always colours the log prefixes even into a pipe; never (and the default here) does not.
  const coloured = await compose(['--ansi', 'always', 'logs', 'init']);
  assert.match(coloured.stdout, /^\x1b\[\d+mcli-init-1 {2}\| \x1b\[0minit-done$/m);
  assert.match((await d.docker(['compose', '-p', 'cli', '-f', join(dir, 'compose.yaml'), '--ansi', 'always', 'logs', 'init'])).stdout, /\x1b\[\d+mcli-init-1/);
  assert.doesNotMatch((await compose(['--ansi', 'never', 'logs', 'init'])).stdout, /\x1b/);
  assert.match((await compose(['--ansi', 'sometimes', 'ps'])).stderr, /unsupported --ansi value "sometimes"/);

  const help = await d.berth(['compose', '--help']);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /--progress/);
  assert.match(help.stdout, /^Commands:\n(?:.*\n)*? {2}up {8}/m);

  // ps --filter status=STATE shows stopped containers without -a, as --status does.
  const exited = await compose(['ps', '--filter', 'status=exited', '--format', '{{.Name}}']);
  assert.equal(exited.code, 0, exited.stderr);
  assert.equal(exited.stdout, 'cli-init-1\n');
  assert.equal((await compose(['ps', '--status', 'exited', '--format', '{{.Name}}'])).stdout, 'cli-init-1\n');
  const source = await compose(['ps', '--filter', 'source=image']);
  assert.equal(source.code, 1);
  assert.match(source.stderr, /--filter source is not implemented/);
  assert.match((await d.docker(['compose', '-p', 'cli', '-f', join(dir, 'compose.yaml'), 'ps', '--filter', 'label=x'])).stderr, /unknown filter label/);

  assert.equal((await d.berth(['compose', 'ls', '-q', '--filter', 'name=^cl'])).stdout, 'cli\n');
  assert.equal((await d.berth(['compose', 'ls', '-q', '--filter', 'name=nothing-like-it'])).stdout, '');
  const badLs = await d.berth(['compose', 'ls', '--filter', 'status=running']);
  assert.equal(badLs.code, 1);
  assert.match(badLs.stderr, /invalid filter 'status'/);
});

test('--compatibility names, --parallel, restart and its --no-deps, kill --remove-orphans', async () => {
  const cdir = join(dir, 'compat');
  mkdirSync(cdir);
  const file = join(cdir, 'compose.yaml');
  const one = '  one:\n    image: busybox\n    command: sleep 600\n    scale: 2\n';
  writeFileSync(file, `services:\n${one}  two:\n    image: busybox\n    command: sleep 600\n    depends_on:\n      one: {condition: service_started, restart: true}\n`);
  const compat = (args: string[]) => d.berth(['compose', '--compatibility', '-p', 'clicompat', '-f', file, ...args], { timeoutMs: 180_000 });
  const up = await compat(['up', '-d']);
  assert.equal(up.code, 0, up.stderr);
  const names = (await d.docker(['ps', '--filter', 'label=com.docker.compose.project=clicompat', '--format', '{{.Names}}'])).stdout.trim().split('\n').sort();
  assert.deepEqual(names, ['clicompat_one_1', 'clicompat_one_2', 'clicompat_two_1']);

  // restart one: two depends on it with restart: true, so it restarts too; --parallel 1 does one container at a time.
  const restart = await compat(['--parallel', '1', 'restart', '-t', '0', 'one']);
  assert.equal(restart.code, 0, restart.stderr);
  const lines = restart.stderr.trim().split('\n').map((l) => l.trim());
  assert.deepEqual(lines.filter((l) => l.includes('_one_')), [
    'Container clicompat_one_1  Restarting', 'Container clicompat_one_1  Started', 'Container clicompat_one_2  Restarting', 'Container clicompat_one_2  Started',
  ]);
  assert.ok(lines.includes('Container clicompat_two_1  Restarting'), restart.stderr);
  const noDeps = await compat(['restart', '--no-deps', '-t', '0', 'one']);
  assert.equal(noDeps.code, 0, noDeps.stderr);
  assert.match(noDeps.stderr, /clicompat_one_1 {2}Restarting/);
  assert.doesNotMatch(noDeps.stderr, /clicompat_two_1/);

  // two is an orphan once the file drops it: kill leaves it, kill --remove-orphans kills it too.
  writeFileSync(file, `services:\n${one}`);
  assert.equal((await compat(['kill'])).code, 0);
  assert.equal((await d.docker(['inspect', '--format', '{{.State.Status}}', 'clicompat_two_1'])).stdout.trim(), 'running');
  const killed = await compat(['kill', '--remove-orphans']);
  assert.equal(killed.code, 0, killed.stderr);
  assert.match(killed.stderr, /Container clicompat_two_1 {2}Killed/);
  assert.equal((await d.docker(['inspect', '--format', '{{.State.Status}}', 'clicompat_two_1'])).stdout.trim(), 'exited');
  assert.equal((await compat(['down', '-t', '0', '--remove-orphans'])).code, 0);
});

const BUILT = `services:
  app:
    build:
      context: .
      args: {GREETING: from-compose}
    ports: ["127.0.0.1::8080"]
    stop_grace_period: 1s
`;

test('build: (busybox Dockerfile): compose build, docker compose up --build rebuilds, port, down --rmi local', async () => {
  const bdir = join(dir, 'built');
  mkdirSync(bdir);
  writeFileSync(join(bdir, 'compose.yaml'), BUILT);
  writeFileSync(join(bdir, 'Dockerfile'), 'FROM busybox\nARG GREETING=default\nENV GREETING=$GREETING\nCOPY hello.txt /hello.txt\nCMD ["sh", "-c", "cat /hello.txt; echo $GREETING; exec sleep 600"]\n');
  writeFileSync(join(bdir, 'hello.txt'), 'first context\n');
  const built = (args: string[]) => d.berth(['compose', '-p', 'clibuild', '-f', join(bdir, 'compose.yaml'), ...args], { timeoutMs: 180_000 });
  const viaDocker = (args: string[]) => d.docker(['compose', '-p', 'clibuild', '-f', join(bdir, 'compose.yaml'), ...args], { timeoutMs: 180_000 });

  const b = await built(['build']);
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stderr, /Service app {2}Built/);
  const env = (await d.docker(['image', 'inspect', '--format', '{{json .Config.Env}}', 'clibuild-app'])).stdout;
  assert.match(env, /"GREETING=from-compose"/);

  writeFileSync(join(bdir, 'hello.txt'), 'second context\n');
  const up = await viaDocker(['up', '-d', '--build']);
  assert.equal(up.code, 0, up.stderr);
  let logs = '';
  for (let i = 0; i < 200 && !/from-compose/.test(logs); i++) {
    logs = (await built(['logs', '--no-log-prefix', 'app'])).stdout;
    if (!/from-compose/.test(logs)) await sleep(100);
  }
  assert.equal(logs, 'second context\nfrom-compose\n');

  // port: the published address of a container port, as `docker port` has it.
  const published = (await d.docker(['port', 'clibuild-app-1', '8080/tcp'])).stdout.trim();
  assert.match(published, /^127\.0\.0\.1:\d+$/);
  const port = await built(['port', 'app', '8080']);
  assert.equal(port.code, 0, port.stderr);
  assert.equal(port.stdout, `${published}\n`);
  assert.equal((await viaDocker(['port', 'app', '8080'])).stdout, `${published}\n`);
  const none = await built(['port', 'app', '9999']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no port 9999\/tcp for container clibuild-app-1/);

  const down = await built(['down', '--rmi', 'local', '-t', '1']);
  assert.equal(down.code, 0, down.stderr);
  assert.notEqual((await d.docker(['image', 'inspect', 'clibuild-app'])).code, 0);
});

test('create makes the containers without starting them; scale changes the replicas (berth and docker compose)', async () => {
  const bdir = join(dir, 'created');
  mkdirSync(bdir);
  writeFileSync(join(bdir, 'compose.yaml'), 'services:\n  one:\n    image: busybox\n    command: sleep 600\n    stop_grace_period: 1s\n');
  const created = (args: string[]) => d.berth(['compose', '-p', 'clicreate', '-f', join(bdir, 'compose.yaml'), ...args], { timeoutMs: 180_000 });
  const c = await created(['create']);
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stderr, /Container clicreate-one-1 {2}Created/);
  assert.equal((await d.docker(['inspect', '--format', '{{.State.Status}}', 'clicreate-one-1'])).stdout.trim(), 'created');
  assert.equal((await created(['down', '-t', '1'])).code, 0);

  const scaled = await compose(['scale', 'web=2'], { GREETING: 'changed' });
  assert.equal(scaled.code, 0, scaled.stderr);
  assert.deepEqual((await compose(['ps', '--format', '{{.Name}} {{.State}}', 'web'])).stdout.trim().split('\n'), ['cli-web-1 running', 'cli-web-2 running']);
  // cp to a service reaches every replica.
  writeFileSync(join(dir, 'both.txt'), 'to every replica\n');
  const toAll = await compose(['cp', join(dir, 'both.txt'), 'web:/tmp/both.txt']);
  assert.equal(toAll.code, 0, toAll.stderr);
  assert.match(toAll.stderr, /Container cli-web-2 {2}Copied /);
  for (const i of ['1', '2']) assert.equal((await compose(['exec', '-T', '--index', i, 'web', 'cat', '/tmp/both.txt'])).stdout, 'to every replica\n');
  const back = await run(DOCKER_CLI, ['compose', '-p', 'cli', '-f', join(dir, 'compose.yaml'), 'scale', 'web=1'], {
    env: { ...process.env, DOCKER_HOST: d.host, DOCKER_CONFIG: join(d.root, 'docker-config'), GREETING: 'changed' }, timeoutMs: 180_000,
  });
  assert.equal(back.code, 0, back.stderr);
  assert.deepEqual((await compose(['ps', '--format', '{{.Name}}', 'web'])).stdout.trim().split('\n'), ['cli-web-1']);
  const bad = await compose(['scale', 'web=x']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /invalid scale specifier: can't parse replica value as int: web=x/);
});

test('cp, stats, events, attach and wait reach the service containers', async () => {
  const local = join(dir, 'to-copy.txt');
  writeFileSync(local, 'copied in\n');
  const cpIn = await compose(['cp', local, 'web:/tmp/copied.txt']);
  assert.equal(cpIn.code, 0, cpIn.stderr);
  assert.equal((await compose(['exec', '-T', 'web', 'cat', '/tmp/copied.txt'])).stdout, 'copied in\n');
  const back = join(dir, 'copied-back.txt');
  const cpOut = await d.docker(['compose', '-p', 'cli', '-f', join(dir, 'compose.yaml'), 'cp', 'web:/tmp/copied.txt', back]);
  assert.equal(cpOut.code, 0, cpOut.stderr);
  assert.equal(readFileSync(back, 'utf8'), 'copied in\n');
  const across = await compose(['cp', 'web:/tmp/copied.txt', 'db:/tmp/copied.txt']);
  assert.equal(across.code, 1);
  assert.match(across.stderr, /copying between services is not supported/);

  const stats = await compose(['stats', '--no-stream', '--format', '{{.Name}}']);
  assert.equal(stats.code, 0, stats.stderr);
  assert.deepEqual(stats.stdout.trim().split('\n').sort(), ['cli-db-1', 'cli-web-1']);
  const webStats = await d.docker(['compose', '-p', 'cli', '-f', join(dir, 'compose.yaml'), 'stats', '--no-stream', '--format', '{{.Name}}', 'web']);
  assert.equal(webStats.stdout, 'cli-web-1\n');

  // attach follows web's output; wait returns its exit code when it stops.
  const since = String(Math.floor(Date.now() / 1000) - 1);
  const attached = compose(['attach', '--no-stdin', '--sig-proxy=false', 'web']);
  for (let i = 0; ; i++) {
    const ev = await d.docker(['events', '--since', since, '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'event=attach', '--filter', 'container=cli-web-1', '--format', '{{.Action}}']);
    if (ev.stdout.includes('attach')) break;
    assert.ok(i < 600, 'compose attach never attached');
    await sleep(100);
  }
  const waited = d.docker(['compose', '-p', 'cli', '-f', join(dir, 'compose.yaml'), 'wait', 'web'], { timeoutMs: 180_000 });
  assert.equal((await compose(['exec', '-T', 'web', 'sh', '-c', 'echo to-the-attached > /proc/1/fd/1'])).code, 0);
  await sleep(200);
  assert.equal((await compose(['kill', '-s', 'SIGKILL', 'web'])).code, 0);
  const w = await waited;
  assert.equal(w.code, 137, w.stderr);
  const webId = (await d.docker(['inspect', '--format', '{{.Id}}', 'cli-web-1'])).stdout.trim();
  assert.equal(w.stdout, `container "${webId}" exited with status code 137\n`);
  const a = await attached;
  assert.match(a.stdout, /to-the-attached/);

  const ev = await compose(['events', '--json', '--since', since, '--until', String(Math.floor(Date.now() / 1000) + 1)]);
  assert.equal(ev.code, 0, ev.stderr);
  const list = ev.stdout.trim().split('\n').map((l) => JSON.parse(l) as { action: string; service: string; type: string; attributes: Record<string, string>; id: string; time: string });
  const kill = list.find((e) => e.action === 'kill');
  assert.ok(kill, ev.stdout);
  assert.equal(kill.service, 'web');
  assert.equal(kill.type, 'container');
  assert.equal(kill.id, (await d.docker(['inspect', '--format', '{{.Id}}', 'cli-web-1'])).stdout.trim());
  assert.match(kill.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  assert.equal(kill.attributes.name, 'cli-web-1');
  assert.equal(kill.attributes['com.docker.compose.project'], undefined);
  const plain = await compose(['events', '--since', since, '--until', String(Math.floor(Date.now() / 1000) + 1), 'db']);
  assert.doesNotMatch(plain.stdout, /cli-web-1/);
  const text = await compose(['events', '--since', since, '--until', String(Math.floor(Date.now() / 1000) + 1), 'web']);
  assert.match(text.stdout, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} container kill [0-9a-f]{64} \(.*name=cli-web-1.*\)$/m);

  assert.equal((await compose(['start', 'web'])).code, 0);
  const watch = await compose(['watch']);
  assert.equal(watch.code, 1);
  assert.match(watch.stderr, /watch is not supported by Berth/);
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
