/**
 * The compiled-seccomp cache (src/engine/runtime/seccomp-cache.ts): after crun compiled a profile
 * once, later starts hand it the same filter by annotation instead of compiling again. What a user
 * checks: the filter still blocks what the profile blocks, in the container and in an exec, with
 * both CLIs; a different profile is its own filter; the daemon's runtime trace says which starts
 * got the precompiled filter.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeContainersAndStop, run, startDaemonWithImages, type TestDaemon } from '../helpers/daemon.js';

let d: TestDaemon;
let tmp = '';

/** add_key(2) is outside the default profile: ENOSYS under it, a real answer without it. */
const PROBE_C = `#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(void) {
  long r = syscall(SYS_add_key, "user", "berth-probe", "v", 1, -2 /* KEY_SPEC_PROCESS_KEYRING */);
  printf("add_key: %s\\n", r == -1 && errno == ENOSYS ? "blocked" : "ran");
  return r == -1 && errno == ENOSYS;
}
`;

before(async () => {
  process.env.BERTH_RUNTIME_TRACE = '1'; // the daemon prints each start's phases, seccomp included
  d = await startDaemonWithImages(['busybox']);
  tmp = await mkdtemp(join(tmpdir(), 'bt-scc-'));
  await writeFile(join(tmp, 'probe.c'), PROBE_C);
  const cc = await run('gcc', ['-static', '-O1', '-o', join(tmp, 'probe'), join(tmp, 'probe.c')]);
  assert.equal(cc.code, 0, cc.stderr);
  await writeFile(join(tmp, 'nomkdir.json'), JSON.stringify({
    defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
  }));
});

after(async () => {
  await removeContainersAndStop(d);
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** The seccomp word of each start's trace line, in start order. */
async function seccompTrace(): Promise<string[]> {
  return [...(await d.log()).matchAll(/^berth runtime: .*, seccomp (precompiled|compiled by crun)$/gm)].map((m) => m[1]!);
}

test('the default profile: compiled once by crun, then handed over precompiled, and it still blocks', async () => {
  const probe = ['-v', `${join(tmp, 'probe')}:/probe:ro`];
  // A container that stays up while its filter is read.
  const first = await d.docker(['run', '-d', '--name', 'scc-first', ...probe, 'busybox', 'sleep', '300']);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(await seccompTrace(), ['compiled by crun']);
  for (const cli of ['docker', 'berth', 'docker', 'berth'] as const) {
    const r = await d[cli](['run', '--rm', ...probe, 'busybox', 'sh', '-c', '/probe; grep Seccomp: /proc/self/status']);
    assert.equal(r.stdout, 'add_key: blocked\nSeccomp:\t2\n', `${cli}: ${r.stderr}`);
  }
  assert.deepEqual((await seccompTrace()).slice(1), ['precompiled', 'precompiled', 'precompiled', 'precompiled']);
  // An exec in a container started with the precompiled filter is filtered too.
  const second = await d.berth(['run', '-d', '--name', 'scc-second', ...probe, 'busybox', 'sleep', '300']);
  assert.equal(second.code, 0, second.stderr);
  assert.equal((await seccompTrace()).at(-1), 'precompiled');
  const ex = await d.docker(['exec', 'scc-second', '/probe']);
  assert.equal(ex.stdout, 'add_key: blocked\n', ex.stderr);
  // unconfined has no filter at all (no seccomp section, nothing cached)
  const free = await d.docker(['run', '--rm', ...probe, '--security-opt', 'seccomp=unconfined', 'busybox', '/probe']);
  assert.equal(free.stdout, 'add_key: ran\n');
});

test('another profile is its own filter: it blocks what it blocks, and the default one is unchanged', async () => {
  const custom = ['--security-opt', `seccomp=${join(tmp, 'nomkdir.json')}`];
  for (const cli of ['berth', 'docker'] as const) {
    const r = await d[cli](['run', '--rm', ...custom, 'busybox', 'sh', '-c', 'mkdir /x && echo made || echo refused']);
    assert.equal(r.stdout.trim(), 'refused', `${cli}: ${r.stderr}`);
    const plain = await d[cli](['run', '--rm', 'busybox', 'sh', '-c', 'mkdir /x && echo made || echo refused']);
    assert.equal(plain.stdout.trim(), 'made', `${cli}: ${plain.stderr}`);
  }
});
