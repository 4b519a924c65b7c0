/**
 * Drives the host runtime for real: berth-shim + crun + overlayfs, on a busybox rootfs.
 * Needs root, crun, gcc/make and busybox-static (/bin/busybox).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { buildSpec, createRuntime, ensureHostReady, type HostRuntime } from '../../src/engine/runtime/index.js';
import { isMountPoint as isMounted } from '../../src/engine/mountinfo.js';
import { projectRoot } from '../../src/util/paths.js';
import type { ExitStatus, OutputRecord, ShimConnection, StartRequest } from '../../src/engine/runtime/types.js';

let rt: HostRuntime;
let lower: string;
const made: Array<{ id: string; dir: string; target: string; pid?: number; shimPid?: number }> = [];

before(async () => {
  execFileSync('make', ['-s', '-C', join(projectRoot(), 'native/shim')], { stdio: 'inherit' });
  await ensureHostReady();
  rt = createRuntime();
  lower = await mkdtemp('/tmp/bt-');
  await mkdir(join(lower, 'bin'));
  await mkdir(join(lower, 'etc'));
  await mkdir(join(lower, 'tmp'));
  await copyFile('/bin/busybox', join(lower, 'bin/busybox'));
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  await Promise.all(applets.filter((a) => a !== 'busybox').map((a) => symlink('busybox', join(lower, 'bin', a))));
  await writeFile(join(lower, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n');
  await writeFile(join(lower, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  await writeFile(join(lower, 'bin/notexec'), '#!/bin/sh\necho no\n', { mode: 0o644 });
});

after(async () => {
  for (const c of made) {
    if (c.shimPid && rt.isAlive(c.shimPid) && c.pid) {
      try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ }
      for (let i = 0; i < 50 && rt.isAlive(c.shimPid); i++) await new Promise((r) => setTimeout(r, 50));
      if (rt.isAlive(c.shimPid)) try { process.kill(c.shimPid, 'SIGKILL'); } catch { /* gone */ }
    }
    await rt.cleanup(c.id, c.dir, c.target).catch(() => undefined);
    await rm(c.dir, { recursive: true, force: true });
  }
  if (lower) await rm(lower, { recursive: true, force: true });
});

async function newContainer(args: string[], opts: { openStdin?: boolean; tty?: boolean; env?: string[]; resources?: Record<string, unknown>; logMaxSize?: number; logMaxFiles?: number } = {}): Promise<StartRequest> {
  const dir = await mkdtemp('/tmp/bt-');
  const id = randomBytes(32).toString('hex');
  const target = join(dir, 'rootfs');
  await Promise.all(['upper', 'work', 'rootfs'].map((d) => mkdir(join(dir, d))));
  made.push({ id, dir, target });
  const spec = await buildSpec({ id, args, rootfsPath: target, env: opts.env, resources: opts.resources, tty: opts.tty }, lower);
  return {
    id, dir, spec, logPath: join(dir, 'container.log'), openStdin: !!opts.openStdin, tty: !!opts.tty,
    logMaxSize: opts.logMaxSize, logMaxFiles: opts.logMaxFiles,
    rootfs: { lowerDirs: [lower], upperDir: join(dir, 'upper'), workDir: join(dir, 'work'), target },
  };
}

function track(req: StartRequest, pid: number, shimPid: number): void {
  const m = made.find((c) => c.id === req.id)!;
  m.pid = pid;
  m.shimPid = shimPid;
}

interface Collected { out: string; err: string; records: OutputRecord[]; exit: Promise<ExitStatus>; closed: Promise<void> }
function collect(conn: ShimConnection): Collected {
  const c = { out: '', err: '', records: [] as OutputRecord[] } as Collected;
  conn.on('output', (r: OutputRecord) => {
    c.records.push(r);
    if (r.stream === 'stdout') c.out += r.data.toString(); else c.err += r.data.toString();
  });
  c.exit = new Promise((res) => conn.once('exit', res));
  c.closed = new Promise((res) => conn.once('close', () => res()));
  return c;
}

