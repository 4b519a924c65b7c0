/**
 * The kill -9 harness (issue 8): at least 100 SIGKILLs of berthd at random moments while pulls,
 * pushes, commits, creates, starts, stops, removals, volume writes, tags and log reads run, or
 * while it starts up; after each restart everything acknowledged is whole and nothing is
 * half-visible (test/helpers/kill-harness.ts has the checks). Seeded: the seed is printed, and
 * BERTH_KILL_SEED=<n> reruns the same sequence of operations and kill delays (the moments they
 * land on still depend on the machine's timing). BERTH_KILLS=<n> asks for more kills.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemonWithMirror, type TestDaemon } from '../helpers/daemon.js';
import { harnessSeed, isConnectionError, seededRandom } from '../helpers/kill-api.js';
import { KillHarness } from '../helpers/kill-harness.js';

const MIN_KILLS = Math.max(100, Number(process.env.BERTH_KILLS ?? 0) || 0);

let d: (TestDaemon & { registryHost: string }) | undefined;

after(async () => {
  await d?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('kill -9 harness: acknowledged work survives SIGKILL at random moments', { timeout: 1_800_000 }, async (t) => {
  const seed = harnessSeed('BERTH_KILL_SEED');
  const banner = `kill harness seed ${seed} (rerun with BERTH_KILL_SEED=${seed})`;
  console.log(banner);
  t.diagnostic(banner);
  const random = seededRandom(seed);
  // Every berthd start would load these certificates (~0.2 s each, 100+ starts); the daemon
  // only talks to the loopback registry.
  delete process.env.NODE_EXTRA_CA_CERTS;
  // No bridge: each start of berthd and of a container skips the host network set-up (their
  // recovery after a crash is crash.test.ts's and network.test.ts's); the harness is about the data.
  d = await startDaemonWithMirror({ images: ['hello-world', 'busybox', 'layered'], extraArgs: ['--bridge', 'none'] });
  const h = new KillHarness(d, random);
  const started = Date.now();
  let restartMs = 0;
  let checkMs = 0;
  // Where this round's daemon log starts (its kill, restart and check), for a failure report.
  const logFile = join(d.root, 'berthd.log');
  const logSize = (): number => statSync(logFile).size;
  let roundLog = 0;
  // The kills, in the daemon's log between its own lines (it appends too).
  const mark = (what: string): void => appendFileSync(logFile, `${new Date().toISOString()} harness: ${what}\n`);
  try {
    await h.setup();
    while (h.kills < MIN_KILLS) {
      h.round++;
      roundLog = logSize();
      const ops = Array.from({ length: 1 + Math.floor(random() * 3) }, () => h.randomOp());
      for (const op of ops) op.catch(() => {}); // judged below, once the kill is done
      await sleep(random() * 700);
      mark(`round ${h.round}: SIGKILL`);
      await d.kill('SIGKILL');
      h.kills++;
      for (const r of await Promise.allSettled(ops)) {
        if (r.status === 'rejected' && !isConnectionError(r.reason)) throw r.reason;
      }
      if (random() < 0.2) {
        // Killed again while it starts up (reconciling what the last kill left).
        const before: number = d.pid;
        const up = d.restart();
        up.catch(() => {});
        // Only once the new berthd exists: a kill before the spawn would hit the dead one, and
        // the next restart would start a second daemon beside an orphaned first.
        while (d.pid === before) await sleep(1);
        await sleep(random() * 600);
        mark(`round ${h.round}: SIGKILL during start-up`);
        await d.kill('SIGKILL');
        h.kills++;
        h.startupKills++;
        await up.catch(() => {});
      }
      const t0 = Date.now();
      await d.restart();
      restartMs += Date.now() - t0;
      // The daemon answering is the one just started (no survivor of a kill that missed).
      assert.equal(Number(readFileSync(join(d.root, 'berthd.pid'), 'utf8')), d.pid, 'berthd answering is not the one just started');
      const t1 = Date.now();
      await h.check();
      if (h.round % 10 === 0) await h.runImages(3);
      checkMs += Date.now() - t1;
    }
    await h.runImages();
    await h.finish();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const report = `${banner}, round ${h.round}, kill ${h.kills}: ${msg}\n${e instanceof Error ? e.stack : ''}\nacknowledged (last entries):\n${h.tail()}\n--- berthd log of this round (kill, restart, check):\n${roundLogText(logFile, roundLog)}\n--- host:\n${h.hostState()}`;
    console.error(report);
    throw new Error(report);
  }
  const summary = `${h.kills} kills (${h.startupKills} during start-up) in ${h.round} rounds, ${h.ledger.length} acknowledged operations, ${Math.round((Date.now() - started) / 1000)} s (${Math.round(restartMs / 1000)} s waiting for berthd to come up, ${Math.round(checkMs / 1000)} s checking)`;
  console.log(summary);
  t.diagnostic(summary);
});

/** The daemon log from `from` (bytes) on: its start and end when it is long. */
function roundLogText(file: string, from: number): string {
  const text = readFileSync(file).subarray(from).toString('utf8');
  return text.length <= 24_000 ? text : `${text.slice(0, 12_000)}\n[… ${text.length - 24_000} characters …]\n${text.slice(-12_000)}`;
}
