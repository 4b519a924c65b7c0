/**
 * The example app (examples/webapp: python web + PostgreSQL + redis) end to end against a real
 * berthd, its images built offline: the cached Debian rootfs is imported as
 * berth-fixtures/debian-base and each service's Dockerfile builds FROM it. `docker compose build`
 * (Berth's CLI plugin) builds them; `berth compose up -d --wait --build` rebuilds, waits for the
 * healthchecks in dependency order, the app answers on 127.0.0.1 and writes rows; the plugin's
 * `down` then `up` keeps them (named volume), `down -v` drops them. Then the same project with
 * Debian's docker-compose 1.29 (v1).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { projectRoot } from '../../src/util/paths.js';
import { removeContainersAndStop, run, startDaemon, type RunResult, type TestDaemon } from '../helpers/daemon.js';
import { importDebianBase } from '../helpers/debian-images.js';
import { freePort } from '../helpers/registry.js';

let d: TestDaemon;
let dir = '';
let port = 0;

before(async () => {
  d = await startDaemon();
  await importDebianBase(d.host);
  dir = mkdtempSync('/tmp/bt-compose-app-');
  cpSync(join(projectRoot(), 'examples', 'webapp'), dir, { recursive: true });
  port = await freePort();
  // The published port for every client (berth compose, the plugin, docker-compose v1): the project's .env.
  writeFileSync(join(dir, '.env'), `WEB_PORT=${port}\n`);
  // `docker compose` = Berth's plugin, in this daemon's docker config folder.
  mkdirSync(join(d.root, 'docker-config', 'cli-plugins'), { recursive: true });
  symlinkSync(join(projectRoot(), 'bin', 'docker-compose-plugin'), join(d.root, 'docker-config', 'cli-plugins', 'docker-compose'));
});

after(async () => {
  if (dir) {
    await berthCompose(['down', '-v', '-t', '1']).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  await removeContainersAndStop(d);
});

const TIMEOUT = 10 * 60_000;

function berthCompose(args: string[], project = 'notes'): Promise<RunResult> {
  return d.berth(['compose', '-p', project, '-f', join(dir, 'compose.yaml'), ...args], { timeoutMs: TIMEOUT });
}

function pluginCompose(args: string[]): Promise<RunResult> {
  return d.docker(['compose', '-p', 'notes', '-f', join(dir, 'compose.yaml'), ...args], { timeoutMs: TIMEOUT });
}

async function imageConfig(ref: string): Promise<Record<string, unknown>> {
  const r = await d.docker(['image', 'inspect', '--format', '{{json .Config}}', ref]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

function v1Compose(args: string[]): Promise<RunResult> {
  return run('docker-compose', ['-p', 'notesv1', '-f', join(dir, 'compose.yaml'), ...args], {
    env: { ...process.env, DOCKER_HOST: d.host }, timeoutMs: TIMEOUT,
  });
}

function httpReq(method: string, path: string, body?: string): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers: body ? { 'Content-Length': Buffer.byteLength(body) } : {} }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        try { resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }); } catch { resolve({ status: res.statusCode ?? 0, json: text }); }
      });
    });
    req.on('error', reject);
    req.setTimeout(15_000, () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}

/** Poll until the app answers /health (docker-compose v1 has no --wait). */
async function appReady(): Promise<void> {
  for (let i = 0; ; i++) {
    const r = await httpReq('GET', '/health').catch(() => undefined);
    if (r?.status === 200) return;
    if (i > 600) throw new Error('the app never became healthy');
    await new Promise((res) => setTimeout(res, 250));
  }
}

async function notes(): Promise<string[]> {
  const r = await httpReq('GET', '/notes');
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return (r.json as Array<{ text: string }>).map((n) => n.text);
}