function shimProcessesFor(id: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (cmd.includes('berth-shim') && cmd.includes(id)) {
        const st = readFileSync(`/proc/${p}/stat`, 'utf8');
        if (!/\) Z /.test(st)) out.push(Number(p));
      }
    } catch { /* raced */ }
  }
  return out;
}

const cgroupGone = (id: string): boolean => !existsSync(`/sys/fs/cgroup/memory/berth/${id}`) && !existsSync(`/sys/fs/cgroup/pids/berth/${id}`);

test('output, exit code, and the shim cleans up after itself', async () => {
  const req = await newContainer(['sh', '-c', 'echo hello; echo oops >&2; printf partial; exit 3']);
  const t0 = performance.now();
  const { result, conn } = await rt.start(req);
  track(req, result.pid, result.shimPid);
  const c = collect(conn);
  assert.ok(result.pid > 0 && result.shimPid > 0);
  assert.match(result.startedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  const ex = await c.exit;
  const ms = performance.now() - t0;
  assert.equal(ex.exitCode, 3);
  assert.equal(ex.oomKilled, false);
  assert.equal(c.out, 'hello\npartial');
  assert.equal(c.err, 'oops\n');
  assert.ok(c.records.some((r) => r.partial && r.data.toString() === 'partial'));
  await c.closed;
  // exit file, unmounted, runtime state and cgroups gone, shim gone, socket gone
  assert.deepEqual(await rt.readExit(req.dir), ex);
  assert.equal(await isMounted(req.rootfs.target), false);
  assert.equal(existsSync(`/run/crun/${req.id}`), false);
  assert.ok(cgroupGone(req.id));
  assert.equal(existsSync(join(req.dir, 'shim.sock')), false);
  for (let i = 0; i < 100 && rt.isAlive(result.shimPid); i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(rt.isAlive(result.shimPid), false);
  const logs: string[] = [];
  for await (const r of rt.readLogs(req.logPath, { stdout: true, stderr: true })) logs.push(`${r.stream}:${r.data}`);
  // order across the two pipes is not defined; within a stream it is
  assert.deepEqual(logs.filter((l) => l.startsWith('stdout:')), ['stdout:hello\n', 'stdout:partial']);
  assert.deepEqual(logs.filter((l) => l.startsWith('stderr:')), ['stderr:oops\n']);
  await rt.cleanup(req.id, req.dir, req.rootfs.target); // idempotent
  process.stderr.write(`# start→exit of a short container: ${ms.toFixed(1)} ms\n`);
});

test('false exits 1; the network namespace has lo up; rlimits are capped', async () => {
  const r1 = await newContainer(['false']);
  const s1 = await rt.start(r1);
  track(r1, s1.result.pid, s1.result.shimPid);
  assert.equal((await collect(s1.conn).exit).exitCode, 1);

  const r2 = await newContainer(['sh', '-c', 'ip -o link show lo; ulimit -n; hostname']);
  const s2 = await rt.start(r2);
  track(r2, s2.result.pid, s2.result.shimPid);
  const c2 = collect(s2.conn);
  assert.equal((await c2.exit).exitCode, 0);
  assert.match(c2.out, /lo: <LOOPBACK,UP,LOWER_UP>/);
  const hard = Number(/Max open files\s+\S+\s+(\S+)/.exec(readFileSync('/proc/self/limits', 'utf8'))![1]);
  assert.ok(c2.out.includes(`\n${Math.min(hard, 1048576)}\n`), c2.out);
  assert.ok(c2.out.endsWith(`${r2.id.slice(0, 12)}\n`));
});

test('stdin is piped to cat', async () => {
  const req = await newContainer(['cat'], { openStdin: true });
  const { result, conn } = await rt.start(req);
  track(req, result.pid, result.shimPid);
  const c = collect(conn);
  conn.writeStdin(Buffer.from('hello stdin\n'));
  conn.writeStdin(Buffer.alloc(200000, 0x61));
  conn.closeStdin();
  const ex = await c.exit;
  assert.equal(ex.exitCode, 0);
  assert.equal(c.out.length, 'hello stdin\n'.length + 200000);
  assert.ok(c.out.startsWith('hello stdin\naaa'));
});

test('a missing executable fails with the 127 wording and leaves nothing behind', async () => {
  for (const [args, re] of [
    [['nosuch'], /exec: "nosuch": executable file not found in \$PATH/],
    [['/bin/notexec'], /permission denied/],
  ] as const) {
    const req = await newContainer([...args]);
    await assert.rejects(rt.start(req), (e: Error) => { assert.match(e.message, re); return true; });
    assert.equal(await isMounted(req.rootfs.target), false);
    assert.deepEqual(shimProcessesFor(req.id), []);
    assert.equal(existsSync(`/run/crun/${req.id}`), false);
    assert.ok(cgroupGone(req.id));
    assert.equal(await rt.readExit(req.dir), undefined);
  }
});

test('a running container survives its connections closing; reconnect; SIGTERM gives 143', async () => {
  const req = await newContainer(['sh', '-c', "trap 'echo got TERM; exit 143' TERM; echo up; sleep 1000 & wait"]);
  const { result, conn } = await rt.start(req);
  track(req, result.pid, result.shimPid);
  const c1 = collect(conn);
  for (let i = 0; i < 100 && !c1.out.includes('up'); i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(c1.out, 'up\n');
  conn.close();
  await c1.closed;
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(rt.isAlive(result.shimPid));
  process.kill(result.pid, 0); // container init still there

  const conn2 = await rt.connect(req.dir);
  const c2 = collect(conn2);
  const conn3 = await rt.connect(req.dir); // several clients at once
  const c3 = collect(conn3);
  assert.throws(() => rt.kill(result.pid, 'NOPE'), /Invalid signal: NOPE/);
  rt.kill(result.pid, 'SIGTERM');
  const ex = await c2.exit;
  assert.equal(ex.exitCode, 143);
  assert.equal((await c3.exit).exitCode, 143);
  assert.equal(c2.out, 'got TERM\n');
  await c2.closed;
  assert.equal((await rt.readExit(req.dir))?.exitCode, 143);
  assert.equal(await isMounted(req.rootfs.target), false);
  await assert.rejects(rt.connect(req.dir), /no running shim/);
});

test('containers outlive a SIGKILL of the daemon process group; 128+signal exit codes', async () => {
  const req = await newContainer(['sleep', '1000']);
  const script = join(req.dir, 'd.mts');
  const rtPath = join(projectRoot(), 'src/engine/runtime/index.ts');
  await writeFile(script, `import { createRuntime } from ${JSON.stringify(rtPath)};
const req = JSON.parse(process.argv[2]);
const { result } = await createRuntime().start(req);
process.stdout.write(JSON.stringify(result) + '\\n');
setInterval(() => {}, 1000);
`);
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(req)], {
    cwd: projectRoot(), detached: true, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d) => { buf += d; if (buf.includes('\n')) resolve(buf.split('\n')[0]!); });
    child.on('exit', (code) => reject(new Error(`daemon stand-in exited ${code}`)));
  });
  const result = JSON.parse(line) as { pid: number; shimPid: number };
  track(req, result.pid, result.shimPid);
  process.kill(-child.pid!, 'SIGKILL');
  await new Promise((r) => child.once('exit', r));
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(rt.isAlive(result.shimPid), 'shim survives');
  process.kill(result.pid, 0);
  const conn = await rt.connect(req.dir);
  const c = collect(conn);
  rt.kill(result.pid, 'KILL');
  assert.equal((await c.exit).exitCode, 137);
});

