/**
 * Compose's global output flags (--ansi, --progress, --parallel and their variables), the ps/ls
 * --filter parsing, restart's reach over `restart: true` dependents, the concurrency bound and
 * --compatibility names, without a daemon.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lsNameFilter, psStatuses } from '../../../src/cli/commands/compose/filters.js';
import type { Project, ServiceConfig } from '../../../src/cli/commands/compose/model.js';
import { containerName, imageName } from '../../../src/cli/commands/compose/spec.js';
import { limiter, withRestartDependents } from '../../../src/cli/commands/compose/state.js';
import { resolveUI } from '../../../src/cli/commands/compose/ui.js';

test('resolveUI: defaults, flag over variable, refusals with Compose messages', () => {
  assert.deepEqual(resolveUI({}, {}), { ansi: 'auto', noColor: false, progress: 'plain', parallel: 0 });
  assert.equal(resolveUI({}, { COMPOSE_ANSI: 'never' }).ansi, 'never');
  assert.equal(resolveUI({ ansi: 'always' }, { COMPOSE_ANSI: 'never' }).ansi, 'always');
  assert.equal(resolveUI({}, { NO_COLOR: '1' }).noColor, true);
  assert.throws(() => resolveUI({ ansi: 'sometimes' }, {}), /unsupported --ansi value "sometimes"/);
  assert.equal(resolveUI({ progress: 'quiet' }, {}).progress, 'quiet');
  assert.equal(resolveUI({ progress: 'none' }, {}).progress, 'quiet');
  assert.equal(resolveUI({ progress: 'json' }, {}).progress, 'json');
  assert.equal(resolveUI({}, { COMPOSE_PROGRESS: 'json' }).progress, 'json');
  assert.throws(() => resolveUI({ progress: 'fancy' }, {}), /unsupported --progress value "fancy"/);
  assert.throws(() => resolveUI({ progress: 'tty', ansi: 'never' }, {}), /can't use --progress tty while ANSI support is disabled/);
  assert.throws(() => resolveUI({ progress: 'tty' }, {}), /--progress tty is not supported by Berth/);
  assert.throws(() => resolveUI({ progress: 'plain', ansi: 'always' }, {}), /can't use --progress plain while ANSI support is forced/);
  assert.equal(resolveUI({ parallel: 3 }, {}).parallel, 3);
  assert.equal(resolveUI({ parallel: -1 }, { COMPOSE_PARALLEL_LIMIT: '2' }).parallel, 0);
  assert.equal(resolveUI({}, { COMPOSE_PARALLEL_LIMIT: '2' }).parallel, 2);
  assert.throws(() => resolveUI({}, { COMPOSE_PARALLEL_LIMIT: 'two' }), /COMPOSE_PARALLEL_LIMIT must be an integer \(found: "two"\)/);
});

test('ps --filter: status=STATE adds to --status; source and other keys are refused', () => {
  assert.deepEqual(psStatuses([], ''), []);
  assert.deepEqual(psStatuses(['running'], 'status=exited'), ['running', 'exited']);
  assert.throws(() => psStatuses([], 'status'), /arguments to --filter should be in form KEY=VAL/);
  assert.throws(() => psStatuses([], 'source=image'), /--filter source is not implemented/);
  assert.throws(() => psStatuses([], 'label=a=b'), /unknown filter label/);
});

test('ls --filter: name=REGEXP matched anywhere in the name; other keys refused', () => {
  const all = ['web', 'webapp', 'api', 'my-web'];
  assert.deepEqual(all.filter(lsNameFilter([])), all);
  assert.deepEqual(all.filter(lsNameFilter(['name=web'])), ['web', 'webapp', 'my-web']);
  assert.deepEqual(all.filter(lsNameFilter(['name=^web$'])), ['web']);
  assert.deepEqual(all.filter(lsNameFilter(['name=^api', 'name=app$'])), ['webapp', 'api']);
  assert.throws(() => lsNameFilter(['status=running']), /invalid filter 'status'/);
  assert.throws(() => lsNameFilter(['web']), /bad format of filter \(expected name=value\)/);
});

const svc = (name: string, deps: Record<string, boolean> = {}): ServiceConfig =>
  ({ name, image: 'busybox', depends_on: Object.fromEntries(Object.entries(deps).map(([d, restart]) => [d, { condition: 'service_started', restart }])) }) as ServiceConfig;
const project = (services: ServiceConfig[], separator?: '-' | '_'): Project => ({
  name: 'p', workingDir: '/', configFiles: [], environment: {}, services: Object.fromEntries(services.map((s) => [s.name, s])), disabled: {},
  networks: {}, volumes: {}, configs: {}, secrets: {}, separator,
});

test('restart reaches the services depending on the named ones with restart: true, transitively', () => {
  const p = project([svc('db'), svc('api', { db: true }), svc('web', { api: true }), svc('cron', { db: false })]);
  assert.deepEqual(withRestartDependents(p, ['db']).sort(), ['api', 'db', 'web']);
  assert.deepEqual(withRestartDependents(p, ['api']).sort(), ['api', 'web']);
  assert.deepEqual(withRestartDependents(p, ['cron']), ['cron']);
});

test('limiter: never more than n at once; n <= 0 is no bound', async () => {
  for (const [n, want] of [[2, 2], [1, 1], [0, 5]] as const) {
    const run = limiter(n);
    let active = 0;
    let most = 0;
    await Promise.all(Array.from({ length: 5 }, () => run(async () => {
      active++;
      most = Math.max(most, active);
      await new Promise((r) => setImmediate(r));
      active--;
    })));
    assert.equal(most, want, `limit ${n}`);
  }
});

test('--compatibility: v1 names with underscores for containers and built images', () => {
  const built = { name: 'app', build: { context: '/' } } as ServiceConfig;
  assert.equal(containerName(project([built]), built, 1), 'p-app-1');
  assert.equal(containerName(project([built], '_'), built, 1), 'p_app_1');
  assert.equal(imageName(project([built], '_'), built), 'p_app');
});
