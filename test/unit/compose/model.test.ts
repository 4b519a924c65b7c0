/**
 * The compose model without a daemon: interpolation and .env, several -f files merged, extends,
 * include, anchors and merge keys, profiles, short syntaxes, and schema errors naming file, line
 * and key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interpolateString, parseEnvFile } from '../../../src/cli/commands/compose/interpolate.js';
import { loadProject, type LoadOptions } from '../../../src/cli/commands/compose/load.js';
import { parsePorts, parseMount, shellSplit } from '../../../src/cli/commands/compose/canonical.js';
import { configHash, createBody } from '../../../src/cli/commands/compose/spec.js';
import { renderConfig } from '../../../src/cli/commands/compose/commands.js';

function project(files: Record<string, string>, opts: Partial<LoadOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'bt-compose-unit-'));
  try {
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    return { dir, p: loadProject({ files: [], envFiles: [], profiles: [], env: {}, cwd: dir, ...opts, ...(opts.files ? { files: opts.files.map((f) => join(dir, f)) } : {}) }) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function loadError(files: Record<string, string>, opts: Partial<LoadOptions> = {}): string {
  try {
    project(files, opts);
  } catch (e) {
    return (e as Error).message;
  }
  assert.fail('the project loaded');
}

test('interpolation: defaults, alternatives, required, $$ and nesting', () => {
  const env = { A: 'a', EMPTY: '' };
  assert.equal(interpolateString('$A-${A}-${B:-def}-${EMPTY:-x}-${EMPTY-y}-${A:+alt}-${B+alt}', env, 'k'), 'a-a-def-x--alt-');
  assert.equal(interpolateString('$$A ${B:-${A}b}', env, 'k'), '$A ab');
  assert.throws(() => interpolateString('${B:?B is needed}', env, 'k'), /required variable B is missing a value: B is needed/);
  assert.throws(() => interpolateString('${A', env, 'services.x.image'), /invalid interpolation format for services.x.image/);
});

test('.env: comments, quotes, export, values from earlier lines', () => {
  assert.deepEqual(parseEnvFile('# c\nexport A=1\nB="two words"\nC=\'$A\'\nD=${A}x # note\n'), { A: '1', B: 'two words', C: '$A', D: '1x' });
});

test('project: .env feeds interpolation, the environment wins, project name from the folder or name:', () => {
  const { p } = project({
    'compose.yaml': 'services:\n  web:\n    image: "busybox:${TAG:-1}"\n    ports: ["${PORT}:80"]\n',
    '.env': 'TAG=from-dotenv\nPORT=8080\n',
  }, { env: { PORT: '9090' } });
  assert.equal(p.services.web.image, 'busybox:from-dotenv');
  assert.equal(p.services.web.ports![0].published, '9090');
  assert.match(p.name, /^bt-compose-unit-/);
  assert.equal(p.networks.default.name, `${p.name}_default`);
});

test('several -f files merge by the spec rules', () => {
  const { p } = project({
    'a.yaml': [
      'services:',
      '  web:',
      '    image: one',
      '    command: ["a", "b"]',
      '    environment: [X=1, Y=2]',
      '    ports: ["80"]',
      '    volumes: ["v:/data", "./src:/src"]',
      '    labels: {l1: a}',
      'volumes: {v: {}}',
    ].join('\n'),
    'b.yaml': [
      'services:',
      '  web:',
      '    image: two',
      '    command: c',
      '    environment: {Y: "3", Z: "4"}',
      '    ports: ["81"]',
      '    volumes: ["./other:/src:ro"]',
      '    labels: [l2=b]',
    ].join('\n'),
  }, { files: ['a.yaml', 'b.yaml'], projectName: 'merge' });
  const w = p.services.web;
  assert.equal(w.image, 'two');
  assert.deepEqual(w.command, ['c']);
  assert.deepEqual(w.environment, { X: '1', Y: '3', Z: '4' });
  assert.deepEqual(w.ports!.map((x) => x.target), [80, 81]);
  assert.deepEqual(w.volumes!.map((v) => [v.target, v.read_only ?? false, v.source!.endsWith('/other') || v.source === 'v']), [['/data', false, true], ['/src', true, true]]);
  assert.deepEqual(w.labels, { l1: 'a', l2: 'b' });
  assert.equal(p.volumes.v.name, 'merge_v');
});

test('anchors, merge keys, extends (same file and another file) and include', () => {
  const { p } = project({
    'compose.yaml': [
      'x-base: &base',
      '  restart: always',
      '  environment: {FROM_ANCHOR: "1"}',
      'include: [sub/extra.yaml]',
      'services:',
      '  web:',
      '    <<: *base',
      '    image: web',
      '  worker:',
      '    extends: web',
      '    command: work',
      '  tool:',
      '    extends: {file: common.yaml, service: tool}',
    ].join('\n'),
    'common.yaml': 'services:\n  tool:\n    image: tool\n    volumes: ["./data:/data"]\n',
    'sub/extra.yaml': 'services:\n  side:\n    image: side\n    env_file: side.env\n',
    'sub/side.env': 'S=1\n',
  }, { projectName: 'anchors' });
  assert.equal(p.services.web.restart, 'always');
  assert.deepEqual(p.services.web.environment, { FROM_ANCHOR: '1' });
  assert.equal(p.services.worker.image, 'web');
  assert.equal(p.services.worker.restart, 'always');
  assert.deepEqual(p.services.worker.command, ['work']);
  assert.equal(p.services.tool.image, 'tool');
  assert.match(p.services.tool.volumes![0].source!, /\/data$/);
  assert.match(p.services.side.env_file![0].path, /\/sub\/side\.env$/);
});

test('profiles: services with a profile only when it is active (or COMPOSE_PROFILES)', () => {
  const files = { 'compose.yaml': 'services:\n  app: {image: a}\n  debug: {image: d, profiles: [dev]}\n' };
  assert.deepEqual(Object.keys(project(files, { projectName: 'x' }).p.services), ['app']);
  assert.deepEqual(Object.keys(project(files, { projectName: 'x', profiles: ['dev'] }).p.services), ['app', 'debug']);
  assert.deepEqual(Object.keys(project(files, { projectName: 'x', env: { COMPOSE_PROFILES: 'dev' } }).p.services), ['app', 'debug']);
});

test('schema errors name the file, the line and the key', () => {
  const text = 'services:\n  web:\n    image: busybox\n    restart: always\n    bogus_key: 1\n';
  const msg = loadError({ 'compose.yaml': text }, { projectName: 'x' });
  assert.match(msg, /^validating \/.*\/compose\.yaml: line 5: services\.web additional properties 'bogus_key' not allowed$/);
  const ports = loadError({ 'compose.yaml': 'services:\n  web:\n    image: busybox\n    ports:\n      - {published: 80}\n' }, { projectName: 'x' });
  assert.match(ports, /line 5: services\.web\.ports\.0 missing property 'target'/);
  const type = loadError({ 'compose.yaml': 'services:\n  web:\n    image: [busybox]\n' }, { projectName: 'x' });
  assert.match(type, /line 3: services\.web\.image must be a string/);
  const yaml = loadError({ 'compose.yaml': 'services:\n  web:\n    image: busybox\n     bad: indent\n' }, { projectName: 'x' });
  assert.match(yaml, /^yaml: line \d+:/);
  assert.match(loadError({ 'compose.yaml': 'services:\n  web:\n    image: busybox\n    depends_on: [nope]\n' }, { projectName: 'x' }), /depends on undefined service "nope"/);
});

test('short syntaxes: ports with ranges and addresses, mounts, shell-split commands', () => {
  assert.deepEqual(parsePorts(['127.0.0.1:8000-8001:80-81/udp']).map((p) => [p.host_ip, p.published, p.target, p.protocol]), [['127.0.0.1', '8000', 80, 'udp'], ['127.0.0.1', '8001', 81, 'udp']]);
  assert.deepEqual(parsePorts([3000, '9000:90']).map((p) => [p.published, p.target]), [[undefined, 3000], ['9000', 90]]);
  assert.deepEqual(parseMount('/data', '/base'), { type: 'volume', target: '/data' });
  assert.deepEqual(parseMount('vol:/data:ro', '/base'), { type: 'volume', source: 'vol', target: '/data', read_only: true });
  assert.equal(parseMount('./x:/y', '/base').source, '/base/x');
  assert.deepEqual(shellSplit(`sh -c "echo 'a b'" x\\ y`), ['sh', '-c', "echo 'a b'", 'x y']);
});

test('create body: labels, hash, healthcheck, limits; the hash changes with the config, not the scale', () => {
  const { p } = project({
    'compose.yaml': [
      'services:',
      '  db:',
      '    image: pg',
      '    healthcheck: {test: "pg_isready", interval: 2s, retries: 3}',
      '    deploy: {replicas: 2, resources: {limits: {memory: 64m, cpus: "0.5"}}}',
      '    stop_grace_period: 1m',
      '    tmpfs: [/run]',
      '    extra_hosts: {"h": "10.0.0.1"}',
      '    init: true',
    ].join('\n'),
  }, { projectName: 'p1' });
  const s = p.services.db;
  const b = createBody(p, s, { number: 2, hash: configHash(s), primaryNetwork: 'default' });
  assert.equal(b.Labels!['com.docker.compose.project'], 'p1');
  assert.equal(b.Labels!['com.docker.compose.service'], 'db');
  assert.equal(b.Labels!['com.docker.compose.container-number'], '2');
  assert.deepEqual(b.Healthcheck, { Test: ['CMD-SHELL', 'pg_isready'], Interval: 2e9, Retries: 3 });
  assert.equal(b.StopTimeout, 60);
  assert.equal(b.HostConfig!.Memory, 64 * 1024 * 1024);
  assert.equal(b.HostConfig!.NanoCpus, 5e8);
  assert.deepEqual(b.HostConfig!.Tmpfs, { '/run': '' });
  assert.deepEqual(b.HostConfig!.ExtraHosts, ['h:10.0.0.1']);
  assert.equal(b.HostConfig!.Init, true);
  assert.equal(b.HostConfig!.NetworkMode, 'p1_default');
  assert.deepEqual(Object.keys((b.NetworkingConfig!.EndpointsConfig as Record<string, unknown>)), ['p1_default']);
  const scaled = { ...s, deploy: { ...s.deploy, replicas: 5 } };
  assert.equal(configHash(scaled), configHash(s));
  assert.notEqual(configHash({ ...s, image: 'pg2' }), configHash(s));
  assert.match(renderConfig(p, 'yaml'), /^name: p1\nservices:\n  db:\n/);
});