test('readLogs: tail and since on a real container log', async () => {
  const req = await newContainer(['sh', '-c', 'for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done; sleep 0.3; echo late']);
  const { result, conn } = await rt.start(req);
  track(req, result.pid, result.shimPid);
  await collect(conn).exit;
  const read = async (o: object): Promise<string[]> => {
    const a: string[] = [];
    for await (const r of rt.readLogs(req.logPath, { stdout: true, stderr: true, ...o })) a.push(r.data.toString().trim());
    return a;
  };
  const all = await read({});
  assert.equal(all.length, 11);
  assert.deepEqual(all.filter((x) => x.startsWith('out')), ['out1', 'out2', 'out3', 'out4', 'out5']);
  assert.deepEqual(await read({ tail: 2, stderr: false }), ['out5', 'late']);
  assert.deepEqual(await read({ tail: 1, stdout: false }), ['err5']);
  const recs: OutputRecord[] = [];
  for await (const r of rt.readLogs(req.logPath, { stdout: true, stderr: true })) recs.push(r);
  const tLate = recs.at(-1)!.timeNs;
  const tPrev = recs.at(-2)!.timeNs;
  const since = Number((tLate + tPrev) / 2n) / 1e9;
  assert.deepEqual(await read({ since }), ['late']);
  assert.deepEqual(await read({ until: since }), all.slice(0, 10));
});

