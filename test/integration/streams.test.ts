/**
 * The daemon's streams under clients that misbehave or race: each test is named after the hole it
 * closes. Memory bounds (issue 8) are measured from outside — how much a client that stops reading
 * or never stops writing gets the daemon to hold, and the daemon's peak RSS (VmHWM, reset through
 * /proc/PID/clear_refs) — and the stream bugs real clients hit (issue 7) are driven through both
 * CLIs, berth and docker.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, startDaemonWithMirror, DOCKER_CLI, type TestDaemon } from '../helpers/daemon.js';
import { projectRoot } from '../../src/util/paths.js';

const MiB = 1024 * 1024;
let d: TestDaemon;
let tmp = '';

before(async () => {
  d = await startDaemonWithMirror({ images: ['busybox'] });
  tmp = mkdtempSync('/tmp/bt-streams-');
});

after(async () => {
  await d?.docker(['rm', '-f', 'st-out', 'st-in', 'st-ev', 'st-seq', 'st-exec']).catch(() => undefined);
  await d?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const cliPath = () => join(projectRoot(), 'dist', 'berth.mjs');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The daemon's peak RSS is reset to its current RSS; returns the current RSS in bytes. */
function resetPeak(pid: number): number {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
  return statusKb(pid, 'VmRSS') * 1024;
}
function peak(pid: number): number { return statusKb(pid, 'VmHWM') * 1024; }
function statusKb(pid: number, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

/** A raw upgraded (or plain streaming) request on the daemon's socket; the response head is not parsed. */
function rawRequest(method: string, path: string, body = '', upgrade = true): Socket {
  const s = connect(d.socket);
  // Not upgraded: `Connection: close`, so the end of the response is the end of the socket.
  s.write(`${method} /v1.45${path} HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n`
    + (upgrade ? 'Connection: Upgrade\r\nUpgrade: tcp\r\n' : 'Connection: close\r\n') + `\r\n${body}`);
  return s;
}

/**
 * Read what is left on a socket: the byte count and whether the daemon ended the stream. Gives up
 * (not ended) after `quietMs` without data, 20 s in all, or past 64 MiB: a stream that goes on.
 */
function drain(s: Socket, quietMs = 4000): Promise<{ bytes: number; ended: boolean; text: string }> {
  return new Promise((resolve) => {
    let bytes = 0;
    let text = '';
    let timer: NodeJS.Timeout;
    let settled = false;
    const done = (ended: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(overall);
      s.removeAllListeners('data');
      s.destroy();
      resolve({ bytes, ended, text });
    };
    const overall = setTimeout(() => done(false), 20_000);
    const arm = () => { clearTimeout(timer); timer = setTimeout(() => done(false), quietMs); };
    s.on('data', (c: Buffer) => {
      bytes += c.length;
      if (text.length < 64 * 1024) text += c.toString('latin1');
      if (bytes > 64 * MiB) done(false);
      else arm();
    });
    s.once('end', () => done(true));
    s.once('close', () => done(true));
    arm();
    s.resume();
  });
}

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const payload = body === undefined ? '' : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: d.socket, method, path: `/v1.45${path}`, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

// ---- issue 8: memory bounds ----

test('attach-slow-reader-unbounded: an attach or logs -f client that stops reading is dropped, not queued for', async () => {
  // About 10 MiB/s of output, without newlines (16 KiB records); the log rotates at 1 MiB.
  const r = await d.docker(['run', '-d', '--name', 'st-out', '--log-opt', 'max-size=1m', '--log-opt', 'max-file=2', 'busybox', 'sh', '-c',
    'while :; do head -c 1048576 /dev/zero; sleep 0.1; done']);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  await sleep(500);
  const base = resetPeak(d.pid);
  const attach = rawRequest('POST', `/containers/${id}/attach?stream=1&stdout=1&stderr=1`);
  const follow = rawRequest('GET', `/containers/${id}/logs?follow=1&stdout=1&tail=0`, '', false);
  attach.pause();
  follow.pause();
  // 60+ MiB go by while neither reads.
  await sleep(7000);
  const grown = peak(d.pid) - base;
  const [a, f] = await Promise.all([drain(attach), drain(follow)]);
  await d.docker(['rm', '-f', 'st-out']);
  assert.ok(a.ended, `the slow attach client was not dropped (got ${a.bytes} bytes and the stream went on)`);
  assert.ok(f.ended, `the slow logs -f client was not dropped (got ${f.bytes} bytes and the stream went on)`);
  // What a dropped client still gets: the 4 MiB queue cap plus socket buffers.
  assert.ok(a.bytes < 16 * MiB, `attach client got ${a.bytes} bytes`);
  assert.ok(f.bytes < 16 * MiB, `logs client got ${f.bytes} bytes`);
  assert.ok(grown < 48 * MiB, `daemon RSS peak grew by ${(grown / MiB).toFixed(1)} MiB`);
});

test('stdin-no-backpressure: a client writing stdin faster than the container reads is paused', async () => {
  const r = await d.docker(['run', '-d', '-i', '--name', 'st-in', 'busybox', 'sleep', '300']);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  const base = resetPeak(d.pid);
  const s = rawRequest('POST', `/containers/${id}/attach?stream=1&stdin=1&stdout=1`);
  s.on('data', () => undefined);
  const chunk = Buffer.alloc(MiB, 0x61);
  let written = 0;
  // Write until 256 MiB are in, or the daemon has taken nothing for 3 s.
  while (written < 256 * MiB) {
    written += chunk.length;
    if (!s.write(chunk)) {
      const drained = await Promise.race([new Promise((res) => s.once('drain', () => res(true))), sleep(3000).then(() => false)]);
      if (!drained) break;
    }
  }
  const accepted = written - s.writableLength;
  const grown = peak(d.pid) - base;
  s.destroy();
  await d.docker(['rm', '-f', 'st-in']);
  assert.ok(accepted < 32 * MiB, `the daemon took ${(accepted / MiB).toFixed(1)} MiB of stdin the container never read`);
  assert.ok(grown < 48 * MiB, `daemon RSS peak grew by ${(grown / MiB).toFixed(1)} MiB`);
});

test('events-slow-reader: a /events client that stops reading is dropped after a bounded queue', async () => {
  // Every exec_create event carries the container's labels: 16 KiB each here.
  const r = await d.docker(['run', '-d', '--name', 'st-ev', '--label', `big=${'x'.repeat(16 * 1024)}`, 'busybox', 'sleep', '300']);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  const ev = rawRequest('GET', `/events?filters=${encodeURIComponent(JSON.stringify({ container: [id] }))}`, '', false);
  ev.pause();
  await sleep(300);
  const N = 600; // ~10 MiB of events
  for (let i = 0; i < N; i += 20) {
    await Promise.all(Array.from({ length: 20 }, () => api('POST', `/containers/${id}/exec`, { Cmd: ['true'] })));
  }
  const got = await drain(ev);
  const events = got.text.split('exec_create').length - 1;
  await d.docker(['rm', '-f', 'st-ev']);
  assert.ok(got.ended, `the slow events client was not dropped (${got.bytes} bytes and the stream went on)`);
  assert.ok(got.bytes < 6 * MiB, `events client got ${got.bytes} bytes of ${N} events`);
  assert.ok(events > 0, 'the events before the cap are sent');
});

test('logs-tail-huge: logs --tail 1000000 of a million-line log streams with bounded memory', async () => {
  const r = await d.docker(['run', '-d', '--name', 'st-seq', 'busybox', 'seq', '1000000']);
  assert.equal(r.code, 0, r.stderr);
  const w = await d.docker(['wait', 'st-seq'], { timeoutMs: 180_000 });
  assert.equal(w.stdout.trim(), '0');
  const base = resetPeak(d.pid);
  const all = await run('curl', ['-s', '-o', join(tmp, 'tail.out'), '--unix-socket', d.socket,
    'http://d/v1.45/containers/st-seq/logs?stdout=1&tail=1000000'], { timeoutMs: 180_000 });
  const grown = peak(d.pid) - base;
  assert.equal(all.code, 0);
  assert.ok(grown < 64 * MiB, `daemon RSS peak grew by ${(grown / MiB).toFixed(1)} MiB while sending the tail`);
  // Every line, "1\n" … "1000000\n" (6,888,896 bytes), in stdcopy frames.
  const text = framedPayload(readFileSync(join(tmp, 'tail.out'))).toString();
  assert.equal(text.length, 6_888_896);
  assert.ok(text.startsWith('1\n2\n3\n'));
  assert.ok(text.endsWith('\n999999\n1000000\n'));
  // A tail past what exists is everything; a small one is exactly the last lines (not record pieces).
  await run('curl', ['-s', '-o', join(tmp, 'tail.out'), '--unix-socket', d.socket,
    'http://d/v1.45/containers/st-seq/logs?stdout=1&tail=5000000'], { timeoutMs: 180_000 });
  assert.equal(framedPayload(readFileSync(join(tmp, 'tail.out'))).length, 6_888_896);
  await run('curl', ['-s', '-o', join(tmp, 'tail.out'), '--unix-socket', d.socket,
    'http://d/v1.45/containers/st-seq/logs?stdout=1&tail=500000'], { timeoutMs: 180_000 });
  const half = framedPayload(readFileSync(join(tmp, 'tail.out'))).toString();
  assert.equal(half.split('\n').length - 1, 500_000);
  assert.ok(half.startsWith('500001\n'));
  for (const cli of ['berth', 'docker'] as const) {
    const t = cli === 'docker' ? await d.docker(['logs', '--tail', '3', 'st-seq']) : await d.berth(['logs', '--tail', '3', 'st-seq']);
    assert.equal(t.stdout, '999998\n999999\n1000000\n', cli);
  }
  await d.docker(['rm', 'st-seq']);
});

// ---- issue 7: stream bugs ----

for (const cli of ['berth', 'docker'] as const) {
  test(`${cli}: echo hi | run --rm -i busybox cat ends (the end of stdin reaches the container)`, async () => {
    for (let i = 0; i < 3; i++) {
      const res = cli === 'docker'
        ? await d.docker(['run', '--rm', '-i', 'busybox', 'cat'], { input: `hi ${i}\n`, timeoutMs: 30_000 })
        : await d.berth(['run', '--rm', '-i', 'busybox', 'cat'], { input: `hi ${i}\n`, timeoutMs: 30_000 });
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout, `hi ${i}\n`);
    }
  });

  test(`${cli}: exec -i echoes every byte while the client writes and reads at once`, async () => {
    const up = await d.docker(['run', '-d', '--name', `st-exec`, 'busybox', 'sleep', '300']);
    const running = up.code === 0 || /already in use/.test(up.stderr);
    assert.ok(running, up.stderr);
    // Three pieces, apart in time, so the output of the first is on its way back while the rest is written.
    const cmd = `(printf 12345; sleep 0.3; printf 67890; sleep 0.3; printf abcde) | ${cli === 'docker' ? DOCKER_CLI : `${process.execPath} ${cliPath()}`} exec -i st-exec cat`;
    const res = await run('sh', ['-c', cmd], { env: { ...process.env, DOCKER_HOST: d.host, BERTH_HOST: d.host }, timeoutMs: 30_000 });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, '1234567890abcde');
  });

  test(`${cli}: run -it puts the local terminal in raw mode (no output processing) and restores it`, async () => {
    const cmd = cli === 'docker' ? DOCKER_CLI : `${process.execPath} ${cliPath()}`;
    const res = await run('script', ['-qec', `${cmd} run -it --rm busybox echo ab; stty -a`, '/dev/null'],
      { env: { ...process.env, DOCKER_HOST: d.host, BERTH_HOST: d.host }, timeoutMs: 30_000 });
    assert.equal(res.code, 0, res.stdout + res.stderr);
    // script echoes the EOF of its own (closed) stdin as ^@, wherever it falls in the output.
    const out = res.stdout.replaceAll('^@', '');
    assert.match(out, /^ab\r\n/, JSON.stringify(out.slice(0, 40)));
    // stty's own output goes through the restored terminal: opost, icanon and echo are back.
    assert.match(out, /(^|\s)opost(\s|$)/);
    assert.match(out, /(^|\s)icanon(\s|$)/);
    assert.match(out, /(^|\s)echo(\s|$)/);
  });
}

