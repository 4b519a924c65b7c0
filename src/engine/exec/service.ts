/**
 * Exec instances (`docker exec`): kept in memory, as dockerd does. An instance is created for a
 * running container, started once (attached or detached), and stays inspectable after its process
 * ends, until its container is removed. After a daemon restart they are gone; a process that was
 * running goes on under its shim until it ends.
 */
import type { ExecCreateBody } from '../../wire/types.js';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, InvalidParameterError, NotFoundError, SystemError } from '../errors.js';
import { processGone } from '../host/process.js';
import type { EventBus } from '../events/bus.js';
import { containerEventAttributes as attrs, type ContainerRecord } from '../containers/types.js';
import type { ExitStatus, OutputRecord, RuntimeApi, ShimConnection, StreamSession } from '../runtime/types.js';
import { DEFAULT_PATH_ENV, resolveUser } from '../runtime/spec.js';
import { EXIT_FILE, readExitStatus } from '../runtime/exit-file.js';
import { parseDetachKeys, sessionDetachKeys } from '../detach-keys.js';
import { readEtcFile } from '../host/in-root.js';
import { logFailure } from '../log-failure.js';
import { MAX_QUEUED_BYTES } from '../containers/hub.js';

/** The body of POST /containers/{id}/exec. */
export type { ExecCreateBody };

export interface ExecStartOptions {
  detach: boolean;
  /** [height, width] from the start body (API >= 1.42), else the create body's */
  consoleSize?: [number, number] | null;
}

/** What the exec service needs from the container side. */
export interface ContainerAccess {
  get(ref: string): ContainerRecord;
  find(id: string): ContainerRecord | undefined;
  dir(id: string): string;
  isRunning(rec: ContainerRecord): boolean;
}

export interface ExecSession extends StreamSession {
  /** Resolves with the exit status. */
  exited: Promise<ExitStatus>;
}

interface ExecInstance {
  id: string;
  containerId: string;
  entrypoint: string;
  args: string[];
  openStdin: boolean;
  openStdout: boolean;
  openStderr: boolean;
  tty: boolean;
  privileged: boolean;
  user: string;
  workingDir: string;
  env: string[];
  detachKeys: string;
  consoleSize?: [number, number];
  /** a resize that came before the process ran */
  pendingSize?: [number, number];
  running: boolean;
  started: boolean;
  exitCode: number | null;
  pid: number;
  shimPid: number;
  conn?: ShimConnection;
  /** called with the exit once the process ended */
  onExit: Array<(s: ExitStatus) => void>;
}

export class ExecService {
  private readonly execs = new Map<string, ExecInstance>();

  constructor(private readonly deps: { containers: ContainerAccess; runtime: RuntimeApi; events: EventBus }) {
    // Docker drops a container's exec instances with the container.
    deps.events.subscribe((e) => {
      if (e.Type !== 'container' || e.Action !== 'destroy') return;
      for (const x of this.execs.values()) if (x.containerId === e.Actor.ID) this.execs.delete(x.id);
    });
  }

  /** IDs of a container's exec instances that have not ended (container inspect's ExecIDs). */
  idsFor(containerId: string): string[] {
    return [...this.execs.values()].filter((x) => x.containerId === containerId && x.exitCode === null).map((x) => x.id);
  }

  create(ref: string, body: ExecCreateBody): string {
    const rec = this.deps.containers.get(ref);
    if (!this.deps.containers.isRunning(rec)) throw new ConflictError(`container ${rec.Id} is not running`);
    if (rec.State.Status === 'paused') throw new ConflictError(`Container ${rec.Id} is paused, unpause the container before exec`);
    if (rec.State.Status === 'restarting') throw new ConflictError(`Container ${rec.Id} is restarting, wait until the container is running`);
    const cmd = typeof body.Cmd === 'string' ? [body.Cmd] : (body.Cmd ?? []);
    if (!Array.isArray(cmd) || cmd.length === 0) throw new InvalidParameterError('No exec command specified');
    const env = body.Env ?? [];
    for (const e of env) {
      if (typeof e !== 'string' || e === '' || e.startsWith('=')) throw new InvalidParameterError(`invalid environment variable: ${e}`);
    }
    if (body.DetachKeys) parseDetachKeys(body.DetachKeys);
    const size = Array.isArray(body.ConsoleSize) && body.ConsoleSize.length === 2 ? body.ConsoleSize : undefined;
    const x: ExecInstance = {
      id: randomBytes(32).toString('hex'),
      containerId: rec.Id,
      entrypoint: cmd[0]!,
      args: cmd.slice(1),
      openStdin: !!body.AttachStdin,
      openStdout: !!body.AttachStdout,
      openStderr: !!body.AttachStderr,
      tty: !!body.Tty,
      privileged: !!body.Privileged,
      user: body.User || rec.Config.User || '',
      workingDir: body.WorkingDir || rec.Config.WorkingDir || '',
      env,
      detachKeys: body.DetachKeys ?? '',
      consoleSize: size,
      running: false,
      started: false,
      exitCode: null,
      pid: 0,
      shimPid: 0,
      onExit: [],
    };
    this.execs.set(x.id, x);
    this.deps.events.publish('container', `exec_create: ${[x.entrypoint, ...x.args].join(' ')}`, rec.Id,
      { ...attrs(rec), execID: x.id });
    return x.id;
  }