test('an OOM kill is reported (137, oomKilled)', async () => {
  const req = await newContainer(['sh', '-c', 'a=$(head -c 100000000 /dev/zero | tr "\\0" a); echo survived'],
    { resources: { memory: { limit: 16 * 1024 * 1024, swap: 16 * 1024 * 1024 } } });
  const { result, conn } = await rt.start(req);
  track(req, result.pid, result.shimPid);
  const c = collect(conn);
  const ex = await c.exit;
  assert.equal(ex.exitCode, 137);
  assert.equal(ex.oomKilled, true);
  assert.equal(c.out, '');
  assert.equal((await rt.readExit(req.dir))?.oomKilled, true);
});

test('tty: a terminal, resize, input echo', async () => {
  const req = await newContainer(['sh', '-c', 'read x; echo "got $x"; stty size; tty; exit 5'], { tty: true, openStdin: true });
  const { result, conn } = await rt.start(req);
  track(req, result.pid, result.shimPid);
  const c = collect(conn);
  conn.resize(40, 100);
  await new Promise((r) => setTimeout(r, 100));
  conn.writeStdin(Buffer.from('abc\n'));
  const ex = await c.exit;
  assert.equal(ex.exitCode, 5);
  assert.equal(c.err, '');
  assert.match(c.out, /abc\r\ngot abc\r\n40 100\r\n\/dev\/pts\/0\r\n/);
  assert.equal(existsSync(join(req.dir, 'console.sock')), false);
});

test('log rotation by size keeps N files and readLogs reads across them', async () => {
  const req = await newContainer(['sh', '-c', 'i=0; while [ $i -lt 300 ]; do echo "line $i ........................................"; i=$((i+1)); done'],
    { logMaxSize: 4096, logMaxFiles: 3 });
  const { result, conn } = await rt.start(req);
  track(req, result.pid, result.shimPid);
  assert.equal((await collect(conn).exit).exitCode, 0);
  const { statSync } = await import('node:fs');
  for (const f of [req.logPath, `${req.logPath}.1`, `${req.logPath}.2`]) assert.ok(statSync(f).size <= 4096, f);
  assert.equal(existsSync(`${req.logPath}.3`), false);
  const lines: number[] = [];
  for await (const r of rt.readLogs(req.logPath, { stdout: true, stderr: true })) lines.push(Number(r.data.toString().split(' ')[1]));
  assert.equal(lines.at(-1), 299);
  assert.ok(lines.length > 100 && lines.length < 300, String(lines.length));
  assert.deepEqual(lines, Array.from({ length: lines.length }, (_, i) => 300 - lines.length + i));
  const tail: number[] = [];
  for await (const r of rt.readLogs(req.logPath, { stdout: true, stderr: true, tail: 120 })) tail.push(Number(r.data.toString().split(' ')[1]));
  assert.deepEqual(tail, lines.slice(-120));
});
