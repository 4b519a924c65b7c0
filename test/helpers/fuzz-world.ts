/**
 * The valid side of the fuzzing run: requests that make, start, exec into and remove real objects
 * (busybox containers, execs, volumes, networks, tags), so fuzzed requests meet live ones.
 */
import { buildRequest, sendRaw, type RawResponse } from './fuzz-http.js';
import type { Rng } from './fuzz-rng.js';
import type { FuzzWorld } from './fuzz-requests.js';

const MAX_CONTAINERS = 10;
const MAX_NETWORKS = 4;

export class WorldBuilder {
  private n = 0;
  constructor(private readonly socket: string, private readonly rng: Rng, readonly world: FuzzWorld,
    private readonly onResponse: (route: string, r: RawResponse, bytes: Buffer) => void) {}

  async call(method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<RawResponse> {
    const bytes = buildRequest(method, `/v1.45${path}`, [['Connection', 'close'], ['Content-Type', 'application/json']],
      body === undefined ? undefined : Buffer.from(JSON.stringify(body)));
    const r = await sendRaw(this.socket, bytes, { timeoutMs, streamMs: 5_000 });
    this.onResponse(`valid ${method} ${path.replace(/[0-9a-f]{12,}/g, '{id}').replace(/\?.*/, '')}`, r, bytes);
    return r;
  }

  /** One step that changes the world, chosen at random. */
  async step(): Promise<void> {
    const rng = this.rng;
    const w = this.world;
    const id = (pool: string[]) => (pool.length ? rng.pick(pool) : undefined);
    const tooMany = w.containers.length >= MAX_CONTAINERS;
    const op = rng.weighted<string>([
      [tooMany ? 0 : 4, 'create'], [3, 'start'], [3, 'exec'], [tooMany ? 6 : 2, 'remove'], [1, 'volume'], [1, 'volume-rm'],
      [w.networks.length >= MAX_NETWORKS ? 0 : 0.5, 'network'], [0.5, 'network-rm'], [0.5, 'pull'], [1, 'tag'], [0.5, 'commit'],
    ]);
    const n = ++this.n;
    switch (op) {
      case 'create': {
        const r = await this.call('POST', `/containers/create?name=fzc${n}-${rng.int(0, 1e6)}`, { Image: 'busybox', Cmd: ['sleep', '20'], Labels: { fuzz: '1' }, StopTimeout: 1 });
        if (r.status === 404) await this.call('POST', '/images/create?fromImage=busybox&tag=latest');
        const got = parse(r);
        if (r.status === 201 && typeof got?.Id === 'string') w.containers.push(got.Id);
        return;
      }
      case 'start': { const c = id(w.containers); if (c) await this.call('POST', `/containers/${c}/start`); return; }
      case 'exec': {
        const c = id(w.containers);
        if (!c) return;
        const r = await this.call('POST', `/containers/${c}/exec`, { Cmd: ['true'], AttachStdout: true });
        const got = parse(r);
        if (r.status === 201 && typeof got?.Id === 'string') {
          w.execs.push(got.Id);
          if (w.execs.length > 50) w.execs.shift();
          if (rng.chance(0.5)) await this.call('POST', `/exec/${got.Id}/start`, { Detach: true });
        }
        return;
      }
      case 'remove': {
        const c = id(w.containers);
        if (!c) return;
        await this.call('DELETE', `/containers/${c}?force=1`);
        w.containers.splice(w.containers.indexOf(c), 1);
        return;
      }
      case 'volume': {
        const r = await this.call('POST', '/volumes/create', { Name: `fzv${n}`, Labels: { fuzz: '1' } });
        if (r.status === 201) w.volumes.push(`fzv${n}`);
        return;
      }
      case 'volume-rm': { const v = id(w.volumes); if (v) { await this.call('DELETE', `/volumes/${v}`); w.volumes.splice(w.volumes.indexOf(v), 1); } return; }
      case 'network': {
        const r = await this.call('POST', '/networks/create', { Name: `fzn${n}`, Labels: { fuzz: '1' } });
        const got = parse(r);
        if (r.status === 201 && typeof got?.Id === 'string') w.networks.push(got.Id, `fzn${n}`);
        return;
      }
      case 'network-rm': {
        const nw = id(w.networks);
        if (nw) { await this.call('DELETE', `/networks/${nw}`); w.networks = w.networks.filter((x) => x !== nw); }
        return;
      }
      case 'pull': await this.call('POST', `/images/create?fromImage=${rng.pick(['busybox', 'hello-world'])}&tag=latest`); return;
      case 'tag': {
        const r = await this.call('POST', `/images/busybox/tag?repo=fz/img&tag=t${n}`);
        if (r.status === 201) w.images.push(`fz/img:t${n}`);
        return;
      }
      default: { const c = id(w.containers); if (c) await this.call('POST', `/commit?container=${c}&repo=fz/commit&tag=c${n}`, { Labels: { fuzz: '1' } }); }
    }
  }

  /** Remove every container, network and volume of the run (by listing them, so fuzz-made ones go too). */
  async cleanup(): Promise<void> {
    const list = parse(await this.call('GET', '/containers/json?all=1')) as unknown as Array<{ Id: string; State: string }> | undefined;
    for (const c of list ?? []) {
      if (c.State === 'paused') await this.call('POST', `/containers/${c.Id}/unpause`);
      await this.call('DELETE', `/containers/${c.Id}?force=1&v=1`);
    }
    await this.call('POST', '/networks/prune');
    await this.call('POST', '/volumes/prune?filters=' + encodeURIComponent('{"all":["true"]}'));
  }
}

function parse(r: RawResponse): Record<string, unknown> | undefined {
  try { return JSON.parse(r.body.toString('utf8')) as Record<string, unknown>; } catch { return undefined; }
}
