#!/usr/bin/env node
// `run --rm` through the Engine API only, without any CLI start-up: the daemon's (and the
// runtime's) share of `docker run --rm`. Same calls as the docker CLI minus attach:
//   POST /containers/create (AutoRemove) -> POST /containers/{id}/wait?condition=removed (headers
//   first) -> POST /containers/{id}/start -> wait's body.
//
//   node bench/api-run.mjs <runs> <name=socket>... -- <image> [cmd...]
//
// One untimed warm-up per engine, then <runs> rounds, engines interleaved. Prints one line per
// timed run: "<name> <microseconds>"; failures go to stderr as "<name> FAIL <message>".
// Plain Node, no dependencies (runs before the project is built).
import http from 'node:http';

const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
if (sep < 1 || sep === argv.length - 1) {
  console.error('usage: api-run.mjs <runs> <name=socket>... -- <image> [cmd...]');
  process.exit(2);
}
const runs = Number(argv[0]);
const engines = argv.slice(1, sep).map((s) => {
  const i = s.indexOf('=');
  return { name: s.slice(0, i), socketPath: s.slice(i + 1), agent: new http.Agent({ keepAlive: true }) };
});
const [image, ...cmd] = argv.slice(sep + 1);
const API = '/v1.41';

/** Send a request; resolves with the response once its headers are in (body read by `body`). */
function request(e, method, path, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request({
      socketPath: e.socketPath, agent: e.agent, method, path: API + path,
      headers: { Host: 'localhost', ...(data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {}) },
    }, resolve);
    req.on('error', reject);
    req.end(data);
  });
}
function body(res) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}
async function expectOk(resP, what) {
  const res = await resP;
  const text = await body(res);
  if (res.statusCode >= 300) throw new Error(`${what}: ${res.statusCode} ${text.trim()}`);
  return text;
}

async function runOnce(e) {
  const t0 = process.hrtime.bigint();
  const created = JSON.parse(await expectOk(request(e, 'POST', '/containers/create', {
    Image: image, Cmd: cmd.length ? cmd : undefined, AttachStdout: false, AttachStderr: false,
    HostConfig: { AutoRemove: true, ...(e.name.endsWith('+crun') ? { Runtime: 'crun' } : {}) },
  }), 'create'));
  const waitRes = await request(e, 'POST', `/containers/${created.Id}/wait?condition=removed`);
  if (waitRes.statusCode !== 200) throw new Error(`wait: ${waitRes.statusCode} ${(await body(waitRes)).trim()}`);
  const waitBody = body(waitRes);
  await expectOk(request(e, 'POST', `/containers/${created.Id}/start`), 'start');
  const result = JSON.parse(await waitBody);
  const t1 = process.hrtime.bigint();
  if (result.StatusCode !== 0) throw new Error(`exit status ${result.StatusCode} ${JSON.stringify(result.Error ?? '')}`);
  return Number((t1 - t0) / 1000n);
}

const alive = new Set(engines);
for (const e of engines) {
  try { await runOnce(e); } catch (err) { console.error(`${e.name} FAIL warm-up: ${err.message}`); alive.delete(e); }
}
for (let i = 0; i < runs; i++) {
  for (const e of engines) {
    if (!alive.has(e)) continue;
    try { console.log(`${e.name} ${await runOnce(e)}`); } catch (err) { console.error(`${e.name} FAIL ${err.message}`); }
  }
}
for (const e of engines) e.agent.destroy();