  private find(id: string): ExecInstance {
    const x = this.execs.get(id);
    if (!x) throw new NotFoundError(`No such exec instance: ${id}`);
    return x;
  }

  /** Throws (404) unless the instance exists; the API checks this before hijacking. */
  check(id: string): { tty: boolean; openStdin: boolean } {
    const x = this.find(id);
    const rec = this.deps.containers.find(x.containerId);
    if (!rec) throw new NotFoundError(`No such exec instance: ${id}`);
    if (!this.deps.containers.isRunning(rec)) throw new ConflictError(`container ${rec.Id} is not running`);
    return { tty: x.tty, openStdin: x.openStdin };
  }

  inspect(id: string) {
    const x = this.find(id);
    return {
      ID: x.id,
      Running: x.running,
      ExitCode: x.exitCode,
      ProcessConfig: { tty: x.tty, entrypoint: x.entrypoint, arguments: x.args, privileged: x.privileged, user: x.user },
      OpenStdin: x.openStdin,
      OpenStderr: x.openStderr,
      OpenStdout: x.openStdout,
      CanRemove: false,
      ContainerID: x.containerId,
      // a Go []byte: base64 in JSON
      DetachKeys: Buffer.from(x.detachKeys ? parseDetachKeys(x.detachKeys) : []).toString('base64'),
      Pid: x.pid,
    };
  }

  resize(id: string, height: number, width: number): void {
    const x = this.find(id);
    if (!Number.isInteger(height) || !Number.isInteger(width) || height < 0 || width < 0 || height > 65535 || width > 65535) {
      throw new InvalidParameterError(`invalid size: ${height}x${width}`);
    }
    if (x.exitCode !== null) throw new ConflictError(`Exec ${x.id} is not running`);
    if (!x.tty) return;
    // The CLI resizes right after the hijack, possibly before the process runs: keep it for then.
    if (x.conn) x.conn.resize(height, width);
    else x.pendingSize = [height, width];
  }

  /**
   * Start the process. Attached: resolves with a session whose output must be consumed.
   * Rejects with Docker's errors (already run, container not running, runtime exec failure:
   * the instance then has ExitCode 126, as in dockerd).
   */
  async start(id: string, opts: ExecStartOptions): Promise<ExecSession | undefined> {
    const x = this.find(id);
    const rec = this.deps.containers.find(x.containerId);
    if (!rec) throw new NotFoundError(`No such exec instance: ${id}`);
    if (x.exitCode !== null) throw new ConflictError(`Error: Exec command ${x.id} has already run`);
    if (x.running || x.started) throw new ConflictError(`Error: Exec command ${x.id} is already running`);
    if (!this.deps.containers.isRunning(rec)) throw new ConflictError(`container ${rec.Id} is not running`);
    x.started = true;
    x.running = true;
    this.deps.events.publish('container', `exec_start: ${[x.entrypoint, ...x.args].join(' ')}`, rec.Id,
      { ...attrs(rec), execID: x.id });

    // Output is queued from the first record on, so an attached client misses nothing; a client
    // that falls MAX_QUEUED_BYTES behind is cut off (the process goes on), as a slow attach is.
    const queue: OutputRecord[] = [];
    let queued = 0;
    let ended = false;
    let listening = !opts.detach;
    let wake: (() => void) | undefined;
    let exitResolve!: (s: ExitStatus) => void;
    const exited = new Promise<ExitStatus>((r) => { exitResolve = r; });
    x.onExit.push((s) => { ended = true; exitResolve(s); wake?.(); });

    const dir = join(this.deps.containers.dir(rec.Id), 'exec', x.id);
    let started;
    try {
      const proc = await this.processSpec(rec, x, opts.consoleSize ?? x.consoleSize);
      started = await this.deps.runtime.exec({ containerId: rec.Id, dir, process: proc, openStdin: x.openStdin, tty: x.tty });
    } catch (e) {
      x.running = false;
      x.exitCode = 126;
      x.onExit.splice(0);
      // The container exited, or was paused, between the check above and the runtime's exec: a
      // 409 with dockerd's words, not a daemon failure.
      const now = this.deps.containers.find(rec.Id);
      if (now?.State.Status === 'paused') throw new ConflictError(`Container ${rec.Id} is paused, unpause the container before exec`);
      if (!now || !this.deps.containers.isRunning(now) || processGone(rec.State.Pid)) throw new ConflictError(`container ${rec.Id} is not running`);
      throw e instanceof Error ? e : new SystemError(String(e));
    }
    x.pid = started.result.pid;
    x.shimPid = started.result.shimPid;
    const conn = started.conn;
    x.conn = conn;
    if (x.pendingSize && x.tty) conn.resize(x.pendingSize[0], x.pendingSize[1]);
    conn.on('output', (r: OutputRecord) => {
      if (!listening) return;
      if ((r.stream === 'stdout' && !x.openStdout) || (r.stream === 'stderr' && !x.openStderr)) return;
      queue.push(r);
      queued += r.data.length;
      if (queued > MAX_QUEUED_BYTES) {
        listening = false;
        queue.length = 0;
        queued = 0;
      }
      wake?.();
    });
    let done = false;
    const finish = (s: ExitStatus): void => {
      if (done) return;
      done = true;
      x.running = false;
      x.exitCode = s.exitCode;
      x.conn = undefined;
      conn.close();
      const cur = this.deps.containers.find(x.containerId);
      this.deps.events.publish('container', 'exec_die', x.containerId,
        { ...(cur ? attrs(cur) : {}), execID: x.id, exitCode: String(s.exitCode) });
      for (const f of x.onExit.splice(0)) f(s);
      void rm(dir, { recursive: true, force: true }).catch(logFailure(`removing the folder of exec ${x.id}`));
    };
    conn.once('exit', finish);
    conn.once('close', () => {
      if (done) return;
      // The shim went away without an EXIT frame (killed): take its exit file if it wrote one.
      void readExitFile(dir).then((s) => finish(s ?? { exitCode: 137, finishedAt: new Date().toISOString(), oomKilled: false }))
        .catch(logFailure(`recording the end of exec ${x.id}`));
    });
    if (opts.detach) return undefined;

    async function* output(): AsyncGenerator<OutputRecord> {
      for (;;) {
        while (queue.length && listening) {
          const r = queue.shift()!;
          queued -= r.data.length;
          yield r;
        }
        if (ended || !listening) return;
        await new Promise<void>((r) => { wake = r; });
        wake = undefined;
      }
    }
    return {
      output: output(),
      exited,
      detachKeys: sessionDetachKeys(x.detachKeys, x.tty),
      writeStdin(data: Buffer) { return x.openStdin && x.running ? conn.writeStdin(data) : true; },
      stdinWritable: () => conn.stdinWritable(),
      endStdin() { if (x.openStdin && x.running) conn.closeStdin(); },
      detach() { listening = false; queue.length = 0; queued = 0; wake?.(); },
    };
  }

