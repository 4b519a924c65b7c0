/**
 * The kill -9 harness's flake (seed 1230645042: "container k14 was acknowledged running but is
 * exited"), made deterministic. A start that a daemon crash cuts after its shim was spawned leaves
 * that shim behind with no record of it (the record still says the container is not running).
 * At the container's next start, that orphan used to be left alive: when it ended (its container
 * killed by the leftover clean-up, or its 60 s wait for GO over) it ran its own teardown on the
 * paths the new run uses: `crun delete --force <id>` (the new container), unmount of the rootfs,
 * the exit file, and unlink of shim.sock, so the next daemon start could not reach the new shim
 * and ended the container (the suite's run of seed 29499056 showed it: 255, "container supervisor
 * exited unexpectedly", neither exit.json nor its reservation left). Here the orphan's teardown is
 * triggered after the new start (SIGTERM, what its wait for GO ends in) instead of waiting for a
 * loaded host's scheduling; the daemon must end such a shim before the start, and end one whose
 * container already ran (a container no record shows) at its own start-up.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemonWithMirror, type TestDaemon } from '../helpers/daemon.js';
import { ownedByContainer } from '../helpers/container-procs.js';

let d: (TestDaemon & { registryHost: string }) | undefined;
/** The shims these tests orphan, with their container's ID: killed at the end if still that container's. */
const orphans: Array<[number, string]> = [];

before(async () => {
  d = await startDaemonWithMirror({ images: ['busybox'], extraArgs: ['--bridge', 'none'] });
  const r = await d.docker(['pull', 'busybox']);
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  for (const [pid, id] of orphans) if (ownedByContainer(pid, id)) signal(pid, 'SIGKILL');
  await d?.docker(['rm', '-f', 'orphan-running', 'orphan-before-go']).catch(() => undefined);
  await d?.stop();
});

interface State { Status: string; Running: boolean; Pid: number; ExitCode: number; Error: string }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function signal(pid: number, sig: NodeJS.Signals): void {
  try { process.kill(pid, sig); } catch { /* gone */ }
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\S+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

async function gone(pid: number, what: string): Promise<void> {
  for (let i = 0; i < 2000 && alive(pid); i++) await sleep(10);
  assert.ok(!alive(pid), `${what} (pid ${pid}) is still alive`);
}

function recordFile(id: string): string {
  return join(d!.root, d!.dataRoot, 'containers', id, 'config.v2.json');
}

function shimOf(id: string): number {
  return (JSON.parse(readFileSync(recordFile(id), 'utf8')) as { State: { ShimPid: number } }).State.ShimPid;
}

async function state(name: string): Promise<State> {
  const r = await d!.docker(['inspect', '--format', '{{json .State}}', name]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as State;
}

async function create(name: string): Promise<string> {
  const r = await d!.docker(['create', '--name', name, 'busybox', 'sleep', '100000']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

/** The container runs under the daemon's shim, keeps running across a daemon crash, and stops as asked. */
async function stillManaged(name: string): Promise<void> {
  let st = await state(name);
  assert.equal(st.Status, 'running', `${name} after its start: ${JSON.stringify(st)}`);
  assert.ok(alive(st.Pid), `${name}: its process ${st.Pid} is gone`);
  const pid = st.Pid;
  await d!.kill('SIGKILL');
  await d!.restart();
  st = await state(name);
  assert.equal(st.Status, 'running', `${name} after a daemon crash and restart: ${JSON.stringify(st)}`);
  assert.equal(st.Pid, pid, `${name}: another process after the restart`);
  const r = await d!.docker(['stop', '-t', '1', name]);
  assert.equal(r.code, 0, r.stderr);
  st = await state(name);
  assert.equal(st.Status, 'exited');
  assert.equal(st.ExitCode, 137, `${name}: the stop's exit code`);
}

test('kill-orphan-shim-running: a start cut after its container ran leaves a shim and a container no record shows; the daemon start ends them', async () => {
  const id = await create('orphan-running');
  const created = readFileSync(recordFile(id), 'utf8');
  assert.equal((await d!.docker(['start', 'orphan-running'])).code, 0);
  const orphan = shimOf(id);
  const orphanProcess = (await state('orphan-running')).Pid;
  orphans.push([orphan, id]);
  // The crash came before the start's record was written: the record still says "created".
  await d!.kill('SIGKILL');
  writeFileSync(recordFile(id), created);
  await d!.restart();
  assert.equal((await state('orphan-running')).Status, 'created');
  // Nothing half-visible: no process runs for a container that says it does not run.
  await gone(orphanProcess, 'the container process of the cut start');
  await gone(orphan, 'the orphaned shim');
  const r = await d!.docker(['start', 'orphan-running']);
  assert.equal(r.code, 0, r.stderr);
  await stillManaged('orphan-running');
});

test('kill-orphan-shim-before-go: a start cut before GO leaves a waiting shim; the next start ends it first', async () => {
  const id = await create('orphan-before-go');
  // A shim exactly as the daemon starts one for this container, that never gets its GO.
  assert.equal((await d!.docker(['start', 'orphan-before-go'])).code, 0);
  const argv = readFileSync(`/proc/${shimOf(id)}/cmdline`, 'utf8').split('\0').filter(Boolean);
  assert.equal((await d!.docker(['stop', '-t', '0', 'orphan-before-go'])).code, 0);
  const orphan = await new Promise<number>((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /^ready (\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
      else if (out.includes('\n')) reject(new Error(`the shim says: ${out}`));
    });
    child.on('error', reject);
    child.unref();
  });
  orphans.push([orphan, id]);
  const r = await d!.docker(['start', 'orphan-before-go']);
  assert.equal(r.code, 0, r.stderr);
  // What its 60 s wait for GO ends in: unmount its rootfs, unlink its socket, drop its exit file.
  signal(orphan, 'SIGTERM');
  await gone(orphan, 'the waiting shim');
  await stillManaged('orphan-before-go');
});
