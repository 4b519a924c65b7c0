/**
 * Builds on a real berthd through both CLIs: the docker CLI's legacy builder path (POST /build,
 * DOCKER_BUILDKIT=0 behaviour: this CLI has no buildx) and `berth build`. A multi-stage build of
 * a small shell program, COPY --from, ARG/ENV expansion, .dockerignore, cache hits and misses
 * (also after a daemon restart), a failing RUN's exit code, the image runs and `history` lists
 * its steps, skipped stages, parallel stages, compressed contexts, a client that goes away.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeContainersAndStop, run, startDaemonWithImages, type TestDaemon } from '../helpers/daemon.js';
import { writeContext } from '../helpers/build-context.js';

let d: TestDaemon;
let tmp: string;

before(async () => {
  d = await startDaemonWithImages(['busybox']);
  tmp = mkdtempSync('/tmp/berth-build-test-');
});

after(async () => {
  await removeContainersAndStop(d);
  rmSync(tmp, { recursive: true, force: true });
});

function context(name: string, files: Record<string, string>): string {
  return writeContext(tmp, name, files);
}

const PROGRAM = `#!/bin/sh
echo "hello from $APP_NAME"
cat /app/built.txt
`;

const MULTI = `# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM \${BASE} AS build
ARG GREETING=hi
ENV APP_DIR=/src
WORKDIR \${APP_DIR}
COPY hello.sh ./
RUN chmod 755 hello.sh && echo "built with \${GREETING:-none} \${UNSET:+x}" > built.txt

FROM busybox
ENV APP_NAME=multi
COPY --from=build /src/hello.sh /src/built.txt /app/
CMD ["/app/hello.sh"]
`;

async function containerIds(): Promise<string[]> {
  return (await d.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
}

const steps = (out: string) => [...out.matchAll(/^Step \d+\/\d+ : /gm)].length;
const cacheHits = (out: string) => [...out.matchAll(/^ ---> Using cache$/gm)].length;

describe('docker build (legacy builder API)', () => {
  let ctx: string;
  before(() => { ctx = context('multi', { 'Dockerfile': MULTI, 'hello.sh': PROGRAM }); });

  test('a multi-stage build of a shell program: the stream docker prints, the image runs, history shows the steps', async () => {
    const r = await d.docker(['build', '--build-arg', 'GREETING=care', '-t', 'multi:1', ctx], { timeoutMs: 180_000 });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^Step 1\/11 : ARG BASE=busybox$/m);
    assert.match(r.stdout, /^Step 2\/11 : FROM \$\{BASE\} AS build$/m);
    assert.match(r.stdout, /^ ---> Running in [0-9a-f]{12}$/m);
    assert.match(r.stdout, /^Removing intermediate container [0-9a-f]{12}$/m);
    assert.match(r.stdout, /^Successfully built [0-9a-f]{12}$/m);
    assert.match(r.stdout, /^Successfully tagged multi:1$/m);
    assert.equal(steps(r.stdout), 11);
    const out = await d.docker(['run', '--rm', 'multi:1']);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, 'hello from multi\nbuilt with care \n');
    const h = await d.docker(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'multi:1']);
    assert.equal(h.code, 0, h.stderr);
    const lines = h.stdout.split('\n');
    assert.match(lines[0]!, /#\(nop\) {2}CMD \["\/app\/hello.sh"\]/);
    assert.match(lines[1]!, /#\(nop\) COPY multi:[0-9a-f]{64} in \/app\/ /);
    assert.match(lines[2]!, /#\(nop\) {2}ENV APP_NAME=multi/);
    const inspect = JSON.parse((await d.docker(['image', 'inspect', 'multi:1'])).stdout)[0];
    assert.deepEqual(inspect.Config.Cmd, ['/app/hello.sh']);
    assert.ok(inspect.Config.Env.includes('APP_NAME=multi'));
    assert.deepEqual(await containerIds(), [], 'no step container is left');
  });

  test('the same build again: every step after FROM is "Using cache", same image', async () => {
    const first = (await d.docker(['image', 'inspect', '--format', '{{.Id}}', 'multi:1'])).stdout.trim();
    const r = await d.docker(['build', '--build-arg', 'GREETING=care', '-t', 'multi:1', ctx], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(cacheHits(r.stdout), 8, r.stdout); // 11 steps less 1 global ARG and 2 FROMs
    assert.doesNotMatch(r.stdout, /Running in/);
    assert.match(r.stdout, new RegExp(`Successfully built ${first.slice(7, 19)}`));
  });

  test('a changed build-arg misses from the first step that reads it; a one-line change near the end rebuilds only from there', async () => {
    const arg = await d.docker(['build', '--build-arg', 'GREETING=other', ctx], { timeoutMs: 120_000 });
    assert.equal(arg.code, 0, arg.stderr);
    const [stage1, stage2] = arg.stdout.split(/^Step 8\/11 /m);
    assert.equal(cacheHits(stage1!), 0, arg.stdout); // from ARG GREETING on, every step of the first stage
    assert.equal(cacheHits(stage2!), 1, arg.stdout); // ENV APP_NAME; the copied files differ then
    const changed = context('multi-changed', { 'Dockerfile': MULTI.replace('CMD ["/app/hello.sh"]', 'CMD ["/app/hello.sh", "x"]'), 'hello.sh': PROGRAM });
    const r = await d.docker(['build', '--build-arg', 'GREETING=care', changed], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    const parts = r.stdout.split(/^Step 11\/11 /m);
    assert.equal(cacheHits(parts[0]!), 7, r.stdout);
    assert.equal(cacheHits(parts[1]!), 0, r.stdout);
  });

  test('a changed source file rebuilds from its COPY on', async () => {
    const c = context('multi-src', { 'Dockerfile': MULTI, 'hello.sh': PROGRAM + 'echo changed\n' });
    const r = await d.docker(['build', '--build-arg', 'GREETING=care', '-t', 'multi:2', c], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    const beforeCopy = r.stdout.split(/^Step 6\/11 : COPY hello.sh/m)[0]!;
    assert.equal(cacheHits(beforeCopy), 3); // ARG, ENV, WORKDIR
    assert.match(r.stdout, /Running in/);
    assert.match((await d.docker(['run', '--rm', 'multi:2'])).stdout, /changed/);
  });

  test('a failing RUN: the CLI exits with its code and dockerd\'s message; no container is left', async () => {
    const c = context('fail', { 'Dockerfile': 'FROM busybox\nRUN echo before\nRUN exit 3\nRUN echo never\n' });
    const r = await d.docker(['build', c], { timeoutMs: 120_000 });
    assert.equal(r.code, 3, r.stderr + r.stdout);
    assert.match(r.stderr, /The command '\/bin\/sh -c exit 3' returned a non-zero code: 3/);
    assert.doesNotMatch(r.stdout, /Step 4\/4/);
    assert.deepEqual(await containerIds(), []);
  });

  test('.dockerignore leaves files out of COPY; ! re-includes; the Dockerfile itself is still read', async () => {
    const c = context('ignore', {
      'Dockerfile': 'FROM busybox\nCOPY . /ctx/\nCMD ["sh", "-c", "cd /ctx && find . -type f | sort"]\n',
      '.dockerignore': '*.log\nsecret/\n!keep.log\nDockerfile\n',
      'a.txt': 'a', 'b.log': 'b', 'keep.log': 'k', 'secret/key': 's', 'sub/c.txt': 'c',
    });
    const r = await d.docker(['build', '-q', '-t', 'ignore:1', c], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.trim(), /^sha256:[0-9a-f]{64}$/);
    const ls = await d.docker(['run', '--rm', 'ignore:1']);
    assert.equal(ls.stdout, './.dockerignore\n./a.txt\n./keep.log\n./sub/c.txt\n');
  });

  test('a Dockerfile outside the context (-f), and a Dockerfile alone on stdin', async () => {
    const c = context('outside-ctx', { 'data.txt': 'outside-data\n' });
    const df = join(tmp, 'Other.Dockerfile');
    writeFileSync(df, 'FROM busybox\nCOPY data.txt /\nCMD ["cat", "/data.txt"]\n');
    const r = await d.docker(['build', '-f', df, '-t', 'outside:1', c], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await d.docker(['run', '--rm', 'outside:1'])).stdout, 'outside-data\n');
    const s = await d.docker(['build', '-t', 'stdin:1', '-'], { input: 'FROM busybox\nLABEL from=stdin\n', timeoutMs: 120_000 });
    assert.equal(s.code, 0, s.stderr);
    assert.equal((await d.docker(['image', 'inspect', '--format', '{{index .Config.Labels "from"}}', 'stdin:1'])).stdout.trim(), 'stdin');
  });
});

describe('berth build', () => {
  test('compact view with steps, cache hits and timings; -q, --iidfile, --label, --target skips stages the target does not need', async () => {
    const c = context('berth-multi', {
      'Dockerfile': `FROM busybox AS unused
RUN exit 9
FROM busybox AS base
ARG WHO
RUN echo "base for \${WHO}" > /base.txt
FROM base AS final
COPY --from=base --chmod=600 /base.txt /copied.txt
CMD ["cat", "/copied.txt"]
FROM busybox AS after
RUN exit 7
`,
    });
    const r = await d.berth(['build', '--target', 'final', '--build-arg', 'WHO=berth', '--label', 'k=v', '-t', 'bb:1', c], { timeoutMs: 180_000 });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^\[1\/7\] FROM busybox AS base$/m);
    assert.match(r.stdout, /^ {2}=> done \d+\.\ds$/m);
    assert.match(r.stdout, /^Successfully built [0-9a-f]{12} in \d+\.\ds$/m);
    assert.match(r.stdout, /^\[7\/7\] LABEL "k"="v"$/m);
    assert.doesNotMatch(r.stdout, /exit 9|exit 7/);
    const run1 = await d.berth(['run', '--rm', 'bb:1']);
    assert.equal(run1.stdout, 'base for berth\n');
    const mode = await d.berth(['run', '--rm', 'bb:1', 'stat', '-c', '%a', '/copied.txt']);
    assert.equal(mode.stdout, '600\n');
    const iid = join(tmp, 'iid');
    const q = await d.berth(['build', '-q', '--iidfile', iid, '--target', 'final', '--build-arg', 'WHO=berth', '--label', 'k=v', c], { timeoutMs: 120_000 });
    assert.equal(q.code, 0, q.stderr);
    const id = (await d.berth(['image', 'inspect', '--format', '{{.Id}}', 'bb:1'])).stdout.trim();
    assert.equal(q.stdout, `${id}\n`);
    assert.equal(readFileSync(iid, 'utf8'), id);
    const again = await d.berth(['build', '--target', 'final', '--build-arg', 'WHO=berth', '--label', 'k=v', c], { timeoutMs: 120_000 });
    assert.equal([...again.stdout.matchAll(/=> CACHED/g)].length, 5, again.stdout);
  });

  test('a failing RUN: berth exits with its code and prints the message', async () => {
    const c = context('berth-fail', { 'Dockerfile': 'FROM busybox\nRUN echo out; exit 4\n' });
    const r = await d.berth(['build', c], { timeoutMs: 120_000 });
    assert.equal(r.code, 4);
    assert.match(r.stdout, / {2}\| out/);
    assert.match(r.stderr, /The command '\/bin\/sh -c echo out; exit 4' returned a non-zero code: 4/);
    assert.deepEqual(await containerIds(), []);
  });

  test('independent stages run at once', async () => {
    const c = context('parallel', {
      'Dockerfile': 'FROM busybox AS a\nRUN sleep 3; echo a > /a\nFROM busybox AS b\nRUN sleep 3; echo b > /b\nFROM busybox\nCOPY --from=a /a /a\nCOPY --from=b /b /b\n',
    });
    const since = (Date.now() / 1000).toFixed(3);
    const r = await d.berth(['build', '--no-cache', c], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const ev = await d.docker(['events', '--since', since, '--until', String(Math.ceil(Date.now() / 1000) + 1),
      '--filter', 'type=container', '--filter', 'event=start', '--filter', 'event=die', '--format', '{{.Action}} {{.Actor.ID}}']);
    const lines = ev.stdout.split('\n').filter(Boolean);
    const starts = lines.map((l, i) => [l, i] as const).filter(([l]) => l.startsWith('start'));
    const firstDie = lines.findIndex((l) => l.startsWith('die'));
    assert.equal(starts.length, 2, ev.stdout);
    assert.ok(starts.every(([, i]) => i < firstDie), `both RUNs started before either ended:\n${ev.stdout}`);
  });
});

describe('instructions', () => {
  test('heredocs, ADD of a local tar and of a loopback URL, COPY --chown, USER, ONBUILD triggers, EXPOSE/VOLUME/STOPSIGNAL/HEALTHCHECK', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((_req, res) => { res.writeHead(200, { 'Last-Modified': 'Tue, 01 Jan 2019 00:00:00 GMT' }); res.end('from the url\n'); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const c = context('instructions', { 'Dockerfile': `FROM busybox
ARG WHO=heredoc
RUN <<EOF
echo "run by $WHO" > /run.txt
EOF
COPY <<EOF /etc/greeting
hello \${WHO}
EOF
ADD files.tar.gz /unpacked/
ADD http://127.0.0.1:${port}/remote.txt /downloads/
COPY --chown=1000:1000 owned.txt /owned.txt
USER 1000
EXPOSE 8000-8001/udp 80
VOLUME ["/data"]
STOPSIGNAL SIGUSR1
HEALTHCHECK --interval=5s CMD true
ONBUILD RUN echo triggered > /tmp/onbuild.txt
`, 'owned.txt': 'mine\n' });
      mkdirSync(join(c, 'tarsrc', 'dir'), { recursive: true });
      writeFileSync(join(c, 'tarsrc', 'dir', 'inner.txt'), 'inside the tar\n');
      assert.equal((await run('tar', ['-C', join(c, 'tarsrc'), '-czf', join(c, 'files.tar.gz'), 'dir'])).code, 0);
      const r = await d.docker(['build', '-t', 'instr:1', c], { timeoutMs: 180_000 });
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const cat = await d.docker(['run', '--rm', '-u', '0', 'instr:1', 'sh', '-c',
        'cat /run.txt /etc/greeting /unpacked/dir/inner.txt /downloads/remote.txt; stat -c "%u:%g %a" /owned.txt /downloads/remote.txt']);
      assert.equal(cat.stdout, 'run by heredoc\nhello heredoc\ninside the tar\nfrom the url\n1000:1000 644\n0:0 600\n', cat.stderr);
      assert.equal((await d.docker(['run', '--rm', 'instr:1', 'id', '-u'])).stdout, '1000\n');
      const cfg = JSON.parse((await d.docker(['image', 'inspect', 'instr:1'])).stdout)[0].Config;
      assert.deepEqual(Object.keys(cfg.ExposedPorts).sort(), ['80/tcp', '8000/udp', '8001/udp']);
      assert.deepEqual(cfg.Volumes, { '/data': {} });
      assert.equal(cfg.StopSignal, 'SIGUSR1');
      assert.deepEqual(cfg.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 5e9 });
      assert.deepEqual(cfg.OnBuild, ['RUN echo triggered > /tmp/onbuild.txt']);
      const child = context('onbuild-child', { 'Dockerfile': 'FROM instr:1\nUSER 0\n' });
      const cr = await d.docker(['build', '-t', 'instr:child', child], { timeoutMs: 120_000 });
      assert.equal(cr.code, 0, cr.stderr + cr.stdout);
      assert.match(cr.stdout, /# Executing 1 build trigger/);
      assert.equal((await d.docker(['run', '--rm', 'instr:child', 'cat', '/tmp/onbuild.txt'])).stdout, 'triggered\n');
    } finally {
      server.close();
    }
  });
});

describe('cache, contexts and clean-up', () => {
  test('the cache survives a daemon restart; system df counts it; builder prune empties it', async () => {
    const c = context('restart', { 'Dockerfile': 'FROM busybox\nRUN echo one > /one\nENV X=1\n' });
    const first = await d.docker(['build', c], { timeoutMs: 120_000 });
    assert.equal(first.code, 0, first.stderr);
    await d.kill('SIGTERM');
    await d.restart();
    const second = await d.docker(['build', c], { timeoutMs: 120_000 });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(cacheHits(second.stdout), 2, second.stdout);
    const df = JSON.parse((await d.docker(['system', 'df', '--format', 'json'])).stdout.split('\n').find((l) => l.includes('Build Cache'))!);
    assert.ok(Number(df.TotalCount) > 0, JSON.stringify(df));
    const prune = await d.docker(['builder', 'prune', '-f']);
    assert.equal(prune.code, 0, prune.stderr);
    assert.match(prune.stdout, /Deleted build cache objects:/);
    const third = await d.docker(['build', c], { timeoutMs: 120_000 });
    assert.equal(cacheHits(third.stdout), 0, third.stdout);
  });

  test('compressed contexts (gzip, bzip2, xz) and Content-Encoding: gzip', async () => {
    const c = context('compressed', { 'Dockerfile': 'FROM busybox\nCOPY f /f\n', 'f': 'content\n' });
    const tar = join(tmp, 'ctx.tar');
    assert.equal((await run('tar', ['-C', c, '-cf', tar, '.'])).code, 0);
    for (const [tool, args] of [['gzip', ['-kf']], ['bzip2', ['-kf']], ['xz', ['-kf']]] as const) {
      assert.equal((await run(tool, [...args, tar])).code, 0);
    }
    for (const [file, headers] of [[`${tar}.gz`, []], [`${tar}.bz2`, []], [`${tar}.xz`, []], [`${tar}.gz`, ['-H', 'Content-Encoding: gzip']]] as const) {
      const tag = `comp:${file.split('.').pop()}${headers.length ? 'enc' : ''}`;
      const r = await run('curl', ['-sS', '--unix-socket', d.socket, '-X', 'POST', '-H', 'Content-Type: application/x-tar', ...headers,
        '--data-binary', `@${headers.length ? tar + '.gz' : file}`, `http://d/build?t=${encodeURIComponent(tag)}`], { timeoutMs: 120_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Successfully tagged/, `${file} ${headers.join(' ')}: ${r.stdout}`);
      assert.equal((await d.docker(['run', '--rm', tag, 'cat', '/f'])).stdout, 'content\n');
    }
  });

  test('query parameters Berth cannot honour are a 400 naming them', async () => {
    for (const q of ['squash=1', 'version=2', 'isolation=hyperv', 'platform=linux/s390x', 'outputs=x']) {
      const r = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--unix-socket', d.socket, '-X', 'POST', `http://d/build?${q}`, '--data-binary', '']);
      assert.equal(r.stdout, '400', q);
    }
  });

  test('a client that goes away mid-RUN: the step container is killed and removed', async () => {
    const c = context('cancel', { 'Dockerfile': 'FROM busybox\nRUN echo started; sleep 120\n' });
    const child = spawn(process.execPath, [join(process.cwd(), 'dist', 'berth.mjs'), 'build', '--no-cache', c], {
      env: { ...process.env, BERTH_HOST: d.host, DOCKER_HOST: d.host }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (b: Buffer) => { out += b.toString(); if (out.includes('| started')) resolve(); });
      child.on('exit', () => resolve());
    });
    assert.match(out, /\| started/, err);
    assert.equal((await containerIds()).length, 1);
    child.kill('SIGINT');
    for (let i = 0; i < 200 && (await containerIds()).length; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(await containerIds(), []);
  });
});