test('docker compose build (the CLI plugin) builds the service images from their Dockerfiles FROM the imported rootfs', async () => {
  const meta = await run(join(projectRoot(), 'bin', 'docker-compose-plugin'), ['docker-cli-plugin-metadata']);
  assert.equal(JSON.parse(meta.stdout).SchemaVersion, '0.1.0');
  const version = await d.docker(['compose', 'version']);
  assert.match(version.stdout, /Docker Compose version v2\.\d+\.\d+ \(Berth\)/, version.stderr);

  const build = await pluginCompose(['build']);
  assert.equal(build.code, 0, build.stderr);
  for (const s of ['db', 'cache', 'web']) assert.match(build.stderr, new RegExp(`Service ${s} {2}Built`), build.stderr);
  const web = await imageConfig('berth-example/webapp-web');
  assert.equal(web.User, 'nobody');
  assert.deepEqual(web.Cmd, ['python3', '/app/app.py']);
  assert.equal(web.WorkingDir, '/app');
  assert.match(JSON.stringify(web.Healthcheck), /urlopen/);
  const db = await imageConfig('berth-example/webapp-db');
  assert.deepEqual(db.Entrypoint, ['docker-entrypoint.sh']);
  assert.equal(db.StopSignal, 'SIGINT');
  assert.ok((db.Env as string[]).includes('PGDATA=/var/lib/postgresql/data'), JSON.stringify(db.Env));
  assert.deepEqual((await imageConfig('berth-example/webapp-cache')).Cmd?.toString().split(',').slice(0, 1), ['redis-server']);
  // Each image is the imported rootfs plus its own layers: the base's one layer comes first.
  const layers = async (ref: string) => JSON.parse((await d.docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', ref])).stdout) as string[];
  const base = await layers('berth-fixtures/debian-base');
  assert.equal(base.length, 1);
  for (const s of ['db', 'cache', 'web']) {
    const l = await layers(`berth-example/webapp-${s}`);
    assert.equal(l[0], base[0]);
    assert.ok(l.length > 1, `${s}: ${l.join(' ')}`);
  }
});

test('berth compose: up --build --wait (health in dependency order), rows survive down + up, down -v drops them', async () => {
  const up = await berthCompose(['up', '-d', '--wait', '--build']);
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stderr, /Service web {2}Built/);
  // db and cache were healthy (their images' HEALTHCHECK) before web was created; web healthy before up returned.
  const order = up.stderr.split('\n');
  const at = (s: string) => order.findIndex((l) => l.includes(s));
  assert.ok(at('notes-db-1  Healthy') >= 0 && at('notes-db-1  Healthy') < at('notes-web-1  Creating'), up.stderr);
  assert.ok(at('notes-cache-1  Healthy') < at('notes-web-1  Creating'), up.stderr);
  assert.ok(at('notes-web-1  Healthy') > at('notes-web-1  Started'), up.stderr);

  const created = await httpReq('POST', '/notes', 'first note');
  assert.equal(created.status, 201, JSON.stringify(created.json));
  assert.equal((await httpReq('POST', '/notes', 'second note')).status, 201);
  const home = await httpReq('GET', '/');
  assert.equal((home.json as { notes: number }).notes, 2);
  assert.equal((home.json as { visits: number }).visits, 1);

  const ps = await berthCompose(['ps', '--format', '{{.Service}} {{.Status}}']);
  assert.equal(ps.code, 0, ps.stderr);
  assert.deepEqual(ps.stdout.trim().split('\n').map((l) => l.split(' ')[0]).sort(), ['cache', 'db', 'web']);
  assert.match(ps.stdout, /web Up .*\(healthy\)/);

  const logs = await berthCompose(['logs', 'web']);
  assert.match(logs.stdout, /^notes-web-1 {2}\| listening on :8000$/m);
  const exec = await berthCompose(['exec', '-T', 'db', 'psql', '-U', 'app', '-d', 'app', '-tAc', 'SELECT count(*) FROM notes']);
  assert.equal(exec.stdout.trim(), '2', exec.stderr);
  assert.equal((await berthCompose(['exec', '-T', 'web', 'id', '-un'])).stdout.trim(), 'nobody');

  // The same project through the plugin: down keeps the volume, up (images already built) finds the rows.
  const down = await pluginCompose(['down']);
  assert.equal(down.code, 0, down.stderr);
  assert.equal((await d.docker(['ps', '-aq', '--filter', 'label=com.docker.compose.project=notes'])).stdout, '');
  assert.match((await d.docker(['volume', 'ls', '-q'])).stdout, /^notes_dbdata$/m);

  const again = await pluginCompose(['up', '-d', '--wait']);
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /Building/);
  assert.deepEqual(await notes(), ['first note', 'second note']);
  const ps2 = await pluginCompose(['ps', '--format', 'json']);
  assert.deepEqual(ps2.stdout.trim().split('\n').map((l) => JSON.parse(l).Name).sort(), ['notes-cache-1', 'notes-db-1', 'notes-web-1']);

  // down -v: the rows' volume is gone with the containers and the network (no third start: the
  // suite's time; docker-compose v1's test below checks the same).
  const gone = await berthCompose(['down', '-v']);
  assert.equal(gone.code, 0, gone.stderr);
  assert.match(gone.stderr, /Volume "notes_dbdata" {2}Removed/);
  assert.doesNotMatch((await d.docker(['volume', 'ls', '-q'])).stdout, /notes_dbdata/);
  assert.doesNotMatch((await d.docker(['network', 'ls'])).stdout, /notes_default/);
  assert.equal((await d.docker(['ps', '-aq', '--filter', 'label=com.docker.compose.project=notes'])).stdout, '');
});

test('docker-compose v1 (1.29) runs the same project unchanged: up, ps, logs, exec, down keeps rows, down -v drops them', async () => {
  const up = await v1Compose(['up', '-d']);
  assert.equal(up.code, 0, up.stderr);
  await appReady();
  assert.equal((await httpReq('POST', '/notes', 'from v1')).status, 201);
  const ps = await v1Compose(['ps']);
  assert.equal(ps.code, 0, ps.stderr);
  assert.match(ps.stdout, /notesv1_web_1 .*Up/);
  const exec = await v1Compose(['exec', '-T', 'cache', 'redis-cli', 'get', 'visits']);
  assert.equal(exec.code, 0, exec.stderr);
  const logs = await v1Compose(['logs', '--no-color', 'web']);
  assert.match(logs.stdout, /listening on :8000/);

  assert.equal((await v1Compose(['down'])).code, 0);
  assert.equal((await v1Compose(['up', '-d'])).code, 0);
  await appReady();
  assert.deepEqual(await notes(), ['from v1']);
  const down = await v1Compose(['down', '-v']);
  assert.equal(down.code, 0, down.stderr);
  assert.doesNotMatch((await d.docker(['volume', 'ls', '-q'])).stdout, /notesv1_dbdata/);
});
