/**
 * docker exec / berth exec against a real berthd: output and exit codes, stdin with half-close,
 * env/workdir/user, detached execs, a TTY of the client's size, Docker's errors, exec inspect,
 * events, and no exec shim left behind.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { run, startDaemonWithMirror, DOCKER_CLI, type TestDaemon } from '../helpers/daemon.js';
import { projectRoot } from '../../src/util/paths.js';
import { join } from 'node:path';

let d: TestDaemon;
let cid = '';
const execIds: string[] = [];

before(async () => {
  d = await startDaemonWithMirror({ images: ['busybox'] });
  const r = await d.docker(['run', '-d', '--name', 'ex', 'busybox', 'sleep', '300']);
  assert.equal(r.code, 0, r.stderr);
  cid = r.stdout.trim();
});

after(async () => {
  await d?.docker(['rm', '-f', 'ex', 'ex-stopped']).catch(() => undefined);
  await d?.stop();
});

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any; text: string }> {
  const args = ['-s', '-w', '\n%{http_code}', '-X', method, '--unix-socket', d.socket];
  if (body !== undefined) args.push('-H', 'Content-Type: application/json', '-d', JSON.stringify(body));
  const r = await run('curl', [...args, `http://d/v1.45${path}`]);
  const cut = r.stdout.lastIndexOf('\n');
  const text = r.stdout.slice(0, cut);
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: Number(r.stdout.slice(cut + 1)), json, text };
}

function cliPath(): string { return join(projectRoot(), 'dist', 'berth.mjs'); }

for (const cli of ['docker', 'berth'] as const) {
  describe(`${cli} exec`, () => {
    const x = (args: string[], opts?: { input?: string }) => d[cli](args, opts);

    test('output and exit codes, stderr apart', async () => {
      const r = await x(['exec', 'ex', 'echo', 'hi']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'hi\n');
      const e = await x(['exec', 'ex', 'sh', '-c', 'exit 3']);
      assert.equal(e.code, 3, e.stderr);
      const s = await x(['exec', 'ex', 'sh', '-c', 'echo out; echo err >&2']);
      assert.equal(s.code, 0, s.stderr);
      assert.equal(s.stdout, 'out\n');
      assert.equal(s.stderr, 'err\n');
    });

    test('-e, -w, -u', async () => {
      const r = await x(['exec', '-e', 'A=1', '-w', '/tmp', 'ex', 'sh', '-c', 'echo $A; pwd']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '1\n/tmp\n');
      const u = await x(['exec', '-u', 'nobody', 'ex', 'id', '-u']);
      assert.equal(u.code, 0, u.stderr);
      assert.equal(u.stdout, '65534\n');
    });

    test('-i: stdin reaches the process, closes at the client\'s end', async () => {
      const r = await x(['exec', '-i', 'ex', 'cat'], { input: 'line one\nline two\n' });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'line one\nline two\n');
      // ctrl-p ctrl-q is data, not a detach, without a TTY
      const wc = await x(['exec', '-i', 'ex', 'sh', '-c', 'wc -c; echo done'], { input: 'x'.repeat(99998) + '\x10\x11' });
      assert.equal(wc.code, 0, wc.stderr);
      assert.equal(wc.stdout.trim().split(/\s+/).join(' '), '100000 done');
    });

    test('a missing executable fails as in Docker (126)', async () => {
      const r = await x(['exec', 'ex', 'nosuch']);
      assert.equal(r.code, 126, r.stdout + r.stderr);
      assert.match(r.stdout + r.stderr,
        /OCI runtime exec failed: exec failed: unable to start container process: exec: "nosuch": executable file not found in \$PATH: unknown/);
    });

    test('-d: runs in the background', async () => {
      const f = `/tmp/detached-${cli}`;
      const r = await x(['exec', '-d', 'ex', 'sh', '-c', `echo x > ${f}`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '');
      let out = '';
      for (let i = 0; i < 50 && out !== 'x\n'; i++) {
        out = (await x(['exec', 'ex', 'cat', f])).stdout;
        if (out !== 'x\n') await new Promise((res) => setTimeout(res, 100));
      }
      assert.equal(out, 'x\n');
    });

    test('-it: a terminal of the client\'s size', async () => {
      const cmd = cli === 'docker' ? DOCKER_CLI : `${process.execPath} ${cliPath()}`;
      // crun 1.8 applies an exec's consoleSize only after the process may already run (the shim
      // sets it the moment it gets the terminal, the CLI's resize follows): a command that asks
      // at its very first instruction can still see 0x0, so ask after a moment, as a shell does.
      const r = await run('script', ['-qec', `stty cols 77 rows 22; ${cmd} exec -it ex sh -c 'sleep 0.2; stty size; tty'`, '/dev/null'],
        { env: { ...process.env, DOCKER_HOST: d.host, BERTH_HOST: d.host } });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const out = r.stdout.replaceAll('^@', '');
      assert.match(out, /^22 77\r*$/m);
      assert.match(out, /^\/dev\/pts\/\d+\r*$/m);
    });

    test('errors: unknown container, stopped container', async () => {
      const r = await x(['exec', 'nosuch', 'true']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /No such container: nosuch/);
    });
  });
}

describe('exec API', () => {
  test('create, start (raw, curl), inspect, events', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const c = await api('POST', '/containers/ex/exec', { AttachStdout: true, AttachStderr: true, Cmd: ['sh', '-c', 'echo via-api; exit 5'] });
    assert.equal(c.status, 201, c.text);
    const id = c.json.Id as string;
    assert.match(id, /^[0-9a-f]{64}$/);
    execIds.push(id);
    const before = await api('GET', `/exec/${id}/json`);
    assert.equal(before.status, 200);
    assert.equal(before.json.Running, false);
    assert.equal(before.json.ExitCode, null);
    assert.equal(before.json.ContainerID, cid);
    assert.deepEqual(before.json.ProcessConfig, { tty: false, entrypoint: 'sh', arguments: ['-c', 'echo via-api; exit 5'], privileged: false, user: '' });
    const ins = await api('GET', '/containers/ex/json');
    assert.ok(ins.json.ExecIDs === null || Array.isArray(ins.json.ExecIDs));
    // curl without Upgrade: a bare 200 and the multiplexed stream
    const s = await run('curl', ['-s', '--unix-socket', d.socket, '-H', 'Content-Type: application/json', '-d', '{"Detach":false,"Tty":false}',
      '-o', join(d.root, 'exec-out'), `http://d/v1.45/exec/${id}/start`]);
    assert.equal(s.code, 0);
    const raw = readFileSync(join(d.root, 'exec-out'));
    assert.equal(raw[0], 1);
    assert.equal(raw.subarray(8).toString(), 'via-api\n');
    const after = await api('GET', `/exec/${id}/json`);
    assert.equal(after.json.Running, false);
    assert.equal(after.json.ExitCode, 5);
    assert.ok(after.json.Pid > 0);
    const again = await api('POST', `/exec/${id}/start`, { Detach: true });
    assert.equal(again.status, 409);
    const ev = await run('curl', ['-s', '--unix-socket', d.socket,
      `http://d/v1.45/events?since=${since}&until=${Math.floor(Date.now() / 1000) + 1}`]);
    const actions = ev.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.Actor?.Attributes?.execID === id).map((e) => e.Action);
    assert.deepEqual(actions, ['exec_create: sh -c echo via-api; exit 5', 'exec_start: sh -c echo via-api; exit 5', 'exec_die']);
  });

  test('detached TTY exec: resize, Running, ExitCode; unknown exec is a 404', async () => {
    const c = await api('POST', '/containers/ex/exec', { Tty: true, Cmd: ['sleep', '1'] });
    const id = c.json.Id as string;
    const s = await api('POST', `/exec/${id}/start`, { Detach: true, Tty: true });
    assert.equal(s.status, 200, s.text);
    const r = await api('POST', `/exec/${id}/resize?h=10&w=20`);
    assert.equal(r.status, 200, r.text);
    const running = await api('GET', `/exec/${id}/json`);
    assert.equal(running.json.Running, true);
    execShimPids.push(execShimOf(running.json.Pid));
    for (let i = 0; i < 50; i++) {
      const j = await api('GET', `/exec/${id}/json`);
      if (!j.json.Running) { assert.equal(j.json.ExitCode, 0); break; }
      await new Promise((res) => setTimeout(res, 100));
    }
    const nf = await api('GET', '/exec/nosuch/json');
    assert.equal(nf.status, 404);
    assert.equal(nf.json.message, 'No such exec instance: nosuch');
    const nc = await api('POST', '/containers/nosuch/exec', { Cmd: ['true'] });
    assert.equal(nc.status, 404);
    assert.equal(nc.json.message, 'No such container: nosuch');
  });

  test('exec on a stopped container: 409 and the CLI says so', async () => {
    const r = await d.docker(['run', '--name', 'ex-stopped', 'busybox', 'true']);
    assert.equal(r.code, 0, r.stderr);
    const c = await api('POST', '/containers/ex-stopped/exec', { Cmd: ['true'] });
    assert.equal(c.status, 409);
    const id = (await d.docker(['inspect', '-f', '{{.Id}}', 'ex-stopped'])).stdout.trim();
    assert.equal(c.json.message, `container ${id} is not running`);
    for (const cli of ['docker', 'berth'] as const) {
      const e = await d[cli](['exec', 'ex-stopped', 'true']);
      assert.notEqual(e.code, 0);
      assert.match(e.stderr, new RegExp(`container ${id} is not running`));
    }
  });

  test('stopping the container ends its execs; removing it drops them', async () => {
    const r = await d.docker(['run', '-d', '--name', 'ex-stop', 'busybox', 'sleep', '300']);
    assert.equal(r.code, 0, r.stderr);
    const c = await api('POST', '/containers/ex-stop/exec', { AttachStdout: true, Cmd: ['sleep', '100'] });
    const id = c.json.Id as string;
    const attached = d.berth(['exec', 'ex-stop', 'sh', '-c', 'touch /tmp/attached; sleep 100']);
    for (let i = 0; i < 100; i++) {
      if ((await d.docker(['exec', 'ex-stop', 'test', '-f', '/tmp/attached'])).code === 0) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal((await api('POST', `/exec/${id}/start`, { Detach: true })).status, 200);
    const running = await api('GET', `/exec/${id}/json`);
    assert.equal(running.json.Running, true);
    execShimPids.push(execShimOf(running.json.Pid));
    const stop = await d.docker(['stop', '-t', '1', 'ex-stop']);
    assert.equal(stop.code, 0, stop.stderr);
    const a = await attached;
    assert.equal(a.code, 137, a.stderr);
    let after = await api('GET', `/exec/${id}/json`);
    for (let i = 0; i < 50 && after.json.Running; i++) {
      await new Promise((res) => setTimeout(res, 100));
      after = await api('GET', `/exec/${id}/json`);
    }
    assert.equal(after.json.Running, false);
    assert.equal(after.json.ExitCode, 137);
    assert.equal((await d.docker(['rm', 'ex-stop'])).code, 0);
    assert.equal((await api('GET', `/exec/${id}/json`)).status, 404);
  });

  test('no exec shim is left behind', async () => {
    // The two detached execs above each recorded the berth-shim that supervised them.
    assert.equal(execShimPids.length, 2, 'the exec shims were not recorded');
    for (let i = 0; i < 50 && execShimPids.some(shimRuns); i++) await new Promise((res) => setTimeout(res, 100));
    for (const pid of execShimPids) assert.equal(shimRuns(pid), false, `exec shim ${pid} still running`);
  });
});

const execShimPids: number[] = [];

/** Whether a berth-shim runs with this pid (a zombie waiting for its reaper has finished). */
function shimRuns(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false; // gone
  }
  return stat.includes('(berth-shim)') && !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
}

/** The shim that supervises an exec process is its parent (the subreaper): it must be running now. */
function execShimOf(pid: number): number {
  assert.ok(pid > 0, `exec pid ${pid}`);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const shim = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  assert.ok(shimRuns(shim), `the parent ${shim} of exec process ${pid} is not a running berth-shim`);
  return shim;
}
