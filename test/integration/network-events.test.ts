/**
 * Events dockerd emits that Berth lacked, read back with `docker events --since … --until …`
 * (and the berth CLI's `events`): network create / connect / disconnect / destroy with dockerd's
 * attributes (container, name, type), container `attach`, volume `mount` / `unmount`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { removeContainersAndStop, startDaemonWithImages, type TestDaemon } from '../helpers/daemon.js';

let d: TestDaemon;
const tag = randomBytes(2).toString('hex');

before(async () => { d = await startDaemonWithImages(['busybox']); });
after(async () => {
  await d?.docker(['network', 'rm', `bt-ev-${tag}`]).catch(() => undefined);
  await d?.docker(['volume', 'rm', `ev-vol-${tag}`]).catch(() => undefined);
  await removeContainersAndStop(d);
});

async function ok(p: Promise<{ code: number; stdout: string; stderr: string }>): Promise<string> {
  const r = await p;
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

interface Ev { Type: string; Action: string; Actor: { ID: string; Attributes: Record<string, string> } }

/** Events of the window [since, now], as the docker CLI prints them with --format '{{json .}}'. */
async function eventsSince(since: number, filters: string[] = []): Promise<Ev[]> {
  const until = Math.ceil(Date.now() / 1000) + 1;
  await new Promise((r) => setTimeout(r, 1100)); // until must be in the past to end the stream
  const out = await ok(d.docker(['events', '--since', String(since), '--until', String(until), '--format', '{{json .}}', ...filters.flatMap((f) => ['--filter', f])]));
  return out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Ev);
}

test('network events: create, connect at start, disconnect at exit, connect/disconnect of a running container, destroy', async () => {
  const since = Math.floor(Date.now() / 1000);
  const net = `bt-ev-${tag}`;
  const netId = await ok(d.berth(['network', 'create', '-o', `com.docker.network.bridge.name=bt-ev${tag}`, net]));
  await ok(d.docker(['run', '--rm', '--name', `ev-once-${tag}`, '--network', net, 'busybox', 'true']));
  await ok(d.docker(['run', '-d', '--name', `ev-live-${tag}`, 'busybox', 'sleep', '120']));
  const live = await ok(d.docker(['inspect', '-f', '{{.Id}}', `ev-live-${tag}`]));
  await ok(d.berth(['network', 'connect', net, `ev-live-${tag}`]));
  await ok(d.docker(['network', 'disconnect', net, `ev-live-${tag}`]));
  await ok(d.docker(['rm', '-f', `ev-live-${tag}`]));
  await ok(d.docker(['network', 'rm', net]));
  const evs = (await eventsSince(since, ['type=network'])).filter((e) => e.Actor.Attributes.name === net);
  const seen = evs.map((e) => `${e.Action}${e.Actor.Attributes.container === live ? ' live' : e.Actor.Attributes.container ? ' once' : ''}`);
  assert.deepEqual(seen, ['create', 'connect once', 'disconnect once', 'connect live', 'disconnect live', 'destroy']);
  for (const e of evs) {
    assert.equal(e.Type, 'network');
    assert.equal(e.Actor.ID, netId);
    assert.equal(e.Actor.Attributes.type, 'bridge');
  }
  // The default bridge and the host network report their own joins; --network none too.
  const since2 = Math.floor(Date.now() / 1000);
  await ok(d.berth(['run', '--rm', 'busybox', 'true']));
  await ok(d.docker(['run', '--rm', '--network', 'host', 'busybox', 'true']));
  const evs2 = await eventsSince(since2, ['type=network']);
  const kinds = evs2.map((e) => `${e.Action} ${e.Actor.Attributes.name}/${e.Actor.Attributes.type}`);
  assert.deepEqual(kinds, ['connect bridge/bridge', 'disconnect bridge/bridge', 'connect host/host', 'disconnect host/host']);
});

test('container attach and volume mount/unmount events (both CLIs)', async () => {
  for (const cli of ['docker', 'berth'] as const) {
    const since = Math.floor(Date.now() / 1000);
    const vol = `ev-vol-${tag}`;
    await ok(d[cli](['run', '--name', `ev-att-${cli}-${tag}`, '-v', `${vol}:/data`, 'busybox', 'true']));
    const id = await ok(d.docker(['inspect', '-f', '{{.Id}}', `ev-att-${cli}-${tag}`]));
    await ok(d.docker(['rm', `ev-att-${cli}-${tag}`]));
    const evs = await eventsSince(since);
    const attach = evs.filter((e) => e.Type === 'container' && e.Action === 'attach');
    assert.equal(attach.length, 1, `${cli}: ${JSON.stringify(evs.map((e) => e.Action))}`);
    assert.equal(attach[0]!.Actor.ID, id);
    assert.equal(attach[0]!.Actor.Attributes.name, `ev-att-${cli}-${tag}`);
    assert.equal(attach[0]!.Actor.Attributes.image, 'busybox');
    const order = evs.filter((e) => e.Type === 'container' || e.Type === 'volume').map((e) => `${e.Type} ${e.Action}`);
    // the run: create, attach, mount, start, die with the unmount
    assert.ok(order.indexOf('container attach') < order.indexOf('container start'), order.join(', '));
    const mount = evs.find((e) => e.Type === 'volume' && e.Action === 'mount');
    assert.deepEqual(mount?.Actor, { ID: vol, Attributes: { driver: 'local', container: id, destination: '/data', 'read/write': 'true', propagation: mount?.Actor.Attributes.propagation ?? '' } });
    const unmount = evs.find((e) => e.Type === 'volume' && e.Action === 'unmount');
    assert.deepEqual(unmount?.Actor, { ID: vol, Attributes: { driver: 'local', container: id } });
    assert.ok(order.indexOf('volume mount') < order.indexOf('container start') && order.indexOf('volume unmount') > order.indexOf('container start'), order.join(', '));
    await ok(d.docker(['volume', 'rm', vol]));
  }
});

test('network prune: a destroy per pruned network, then prune with reclaimed 0 (dockerd\'s)', async () => {
  const since = Math.floor(Date.now() / 1000);
  const net = `bt-evp-${tag}`;
  const id = await ok(d.docker(['network', 'create', '-o', `com.docker.network.bridge.name=bt-evp${tag}`, net]));
  assert.match(await ok(d.berth(['network', 'prune', '-f'])), new RegExp(net));
  const evs = await eventsSince(since, ['type=network']);
  assert.deepEqual(evs.map((e) => [e.Action, e.Actor.ID]), [['create', id], ['destroy', id], ['prune', '']]);
  assert.deepEqual(evs[2]!.Actor.Attributes, { reclaimed: '0' });
});

test('a container on none that outlives a daemon restart still reports its disconnect when it stops', async () => {
  const name = `ev-none-${tag}`;
  const id = await ok(d.docker(['run', '-d', '--name', name, '--network', 'none', 'busybox', 'sleep', '120']));
  await d.kill('SIGKILL');
  await d.restart();
  // to the millisecond: the run's connect may fall in the same second as this
  const since = Number((Date.now() / 1000).toFixed(3));
  await ok(d.docker(['stop', '-t', '1', name]));
  const evs = (await eventsSince(since, ['type=network'])).filter((e) => e.Actor.Attributes.container === id);
  assert.deepEqual(evs.map((e) => `${e.Action} ${e.Actor.Attributes.name}`), ['disconnect none']);
  await ok(d.docker(['rm', name]));
});
