/**
 * The Docker tutorial path end to end, on a real berthd (temp data root and socket), real crun
 * under berth-shim, overlayfs, and a real docker-registry on loopback serving the offline images.
 * Each step is driven with our `berth` CLI and with the real `docker` CLI.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/util/paths.js';
import { startDaemonWithMirror, type TestDaemon, DOCKER_CLI } from '../helpers/daemon.js';

let d: TestDaemon;

before(async () => {
  d = await startDaemonWithMirror();
});

after(async () => {
  await d?.stop();
});

const HEX64 = /^[0-9a-f]{64}$/;

describe('run hello-world', () => {
  test('berth pulls on a miss with per-layer progress, prints the greeting, exits 0', async () => {
    const r = await d.berth(['run', 'hello-world']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Unable to find image 'hello-world:latest' locally/);
    assert.match(r.stderr + r.stdout, /Pull complete/);
    assert.match(r.stderr + r.stdout, /Digest: sha256:[0-9a-f]{64}/);
    assert.match(r.stderr + r.stdout, /Status: Downloaded newer image for hello-world:latest/);
    assert.match(r.stdout, /Hello from Berth!/);
  });

  test('docker run hello-world works against berthd (image now local)', async () => {
    const r = await d.docker(['run', 'hello-world']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Hello from Berth!/);
    assert.doesNotMatch(r.stderr, /Unable to find image/);
  });

  test('docker pulls on a miss too (busybox through the mirror)', async () => {
    const r = await d.docker(['run', '--rm', 'busybox', 'echo', 'hi from busybox']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Unable to find image 'busybox:latest' locally/);
    assert.equal(r.stdout, 'hi from busybox\n');
  });
});

describe('exit codes', () => {
  for (const cli of ['berth', 'docker'] as const) {
    test(`${cli}: the container's exit code becomes the CLI's`, async () => {
      const r = await d[cli](['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
      assert.equal(r.code, 3);
      assert.equal(r.stdout, 'out\n');
      assert.match(r.stderr, /err\n/);
    });

    test(`${cli}: missing executable → 127, unknown image → 125`, async () => {
      const missing = await d[cli](['run', '--rm', 'busybox', 'nosuchcommand']);
      assert.equal(missing.code, 127, missing.stderr);
      assert.match(missing.stderr, /executable file not found/);
      const unknown = await d[cli](['run', '--rm', 'nosuchimage-xyz']);
      assert.equal(unknown.code, 125);
      assert.match(unknown.stderr, /Unable to find image 'nosuchimage-xyz:latest' locally/);
    });
  }
});

describe('images and inspect', () => {
  test('images lists both, with Docker columns and humanised times', async () => {
    for (const cli of ['berth', 'docker'] as const) {
      const r = await d[cli](['images']);
      assert.equal(r.code, 0, r.stderr);
      const [header, ...rows] = r.stdout.trim().split('\n');
      assert.match(header, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
      const names = rows.map((l) => l.split(/\s+/).slice(0, 2).join(':'));
      assert.ok(names.includes('hello-world:latest'), `${cli}: ${r.stdout}`);
      assert.ok(names.includes('busybox:latest'), `${cli}: ${r.stdout}`);
      assert.match(r.stdout, /\b(ago|N\/A)\b/);
    }
  });

  test('image inspect has Docker\'s shape; Id is the sha256 of the config', async () => {
    const r = await d.docker(['image', 'inspect', 'busybox']);
    assert.equal(r.code, 0, r.stderr);
    const [img] = JSON.parse(r.stdout);
    assert.match(img.Id, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(img.RepoTags, ['busybox:latest']);
    assert.match(img.RepoDigests[0], /^busybox@sha256:[0-9a-f]{64}$/);
    assert.deepEqual(img.Config.Cmd, ['sh']);
    assert.equal(img.RootFS.Type, 'layers');
    assert.ok(img.RootFS.Layers.length >= 1);
    assert.ok(img.Size > 0);
    const mine = await d.berth(['inspect', '-f', '{{.Id}}', 'busybox']);
    assert.equal(mine.stdout.trim(), img.Id);
  });

  test('tag, then rmi of the tag untags only', async () => {
    assert.equal((await d.berth(['tag', 'busybox', 'mybox:v1'])).code, 0);
    const listed = await d.docker(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.match(listed.stdout, /^mybox:v1$/m);
    const rmi = await d.docker(['rmi', 'mybox:v1']);
    assert.equal(rmi.code, 0, rmi.stderr);
    assert.match(rmi.stdout, /Untagged: mybox:v1/);
    assert.doesNotMatch(rmi.stdout, /Deleted/);
  });
});

describe('containers', () => {
  test('run -d prints the full id; logs by unique prefix; ps shows it Up', async () => {
    const r = await d.berth(['run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c', 'echo started; sleep 300']);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    assert.match(id, HEX64);
    await waitFor(async () => (await d.berth(['logs', id.slice(0, 7)])).stdout === 'started\n');
    const ps = await d.docker(['ps']);
    assert.match(ps.stdout, new RegExp(`^${id.slice(0, 12)}\\s+busybox\\s+"sh -c 'echo started…"\\s+.*Up .*ticker$`, 'm'));
    const q = await d.berth(['ps', '-q', '--no-trunc']);
    assert.ok(q.stdout.split('\n').includes(id));
  });

  test('rm of a running container refuses without -f, with Docker\'s message', async () => {
    const r = await d.docker(['rm', 'ticker']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot remove container "ticker": container is running: stop the container before removing or force remove/);
  });

  test('rmi refuses while a container uses the image, naming it', async () => {
    const r = await d.berth(['rmi', 'busybox']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /conflict: unable to (remove|delete).*container [0-9a-f]{12}/);
  });

  test('stop sends SIGTERM; -t bounds the wait; ps -a shows Exited (code) ago', async () => {
    const t0 = Date.now();
    const r = await d.docker(['stop', '-t', '1', 'ticker']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'ticker');
    // sh as PID 1 ignores SIGTERM, so the stop escalates to SIGKILL after 1 s.
    assert.ok(Date.now() - t0 >= 900);
    const ps = await d.berth(['ps', '-a', '--format', '{{.Names}} {{.Status}}']);
    assert.match(ps.stdout, /^ticker Exited \(137\) .* ago$/m);
  });

  test('stop: a process that handles SIGTERM exits at once with its own code', async () => {
    const id = (await d.berth(['run', '-d', 'busybox', 'sh', '-c', 'trap "echo bye; exit 0" TERM; while :; do sleep 0.1; done'])).stdout.trim();
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    const r = await d.berth(['stop', id]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - t0 < 5000, 'stop waited for the 10 s timeout instead of the process');
    const state = JSON.parse((await d.docker(['inspect', id])).stdout)[0].State;
    assert.equal(state.Status, 'exited');
    assert.equal(state.ExitCode, 0);
    assert.equal((await d.berth(['logs', id])).stdout, 'bye\n');
    await d.berth(['rm', id]);
  });

  test('start, kill, wait, rm', async () => {
    assert.equal((await d.berth(['start', 'ticker'])).code, 0);
    const inspect = JSON.parse((await d.docker(['inspect', 'ticker'])).stdout)[0];
    assert.equal(inspect.State.Status, 'running');
    assert.equal(inspect.Name, '/ticker');
    const waiter = d.docker(['wait', 'ticker']);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await d.berth(['kill', 'ticker'])).code, 0);
    const w = await waiter;
    assert.equal(w.stdout.trim(), '137');
    const rm = await d.berth(['rm', 'ticker']);
    assert.equal(rm.code, 0, rm.stderr);
    const gone = await d.docker(['inspect', 'ticker']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /No such object: ticker/);
  });

  test('--rm removes the container after exit; -e, -w, --entrypoint reach the process', async () => {
    const r = await d.berth(['run', '--rm', '--name', 'envtest', '-e', 'GREETING=hej', '-w', '/tmp', '--entrypoint', 'sh', 'busybox', '-c', 'echo $GREETING; pwd']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hej\n/tmp\n');
    const ps = await d.docker(['ps', '-a', '--filter', 'name=envtest', '-q']);
    assert.equal(ps.stdout.trim(), '');
  });

  test('auto names look like adjective_surname; a taken name is a 409 with Docker\'s message', async () => {
    const r = await d.docker(['create', 'busybox', 'true']);
    assert.equal(r.code, 0, r.stderr);
    const name = (await d.docker(['inspect', '-f', '{{.Name}}', r.stdout.trim()])).stdout.trim();
    assert.match(name, /^\/[a-z]+_[a-z]+\d?$/);
    const dup = await d.berth(['create', '--name', name.slice(1), 'busybox', 'true']);
    assert.equal(dup.code, 125);
    assert.match(dup.stderr, /Conflict\. The container name ".*" is already in use by container/);
    await d.berth(['rm', r.stdout.trim()]);
  });

  test('start -a attaches before starting: the output and the exit code reach the CLI', async () => {
    const id = (await d.docker(['create', 'busybox', 'sh', '-c', 'echo attached run; exit 5'])).stdout.trim();
    for (const cli of ['docker', 'berth'] as const) {
      const r = await d[cli](['start', '-a', id]);
      assert.equal(r.code, 5, `${cli}: ${r.stderr}`);
      assert.equal(r.stdout, 'attached run\n');
    }
    await d.berth(['rm', id]);
  });

  test('logs rotate with --log-opt max-size/max-file; --tail reads the newest', async () => {
    const r = await d.docker(['run', '--log-opt', 'max-size=2k', '--log-opt', 'max-file=2', 'busybox', 'sh', '-c', 'for i in $(seq 1 500); do echo line $i; done']);
    assert.equal(r.code, 0, r.stderr);
    const id = (await d.docker(['ps', '-lq', '--no-trunc'])).stdout.trim();
    const all = (await d.berth(['logs', id])).stdout.trim().split('\n');
    assert.ok(all.length > 50 && all.length < 500, `kept ${all.length} lines`);
    assert.equal(all.at(-1), 'line 500');
    assert.equal((await d.docker(['logs', '--tail', '2', id])).stdout, 'line 499\nline 500\n');
    // SDKs send tail=-1 for "all"; dockerd reads a negative or unparsable tail as all.
    for (const tail of ['-1', 'x']) {
      const r = await d.docker(['logs', '--tail', tail, id]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim().split('\n').length, all.length, `--tail ${tail}`);
    }
    await d.berth(['rm', id]);
  });

  test('logs -f follows until the container exits', async () => {
    const id = (await d.berth(['run', '-d', 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo line$i; sleep 0.3; done'])).stdout.trim();
    const r = await d.docker(['logs', '-f', id]);
    assert.equal(r.stdout, 'line1\nline2\nline3\n');
    await d.berth(['rm', id]);
  });

  for (const cli of ['berth', 'docker'] as const) {
    test(`${cli} run -it: a terminal of the client's size`, async () => {
      const { run } = await import('../helpers/daemon.js');
      const cmd = cli === 'docker' ? DOCKER_CLI : `${process.execPath} ${cliPath()}`;
      const r = await run('script', ['-qec', `stty cols 77 rows 22; ${cmd} run -it --rm busybox sh -c 'stty size; tty'`, '/dev/null'],
        { env: { ...process.env, DOCKER_HOST: d.host, BERTH_HOST: d.host } });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      // script echoes the EOF of its own (closed) stdin as ^@, wherever it falls in the output.
      const out = r.stdout.replaceAll('^@', '');
      assert.match(out, /^22 77\r*$/m);
      assert.match(out, /^\/dev\/pts\/\d+\r*$/m);
    });
  }

  test('unknown container → 404 message; malformed JSON → 400', async () => {
    const r = await d.berth(['logs', 'nosuch']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /No such container: nosuch/);
    const { run } = await import('../helpers/daemon.js');
    const bad = await run('curl', ['-s', '-w', '\n%{http_code}', '--unix-socket', d.socket,
      '-H', 'Content-Type: application/json', '-d', '{bad json', 'http://d/v1.45/containers/create']);
    const cut = bad.stdout.lastIndexOf('\n');
    const body = bad.stdout.slice(0, cut);
    const status = bad.stdout.slice(cut + 1);
    assert.equal(status, '400');
    assert.match(JSON.parse(body).message, /invalid JSON/);
    const wrongType = await run('curl', ['-s', '-w', '\n%{http_code}', '--unix-socket', d.socket,
      '-H', 'Content-Type: application/json', '-d', '{"Image":5}', 'http://d/v1.45/containers/create']);
    assert.match(wrongType.stdout, /field Image must be a string"[^]*\n400$/);
  });
});

describe('system', () => {
  test('version and info talk about Berth', async () => {
    const v = await d.docker(['version', '--format', '{{.Server.APIVersion}} {{.Server.MinAPIVersion}}']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout.trim(), /^1\.50 1\.24$/);
    const info = await d.berth(['info']);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /Storage Driver: overlay2/);
    assert.match(info.stdout, /Default Runtime: crun/);
    assert.match(info.stdout, /Images: \d+/);
    const dinfo = await d.docker(['info', '--format', '{{.Images}} {{.Driver}}']);
    assert.match(dinfo.stdout.trim(), /^\d+ overlay2$/);
  });
});

describe('daemon restart', () => {
  test('stopped containers, logs, exit codes and images survive; running ones keep running', async () => {
    const done = (await d.berth(['run', '--name', 'finished', 'busybox', 'sh', '-c', 'echo kept; exit 7'])).code;
    assert.equal(done, 7);
    const live = (await d.berth(['run', '-d', '--name', 'survivor', 'busybox', 'sh', '-c', 'echo up; sleep 300'])).stdout.trim();
    const pid = JSON.parse((await d.berth(['inspect', live])).stdout)[0].State.Pid;
    assert.ok(pid > 0);
    await d.kill('SIGKILL');
    // The container lives on without the daemon.
    assert.doesNotThrow(() => process.kill(pid, 0));
    await d.restart();
    const finished = JSON.parse((await d.docker(['inspect', 'finished'])).stdout)[0];
    assert.equal(finished.State.ExitCode, 7);
    assert.equal((await d.berth(['logs', 'finished'])).stdout, 'kept\n');
    const survivor = JSON.parse((await d.docker(['inspect', 'survivor'])).stdout)[0];
    assert.equal(survivor.State.Status, 'running');
    assert.equal(survivor.State.Pid, pid);
    assert.match((await d.berth(['images'])).stdout, /busybox/);
    // Still managed: stop works and the exit is recorded.
    assert.equal((await d.docker(['stop', '-t', '1', 'survivor'])).code, 0);
    const after = JSON.parse((await d.docker(['inspect', 'survivor'])).stdout)[0];
    assert.equal(after.State.Status, 'exited');
    assert.equal(existsSync(DOCKER_CLI), true);
  });
});

function cliPath(): string {
  return join(projectRoot(), 'dist', 'berth.mjs');
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail('condition not met in time');
}
