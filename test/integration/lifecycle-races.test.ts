/**
 * Issue 7's lifecycle races against a real berthd, each through both CLIs and at SDK speed (the
 * typed client sending the next request the moment the previous answer arrives, which is where
 * the races showed: seen failing 10 times in 10 without the fixes):
 * - kill-then-inspect: `kill` (SIGKILL) returns only once the exit is recorded, as dockerd's Kill
 *   does, so an inspect right after says the container is not running; the same for `stop`;
 * - commit-while-exiting: committing a container that exits while it is being committed (start,
 *   then commit at once) commits the stopped container instead of a 500 from the pause.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemonWithMirror, type TestDaemon } from '../helpers/daemon.js';
import { EngineClient } from '../../src/client/index.js';

let d: TestDaemon;
let api: EngineClient;
const ROUNDS = 20;

before(async () => {
  d = await startDaemonWithMirror({ images: ['busybox'] });
  const r = await d.berth(['pull', 'busybox']);
  assert.equal(r.code, 0, r.stderr);
  api = new EngineClient({ host: d.host });
});

after(async () => {
  await d?.stop();
});

/** Create and start a container through the API (fast), for the CLI under test to act on. */
async function started(cmd: string[]): Promise<string> {
  const { Id } = await api.containerCreate({ Image: 'busybox', Cmd: cmd });
  await api.containerStart(Id);
  return Id;
}

async function state(id: string): Promise<string> {
  const j = await api.json<{ State: { Running: boolean; Status: string; ExitCode: number } }>('GET', `/containers/${id}/json`);
  return `${j.State.Running} ${j.State.Status} ${j.State.ExitCode}`;
}

