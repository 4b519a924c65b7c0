/**
 * attach, rename, pause/unpause, top, stats, prune (container, image, system) and events against
 * a real berthd, with the real docker CLI and with berth: what a user sees, exit codes included.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { run, startDaemonWithMirror, type TestDaemon } from '../helpers/daemon.js';
import { join } from 'node:path';
import { projectRoot } from '../../src/util/paths.js';

let d: TestDaemon;
const CLIS = ['docker', 'berth'] as const;

before(async () => {
  d = await startDaemonWithMirror({ images: ['busybox', 'hello-world'] });
  const r = await d.docker(['pull', 'busybox']);
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  const all = await d?.docker(['ps', '-aq']).catch(() => undefined);
  const ids = all?.stdout.split('\n').filter(Boolean) ?? [];
  if (ids.length) await d.docker(['rm', '-f', ...ids]).catch(() => undefined);
  await d?.stop();
});

async function api(method: string, path: string, extra: string[] = []): Promise<{ status: number; text: string; json: any }> {
  const r = await run('curl', ['-s', '-w', '\n%{http_code}', '-X', method, '--unix-socket', d.socket, ...extra, `http://d/v1.45${path}`]);
  const cut = r.stdout.lastIndexOf('\n');
  const text = r.stdout.slice(0, cut);
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: Number(r.stdout.slice(cut + 1)), text, json };
}

async function runDetached(args: string[]): Promise<string> {
  const r = await d.docker(['run', '-d', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

for (const cli of CLIS) {
  describe(`${cli}: attach, rename, pause, top, stats`, () => {
    const x = (args: string[], opts?: { input?: string; timeoutMs?: number }) => d[cli](args, opts);

    test('attach to a stopped container is refused', async () => {
      const id = (await d.docker(['create', '--name', `${cli}-stopped`, 'busybox', 'true'])).stdout.trim();
      assert.ok(id);
      const r = await x(['attach', `${cli}-stopped`]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /You cannot attach to a stopped container, start it first/);
      await d.docker(['rm', `${cli}-stopped`]);
    });

    test('attach: stdin in, output out, the exit code of the container', async () => {
      await runDetached(['-i', '--name', `${cli}-att`, 'busybox', 'sh', '-c', 'read line; echo "got $line"; echo err >&2; exit 3']);
      const r = await x(['attach', `${cli}-att`], { input: 'hello\n' });
      assert.equal(r.code, 3, r.stderr);
      assert.equal(r.stdout, 'got hello\n');
      assert.equal(r.stderr, 'err\n');
      await d.docker(['rm', `${cli}-att`]);
    });

    test('attach --no-stdin: output until the exit', async () => {
      await runDetached(['-i', '--name', `${cli}-ns`, 'busybox', 'sh', '-c', 'sleep 3; echo done; exit 4']);
      const r = await x(['attach', '--no-stdin', `${cli}-ns`], { input: 'ignored\n' });
      assert.equal(r.code, 4, r.stderr);
      assert.equal(r.stdout, 'done\n');
      await d.docker(['rm', `${cli}-ns`]);
    });

    test('rename: new name everywhere, conflicts and bad names refused', async () => {
      const id = await runDetached(['--name', `${cli}-old`, 'busybox', 'sleep', '300']);
      const r = await x(['rename', `${cli}-old`, `${cli}-new`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '');
      const i = await d.docker(['inspect', '-f', '{{.Name}}', id]);
      assert.equal(i.stdout.trim(), `/${cli}-new`);
      assert.equal((await d.docker(['inspect', `${cli}-old`])).code, 1);
      // the old name is free again
      const again = await d.docker(['create', '--name', `${cli}-old`, 'busybox', 'true']);
      assert.equal(again.code, 0, again.stderr);
      const taken = await x(['rename', `${cli}-new`, `${cli}-old`]);
      assert.equal(taken.code, 1);
      assert.match(taken.stderr, /Error response from daemon: Error when allocating new name: Conflict\. The container name "\/.*-old" is already in use by container "[0-9a-f]{64}"/);
      const same = await x(['rename', `${cli}-new`, `${cli}-new`]);
      assert.equal(same.code, 1);
      assert.match(same.stderr, /Renaming a container with the same name as its current name/);
      const bad = await x(['rename', `${cli}-new`, 'no spaces']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /Invalid container name/);
      const missing = await x(['rename', 'nosuchcontainer', 'whatever']);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /No such container: nosuchcontainer/);
      // the rename survives a daemon restart (persisted)
      await d.kill('SIGTERM');
      await d.restart();
      assert.equal((await d.docker(['inspect', '-f', '{{.Name}}', id])).stdout.trim(), `/${cli}-new`);
      const ev = await d.docker(['events', '--since', '0', '--until', String(Math.ceil(Date.now() / 1000)), '--filter', 'event=rename', '--format', '{{.Actor.Attributes.oldName}} {{.Actor.Attributes.name}}']);
      assert.match(ev.stdout, new RegExp(`/${cli}-old ${cli}-new`));
      await d.docker(['rm', '-f', `${cli}-new`, `${cli}-old`]);
    });

    test('pause and unpause: state, ps, errors; stop and kill still work on a paused container', async () => {
      const id = await runDetached(['--name', `${cli}-p`, 'busybox', 'sleep', '300']);
      const p = await x(['pause', `${cli}-p`]);
      assert.equal(p.code, 0, p.stderr);
      assert.equal(p.stdout, `${cli}-p\n`);
      const st = await d.docker(['inspect', '-f', '{{.State.Status}} {{.State.Paused}} {{.State.Running}}', id]);
      assert.equal(st.stdout.trim(), 'paused true true');
      const ps = await x(['ps', '--filter', `name=${cli}-p`, '--format', '{{.Status}}']);
      assert.match(ps.stdout, /^Up .* \(Paused\)\n$/);
      const again = await x(['pause', `${cli}-p`]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, new RegExp(`container ${id} is already paused`));
      const u = await x(['unpause', `${cli}-p`]);
      assert.equal(u.code, 0, u.stderr);
      assert.equal((await d.docker(['inspect', '-f', '{{.State.Status}}', id])).stdout.trim(), 'running');
      const u2 = await x(['unpause', `${cli}-p`]);
      assert.equal(u2.code, 1);
      assert.match(u2.stderr, new RegExp(`Container ${id} is not paused`));
      // kill while paused: the container ends (137), as in Docker
      await x(['pause', `${cli}-p`]);
      const k = await x(['kill', `${cli}-p`]);
      assert.equal(k.code, 0, k.stderr);
      const w = await d.docker(['wait', `${cli}-p`]);
      assert.equal(w.stdout.trim(), '137');
      // stop while paused
      await d.docker(['start', `${cli}-p`]);
      await x(['pause', `${cli}-p`]);
      const s = await x(['stop', '-t', '1', `${cli}-p`]);
      assert.equal(s.code, 0, s.stderr);
      assert.equal((await d.docker(['inspect', '-f', '{{.State.Status}}', id])).stdout.trim(), 'exited');
      const notRunning = await x(['pause', `${cli}-p`]);
      assert.equal(notRunning.code, 1);
      assert.match(notRunning.stderr, new RegExp(`container ${id} is not running`));
      await d.docker(['rm', `${cli}-p`]);
    });

    test('top: the container\'s processes only, ps options, 409 when stopped', async () => {
      const id = await runDetached(['--name', `${cli}-top`, 'busybox', 'sh', '-c', 'sleep 301 & sleep 302; echo done']);
      const r = await x(['top', `${cli}-top`]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.match(lines[0]!, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
      assert.equal(lines.length, 4, r.stdout);
      assert.ok(lines.some((l) => /sleep 301$/.test(l)));
      assert.ok(lines.some((l) => /sleep 302$/.test(l)));
      const aux = await x(['top', `${cli}-top`, 'aux']);
      assert.equal(aux.code, 0, aux.stderr);
      assert.match(aux.stdout.split('\n')[0]!, /^USER\s+PID\s+%CPU\s+%MEM/);
      const o = await x(['top', `${cli}-top`, '-o', 'pid,comm']);
      assert.equal(o.code, 0, o.stderr);
      assert.deepEqual(o.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/)[1]).sort(), ['sh', 'sleep', 'sleep']);
      await d.docker(['stop', '-t', '0', `${cli}-top`]);
      const stopped = await x(['top', `${cli}-top`]);
      assert.equal(stopped.code, 1);
      assert.match(stopped.stderr, new RegExp(`Error response from daemon: container ${id} is not running`));
      await d.docker(['rm', `${cli}-top`]);
    });

    test('stats --no-stream: one table row per container, --format', async () => {
      const id = await runDetached(['--name', `${cli}-st`, 'busybox', 'sleep', '300']);
      const r = await x(['stats', '--no-stream', `${cli}-st`]);
      assert.equal(r.code, 0, r.stderr);
      const [head, row] = r.stdout.trim().split('\n');
      assert.match(head!, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);
      assert.match(row!, new RegExp(`^${id.slice(0, 12)}\\s+${cli}-st\\s+\\d+\\.\\d\\d%\\s+[\\d.]+[KMG]?i?B / [\\d.]+[KMG]?i?B\\s+\\d+\\.\\d\\d%\\s+\\S+ / \\S+\\s+\\S+ / \\S+\\s+1$`));
      const f = await x(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}} {{.Container}}', `${cli}-st`]);
      assert.equal(f.stdout, `${cli}-st 1 ${cli}-st\n`);
      // without arguments: every running container
      const all = await x(['stats', '--no-stream', '--format', '{{.Name}}']);
      assert.equal(all.code, 0, all.stderr);
      assert.ok(all.stdout.split('\n').includes(`${cli}-st`), all.stdout);
      const missing = await x(['stats', '--no-stream', 'nosuchcontainer']);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /No such container: nosuchcontainer/);
      await d.docker(['rm', '-f', `${cli}-st`]);
    });
  });
}

describe('stats and top API', () => {
  test('a 500 leaves a trace in the daemon log: the request line and the stack', async () => {
    const id = await runDetached(['--name', 'api-500', 'busybox', 'sleep', '300']);
    // ps without a PID column: dockerd answers 500 too ("Couldn't find PID field in ps output").
    const r = await api('GET', `/containers/${id}/top?ps_args=-o%20comm`);
    assert.equal(r.status, 500, r.text);
    assert.equal(r.json.message, "Couldn't find PID field in ps output");
    const log = await d.log();
    assert.match(log, new RegExp(`berthd: 500 on GET /v1\\.45/containers/${id}/top\\?ps_args=-o%20comm: \\w*Error: Couldn't find PID field in ps output\\n\\s+at `));
    await d.docker(['rm', '-f', id]);
  });

  test('stream: one object a second with cpu, memory, pids, blkio; one-shot; a stopped container', async () => {
    const id = await runDetached(['--name', 'api-st', 'busybox', 'sh', '-c', 'i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; sleep 300']);
    const r = await run('curl', ['-s', '--max-time', '2.6', '--unix-socket', d.socket, `http://d/v1.45/containers/${id}/stats`]);
    const objs = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(objs.length >= 2 && objs.length <= 4, r.stdout);
    const [a, b] = objs;
    assert.equal(a.name, '/api-st');
    assert.equal(a.id, id);
    assert.equal(a.preread, '0001-01-01T00:00:00Z');
    assert.equal(b.preread, a.read);
    assert.ok(b.cpu_stats.cpu_usage.total_usage > 0);
    assert.equal(b.precpu_stats.cpu_usage.total_usage, a.cpu_stats.cpu_usage.total_usage);
    assert.ok(b.cpu_stats.system_cpu_usage > a.cpu_stats.system_cpu_usage);
    assert.ok(b.cpu_stats.online_cpus >= 1);
    assert.ok(Array.isArray(b.cpu_stats.cpu_usage.percpu_usage));
    assert.ok(b.memory_stats.usage > 0 && b.memory_stats.limit > 0);
    assert.equal(typeof b.memory_stats.stats.cache, 'number');
    assert.equal(b.pids_stats.current, 1);
    assert.ok('io_service_bytes_recursive' in b.blkio_stats);
    const one = await api('GET', `/containers/${id}/stats?stream=0&one-shot=1`);
    assert.equal(one.status, 200);
    assert.equal(one.json.preread, '0001-01-01T00:00:00Z');
    assert.equal(one.json.pids_stats.current, 1);
    const bad = await api('GET', `/containers/${id}/stats?stream=1&one-shot=1`);
    assert.equal(bad.status, 400);
    await d.docker(['stop', '-t', '0', 'api-st']);
    const stopped = await api('GET', `/containers/${id}/stats?stream=0`);
    assert.equal(stopped.status, 200);
    assert.equal(stopped.json.read, '0001-01-01T00:00:00Z');
    assert.equal(stopped.json.name, '/api-st');
    const top = await api('GET', `/containers/${id}/top`);
    assert.equal(top.status, 409);
    assert.equal(top.json.message, `container ${id} is not running`);
    assert.equal((await api('GET', '/containers/nosuch/top')).status, 404);
    assert.equal((await api('POST', `/containers/${id}/rename?name=`)).status, 400);
    await d.docker(['rm', 'api-st']);
  });
});

for (const cli of CLIS) {
  describe(`${cli}: ps filters`, () => {
    const x = (args: string[]) => d[cli](args);
    const names = async (args: string[]) => {
      const r = await x(['ps', ...args, '--format', '{{.Names}}']);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.split('\n').filter(Boolean).sort();
    };

    test('labels all match; other keys are alternatives; before/since; unknown keys refused', async () => {
      const p = `${cli}-psf`;
      const create = async (name: string, labels: string[], run = false) => {
        const r = await d.docker([run ? 'run' : 'create', '--name', name, ...labels.flatMap((l) => ['--label', l]), 'busybox', 'true']);
        assert.equal(r.code, 0, r.stderr);
      };
      await create(`${p}-both`, [`${p}=1`, 'a=1', 'b=2']);
      await create(`${p}-a`, [`${p}=1`, 'a=1']);
      await create(`${p}-exited`, [`${p}=1`], true);
      // Both labels must hold: the container with only a=1 is not listed.
      assert.deepEqual(await names(['-a', '-f', 'label=a=1', '-f', 'label=b=2']), [`${p}-both`]);
      assert.deepEqual(await names(['-a', '-f', 'label=a=1']), [`${p}-a`, `${p}-both`]);
      // Two statuses are alternatives: created and exited ones both; a status filter implies -a.
      assert.deepEqual(await names(['-f', `label=${p}`, '-f', 'status=exited', '-f', 'status=created']), [`${p}-a`, `${p}-both`, `${p}-exited`]);
      assert.deepEqual(await names(['-f', `label=${p}`, '-f', 'status=exited']), [`${p}-exited`]);
      assert.deepEqual(await names(['-a', '-f', `label=${p}`, '-f', 'exited=0']), [`${p}-exited`]);
      // Newest first: since lists those created after, before those created before.
      assert.deepEqual(await names(['-a', '-f', `label=${p}`, '-f', `since=${p}-both`]), [`${p}-a`, `${p}-exited`]);
      assert.deepEqual(await names(['-a', '-f', `label=${p}`, '-f', `before=${p}-exited`]), [`${p}-a`, `${p}-both`]);
      assert.deepEqual(await names(['-a', '-f', `name=${p}-ex`, '-f', 'is-task=false', '-f', 'health=none']), [`${p}-exited`]);
      // -s: the writable layer's bytes, and with the image's.
      const sized = await x(['ps', '-a', '-s', '-f', `name=${p}-exited`, '--format', '{{.Size}}']);
      assert.match(sized.stdout, /^[\d.]+k?B \(virtual [\d.]+[kM]B\)\n$/, sized.stdout + sized.stderr);
      const bad = await x(['ps', '-f', 'nope=1']);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /invalid filter 'nope'/);
      const badStatus = await x(['ps', '-f', 'status=sleepy']);
      assert.notEqual(badStatus.code, 0);
      assert.match(badStatus.stderr, /invalid filter 'status=sleepy'/);
      assert.equal((await d.docker(['rm', `${p}-both`, `${p}-a`, `${p}-exited`])).code, 0);
    });
  });
}

for (const cli of CLIS) {
  describe(`${cli}: prune and events`, () => {
    const x = (args: string[], opts?: { input?: string }) => d[cli](args, opts);

    test('container prune: stopped containers only, label filters, the prompt', async () => {
      const running = await runDetached(['--name', `${cli}-keep`, 'busybox', 'sleep', '300']);
      const a = (await d.docker(['create', '--label', 'x=1', 'busybox', 'true'])).stdout.trim();
      const b = (await d.docker(['create', '--label', 'x=2', 'busybox', 'true'])).stdout.trim();
      const no = await x(['container', 'prune'], { input: 'n\n' });
      assert.equal(no.code, 0, no.stderr);
      assert.equal(no.stdout, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ');
      assert.equal((await d.docker(['inspect', a])).code, 0);
      const f = await x(['container', 'prune', '-f', '--filter', 'label=x=1']);
      assert.equal(f.code, 0, f.stderr);
      assert.equal(f.stdout, `Deleted Containers:\n${a}\n\nTotal reclaimed space: 0B\n`);
      const yes = await x(['container', 'prune'], { input: 'y\n' });
      assert.equal(yes.code, 0, yes.stderr);
      assert.match(yes.stdout, new RegExp(`\\[y/N\\] Deleted Containers:\\n${b}\\n\\nTotal reclaimed space: `));
      assert.equal((await d.docker(['inspect', running])).code, 0);
      const none = await x(['container', 'prune', '-f']);
      assert.equal(none.stdout, 'Total reclaimed space: 0B\n');
      const badFilter = await x(['container', 'prune', '-f', '--filter', 'nope=1']);
      assert.equal(badFilter.code, 1);
      assert.match(badFilter.stderr, /invalid filter 'nope'/);
      await d.docker(['rm', '-f', running]);
    });

    test('system prune -f: containers, networks, images and build cache', async () => {
      const c = (await d.docker(['create', 'busybox', 'true'])).stdout.trim();
      const r = await x(['system', 'prune', '-f']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `Deleted Containers:\n${c}\n\nTotal reclaimed space: 0B\n`);
      assert.equal((await x(['image', 'prune', '-f'])).stdout, 'Total reclaimed space: 0B\n');
    });

    test('events: --since/--until, --filter, --format', async () => {
      const name = `${cli}-ev`;
      const t0 = Math.floor(Date.now() / 1000) - 1;
      const id = (await d.docker(['run', '--name', name, 'busybox', 'true'])).stdout.trim();
      void id;
      await d.docker(['rm', name]);
      const until = String(Math.ceil(Date.now() / 1000) + 1);
      const r = await x(['events', '--since', String(t0), '--until', until, '--filter', `container=${name}`]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.deepEqual(lines.map((l) => l.split(' ')[2]), ['create', 'attach', 'start', 'die', 'destroy'].filter((a) => lines.some((l) => l.split(' ')[2] === a)));
      assert.match(lines[0]!, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}(Z|[+-]\\d\\d:\\d\\d) container create [0-9a-f]{64} \\(image=busybox, name=${name}\\)$`));
      const f = await x(['events', '--since', String(t0), '--until', until, '--filter', `container=${name}`, '--filter', 'event=die', '--format', '{{.Action}} {{.Actor.Attributes.exitCode}}']);
      assert.equal(f.stdout, 'die 0\n');
      const j = await x(['events', '--since', String(t0), '--until', until, '--filter', `container=${name}`, '--filter', 'event=start', '--format', 'json']);
      const ev = JSON.parse(j.stdout);
      assert.equal(ev.Type, 'container');
      assert.equal(ev.Action, 'start');
      assert.equal(ev.Actor.Attributes.name, name);
    });
  });
}

describe('image prune', () => {
  test('dangling images go; -a takes every unused image; used ones stay', async () => {
    for (const cli of CLIS) {
      // a dangling image: its tag moved to another image (its digest reference stays), while a container holds it
      await d.docker(['pull', 'busybox']);
      await d.docker(['pull', 'hello-world']);
      const img = (await d.docker(['inspect', '-f', '{{.Id}}', 'busybox'])).stdout.trim();
      const c = (await d.docker(['create', 'busybox', 'true'])).stdout.trim();
      assert.equal((await d.docker(['tag', 'hello-world', 'busybox'])).code, 0);
      const kept = await d[cli](['image', 'prune', '-f']);
      assert.equal(kept.stdout, 'Total reclaimed space: 0B\n', 'an image a container uses stays');
      await d.docker(['rm', c]);
      const r = await d[cli](['image', 'prune', '-f']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^Deleted Images:\\nuntagged: busybox@sha256:[0-9a-f]{64}\\ndeleted: ${img}\\n(deleted: sha256:[0-9a-f]{64}\\n)*\\nTotal reclaimed space: [\\d.]+[kM]B\\n$`));
      assert.equal(new Set((await d.docker(['images', '-q'])).stdout.trim().split('\n')).size, 1, 'hello-world stays');
      assert.equal((await d.docker(['rmi', 'busybox', 'hello-world'])).code, 0);
      // -a: tagged but unused
      await d.docker(['pull', 'busybox']);
      const used = (await d.docker(['create', 'busybox', 'true'])).stdout.trim();
      const notAll = await d[cli](['image', 'prune', '-a', '-f']);
      assert.equal(notAll.stdout, 'Total reclaimed space: 0B\n');
      await d.docker(['rm', used]);
      const all = await d[cli](['image', 'prune', '-a', '-f']);
      assert.equal(all.code, 0, all.stderr);
      assert.match(all.stdout, /^Deleted Images:\n/);
      assert.match(all.stdout, /^untagged: busybox:latest$/m);
      assert.match(all.stdout, /^deleted: sha256:[0-9a-f]{64}$/m);
      assert.equal((await d.docker(['images', '-q'])).stdout, '');
    }
  });
});

test('cli-closed-pipe: berth logs into a reader that stops early (| head -1) ends quietly, as docker does', async () => {
  const id = (await d.berth(['run', '-d', 'busybox', 'sh', '-c', 'seq 1 20000'])).stdout.trim();
  assert.equal((await d.berth(['wait', id])).stdout.trim(), '0');
  const berth = [process.execPath, join(projectRoot(), 'dist', 'berth.mjs')].map((a) => `'${a}'`).join(' ');
  for (let i = 0; i < 3; i++) {
    const r = await run('sh', ['-c', `${berth} logs ${id} | head -1`], { env: { ...process.env, BERTH_HOST: d.host } });
    assert.equal(r.stdout, '1\n');
    assert.equal(r.stderr, '', 'no EPIPE stack trace');
  }
  assert.equal((await d.berth(['rm', id])).code, 0);
});