test('raw exec socket: written in pieces while the output is read, every byte comes back', async () => {
  await d.docker(['run', '-d', '--name', 'st-exec', 'busybox', 'sleep', '300']);
  for (const tty of [false, true]) {
    const { json } = await api('POST', '/containers/st-exec/exec', { AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: tty, Cmd: ['cat'] });
    const s = rawRequest('POST', `/exec/${json.Id}/start`, JSON.stringify({ Detach: false, Tty: tty }));
    let out = Buffer.alloc(0);
    s.on('data', (c: Buffer) => { out = Buffer.concat([out, c]); });
    for (const part of ['12345', '67890', 'abcde']) { s.write(tty ? `${part}\n` : part); await sleep(100); }
    const deadline = Date.now() + 10_000;
    const payload = () => out.subarray(out.indexOf('\r\n\r\n') + 4);
    // non-TTY: stdcopy frames (8-byte header) of the 15 bytes; TTY: the echo and cat's lines
    const want = tty ? 30 : 15;
    const bytesOf = (b: Buffer) => (tty ? b.toString().replace(/\r?\n/g, '').length : framedPayload(b).length);
    while (Date.now() < deadline && bytesOf(payload()) < want) await sleep(50);
    s.destroy();
    assert.equal(bytesOf(payload()), want, JSON.stringify(payload().toString('latin1')));
    if (!tty) assert.equal(framedPayload(payload()).toString(), '1234567890abcde');
  }
});

