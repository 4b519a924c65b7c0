/**
 * The kill -9 harness: random operations against a real berthd (pulls, pushes, commits, creates,
 * starts, stops, removals, volume writes, tags, log reads), the daemon SIGKILLed at a random moment
 * while they run (or while it starts up), then restarted and checked:
 *
 *   - everything listed is whole: an image's layers are on disk, a container's folder, upper dir
 *     and lower layers are there, inspect answers for each;
 *   - everything acknowledged (an API call answered with success before the kill) is there, and
 *     what was acknowledged as removed is gone; a container acknowledged running still runs;
 *   - the logger container's log has every line up to the last one read before each kill, in
 *     order, once;
 *   - a pull the kill interrupted completes when run again, reusing the layers already in;
 *   - every few rounds (and at the end) a container of each runnable image runs.
 *
 * Operations cut by the kill leave their object "uncertain": after the restart it may exist or
 * not, but if it exists it must be whole; its state is then taken from the daemon.
 * `ledger` is the running log of what was acknowledged (printed when a check fails).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chainIDs } from '../../src/engine/layers/chain.js';
import type { TestDaemon } from './daemon.js';
import { api, demuxStdcopy, expectJson, HttpStatusError, jsonMessages, registryChain, registryHas, streamError, type ApiResponse } from './kill-api.js';

type Run = 'true' | 'default' | 'no';
interface TagState { id: string; run: Run }
interface ContainerState { id?: string; status: 'created' | 'running' | 'exited'; uncertain: boolean; exitCode?: number }

/** Images pulled through the daemon's mirror (the loopback registry's library/*). */
const PULLABLE: Record<string, Run> = { 'hello-world': 'default', busybox: 'true', layered: 'no' };
const AUTH = { 'X-Registry-Auth': Buffer.from('{}').toString('base64') };

export class KillHarness {
  readonly ledger: string[] = [];
  kills = 0;
  startupKills = 0;
  round = 0;
  private seq = 0;
  private readonly tags = new Map<string, TagState>();
  private readonly goneTags = new Set<string>();
  private readonly uncertainTags = new Set<string>();
  /** Image references an operation of this round uses (a removal leaves them alone). */
  private readonly busy = new Set<string>();
  private readonly containers = new Map<string, ContainerState>();
  private readonly goneContainers = new Set<string>();
  private readonly volumes = new Map<string, { uncertain: boolean; files: Map<string, string> }>();
  private readonly pushed = new Set<string>();
  private readonly uncertainPushes = new Set<string>();
  private readonly interrupted = new Set<string>();
  private readonly chains = new Map<string, string[]>();
  private logger = { id: '', maxSeen: 0 };
  private readonly dataRoot: string;

  constructor(private readonly d: TestDaemon & { registryHost: string }, private readonly random: () => number) {
    this.dataRoot = join(d.root, d.dataRoot);
  }

  // ------------------------------------------------------------------ plumbing

  private call(method: string, path: string, opts: { body?: unknown; headers?: Record<string, string> } = {}): Promise<ApiResponse> {
    return api(this.d.socket, method, path, opts);
  }

  private note(what: string): void {
    this.ledger.push(`r${this.round} ${what}`);
  }

  private pick<T>(items: readonly T[]): T | undefined {
    return items.length ? items[Math.floor(this.random() * items.length)] : undefined;
  }

  private next(): number {
    return ++this.seq;
  }

  /** The last entries of the ledger, for a failure message. */
  tail(n = 80): string {
    return this.ledger.slice(-n).join('\n');
  }

  // ------------------------------------------------------------------ set-up

