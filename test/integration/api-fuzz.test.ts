/**
 * The API fuzzing harness (issue 8): at least 10,000 generated requests against a real berthd over
 * its unix socket — every route the router has and unknown paths, with malformed JSON, wrong types
 * at every depth, hostile numbers, unknown fields, broken percent-escapes, path tricks, invalid
 * names and references, bad filters and API versions, truncated bodies, wrong Content-Length,
 * truncated hijacks and slow clients — mixed with valid requests that make real objects.
 *
 * Asserted: the daemon never dies (same PID, still answers /_ping); no 5xx, neither answered nor
 * logged; every 4xx carries a non-empty JSON `message`; the live JavaScript heap after the run
 * (a heap snapshot: what a leak of requests, sockets or objects would grow) near its baseline, and
 * RSS within a wider bound (it also holds V8's grown young generation and malloc's arenas, which
 * vary by tens of MiB with the seed and the machine's load without any leak).
 * Seeded: the seed is printed; BERTH_FUZZ_SEED=<n> replays the same requests.
 * BERTH_FUZZ_REQUESTS=<n> changes the count (default 10,000).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemonWithMirror, type TestDaemon } from '../helpers/daemon.js';
import { buildRouter } from '../../src/api/server.js';
import { Rng, fuzzSeed } from '../helpers/fuzz-rng.js';
import { buildRequest, sendRaw, type RawResponse } from '../helpers/fuzz-http.js';
import { FuzzWorld, isStreaming, RequestGenerator, type FuzzRequest } from '../helpers/fuzz-requests.js';
import { WorldBuilder } from '../helpers/fuzz-world.js';

const REQUESTS = Number(process.env.BERTH_FUZZ_REQUESTS ?? 10_000);
const CONCURRENCY = 16;
const WARM_UP = 300;
const HEAP_MARGIN = 16 * 1024 * 1024;
const RSS_MARGIN = 128 * 1024 * 1024;
/** The daemon writes a heap snapshot here on SIGUSR2 (node's --heapsnapshot-signal). */
const SNAPSHOT_DIR = mkdtempSync('/tmp/bt-fuzz-heap-');
/** dockerd's own 503 for swarm endpoints on a node outside a swarm: Docker's answer, not a failure. */
const SWARM_503 = /not (part of a swarm|a swarm manager)/;
const SWARM_ROUTE = /^GET \/(swarm|nodes|services|tasks|secrets|configs)$/;
/**
 * Routes that ask a registry (login, search, distribution inspect, pull): one that cannot be reached —
 * Docker Hub is a closed loopback port in tests, fuzzed names are no hosts — is their 503 by design
 * (a network error, as a pull's), not a daemon failure. Paths among the unknown ones reach them too.
 */