function framedPayload(b: Buffer): Buffer {
  const parts: Buffer[] = [];
  let off = 0;
  while (off + 8 <= b.length) {
    const n = b.readUInt32BE(off + 4);
    parts.push(b.subarray(off + 8, Math.min(b.length, off + 8 + n)));
    off += 8 + n;
  }
  return Buffer.concat(parts);
}

test('env-file-node-flag: `berth exec/run --env-file F` is ours, not node\'s (launcher and bundled shebang)', async () => {
  writeFileSync(join(tmp, 'vars'), 'FROM_FILE=yes\n');
  await d.docker(['run', '-d', '--name', 'st-exec', 'busybox', 'sleep', '300']);
  const env = { ...process.env, BERTH_HOST: d.host };
  for (const entry of [cliPath(), join(projectRoot(), 'bin', 'berth')]) {
    // A relative path, from a folder where it exists: node would have loaded it into the CLI itself.
    const ex = await run('sh', ['-c', `cd ${tmp} && ${entry} exec --env-file vars st-exec env`], { env });
    assert.equal(ex.code, 0, ex.stderr);
    assert.match(ex.stdout, /^FROM_FILE=yes$/m);
    const rn = await run('sh', ['-c', `cd ${tmp} && ${entry} run --rm --env-file vars busybox env`], { env });
    assert.equal(rn.code, 0, rn.stderr);
    assert.match(rn.stdout, /^FROM_FILE=yes$/m);
    // A missing file is the CLI's error (docker's words), not node refusing to start.
    const missing = await run('sh', ['-c', `cd ${tmp} && ${entry} exec --env-file nosuch st-exec env`], { env });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /open nosuch: no such file or directory/);
    assert.doesNotMatch(missing.stderr, /^node:/m);
  }
});