  async setup(): Promise<void> {
    for (const name of Object.keys(PULLABLE)) this.chains.set(name, await registryChain(this.d.registryHost, `library/${name}`));
    await this.pull('busybox', true);
    const r = await this.call('POST', '/containers/create?name=logger', {
      body: { Image: 'busybox', Cmd: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo "line $i"; sleep 0.02; done'] },
    });
    this.logger.id = expectJson<{ Id: string }>(r, 201, 'create logger').Id;
    expectJson(await this.call('POST', `/containers/${this.logger.id}/start`), 204, 'start logger');
    this.note('logger started');
  }

  // ------------------------------------------------------------------ operations

  /** Pull library/<name> through the mirror; `must` makes a failure fatal (set-up, re-runs). */
  private async pull(name: string, must = false): Promise<JsonMessage[] | undefined> {
    const ref = `${name}:latest`;
    this.uncertainTags.add(ref);
    this.interrupted.add(name);
    let r: ApiResponse;
    try {
      r = await this.call('POST', `/images/create?fromImage=${name}&tag=latest`);
    } catch (e) {
      if (must) throw e;
      return undefined;
    }
    const msgs = jsonMessages(r.body);
    const err = r.status === 200 ? streamError(msgs) : `HTTP ${r.status}`;
    if (err !== undefined) throw new Error(`pull ${name}: ${err}`);
    const id = expectJson<{ Id: string }>(await this.call('GET', `/images/${ref}/json`), 200, `inspect ${ref} after its pull`).Id;
    this.interrupted.delete(name);
    this.uncertainTags.delete(ref);
    this.goneTags.delete(ref);
    this.tags.set(ref, { id, run: PULLABLE[name]! });
    this.note(`pulled ${ref} ${id.slice(7, 19)}`);
    return msgs;
  }

  private async rmi(ref: string): Promise<void> {
    this.uncertainTags.add(ref);
    const r = await this.call('DELETE', `/images/${ref}`);
    if (r.status === 409) { this.uncertainTags.delete(ref); return; } // in use: nothing changed
    expectJson(r, 200, `rmi ${ref}`);
    this.uncertainTags.delete(ref);
    this.tags.delete(ref);
    this.goneTags.add(ref);
    this.note(`removed image ${ref}`);
  }

  /** Remove (usually) and pull again an image no container needs; busybox stays for the containers. */
  private async repull(): Promise<void> {
    const name = this.pick(['hello-world', 'layered', 'layered'].filter((n) => !this.busy.has(`${n}:latest`)));
    if (!name) return;
    this.busy.add(`${name}:latest`);
    if (this.random() < 0.7 && this.tags.has(`${name}:latest`)) await this.rmi(`${name}:latest`);
    await this.pull(name);
  }

  private async tag(): Promise<void> {
    const src = this.pick([...this.tags.entries()].filter(([r, t]) => t.run === 'true' && !this.busy.has(r)));
    if (!src) return;
    this.busy.add(src[0]);
    const ref = `kill/tag:${this.next()}`;
    this.uncertainTags.add(ref);
    expectJson(await this.call('POST', `/images/${src[0]}/tag?repo=kill/tag&tag=${ref.split(':')[1]}`), 201, `tag ${ref}`);
    this.uncertainTags.delete(ref);
    this.tags.set(ref, { ...src[1] });
    this.note(`tagged ${src[0]} as ${ref}`);
  }

  private async push(): Promise<void> {
    const src = this.pick([...this.tags.keys()].filter((t) => !t.startsWith(this.d.registryHost) && !this.busy.has(t)));
    if (!src) return;
    this.busy.add(src);
    const n = this.next();
    const repo = `${this.d.registryHost}/kill/push`;
    const ref = `${repo}:${n}`;
    this.uncertainTags.add(ref);
    expectJson(await this.call('POST', `/images/${src}/tag?repo=${repo}&tag=${n}`), 201, `tag ${ref}`);
    this.uncertainTags.delete(ref);
    this.tags.set(ref, { ...this.tags.get(src)! });
    this.note(`tagged ${src} as ${ref}`);
    this.uncertainPushes.add(`kill/push:${n}`);
    const r = await this.call('POST', `/images/${repo}/push?tag=${n}`, { headers: AUTH });
    const err = r.status === 200 ? streamError(jsonMessages(r.body)) : `HTTP ${r.status}`;
    if (err !== undefined) throw new Error(`push ${ref}: ${err}`);
    this.uncertainPushes.delete(`kill/push:${n}`);
    this.pushed.add(`kill/push:${n}`);
    this.note(`pushed ${ref}`);
  }

  private async create(): Promise<void> {
    const name = `k${this.next()}`;
    this.containers.set(name, { status: 'created', uncertain: true });
    const r = await this.call('POST', `/containers/create?name=${name}`, { body: { Image: 'busybox', Cmd: ['sleep', '100000'] } });
    const id = expectJson<{ Id: string }>(r, 201, `create ${name}`).Id;
    this.containers.set(name, { id, status: 'created', uncertain: false });
    this.note(`created ${name} ${id.slice(0, 12)}`);
  }

  private async start(): Promise<void> {
    const name = this.pick([...this.containers.entries()].filter(([, c]) => !c.uncertain && c.status !== 'running').map(([n]) => n));
    if (!name) return this.create();
    const c = this.containers.get(name)!;
    c.uncertain = true;
    expectJson(await this.call('POST', `/containers/${name}/start`), 204, `start ${name}`);
    c.uncertain = false;
    c.status = 'running';
    this.note(`started ${name}`);
  }

  private async stop(): Promise<void> {
    const name = this.pick([...this.containers.entries()].filter(([, c]) => !c.uncertain && c.status === 'running').map(([n]) => n));
    if (!name) return this.start();
    const c = this.containers.get(name)!;
    c.uncertain = true;
    expectJson(await this.call('POST', `/containers/${name}/stop?t=0`), 204, `stop ${name}`);
    c.uncertain = false;
    c.status = 'exited';
    c.exitCode = 137; // sleep as PID 1 ignores SIGTERM: the stop kills it
    this.note(`stopped ${name}`);
  }

  private async rm(): Promise<void> {
    const name = this.pick([...this.containers.entries()].filter(([, c]) => !c.uncertain).map(([n]) => n));
    if (!name) return;
    this.containers.get(name)!.uncertain = true;
    const r = await this.call('DELETE', `/containers/${name}?force=1&v=1`);
    if (r.status !== 404) expectJson(r, 204, `rm ${name}`);
    this.containers.delete(name);
    this.goneContainers.add(name);
    this.note(`removed container ${name}`);
  }

  private async commit(): Promise<void> {
    const name = this.pick([...this.containers.entries()].filter(([, c]) => !c.uncertain).map(([n]) => n));
    if (!name) return this.create();
    const n = this.next();
    const ref = `kill/commit:${n}`;
    this.uncertainTags.add(ref);
    const c = this.containers.get(name)!;
    c.uncertain = true; // no removal or start meanwhile
    const r = await this.call('POST', `/commit?container=${name}&repo=kill/commit&tag=${n}`, { body: {} });
    const id = expectJson<{ Id: string }>(r, 201, `commit ${name}`).Id;
    c.uncertain = false;
    this.uncertainTags.delete(ref);
    this.tags.set(ref, { id, run: 'true' });
    this.note(`committed ${name} as ${ref} ${id.slice(7, 19)}`);
  }

  private async rmiOwn(): Promise<void> {
    const ref = this.pick([...this.tags.keys()].filter((t) => (t.startsWith('kill/') || t.startsWith(this.d.registryHost)) && !this.busy.has(t)));
    if (!ref) return;
    this.busy.add(ref);
    await this.rmi(ref);
  }

  private async volumeWrite(): Promise<void> {
    let name = this.pick([...this.volumes.entries()].filter(([, v]) => !v.uncertain).map(([n]) => n));
    if (!name || (this.volumes.size < 5 && this.random() < 0.4)) {
      name = `kv${this.next()}`;
      this.volumes.set(name, { uncertain: true, files: new Map() });
      expectJson(await this.call('POST', '/volumes/create', { body: { Name: name } }), 201, `volume create ${name}`);
      this.volumes.get(name)!.uncertain = false;
      this.note(`created volume ${name}`);
    }
    const n = this.next();
    const file = `f${n}`;
    const r = await this.call('POST', '/containers/create', {
      body: { Image: 'busybox', Cmd: ['sh', '-c', `echo ${n} > /v/${file}`], HostConfig: { Binds: [`${name}:/v`], AutoRemove: true } },
    });
    const id = expectJson<{ Id: string }>(r, 201, `create writer for ${name}`).Id;
    const wait = this.call('POST', `/containers/${id}/wait?condition=next-exit`);
    wait.catch(() => {});
    expectJson(await this.call('POST', `/containers/${id}/start`), 204, `start writer ${id}`);
    const code = expectJson<{ StatusCode: number }>(await wait, 200, `wait writer ${id}`).StatusCode;
    assert.equal(code, 0, `the writer of ${name}/${file} exited with ${code}`);
    this.volumes.get(name)?.files.set(file, `${n}\n`);
    this.note(`wrote ${name}/${file}`);
  }

  private async readLog(): Promise<void> {
    const r = await this.call('GET', `/containers/${this.logger.id}/logs?stdout=1&stderr=1&tail=1`);
    if (r.status !== 200) throw new HttpStatusError(`logs --tail 1: HTTP ${r.status}`);
    const text = demuxStdcopy(r.body);
    const m = /line (\d+)\n$/.exec(text);
    if (m && Number(m[1]) > this.logger.maxSeen) {
      this.logger.maxSeen = Number(m[1]);
      this.note(`saw log line ${this.logger.maxSeen}`);
    }
  }

  /** One random operation; what it acknowledges lands in the model and the ledger. */
  async randomOp(): Promise<void> {
    const running = [...this.containers.values()].filter((c) => c.status === 'running').length;
    const ops: Array<[number, () => Promise<void>]> = [
      [3, () => this.repull()],
      [2, () => this.push()],
      [2, () => this.commit()],
      [this.containers.size < 8 ? 3 : 0, () => this.create()],
      [running < 4 ? 3 : 0, () => this.start()],
      [2, () => this.stop()],
      [this.containers.size > 3 ? 3 : 1, () => this.rm()],
      [this.tags.size > 8 ? 3 : 1, () => this.rmiOwn()],
      [2, () => this.volumeWrite()],
      [2, () => this.tag()],
      [2, () => this.readLog()],
    ];
    const total = ops.reduce((s, [w]) => s + w, 0);
    let x = this.random() * total;
    for (const [w, op] of ops) {
      if ((x -= w) < 0) return op();
    }
  }

  // ------------------------------------------------------------------ checks

  private onDisk(path: string, what: string): void {
    assert.ok(existsSync(path), `${what}: ${path} is missing`);
  }

  /** Nothing half-visible: every listed image and container is whole on disk and inspectable. */
  private async checkListed(): Promise<void> {
    const images = expectJson<Array<{ Id: string }>>(await this.call('GET', '/images/json?all=1'), 200, 'images');
    for (const im of images) {
      const ins = expectJson<{ RootFS: { Layers: string[] } }>(await this.call('GET', `/images/${im.Id}/json`), 200, `inspect image ${im.Id}`);
      for (const c of chainIDs(ins.RootFS.Layers)) {
        const dir = join(this.dataRoot, 'layers', c.slice(7));
        this.onDisk(join(dir, 'meta.json'), `image ${im.Id.slice(7, 19)} layer ${c.slice(7, 19)}`);
        assert.ok(statSync(join(dir, 'diff')).isDirectory(), `image ${im.Id} layer ${c}: no diff dir`);
      }
    }
    const list = expectJson<Array<{ Id: string }>>(await this.call('GET', '/containers/json?all=1'), 200, 'ps -a');
    for (const c of list) {
      const ins = expectJson<{ GraphDriver: { Data: Record<string, string> } }>(await this.call('GET', `/containers/${c.Id}/json`), 200, `inspect container ${c.Id}`);
      const dir = join(this.dataRoot, 'containers', c.Id);
      this.onDisk(join(dir, 'config.v2.json'), `container ${c.Id.slice(0, 12)} record`);
      this.onDisk(join(dir, 'upper'), `container ${c.Id.slice(0, 12)} rootfs`);
      for (const lower of (ins.GraphDriver.Data['LowerDir'] ?? '').split(':').filter((p) => p.startsWith('/'))) {
        this.onDisk(lower, `container ${c.Id.slice(0, 12)} lower layer`);
      }
    }
  }

  private async inspectTag(ref: string): Promise<string | undefined> {
    const r = await this.call('GET', `/images/${ref}/json`);
    if (r.status === 404) return undefined;
    return expectJson<{ Id: string }>(r, 200, `inspect ${ref}`).Id;
  }

  private async checkImages(): Promise<void> {
    for (const [ref, t] of this.tags) {
      if (this.uncertainTags.has(ref)) continue; // a removal the kill cut: settled below
      assert.equal(await this.inspectTag(ref), t.id, `acknowledged image ${ref} lost or changed`);
    }
    for (const ref of this.goneTags) {
      if (this.uncertainTags.has(ref)) continue;
      assert.equal(await this.inspectTag(ref), undefined, `image ${ref} was acknowledged removed but is back`);
    }
    // Operations the kill cut: take the daemon's word, now that it is whole.
    for (const ref of this.uncertainTags) {
      const id = await this.inspectTag(ref);
      if (id) {
        const name = ref.replace(/:latest$/, '');
        const run: Run = PULLABLE[name] ?? this.tags.get(ref)?.run ?? (ref.startsWith('kill/commit') ? 'true' : [...this.tags.values()].find((t) => t.id === id)?.run ?? 'no');
        this.tags.set(ref, { id, run });
        this.goneTags.delete(ref);
      } else {
        this.tags.delete(ref);
        this.goneTags.add(ref);
      }
    }
    this.uncertainTags.clear();
    for (const ref of this.pushed) {
      const [repo, tag] = ref.split(':') as [string, string];
      assert.ok(await registryHas(this.d.registryHost, repo, tag), `acknowledged push ${ref} is not in the registry`);
    }
    this.uncertainPushes.clear();
  }

  private async checkContainers(): Promise<void> {
    for (const [name, c] of this.containers) {
      const r = await this.call('GET', `/containers/${name}/json`);
      if (c.uncertain) {
        if (r.status === 404) { this.containers.delete(name); this.note(`${name} (its operation cut by the kill) does not exist`); continue; }
        const ins = expectJson<{ Id: string; State: { Running: boolean; Status: string; ExitCode: number } }>(r, 200, `inspect ${name}`);
        c.id = ins.Id;
        c.status = ins.State.Running ? 'running' : ins.State.Status === 'created' ? 'created' : 'exited';
        c.exitCode = ins.State.ExitCode;
        c.uncertain = false;
        this.note(`${name} (its operation cut by the kill) is ${c.status} by the daemon${c.status === 'running' ? ` (pid ${(ins.State as { Pid?: number }).Pid})` : ''}`);
        continue;
      }
      const ins = expectJson<{ Id: string; State: { Running: boolean; Status: string; ExitCode: number; Pid: number } }>(r, 200, `acknowledged container ${name}`);
      assert.equal(ins.Id, c.id, `container ${name} changed identity`);
      if (c.status === 'running') {
        if (!ins.State.Running) assert.fail(`container ${name} was acknowledged running but is ${ins.State.Status}\n${await this.explain(name, c.id!)}`);
        if (!(ins.State.Pid > 0 && pidAlive(ins.State.Pid))) assert.fail(`container ${name} says running but its process ${ins.State.Pid} is gone\n${await this.explain(name, c.id!)}`);
      } else if (c.status === 'exited') {
        if (ins.State.Status !== 'exited') assert.fail(`container ${name} was acknowledged stopped but is ${ins.State.Status}\n${await this.explain(name, c.id!)}`);
        if (ins.State.ExitCode !== c.exitCode) assert.fail(`container ${name}: exit code of its stop not recorded (${ins.State.ExitCode}, not ${c.exitCode})\n${await this.explain(name, c.id!)}`);
      } else if (ins.State.Status !== 'created') {
        assert.fail(`container ${name} was acknowledged created but is ${ins.State.Status}\n${await this.explain(name, c.id!)}`);
      }
    }
    for (const name of this.goneContainers) {
      const r = await this.call('GET', `/containers/${name}/json`);
      assert.equal(r.status, 404, `container ${name} was acknowledged removed but is back`);
    }
  }

  /**
   * Everything that tells why a container is not as acknowledged: its State as the daemon has it,
   * what the ledger did to it, its exit file (the shim's word) and the last lines of its log.
   */
  private async explain(name: string, id: string): Promise<string> {
    const out: string[] = [];
    const ins = await this.call('GET', `/containers/${name}/json`).catch((e: Error) => e);
    out.push(`State: ${ins instanceof Error ? ins.message : JSON.stringify((JSON.parse(ins.body.toString()) as { State?: unknown }).State)}`);
    out.push(`ledger for ${name}:\n  ${this.ledger.filter((l) => new RegExp(`\\b${name}\\b`).test(l)).join('\n  ')}`);
    const dir = join(this.dataRoot, 'containers', id);
    for (const f of ['exit.json', 'exit.json.tmp']) {
      let text: string;
      try { text = JSON.stringify(readFileSync(join(dir, f), 'utf8').trim()); } catch (e) { text = (e as NodeJS.ErrnoException).code ?? String(e); }
      out.push(`${f}: ${text}`);
    }
    const logs = await this.call('GET', `/containers/${name}/logs?stdout=1&stderr=1&timestamps=1&tail=10`).catch((e: Error) => e);
    out.push(`log (last lines): ${logs instanceof Error ? logs.message : JSON.stringify(demuxStdcopy(logs.body))}`);
    return out.join('\n');
  }

  /**
   * The host's side of every container, for a failure report: each record's state, the files the
   * shim keeps in its folder, and the shims and container processes running.
   */
  hostState(): string {
    const out: string[] = [];
    const root = join(this.dataRoot, 'containers');
    let ids: string[] = [];
    try { ids = readdirSync(root).filter((f) => /^[0-9a-f]{64}$/.test(f)); } catch { /* none */ }
    for (const id of ids) {
      let st = '';
      try {
        const rec = JSON.parse(readFileSync(join(root, id, 'config.v2.json'), 'utf8')) as { Name: string; State: { Status: string; Pid: number; ShimPid: number; ExitCode: number; Error: string } };
        st = `${rec.Name} ${rec.State.Status} pid ${rec.State.Pid}${rec.State.Pid ? (pidAlive(rec.State.Pid) ? ' (alive)' : ' (gone)') : ''} shim ${rec.State.ShimPid}${rec.State.ShimPid ? (pidAlive(rec.State.ShimPid) ? ' (alive)' : ' (gone)') : ''} exit ${rec.State.ExitCode} ${JSON.stringify(rec.State.Error)}`;
      } catch (e) { st = `no record (${(e as Error).message})`; }
      const files = ['shim.sock', 'exit.json', 'exit.json.tmp', 'container.pid'].filter((f) => existsSync(join(root, id, f)));
      out.push(`${id.slice(0, 12)} ${st}; files: ${files.join(' ') || '-'}`);
    }
    const ps = spawnSync('ps', ['-eo', 'pid,ppid,stat,etimes,args'], { encoding: 'utf8' }).stdout ?? '';
    out.push('processes (shims, crun, containers):');
    for (const line of ps.split('\n')) if (line.includes(this.dataRoot) || /\b(crun|sleep 100000)\b/.test(line)) out.push(`  ${line.trim().slice(0, 220)}`);
    return out.join('\n');
  }

  private async checkVolumes(): Promise<void> {
    const { Volumes } = expectJson<{ Volumes: Array<{ Name: string; Mountpoint: string }> }>(await this.call('GET', '/volumes'), 200, 'volumes');
    const byName = new Map(Volumes.map((v) => [v.Name, v.Mountpoint]));
    for (const [name, v] of this.volumes) {
      const mp = byName.get(name);
      if (v.uncertain) {
        if (!mp) this.volumes.delete(name);
        else v.uncertain = false;
        continue;
      }
      assert.ok(mp, `acknowledged volume ${name} is not listed`);
      for (const [file, content] of v.files) {
        const path = join(mp, file);
        assert.ok(existsSync(path), `acknowledged write ${name}/${file} lost`);
        assert.equal(readFileSync(path, 'utf8'), content, `acknowledged write ${name}/${file} changed`);
      }
    }
  }

  private async checkLogger(): Promise<void> {
    const ins = expectJson<{ State: { Running: boolean } }>(await this.call('GET', `/containers/${this.logger.id}/json`), 200, 'inspect logger');
    assert.equal(ins.State.Running, true, 'the logger container stopped running');
    const r = await this.call('GET', `/containers/${this.logger.id}/logs?stdout=1&stderr=1`);
    if (r.status !== 200) throw new HttpStatusError(`logs: HTTP ${r.status}`);
    const lines = demuxStdcopy(r.body).split('\n');
    const last = lines.pop();
    assert.equal(last, '', 'the log ends inside a line');
    lines.forEach((l, i) => assert.equal(l, `line ${i + 1}`, `log line ${i + 1} is ${JSON.stringify(l)} (lost, duplicated or out of order)`));
    assert.ok(lines.length >= this.logger.maxSeen, `log has ${lines.length} lines but line ${this.logger.maxSeen} was seen before a kill`);
    this.logger.maxSeen = lines.length;
  }

  /** Pulls cut by a kill complete when run again and reuse the layers already in. */
  private async rerunInterrupted(): Promise<void> {
    for (const name of [...this.interrupted]) {
      const present = this.chains.get(name)!.filter((c) => existsSync(join(this.dataRoot, 'layers', c.slice(7), 'meta.json'))).length;
      const msgs = (await this.pull(name, true))!;
      const reused = msgs.filter((m) => m.status === 'Already exists').length;
      assert.equal(reused, present, `re-run pull of ${name}: ${reused} layers reused, ${present} were already complete`);
      this.note(`re-ran interrupted pull of ${name} (${present} layers reused)`);
    }
  }

  /** A container of every runnable image runs (`sample` of them, or all). */
  async runImages(sample?: number): Promise<void> {
    const byId = new Map<string, [string, Run]>();
    for (const [ref, t] of this.tags) if (t.run !== 'no' && !byId.has(t.id)) byId.set(t.id, [ref, t.run]);
    let todo = [...byId.values()];
    if (sample !== undefined) todo = todo.sort(() => this.random() - 0.5).slice(0, sample);
    for (const [ref, run] of todo) {
      const body = { Image: ref, ...(run === 'true' ? { Cmd: ['true'] } : {}), HostConfig: { AutoRemove: true } };
      const id = expectJson<{ Id: string }>(await this.call('POST', '/containers/create', { body }), 201, `create a container of ${ref}`).Id;
      const wait = this.call('POST', `/containers/${id}/wait?condition=next-exit`);
      wait.catch(() => {});
      expectJson(await this.call('POST', `/containers/${id}/start`), 204, `start a container of ${ref}`);
      const code = expectJson<{ StatusCode: number }>(await wait, 200, `wait for ${ref}`).StatusCode;
      assert.equal(code, 0, `a container of ${ref} exited with ${code}`);
    }
  }

  /** Every check of a restart. */
  async check(): Promise<void> {
    this.busy.clear();
    await this.checkListed();
    await this.checkImages();
    await this.checkContainers();
    await this.checkVolumes();
    await this.checkLogger();
    await this.rerunInterrupted();
  }

  // ------------------------------------------------------------------ end

  /** Running containers are still managed: stop works and records the exit code; then remove all. */
  async finish(): Promise<void> {
    const names = [...[...this.containers.entries()].filter(([, c]) => c.status === 'running').map(([n]) => n), 'logger'];
    for (const name of names) {
      try {
        expectJson(await this.call('POST', `/containers/${name}/stop?t=1`), 204, `stop ${name}`);
      } catch (e) {
        const id = name === 'logger' ? this.logger.id : this.containers.get(name)!.id!;
        throw new Error(`${(e as Error).message}\n${await this.explain(name, id)}`);
      }
      const st = expectJson<{ State: { Status: string; ExitCode: number } }>(await this.call('GET', `/containers/${name}/json`), 200, `inspect ${name}`).State;
      assert.equal(st.Status, 'exited', `${name} after stop`);
      assert.equal(st.ExitCode, 137, `${name}: exit code after stop`);
    }
    const all = expectJson<Array<{ Id: string }>>(await this.call('GET', '/containers/json?all=1'), 200, 'ps -a');
    for (const c of all) expectJson(await this.call('DELETE', `/containers/${c.Id}?force=1&v=1`), 204, `rm ${c.Id}`);
  }
}

type JsonMessage = ReturnType<typeof jsonMessages>[number];

function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}