async function ok(via: 'berth' | 'docker', args: string[]): Promise<string> {
  const r = await d[via](args, { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `${via} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** ROUNDS runs of one round, PARALLEL at a time (the box is shared: rounds overlap, as clients' do). */
const PARALLEL = 4;
async function rounds(n: number, round: (i: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < n; i += PARALLEL) {
    await Promise.all(Array.from({ length: Math.min(PARALLEL, n - i) }, (_, k) => round(i + k)));
  }
}

/**
 * The rounds' images, removed once every round is done: the rounds commit identical layers, and
 * removing one round's image while another commits the same layer is a different race (the
 * layer store's, not this file's).
 */
async function removeImages(repo: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await api.imageRemove(`${repo}:${i}`);
}

const remove = (id: string) => api.empty('DELETE', `/containers/${id}`, { query: { force: true } });

test(`kill-then-inspect (API): inspect right after kill says exited 137 (${ROUNDS} rounds)`, async () => {
  await rounds(ROUNDS, async (i) => {
    const id = await started(['sleep', '300']);
    await api.empty('POST', `/containers/${id}/kill`);
    assert.equal(await state(id), 'false exited 137', `round ${i}`);
    await remove(id);
  });
});

test(`stop-then-inspect (API): inspect right after stop says exited (${ROUNDS} rounds)`, async () => {
  await rounds(ROUNDS, async (i) => {
    // sleep as PID 1 ignores SIGTERM: with t=0 the stop ends with SIGKILL at once.
    const id = await started(['sleep', '300']);
    await api.empty('POST', `/containers/${id}/stop`, { query: { t: 0 } });
    assert.equal(await state(id), 'false exited 137', `round ${i}`);
    await remove(id);
  });
});

test(`commit-while-exiting (API): commit at once after start never fails (${ROUNDS} rounds)`, async () => {
  await rounds(ROUNDS, async (i) => {
    const id = await started(['sh', '-c', 'echo x > /marker; exit 0']);
    const img = await api.containerCommit(id, { repo: 'race/api', tag: String(i) });
    assert.match(img.Id, /^sha256:[0-9a-f]{64}$/, `round ${i}`);
    await remove(id);
  });
  await removeImages('race/api', ROUNDS);
});

for (const via of ['berth', 'docker'] as const) {
  test(`${via}: kill-then-inspect: after kill returns, inspect says not running (${ROUNDS} rounds)`, async () => {
    await rounds(ROUNDS, async (i) => {
      const id = await started(['sleep', '300']);
      await ok(via, ['kill', id]);
      const running = (await ok(via, ['inspect', '-f', '{{.State.Running}} {{.State.Status}} {{.State.ExitCode}}', id])).trim();
      assert.equal(running, 'false exited 137', `round ${i}`);
      await remove(id);
    });
  });

  test(`${via}: stop-then-inspect: after stop returns, inspect says not running`, async () => {
    await rounds(5, async (i) => {
      const id = await started(['sleep', '300']);
      await ok(via, ['stop', '-t', '0', id]);
      assert.equal((await ok(via, ['inspect', '-f', '{{.State.Running}}', id])).trim(), 'false', `round ${i}`);
      await remove(id);
    });
  });

  test(`${via}: commit-while-exiting: a container that exits during its commit is committed, never a 5xx (${ROUNDS} rounds)`, async () => {
    await rounds(ROUNDS, async (i) => {
      const id = await started(['sh', '-c', 'echo x > /marker; exit 0']);
      const r = await d[via](['commit', id, `race/${via}:${i}`], { timeoutMs: 60_000 });
      assert.equal(r.code, 0, `round ${i}: ${r.stderr}`);
      assert.match(r.stdout.trim(), /^sha256:[0-9a-f]{64}$/);
      await remove(id);
    });
    await removeImages(`race/${via}`, ROUNDS);
  });
}

test('start-races-rm: a start and an rm -f of the same container at once never answer 500', async () => {
  // Found by the API fuzzer: the rm renamed the folder away while the start mounted the rootfs
  // in it ("mount overlay on …/rootfs: No such file or directory", or crun's chdir to cwd).
  const statuses: string[] = [];
  await rounds(ROUNDS, async () => {
    const { Id } = await api.containerCreate({ Image: 'busybox', Cmd: ['sleep', '30'] });
    const call = async (method: string, path: string): Promise<void> => {
      try {
        await api.json(method, path);
        statuses.push('ok');
      } catch (e) {
        const status = (e as { status?: number }).status ?? 0;
        statuses.push(String(status));
        assert.ok(status > 0 && status < 500, `${method} ${path}: ${(e as Error).message}`);
      }
    };
    await Promise.all([call('POST', `/containers/${Id}/start`), call('DELETE', `/containers/${Id}?force=1`)]);
    await api.json('DELETE', `/containers/${Id}?force=1`).catch(() => undefined);
  });
  assert.equal(statuses.length, ROUNDS * 2);
});

test('pause-unpause-race: four pauses at once, then four unpauses: one 204 each, the others 409 as dockerd, never a 500', async () => {
  const id = await started(['sleep', '300']);
  const outcome = async (p: Promise<unknown>): Promise<string> => {
    try { await p; return '204'; } catch (e) { return `${(e as { statusCode?: number }).statusCode} ${(e as Error).message}`; }
  };
  for (let i = 0; i < ROUNDS / 4; i++) {
    const paused = await Promise.all(Array.from({ length: 4 }, () => outcome(api.containerPause(id))));
    assert.equal(paused.filter((o) => o === '204').length, 1, paused.join('\n'));
    for (const o of paused.filter((x) => x !== '204')) assert.match(o, /^409 container [0-9a-f]{64} is already paused$/);
    const resumed = await Promise.all(Array.from({ length: 4 }, () => outcome(api.containerUnpause(id))));
    assert.equal(resumed.filter((o) => o === '204').length, 1, resumed.join('\n'));
    for (const o of resumed.filter((x) => x !== '204')) assert.match(o, /^409 Container [0-9a-f]{64} is not paused$/);
  }
  assert.equal(await state(id), 'true running 0');
  await api.containerRemove(id, { force: true });
});