  /** The container's own process (caps, rlimits, apparmor…) with the exec's args, env, cwd, user. */
  private async processSpec(rec: ContainerRecord, x: ExecInstance, size?: [number, number]): Promise<Record<string, unknown>> {
    const dir = this.deps.containers.dir(rec.Id);
    let base: Record<string, unknown> = {};
    try {
      const spec = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as { process?: Record<string, unknown> };
      base = spec.process ?? {};
    } catch { /* no config.json: defaults below */ }
    const rootfs = join(dir, 'rootfs');
    // An image without /etc/passwd or /etc/group: numeric users only, as dockerd.
    // Read in-root, regular files only, capped: the container controls these paths (host/in-root.ts).
    const user = resolveUser(x.user, await readEtcFile(rootfs, 'passwd'), await readEtcFile(rootfs, 'group'));

    // As dockerd: PATH, HOSTNAME, TERM (with a TTY), the container's Env, then the exec's Env.
    const env: string[] = [];
    const find = (k: string): number => env.findIndex((e) => e === k || e.startsWith(k + '='));
    const set = (kv: string): void => {
      const k = kv.includes('=') ? kv.slice(0, kv.indexOf('=')) : kv;
      const i = find(k);
      if (i >= 0) env[i] = kv; else env.push(kv);
    };
    const cenv = rec.Config.Env ?? [];
    if (!cenv.some((e) => e.startsWith('PATH='))) set(`PATH=${DEFAULT_PATH_ENV}`);
    set(`HOSTNAME=${rec.Config.Hostname}`);
    if (x.tty) set('TERM=xterm');
    for (const e of cenv) set(e);
    // As moby's ReplaceOrAppendEnvValues: `NAME` without '=' unsets NAME. It is never looked up in
    // the daemon's own environment (root's variables); the client fills `-e NAME` from its own.
    for (const e of x.env) {
      if (e.includes('=')) set(e);
      else { const i = find(e); if (i >= 0) env.splice(i, 1); }
    }
    if (!env.some((e) => e.startsWith('HOME='))) set(`HOME=${user.home}`);

    const cwd = x.workingDir || '/';
    if (!cwd.startsWith('/')) throw new InvalidParameterError(`the working directory '${cwd}' is invalid, it needs to be an absolute path`);
    const proc: Record<string, unknown> = {
      ...base,
      terminal: x.tty,
      args: [x.entrypoint, ...x.args],
      env,
      cwd,
      user: { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) },
    };
    delete proc.consoleSize;
    if (x.tty && size && size[0] > 0 && size[1] > 0) proc.consoleSize = { height: size[0], width: size[1] };
    return proc;
  }

  /** Daemon shutdown: drop connections; the processes go on under their shims. */
  detachAll(): void {
    for (const x of this.execs.values()) {
      x.conn?.close();
      x.conn = undefined;
    }
  }
}

function readExitFile(dir: string): Promise<ExitStatus | undefined> {
  return readExitStatus(join(dir, EXIT_FILE));
}