const REGISTRY_ROUTE = /^(POST \/auth|POST \/images\/create|GET \/images\/search|GET \/distribution\/\{name\*\}\/json|unknown)$/;
const REGISTRY_503 = /^\{"message":"(Get|Head|Post) \\"[^"]*\\": (connect ECONNREFUSED|dial tcp: lookup |dial tcp \S+: outbound connections are limited to loopback)/;
const REGISTRY_503_LOG = / berthd: 503 on (POST \S*\/auth|POST \S*\/images\/create|(GET|HEAD) \S*\/images\/search|(GET|HEAD) \S*\/distribution\/\S*?)\/?(\?\S*)?: NetworkError: /;

/**
 * Known open (issue 8 follow-up, engine/containers): under concurrent start/restart/stop/rm of the
 * same container the fuzzer still meets, a few times per 10,000 requests, a start whose overlay
 * mount or cwd vanished under it. Reported and counted (printed), not yet fixed; nothing else is
 * excused. Remove an entry once its race is closed.
 */

let d: TestDaemon;

before(async () => {
  d = await startDaemonWithMirror({
    images: ['busybox', 'hello-world'],
    nodeArgs: ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${SNAPSHOT_DIR}`],
  });
  for (const image of ['busybox', 'hello-world']) {
    const r = await d.docker(['pull', image]);
    assert.equal(r.code, 0, r.stderr);
  }
});

after(async () => {
  await d?.stop();
  rmSync(SNAPSHOT_DIR, { recursive: true, force: true });
});

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, 'VmRSS in /proc/PID/status');
  return Number(m[1]) * 1024;
}

async function settledRss(pid: number): Promise<number> {
  // No way to force the daemon's GC from outside: give it idle time and take the lowest reading.
  let low = Infinity;
  for (let i = 0; i < 8; i++) {
    await new Promise((r) => setTimeout(r, 500));
    low = Math.min(low, rssBytes(pid));
  }
  return low;
}

/**
 * The daemon's live JavaScript heap in bytes: the sum of a heap snapshot's node sizes (V8 collects
 * garbage before it writes one). The snapshot is written while the daemon answers nothing else.
 */
async function liveHeapBytes(pid: number): Promise<number> {
  const before = new Set(readdirSync(SNAPSHOT_DIR));
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 120_000;
  for (;;) {
    assert.ok(Date.now() < deadline, 'the daemon wrote a heap snapshot within 2 minutes');
    await new Promise((r) => setTimeout(r, 500));
    const name = readdirSync(SNAPSHOT_DIR).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (!name) continue;
    let snap: { snapshot: { meta: { node_fields: string[] } }; nodes: number[] };
    try { snap = JSON.parse(readFileSync(join(SNAPSHOT_DIR, name), 'utf8')) as typeof snap; } catch { continue; } // still being written
    rmSync(join(SNAPSHOT_DIR, name));
    const fields = snap.snapshot.meta.node_fields;
    const at = fields.indexOf('self_size');
    let total = 0;
    for (let i = at; i < snap.nodes.length; i += fields.length) total += snap.nodes[i]!;
    return total;
  }
}

interface Tally {
  total: number;
  statuses: Map<string, number>;
  routes: Map<string, number>;
  /** Bad answers grouped by kind (status, route, message without ids): count and a first example. */
  failures: Map<string, { count: number; example: string }>;
}

function fail(t: Tally, kind: string, example: string): void {
  const key = kind.replace(/[0-9a-f]{12,64}/g, '<id>').slice(0, 200);
  const f = t.failures.get(key);
  if (f) f.count++;
  else t.failures.set(key, { count: 1, example });
}

function failureReport(t: Tally): string[] {
  return [...t.failures.entries()].map(([kind, f]) => `${f.count}× ${kind}\n    e.g. ${f.example}`);
}

/** BERTH_FUZZ_TRACE=<file>: every request line and its status, in order of answer, for a post-mortem. */
const TRACE = process.env.BERTH_FUZZ_TRACE;

function check(t: Tally, req: { route: string; method: string; mode: string; bytes?: Buffer }, r: RawResponse): void {
  if (TRACE) appendFileSync(TRACE, `${new Date().toISOString()} ${r.status ?? '-'} ${req.bytes ? req.bytes.subarray(0, Math.max(0, req.bytes.indexOf(' HTTP/1.1'))).toString('latin1').slice(0, 200) : req.route}\n`);
  t.total++;
  const status = r.status === undefined ? 'none' : String(r.status);
  t.statuses.set(status, (t.statuses.get(status) ?? 0) + 1);
  t.routes.set(req.route, (t.routes.get(req.route) ?? 0) + 1);
  const where = () => `${req.route} [${req.mode}] ${JSON.stringify((req.bytes ?? Buffer.alloc(0)).subarray(0, 300).toString('latin1'))}`;
  if (r.status === undefined) return; // cut on purpose, timed out, or a stream we left: the daemon's log says if it was a 5xx
  const text = r.body.toString('utf8');
  if (r.status >= 500) {
    if (r.status === 503 && (SWARM_503.test(text) || (req.method === 'HEAD' && SWARM_ROUTE.test(req.route)))) return;
    // A HEAD answer has no body to read the reason from: the daemon's log line is checked below.
    if (r.status === 503 && REGISTRY_ROUTE.test(req.route) && (REGISTRY_503.test(text) || req.method === 'HEAD')) return;
    fail(t, `${r.status} ${req.route}: ${text.slice(0, 120)}`, where());
    return;
  }
  if (r.status >= 400 && req.method !== 'HEAD' && !r.partial) {
    let message: unknown;
    try { message = (JSON.parse(text) as { message?: unknown }).message; } catch { /* below */ }
    if (typeof message !== 'string' || message.trim() === '') fail(t, `${r.status} without a JSON message on ${req.route}: ${JSON.stringify(text.slice(0, 100))}`, where());
  }
}

async function send(socket: string, req: FuzzRequest): Promise<RawResponse> {
  const streaming = isStreaming(req.route);
  switch (req.mode) {
    case 'truncated': case 'hijack-cut': return sendRaw(socket, req.bytes, { timeoutMs: 2_000, halfClose: true, streamMs: 300 });
    case 'long-length': return sendRaw(socket, req.bytes, { timeoutMs: 250, streamMs: 250 });
    case 'trickle': return sendRaw(socket, req.bytes, { timeoutMs: 8_000, trickleBytes: Math.max(16, Math.ceil(req.bytes.length / 25)), trickleDelayMs: 20, streamMs: 300 });
    case 'stall': return sendRaw(socket, req.bytes, { timeoutMs: 4_000, stallMs: 2_000 });
    default: return sendRaw(socket, req.bytes, { timeoutMs: streaming ? 5_000 : 15_000, streamMs: 250, halfClose: req.mode === 'smuggle' });
  }
}

test(`api fuzz: ${REQUESTS} generated requests, no crash, no 5xx, every 4xx with a message, live heap back near baseline`, { timeout: 15 * 60_000 }, async () => {
  const seed = fuzzSeed();
  console.log(`api-fuzz: seed ${seed} (rerun with BERTH_FUZZ_SEED=${seed})`);
  const rng = new Rng(seed);
  const routes = buildRouter().list();
  const world = new FuzzWorld();
  const tally: Tally = { total: 0, statuses: new Map(), routes: new Map(), failures: new Map() };
  const builder = new WorldBuilder(d.socket, new Rng(seed ^ 0x5eed), world, (route, r, bytes) => check(tally, { route, method: 'valid', mode: 'valid', bytes }, r));
  const gen = new RequestGenerator(rng, routes, world);
  const pid = d.pid;

  // Warm up (objects exist, code paths compiled, the heap at its working size under as many
  // clients as the run has), then take the baseline.
  for (let i = 0; i < 20; i++) await builder.step();
  let warm = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (warm++ < WARM_UP) { const q = gen.next(); check(tally, q, await send(d.socket, q)); }
  }));
  const baseHeap = await liveHeapBytes(pid);
  const baseline = await settledRss(pid);

  const started = Date.now();
  let sent = 0;
  const worker = async () => {
    while (sent < REQUESTS) {
      sent++;
      if (rng.chance(0.05)) { await builder.step(); continue; }
      const q = gen.next();
      check(tally, q, await send(d.socket, q));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (Date.now() - started) / 1000;

  process.kill(pid, 0); // throws when the daemon is gone
  assert.equal(d.pid, pid, 'same daemon process');
  const ping = await sendRaw(d.socket, buildRequest('GET', '/_ping', [['Connection', 'close']]), { timeoutMs: 10_000 });
  assert.equal(ping.status, 200, 'the daemon still answers /_ping');
  await builder.cleanup();
  const afterHeap = await liveHeapBytes(pid);
  const after = await settledRss(pid);

  const log = await d.log();
  const logged5xx = log.split('\n').filter((l) => /berthd: 5\d\d on /.test(l) && !REGISTRY_503_LOG.test(l));
  const hist = [...tally.statuses.entries()].sort().map(([s, n]) => `${s}:${n}`).join(' ');
  console.log(`api-fuzz: seed ${seed}, ${tally.total} requests in ${seconds.toFixed(1)} s over ${tally.routes.size} routes; statuses ${hist}`);
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  console.log(`api-fuzz: live heap baseline ${mib(baseHeap)}, after ${mib(afterHeap)}; RSS baseline ${mib(baseline)}, after ${mib(after)}`);

  for (const r of routes) {
    assert.ok(tally.routes.has(`${r.method} ${r.path}`), `route ${r.method} ${r.path} was fuzzed (seed ${seed})`);
  }
  assert.ok(tally.routes.has('unknown'), 'unknown paths were fuzzed');
  assert.ok(tally.total >= REQUESTS, `at least ${REQUESTS} requests (sent ${tally.total})`);
  assert.deepEqual(failureReport(tally), [], `seed ${seed}: bad answers`);
  const logKinds = [...new Set(logged5xx.map((l) => l.replace(/^\S+ /, '').replace(/[0-9a-f]{12,64}/g, '<id>').slice(0, 240)))];
  assert.deepEqual(logKinds.slice(0, 15), [], `seed ${seed}: ${logged5xx.length} 5xx in the daemon's log`);
  assert.ok(afterHeap < baseHeap + HEAP_MARGIN, `live heap after ${afterHeap} < baseline ${baseHeap} + 16 MiB (seed ${seed})`);
  assert.ok(after < baseline + RSS_MARGIN, `RSS after ${after} < baseline ${baseline} + 128 MiB (seed ${seed})`);
});

// ---- Regressions: each 5xx (or crash-adjacent bug) the harness found, on the same daemon ----

async function call(method: string, target: string, body?: unknown, extra: Array<[string, string]> = []): Promise<{ status?: number; json: { message?: string; Id?: string } & Record<string, unknown>; raw: RawResponse }> {
  const bytes = buildRequest(method, target, [['Connection', 'close'], ['Content-Type', 'application/json'], ...extra],
    body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)));
  const raw = await sendRaw(d.socket, bytes, { timeoutMs: 30_000, streamMs: 2_000 });
  let json = {};
  try { json = JSON.parse(raw.body.toString('utf8')); } catch { /* not JSON */ }
  return { status: raw.status, json, raw };
}

/**
 * The fuzz run may untag or remove busybox (DELETE /images/…, prune, tag over it): the regression
 * tests below pull it again once before they use it, so they never depend on the seed.
 */
let imagesBack: Promise<void> | undefined;
function busyboxPresent(): Promise<void> {
  imagesBack ??= (async () => {
    const r = await d.docker(['pull', 'busybox']);
    assert.equal(r.code, 0, r.stderr);
  })();
  return imagesBack;
}

async function logged5xxSince(mark: number): Promise<string[]> {
  return (await d.log()).slice(mark).split('\n').filter((l) => /berthd: 5\d\d on /.test(l));
}

test('fuzz-uri-malformed: a broken percent-escape in a path parameter is a 400 (was a 500 URIError)', async () => {
  for (const target of ['/v1.45/containers/%zz/json', '/v1.45/images/%/json', '/v1.45/volumes/%E0%A4%A']) {
    const r = await call('GET', target);
    assert.equal(r.status, 400, target);
    assert.match(r.json.message ?? '', /invalid URL escape/);
  }
  const q = await call('GET', '/v1.45/containers/json?all=%zz');
  assert.equal(q.status, 400);
});

test('fuzz-client-error: requests the HTTP parser refuses get a 4xx with a JSON message, not a bare status line', async () => {
  const cases: Array<[Buffer, number]> = [
    [Buffer.from('GET /v1.45/_p\u0000ing HTTP/1.1\r\nHost: b\r\n\r\n', 'latin1'), 400],
    [Buffer.from('BREW /v1.45/_ping HTTP/1.1\r\nHost: b\r\n\r\n'), 400],
    [Buffer.from('POST /v1.45/containers/create HTTP/1.1\r\nHost: b\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}'), 400],
    [buildRequest('GET', '/v1.45/containers/' + 'z'.repeat(70_000) + '/json', []), 431],
  ];
  for (const [bytes, want] of cases) {
    const r = await sendRaw(d.socket, bytes, { timeoutMs: 10_000 });
    assert.equal(r.status, want);
    const message = (JSON.parse(r.body.toString('utf8')) as { message?: string }).message;
    assert.ok(message && message.length > 0, r.body.toString());
  }
});

test('fuzz-truncated-body: a client that leaves mid-body leaves no 5xx in the daemon log', async () => {
  await busyboxPresent();
  const mark = (await d.log()).length;
  for (let i = 0; i < 5; i++) {
    const bytes = buildRequest('POST', '/v1.45/containers/create', [['Content-Length', '500']], Buffer.from('{"Image":"busybox"'));
    await sendRaw(d.socket, bytes, { timeoutMs: 1_000, halfClose: i % 2 === 0 });
  }
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(await logged5xxSince(mark), []);
});

test('fuzz-create-deep-types: a wrong JSON type deep in HostConfig is a 400 naming the field (was a TypeError 500)', async () => {
  await busyboxPresent();
  const r = await call('POST', '/v1.45/containers/create', { Image: 'busybox', HostConfig: { LogConfig: { Type: 'json-file', Config: { 'max-size': 5 } } } });
  assert.equal(r.status, 400);
  assert.match(r.json.message ?? '', /field HostConfig\.LogConfig\.Config\.max-size must be a string/);
  const n = await call('POST', '/v1.45/networks/bridge/connect', { Container: -1 });
  assert.equal(n.status, 400);
  assert.match(n.json.message ?? '', /field Container must be a string/);
});

test('fuzz-deep-json: a body nested 20,000 deep is a 400 (was a stack overflow 500 in commit)', async () => {
  await busyboxPresent();
  const c = await call('POST', '/v1.45/containers/create', { Image: 'busybox', Cmd: ['true'] });
  assert.equal(c.status, 201, JSON.stringify(c.json));
  const deep = '{"Cmd":["sh"],"Unknown":' + '['.repeat(20_000) + ']'.repeat(20_000) + '}';
  const r = await call('POST', `/v1.45/commit?container=${c.json.Id}`, deep);
  assert.equal(r.status, 400);
  assert.match(r.json.message ?? '', /exceeded max depth/);
  assert.equal((await call('DELETE', `/v1.45/containers/${c.json.Id}?force=1`)).status, 204);
});

test('fuzz-top-ps-args: ps refusing ps_args is a 400, and fromSrc a 400 naming it (were 500 and 501)', async () => {
  await busyboxPresent();
  const c = await call('POST', '/v1.45/containers/create', { Image: 'busybox', Cmd: ['sleep', '30'] });
  assert.equal((await call('POST', `/v1.45/containers/${c.json.Id}/start`)).status, 204);
  try {
    const r = await call('GET', `/v1.45/containers/${c.json.Id}/top?ps_args=-o`);
    assert.equal(r.status, 400, JSON.stringify(r.json));
    assert.match(r.json.message ?? '', /^ps: /);
  } finally {
    await call('DELETE', `/v1.45/containers/${c.json.Id}?force=1`);
  }
  const i = await call('POST', '/v1.45/images/create?fromSrc=-&repo=x');
  assert.equal(i.status, 400);
  assert.match(i.json.message ?? '', /fromSrc/);
});

test('fuzz-stop-timeout-overflow: stop?t= past 24 days waits for the process, not SIGKILL after 1 ms', async () => {
  await busyboxPresent();
  // busybox sleep as PID 1 ignores SIGTERM: only the timeout's SIGKILL would end it.
  const c = await call('POST', '/v1.45/containers/create', { Image: 'busybox', Cmd: ['sleep', '60'] });
  assert.equal((await call('POST', `/v1.45/containers/${c.json.Id}/start`)).status, 204);
  try {
    const stopping = call('POST', `/v1.45/containers/${c.json.Id}/stop?t=3000000`);
    await new Promise((r) => setTimeout(r, 1_500));
    const state = await call('GET', `/v1.45/containers/${c.json.Id}/json`);
    assert.equal((state.json.State as { Running?: boolean }).Running, true, 'still running while the stop waits');
    assert.equal((await call('POST', `/v1.45/containers/${c.json.Id}/kill`)).status, 204);
    assert.equal((await stopping).status, 204);
  } finally {
    await call('DELETE', `/v1.45/containers/${c.json.Id}?force=1`);
  }
});

test('fuzz-lifecycle-races: start right after an exit, and stop/start/pause/update/export/commit racing rm, unpause racing stop, answer 2xx/3xx/4xx only', async () => {
  await busyboxPresent();
  const mark = (await d.log()).length;
  const statuses = new Set<number>();
  const bad: string[] = [];
  for (let i = 0; i < 6; i++) {
    const c = await call('POST', '/v1.45/containers/create', { Image: 'busybox', Cmd: ['true'] });
    assert.equal(c.status, 201);
    const id = c.json.Id!;
    // `true` exits at once: each start lands while the last exit may still be handled.
    for (let k = 0; k < 4; k++) statuses.add((await call('POST', `/v1.45/containers/${id}/start`)).status ?? 0);
    const ops = await Promise.all([
      call('POST', `/v1.45/containers/${id}/start`), call('POST', `/v1.45/containers/${id}/pause`),
      call('POST', `/v1.45/containers/${id}/stop?t=0`), call('DELETE', `/v1.45/containers/${id}?force=1`),
      // an update whose record save meets the removal was a 500 (seed 2464404022): now the 404
      call('POST', `/v1.45/containers/${id}/update`, { CpuShares: 512 }),
      // an export whose root went with the removal was an ENOENT 500 (seed 627456207): now the 404
      call('GET', `/v1.45/containers/${id}/export`),
      // and a commit whose upper dir went with it (seed 2144231673)
      call('POST', `/v1.45/commit?container=${id}&repo=race/commit`, {}),
    ]);
    for (const r of ops) {
      statuses.add(r.status ?? 0);
      if ((r.status ?? 0) >= 500 || !r.status) bad.push(`${r.status} ${JSON.stringify(r.json)}`);
    }
  }
  // an unpause racing a stop (which thaws and ends it) was a 500 from crun (seed 1010370919)
  for (let i = 0; i < 6; i++) {
    const c = await call('POST', '/v1.45/containers/create', { Image: 'busybox', Cmd: ['sleep', '100'] });
    const id = c.json.Id!;
    assert.equal((await call('POST', `/v1.45/containers/${id}/start`)).status, 204);
    assert.equal((await call('POST', `/v1.45/containers/${id}/pause`)).status, 204);
    const ops = await Promise.all([
      call('POST', `/v1.45/containers/${id}/stop?t=0`), call('POST', `/v1.45/containers/${id}/unpause`),
      call('POST', `/v1.45/containers/${id}/pause`), call('POST', `/v1.45/containers/${id}/unpause`),
    ]);
    for (const r of ops) {
      statuses.add(r.status ?? 0);
      if ((r.status ?? 0) >= 500 || !r.status) bad.push(`${r.status} ${JSON.stringify(r.json)}`);
    }
    const state = (await call('GET', `/v1.45/containers/${id}/json`)).json.State as { Status: string };
    if (state.Status !== 'exited') bad.push(`after stop: ${state.Status}`);
    await call('DELETE', `/v1.45/containers/${id}?force=1`);
  }
  assert.deepEqual(bad, [], [...statuses].join(' '));
  assert.deepEqual(await logged5xxSince(mark), []);
});
