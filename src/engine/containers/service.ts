import { withoutLink } from '../network/links.js';
import { assertReadableLogs, logDriver } from './log-config.js';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, InvalidParameterError, NotFoundError, NotModifiedError, SystemError, isBerthError } from '../errors.js';
import { processGone } from '../host/process.js';
import type { EventBus } from '../events/bus.js';
import type { ImageRecord } from '../images/types.js';
import type { ExitStatus, OutputRecord, RuntimeApi, ShimConnection, LogReadOptions } from '../runtime/types.js';
import { nowNs, rfc3339NanoFromNs } from '../../util/time.js';
import { parseSignal } from '../runtime/signals.js';
import { generateName, VALID_NAME } from './names.js';
import { dirSize, parsePruneFilters, pruneMatches } from '../prune.js';
import { top as psTop } from './top.js';
import { statsStream } from './stats.js';
import { ContainerStore } from './store.js';
import { logRotation, normalizeCreate, validateCreateBody, type CreateBody } from './create.js';
import { containerEventAttributes, type ContainerRecord } from './types.js';
import { parseTimestamp } from '../filters.js';
import { sessionDetachKeys } from '../detach-keys.js';
import { truncateId } from '../../wire/reference.js';
import { attachSession, Hubs, type AttachOptions, type AttachSession } from './hub.js';
import { logFailure } from '../log-failure.js';
import { mkdirInLayers } from '../host/in-root.js';
import { restartDelayMs, restartsAfterExit, restartsOnBoot } from './restart-policy.js';
import { selectContainers, type ContainerListOptions } from './filters.js';
import type { NetworkManager, SpecNetwork } from '../network/manager.js';
import type { EndpointConfig } from '../network/types.js';
import { readHostResolvConf, renderHosts, renderResolvConf } from '../network/etc-files.js';
import type { ContainerMounts } from '../volumes/mounts.js';
import { adaptResources, checkResources, hostCgroups } from '../runtime/resources.js';
import { planUpdate, type UpdateBody } from './update.js';
import { KeyedSerial } from '../../util/keyed-serial.js';

/** What the container service needs from the image side. */
export interface ImageLookup {
  /** Resolve a reference or ID; throws NotFoundError("No such image: x"). */
  resolve(ref: string): ImageRecord;
  /** Overlay lowerdirs for an image, top layer first. */
  lowerDirs(image: ImageRecord): string[];
}

/** Turns a container record into the OCI runtime spec (runtime/spec.ts behind it). */
export type SpecBuilder = (rec: ContainerRecord, paths: { rootfs: string; dir: string; network?: SpecNetwork }) => Promise<object> | object;

export type { AttachOptions, AttachSession } from './hub.js';

export const WAIT_CONDITIONS = ['not-running', 'next-exit', 'removed'] as const;
export type WaitCondition = typeof WAIT_CONDITIONS[number];

/** GET /containers/{id}/logs, as the API received it (times as Docker timestamps). */
export interface LogsRequest {
  stdout: boolean;
  stderr: boolean;
  follow?: boolean;
  /** the last N records; undefined: all */
  tail?: number;
  since?: string;
  until?: string;
}

/** What container inspect shows beyond the record: its folder's paths and its exec instances. */
export interface ContainerDetails {
  record: ContainerRecord;
  dir: string;
  execIds: string[];
}

export interface ContainerServiceOptions {
  root: string;
  images: ImageLookup;
  runtime: RuntimeApi;
  events: EventBus;
  buildSpec: SpecBuilder;
  hostResolvConf?: string;
  /** Bridge networking (engine/network); without it containers get a private loopback-only namespace. */
  network?: () => NetworkManager | undefined;
  /** IDs of a container's running exec instances (the exec service). */
  execIds?: (containerId: string) => string[];
  /** Called after a container is gone (its folder removed), e.g. to free layers of a deleted image. */
  onRemoved?: (rec: ContainerRecord) => Promise<void>;
  /** Volumes, binds and tmpfs (engine/volumes/mounts.ts); set by the engine. */
  mounts?: ContainerMounts;
}

/** The healthcheck monitor (health.ts), set by the engine. */
export interface HealthHooks {
  started(rec: ContainerRecord, restored?: boolean): void;
  stopped(id: string): void;
}

export class ContainerService {
  readonly store: ContainerStore;
  private readonly hubs = new Hubs();
  /** pause/unpause, one at a time per container */
  private readonly freezeQueue = new KeyedSerial();
  private readonly starting = new Map<string, Promise<void>>();
  private readonly exiting = new Map<string, Promise<void>>();
  /** Pending restarts of containers in their back-off ("restarting"). */
  private readonly restartTimers = new Map<string, NodeJS.Timeout>();
  /** Containers an rm is working on: a start that comes meanwhile is refused (its folder is going). */
  private readonly removals = new Set<string>();
  /** Stopped containers whose files an archive operation holds (cp, export, diff): a start waits. */
  private readonly fileLeases = new Map<string, Promise<void>>();
  private readonly images: ImageLookup;
  private readonly runtime: RuntimeApi;
  private readonly events: EventBus;
  private readonly buildSpec: SpecBuilder;
  private readonly hostResolvConf: string;
  private readonly onRemoved?: (rec: ContainerRecord) => Promise<void>;
  mounts?: ContainerMounts;
  health?: HealthHooks;

  constructor(opts: ContainerServiceOptions) {
    this.store = new ContainerStore(opts.root);
    this.images = opts.images;
    this.runtime = opts.runtime;
    this.events = opts.events;
    this.buildSpec = opts.buildSpec;
    this.hostResolvConf = opts.hostResolvConf ?? '/etc/resolv.conf';
    this.netHooks = opts.network;
    this.onRemoved = opts.onRemoved;
    this.mounts = opts.mounts;
    this.execIds = opts.execIds ?? (() => []);
  }

  private readonly execIds: (containerId: string) => string[];

  private readonly netHooks?: () => NetworkManager | undefined;
  private get network(): NetworkManager | undefined { return this.netHooks?.(); }

  // ---- lifecycle of the service ----

  /** Load records and reconcile them with what is really running (after a restart or a crash). */
  async init(): Promise<void> {
    await mkdir(this.store.root, { recursive: true });
    await this.store.load(); // removes leftovers of crashed creates (never through a mount)
    // Networking clears what stopped containers left behind; their records are written here.
    for (const id of await this.network?.init(this.store.all()) ?? []) {
      const rec = this.store.find(id);
      if (rec) await this.store.save(rec).catch(() => undefined); // rewritten at its next start or exit anyway
    }
    for (const rec of this.store.all()) {
      if (rec.State.Status === 'running' || rec.State.Status === 'paused') {
        await this.reattach(rec);
      } else if (rec.State.Status === 'restarting') {
        // Caught in its back-off when the daemon went: it had exited; the boot rule below decides.
        rec.State.Status = 'exited';
        await this.store.save(rec);
      } else if (this.runtime.leftover?.(rec.Id, this.store.dir(rec.Id))) {
        // A start the crash cut after spawning its shim (the record never said running): that shim,
        // waiting for a GO or running a container no record shows, is nobody's; it goes now.
        const dir = this.store.dir(rec.Id);
        await this.runtime.cleanup(rec.Id, dir, join(dir, 'rootfs')).catch(logFailure(`removing the runtime's leftover of ${rec.Id}`));
      }
    }
    // Restart policies that survive a daemon restart, as Docker does.
    for (const rec of this.store.all()) {
      if (rec.State.Status !== 'running' && restartsOnBoot(rec)) {
        this.start(rec.Id).catch(logFailure(`restarting ${rec.Id} at daemon start`));
      }
    }
  }

  private async reattach(rec: ContainerRecord): Promise<void> {
    const dir = this.store.dir(rec.Id);
    // While its shim lives the container may run: a failed connect is tried again (a loaded host
    // can be slow to answer) before the shim counts as lost, which ends the container.
    for (let attempt = 1; rec.State.ShimPid && this.runtime.isAlive(rec.State.ShimPid); attempt++) {
      try {
        const conn = await this.runtime.connect(dir);
        await this.reconcileFreezer(rec);
        this.wire(rec, conn);
        if (rec.State.Status === 'running') this.health?.started(rec, true);
        // The container may have ended between our crash and this connect.
        const exit = await this.runtime.readExit(dir);
        if (exit && this.hubs.peek(rec.Id)?.conn === conn) await this.handleExit(rec.Id, exit);
        return;
      } catch (e) {
        // A shim that is ending (its container exited) closes the connection: its exit file says.
        logFailure(`reconnecting to the shim (pid ${rec.State.ShimPid}) of ${rec.Id}, attempt ${attempt}`)(e);
        if (attempt >= REATTACH_ATTEMPTS) break;
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
    const exit = await this.runtime.readExit(dir);
    if (!exit) logFailure(`restoring ${rec.Id}`)(new Error(`its shim (pid ${rec.State.ShimPid}) is gone or does not answer, and it left no exit status`));
    await this.handleExit(rec.Id, exit ?? {
      exitCode: 255, finishedAt: rfc3339NanoFromNs(nowNs()), oomKilled: false,
    }, exit ? '' : 'container supervisor exited unexpectedly');
  }

  /**
   * A crash between a freeze and its record (a commit's pause, a client's pause or unpause cut
   * before its answer) leaves the freezer and the record apart. A container frozen that the record
   * says runs is thawed: nobody was told it was paused, and frozen it would take no SIGKILL (a
   * stop waited forever: kill harness, seed 759613149). One thawed that the record says is paused
   * is running again.
   */
  private async reconcileFreezer(rec: ContainerRecord): Promise<void> {
    const frozen = await this.runtime.frozen?.(rec.Id);
    if (frozen === true && rec.State.Status === 'running') {
      process.emitWarning(`berthd: thawing ${rec.Id}, frozen by a pause that the daemon's end cut before its record`);
      await this.runtime.resume(rec.Id).catch(logFailure(`thawing ${rec.Id}`));
    } else if (frozen === false && rec.State.Status === 'paused') {
      rec.State.Status = 'running';
      await this.store.save(rec);
    }
  }

  // ---- queries ----

  get(ref: string): ContainerRecord { return this.store.get(ref); }

  /** Removed, or being removed: an operation whose files went from under it answers 404, not their ENOENT. */
  removedOrRemoving(ref: string): boolean {
    try { return this.store.get(ref).State.Status === 'removing'; } catch { return true; }
  }

  /** GET /containers/{id}/json: the record and what the view adds to it. */
  inspect(ref: string): ContainerDetails {
    const record = this.store.get(ref);
    return { record, dir: this.store.dir(record.Id), execIds: this.execIds(record.Id) };
  }

  /** `ps -s`: bytes in the container's writable layer, and those plus its image's. */
  async sizes(rec: ContainerRecord): Promise<{ SizeRw: number; SizeRootFs: number }> {
    const rw = await dirSize(join(this.store.dir(rec.Id), 'upper'));
    let image = 0;
    try {
      image = this.images.resolve(rec.ImageID).size;
    } catch { /* the image was force-deleted: its layers count as the container's own */ }
    return { SizeRw: rw, SizeRootFs: rw + image };
  }

  /** The IMAGE column of `ps`: what the user asked for, or the short ID once that name moved on. */
  imageName(rec: ContainerRecord): string {
    try {
      if (this.images.resolve(rec.Config.Image).id === rec.ImageID) return rec.Config.Image;
    } catch { /* the name no longer resolves: the short ID below */ }
    return truncateId(rec.ImageID);
  }

  /**
   * Containers, newest first. Without options every container; with them as `docker ps` asks:
   * running ones unless `all`, at most `limit`, filtered as dockerd does (filters.ts).
   */
  list(opts: ContainerListOptions = { all: true }): ContainerRecord[] {
    return selectContainers(this.store.all(), opts, {
      container: (ref) => this.store.get(ref),
      imageId: (ref) => {
        try {
          return this.images.resolve(ref).id;
        } catch {
          return undefined; // as dockerd: an ancestor that names no image matches nothing
        }
      },
    });
  }
  dir(id: string): string { return this.store.dir(id); }
  isRunning(rec: ContainerRecord): boolean { return rec.State.Status === 'running' || rec.State.Status === 'paused'; }

  /**
   * Lease a container's files for an archive operation (engine/containers/archive): after a start
   * in progress; a stopped container's lease holds its next start (and other leases) until
   * release(), since the operation mounts the rootfs where the start would. A running one's lease
   * holds nothing: its rootfs is mounted already.
   */
  async leaseFiles(ref: string): Promise<{ rec: ContainerRecord; dir: string; running: boolean; release(): void }> {
    const rec = this.store.get(ref);
    await this.starting.get(rec.Id)?.catch(() => undefined);
    for (;;) {
      const prev = this.fileLeases.get(rec.Id);
      if (!prev) break;
      await prev;
    }
    const dir = this.store.dir(rec.Id);
    if (this.isRunning(rec)) return { rec, dir, running: true, release: () => undefined };
    let free!: () => void;
    const held = new Promise<void>((r) => { free = r; });
    this.fileLeases.set(rec.Id, held);
    return {
      rec, dir, running: false,
      release: () => {
        if (this.fileLeases.get(rec.Id) === held) this.fileLeases.delete(rec.Id);
        free();
      },
    };
  }

  /** IDs of the containers made from an image (for rmi's conflict checks). */
  usingImage(imageId: string): ContainerRecord[] {
    return this.store.all().filter((c) => c.ImageID === imageId);
  }

  // ---- create ----

  async create(body: CreateBody, requestedName?: string): Promise<{ Id: string; Warnings: string[] }> {
    validateCreateBody(body);
    const image = this.images.resolve(body.Image);
    const id = randomBytes(32).toString('hex');
    let name: string;
    if (requestedName) {
      if (!VALID_NAME.test(requestedName)) {
        throw new InvalidParameterError(`Invalid container name (${requestedName}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
      }
      name = requestedName.replace(/^\//, '');
    } else {
      name = generateName((n) => this.store.nameTaken(n));
    }
    if (!this.store.claimName(name, id)) {
      const holder = this.store.holderOf(name);
      throw new ConflictError(`Conflict. The container name "/${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    const dir = this.store.dir(id);
    let created: ContainerRecord | undefined;
    const warnings: string[] = [];
    try {
      const rec = normalizeCreate(body, { id, name, image, lowerDirs: this.images.lowerDirs(image) });
      warnings.push(...checkResources(rec.HostConfig, hostCgroups()));
      adaptResources(rec.HostConfig);
      this.network?.onCreate(rec);
      await mkdir(join(dir, 'upper'), { recursive: true });
      await mkdir(join(dir, 'work'), { recursive: true });
      await mkdir(join(dir, 'rootfs'), { recursive: true });
      await this.mounts?.create(rec, dir, { ...rec.HostConfig, Volumes: rec.Config.Volumes });
      created = rec;
      await this.writeEtcFiles(rec, dir);
      await this.store.save(rec);
      this.mounts?.created(rec);
      this.events.publish('container', 'create', id, this.attrs(rec));
      return { Id: id, Warnings: warnings };
    } catch (e) {
      this.store.releaseName(name, id);
      if (created) await this.mounts?.removed(created, true).catch(logFailure(`undoing the mounts of ${id} after a failed create`));
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** Until networking sets the sandbox up (for good with host networking): no address yet, the host's resolvers. */
  private async writeEtcFiles(rec: ContainerRecord, dir: string): Promise<void> {
    await writeFile(join(dir, 'hostname'), `${rec.Config.Hostname}\n`);
    await writeFile(join(dir, 'hosts'), renderHosts(rec.Config, []));
    await writeFile(join(dir, 'resolv.conf'), renderResolvConf(await readHostResolvConf(this.hostResolvConf), 'host'));
  }

  // ---- start ----

  async start(ref: string): Promise<void> {
    const rec = this.store.get(ref);
    // One start at a time per container: a second caller waits for the first, then gets 304.
    const pending = this.starting.get(rec.Id);
    if (pending) {
      await pending.catch(() => undefined); // its failure is its own caller's answer
      throw new NotModifiedError();
    }
    const run = this.startNow(rec);
    this.starting.set(rec.Id, run);
    try {
      await run;
    } catch (e) {
      // Removed while starting (its folder went from under the start): gone, not a daemon failure.
      // Not with --rm: a failed start removes the container itself, and its error is the answer.
      if (rec.HostConfig.AutoRemove) throw e;
      if (!this.store.find(rec.Id)) throw new NotFoundError(`No such container: ${rec.Id}`);
      if (rec.State.Status === 'removing') throw new ConflictError('container is marked for removal and cannot be started');
      throw e;
    } finally {
      this.starting.delete(rec.Id);
    }
  }

  private async startNow(rec: ContainerRecord): Promise<void> {
    await this.fileLeases.get(rec.Id); // an archive operation has the stopped rootfs mounted
    if (this.removals.has(rec.Id)) throw new ConflictError('container is marked for removal and cannot be started');
    // The last run's exit still being handled (network released, rootfs unmounted): let it finish
    // first, or it tears down what this start sets up.
    await this.exiting.get(rec.Id);
    if (this.isRunning(rec)) throw new NotModifiedError();
    if (rec.State.Status === 'removing') throw new ConflictError(`container is marked for removal and cannot be started`);
    const dir = this.store.dir(rec.Id);
    const rootfs = join(dir, 'rootfs');
    await ensureWorkingDir(rec, dir);
    await this.mounts?.beforeStart(rec);
    const network = await this.network?.setup(rec, dir);
    let spec;
    try {
      spec = await this.buildSpec(withLinkEnv(rec, this.network?.linkEnv(rec) ?? []), { rootfs, dir, network });
    } catch (e) {
      await this.network?.release(rec).catch(logFailure(`releasing the network of ${rec.Id}`));
      // a container that cannot start is still removed with --rm, or its CLI waits for that forever
      if (rec.HostConfig.AutoRemove) await this.removeNow(rec, true).catch(logFailure(`removing ${rec.Id} (--rm)`));
      throw e;
    }
    const rotation = logRotation(rec.HostConfig);
    // A start (or an exit) that a daemon crash cut short can leave the runtime's container behind;
    // nothing of it runs (the container is not running by its record), so it goes before this run.
    if (this.runtime.leftover?.(rec.Id, dir)) {
      await this.runtime.cleanup(rec.Id, dir, rootfs).catch(logFailure(`removing the runtime's leftover of ${rec.Id}`));
    }
    let started;
    try {
      started = await this.runtime.start({
        id: rec.Id, dir, spec,
        rootfs: { lowerDirs: rec.LowerDirs, upperDir: join(dir, 'upper'), workDir: join(dir, 'work'), target: rootfs },
        logPath: logDriver(rec.HostConfig) === 'none' ? '' : join(dir, 'container.log'), // '': the shim keeps no log
        logMaxSize: rotation.maxSize,
        logMaxFiles: rotation.maxFiles,
        openStdin: rec.Config.OpenStdin,
        tty: rec.Config.Tty,
      });
    } catch (e) {
      // As dockerd: a container that never ran stays "created"; the error and 127/126 are kept.
      await this.network?.release(rec).catch(logFailure(`releasing the network of ${rec.Id}`));
      rec.State.Error = e instanceof Error ? e.message : String(e);
      rec.State.ExitCode = /executable file not found|no such file or directory/i.test(rec.State.Error) ? 127
        : /permission denied/i.test(rec.State.Error) ? 126 : 128;
      if (rec.State.Status !== 'created') rec.State.Status = 'exited';
      await this.store.save(rec);
      if (rec.HostConfig.AutoRemove) await this.removeNow(rec, true).catch(logFailure(`removing ${rec.Id} (--rm)`));
      throw isBerthError(e) ? e : new SystemError(rec.State.Error, e);
    }
    rec.State = {
      ...rec.State,
      Status: 'running', Pid: started.result.pid, ShimPid: started.result.shimPid,
      StartedAt: started.result.startedAt, Error: '', ExitCode: 0, OOMKilled: false,
    };
    rec.StoppedByUser = false;
    this.health?.started(rec);
    this.wire(rec, started.conn);
    await this.store.save(rec);
    this.events.publish('container', 'start', rec.Id, this.attrs(rec));
  }

  /** Route a shim connection's output and exit into the container's hub. */
  private wire(rec: ContainerRecord, conn: ShimConnection): void {
    const hub = this.hubs.of(rec.Id);
    hub.connect(conn);
    conn.once('exit', (s: ExitStatus) => { void this.handleExit(rec.Id, s); });
    conn.once('close', () => {
      hub.disconnect(conn);
      // A shim that vanished without an exit frame: read its exit file if it wrote one.
      const cur = this.store.find(rec.Id);
      if (cur && this.isRunning(cur) && !this.runtime.isAlive(cur.State.ShimPid)) {
        // An unreadable exit file counts as none: the supervisor's loss is recorded below.
        void this.runtime.readExit(this.store.dir(rec.Id)).catch(() => undefined).then((exit) => this.handleExit(rec.Id, exit ?? {
          exitCode: 255, finishedAt: rfc3339NanoFromNs(nowNs()), oomKilled: false,
        }, exit ? '' : 'container supervisor exited unexpectedly'));
      }
    });
  }

  /**
   * One exit handling per container at a time, never failing (it runs from socket events): a
   * removal waits for it, so the record is never written into a folder that is being removed.
   */
  private handleExit(id: string, status: ExitStatus, error = ''): Promise<void> {
    const pending = this.exiting.get(id);
    if (pending) return pending;
    const run = this.onExit(id, status, error)
      .catch((e) => { process.emitWarning(`berthd: handling the exit of ${id}: ${(e as Error).message}`); })
      .finally(() => this.exiting.delete(id));
    this.exiting.set(id, run);
    return run;
  }

  private async onExit(id: string, status: ExitStatus, error = ''): Promise<void> {
    const rec = this.store.find(id);
    if (!rec || !this.isRunning(rec) && rec.State.Status !== 'restarting') return;
    this.health?.stopped(id);
    const hub = this.hubs.of(id);
    const conn = hub.disconnect();
    const shimPid = rec.State.ShimPid;
    rec.State = {
      ...rec.State, Status: 'exited', Pid: 0, ShimPid: 0,
      ExitCode: status.exitCode, FinishedAt: status.finishedAt, OOMKilled: status.oomKilled, Error: error,
    };
    // A record that cannot be written (a full disk) must not stop the exit from being handled, as
    // dockerd logs and goes on: the shim's exit file has the status for the next daemon start.
    await this.store.save(rec).catch(logFailure(`recording the exit of ${id}`));
    await this.network?.release(rec).catch(logFailure(`releasing the network of ${id}`));
    conn?.close();
    await this.runtime.cleanup(rec.Id, this.store.dir(rec.Id), join(this.store.dir(rec.Id), 'rootfs'), shimPid).catch(logFailure(`cleaning up after ${id}`));
    await this.mounts?.afterStop(rec).catch(logFailure(`unmounting the volumes of ${id}`));
    if (status.oomKilled) this.events.publish('container', 'oom', id, this.attrs(rec));
    this.events.publish('container', 'die', id, { ...this.attrs(rec), exitCode: String(status.exitCode) });
    hub.exited(status);
    if (rec.HostConfig.AutoRemove) {
      // As dockerd, --rm takes the anonymous volumes too.
      await this.removeNow(rec, true).catch(logFailure(`removing ${id} (--rm)`));
      return;
    }
    if (restartsAfterExit(rec)) {
      // As dockerd: "restarting" during the back-off; stop, kill or rm -f cancel it.
      rec.RestartCount++;
      rec.State.Status = 'restarting';
      await this.store.save(rec);
      const timer = setTimeout(() => {
        this.restartTimers.delete(id);
        const cur = this.store.find(id);
        if (cur && cur.State.Status === 'restarting' && !cur.StoppedByUser) this.start(id).catch(logFailure(`restarting ${id} (restart policy)`));
      }, restartDelayMs(rec.RestartCount));
      timer.unref();
      this.restartTimers.set(id, timer);
    }
  }

  // ---- stop, kill, restart ----

  async stop(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const rec = this.store.get(ref);
    // A restart under way finishes first (its start clears StoppedByUser), then the mark below
    // keeps any later exit from restarting it; an exit being recorded settles before we look.
    await this.startInProgress(rec);
    if (!rec.StoppedByUser) {
      // Also cancels a pending restart of an exited container with a restart policy.
      rec.StoppedByUser = true;
      await this.store.save(rec);
    }
    await this.exiting.get(rec.Id);
    if (await this.cancelRestart(rec)) {
      this.events.publish('container', 'stop', rec.Id, this.attrs(rec));
      return;
    }
    if (!this.isRunning(rec)) throw new NotModifiedError();
    const signal = opts.signal || rec.Config.StopSignal || 'SIGTERM';
    const timeout = opts.timeout ?? rec.Config.StopTimeout ?? 10;
    const exited = this.nextExit(rec.Id);
    this.events.publish('container', 'kill', rec.Id, { ...this.attrs(rec), signal: String(parseSignal(signal)) });
    this.runtime.kill(rec.State.Pid, signal);
    await this.thawForSignal(rec);
    if (timeout < 0 || !(await withTimeout(exited, timeout * 1000))) {
      // SIGKILL until it ends. A pause since the first signal (a commit's, or a client's racing this
      // stop) froze it, and on cgroup v1 a frozen task never takes the signal: each second the
      // thaw and the signal are repeated, so a pause landing just after a thaw cannot hang the stop.
      while (this.isRunning(rec)) {
        this.runtime.kill(rec.State.Pid, 'SIGKILL');
        await this.thawForSignal(rec);
        if (await withTimeout(exited, 1000)) break;
      }
    }
    this.events.publish('container', 'stop', rec.Id, this.attrs(rec));
  }

  async kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    const rec = this.store.get(ref);
    // A restart's start under way finishes first, and an exit being recorded settles before we
    // look: with a restart policy it ends in the back-off ("restarting", never "exited" to
    // dockerd's clients), which the kill then cancels. Seen as "exited" mid-way, the kill was
    // a 409 "is not running" (CI, restart-policy, under load).
    await this.startInProgress(rec);
    await this.exiting.get(rec.Id);
    if (rec.State.Status === 'restarting') {
      // Nothing runs during the back-off: the kill cancels the restart, as dockerd.
      rec.StoppedByUser = true;
      if (await this.cancelRestart(rec)) return;
    }
    if (!this.isRunning(rec)) {
      throw new ConflictError(`cannot kill container: ${ref}: container ${rec.Id} is not running`);
    }
    const sig = parseSignal(signal);
    // As dockerd's Kill: after SIGKILL the call returns once the exit is recorded (bounded), so
    // the state a client reads next is not "running"; other signals return at once.
    const exited = sig === 9 ? this.nextExit(rec.Id) : undefined;
    // Marked before the signal: the exit it causes must not trigger the restart policy.
    rec.StoppedByUser = true;
    this.runtime.kill(rec.State.Pid, signal);
    if (sig === 9 || sig === parseSignal(rec.Config.StopSignal || 'SIGTERM')) await this.thawForSignal(rec);
    this.events.publish('container', 'kill', rec.Id, { ...this.attrs(rec), signal: String(sig) });
    if (exited) await withTimeout(exited, KILL_EXIT_WAIT_MS);
  }

  async restart(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const rec = this.store.get(ref);
    if (this.isRunning(rec)) await this.stop(rec.Id, opts);
    await this.start(rec.Id);
    this.events.publish('container', 'restart', rec.Id, this.attrs(rec));
  }

  /**
   * `docker rm --link /parent/alias` (DELETE /containers/{name}?link=1): the parent forgets that
   * link; the parent's running process keeps what it was started with, as in dockerd.
   */
  async removeLink(name: string): Promise<void> {
    const full = name.startsWith('/') ? name : `/${name}`;
    const cut = full.lastIndexOf('/');
    const parentName = full.slice(0, cut);
    const alias = full.slice(cut + 1);
    if (!parentName) throw new ConflictError('Conflict, cannot remove the default link name of the container');
    const parent = this.store.find(parentName.slice(1)) ?? (() => { throw new NotFoundError(`Cannot get parent ${parentName} for link name ${full}`); })();
    const kept = withoutLink(parent.HostConfig.Links as string[] | null | undefined, alias);
    if (!kept) throw new NotFoundError(`No such container: ${full}`);
    parent.HostConfig.Links = kept.length ? kept : null;
    await this.store.save(parent);
  }

  /** A restart policy's start under way finishes (or fails) before a stop, kill or rm acts. */
  private async startInProgress(rec: ContainerRecord): Promise<void> {
    await this.starting.get(rec.Id)?.catch(() => undefined); // its failure is the restart's own
  }

  /** A container in its restart back-off: the pending restart is dropped and it stays exited. */
  private async cancelRestart(rec: ContainerRecord): Promise<boolean> {
    if (rec.State.Status !== 'restarting') return false;
    clearTimeout(this.restartTimers.get(rec.Id));
    this.restartTimers.delete(rec.Id);
    rec.State.Status = 'exited';
    await this.store.save(rec);
    return true;
  }

  private nextExit(id: string): Promise<ExitStatus> {
    return this.hubs.of(id).nextExit();
  }

  /** Set the TTY size (docker run -t, attach): a no-op for containers without a TTY, as in Docker. */
  resize(ref: string, height: number, width: number): void {
    const rec = this.store.get(ref);
    if (!this.isRunning(rec)) throw new ConflictError(`Container ${rec.Id} is not running`);
    if (!Number.isInteger(height) || !Number.isInteger(width) || height < 0 || width < 0 || height > 65535 || width > 65535) {
      throw new InvalidParameterError(`invalid size: ${height}x${width}`);
    }
    if (rec.Config.Tty) this.hubs.peek(rec.Id)?.conn?.resize(height, width);
  }

  // ---- top, stats, pause, rename, prune ----

  /** docker top: host `ps` rows of the container's processes (409 when it is not running). */
  async top(ref: string, psArgs: string): Promise<{ Titles: string[]; Processes: string[][] }> {
    const rec = this.store.get(ref);
    if (!this.isRunning(rec)) throw new ConflictError(`container ${rec.Id} is not running`);
    const list = await psTop(rec.Id, psArgs);
    this.events.publish('container', 'top', rec.Id, this.attrs(rec));
    return list;
  }

  /** GET /containers/{id}/stats: see stats.ts. */
  stats(ref: string, opts: { stream: boolean; oneShot: boolean }) {
    if (opts.oneShot && opts.stream) throw new InvalidParameterError('cannot have stream=true and one-shot=true');
    const rec = this.store.get(ref);
    return statsStream({
      id: rec.Id, stream: opts.stream, oneShot: opts.oneShot,
      name: () => rec.Name,
      // the host's own interfaces are not the container's: no `networks` with --network host, as dockerd
      pid: () => (rec.HostConfig.NetworkMode === 'host' ? 0 : rec.State.Pid),
      running: () => rec.State.Status === 'running' || rec.State.Status === 'paused',
      exists: () => this.store.find(rec.Id) === rec,
    });
  }


  /** docker update: see update.ts. Running (or paused) containers get the new limits at once. */
  async update(ref: string, body: UpdateBody): Promise<{ Warnings: string[] }> {
    const rec = this.store.get(ref);
    if (rec.State.Status === 'removing') throw new ConflictError(`Cannot update container ${rec.Id}: container is marked for removal and cannot be "update"`);
    const plan = planUpdate(rec.Id, rec.HostConfig, body, hostCgroups());
    const before = rec.HostConfig;
    rec.HostConfig = plan.hostConfig;
    try {
      await this.store.save(rec);
      if (this.isRunning(rec) && Object.keys(plan.live).length) {
        await this.runtime.update(rec.Id, this.store.dir(rec.Id), plan.live).catch((e: unknown) => {
          // It exited meanwhile: as an update of a stopped container, the saved limits apply at its next start.
          if (!processGone(rec.State.Pid) && this.isRunning(rec)) throw e;
        });
      }
    } catch (e) {
      rec.HostConfig = before;
      // removed meanwhile (an rm racing the update): the store's 404, as dockerd's, not a failure
      if (e instanceof NotFoundError) throw e;
      await this.store.save(rec).catch(logFailure(`restoring the record of ${rec.Id} after a failed update`));
      throw new SystemError(`Cannot update container ${rec.Id}: ${(e as Error).message}`, e);
    }
    this.events.publish('container', 'update', rec.Id, this.attrs(rec));
    return { Warnings: plan.warnings };
  }

  /**
   * docker pause: freeze every process of the container (crun pause, the freezer cgroup). Pauses
   * and unpauses of one container run one at a time, so two racing requests see each other's
   * outcome (the second a 409) instead of both asking crun (the second a 500 from crun).
   */
  pause(ref: string): Promise<void> {
    const rec = this.store.get(ref);
    return this.freezeQueue.run(rec.Id, () => this.pauseNow(rec));
  }

  private async pauseNow(rec: ContainerRecord): Promise<void> {
    if (rec.State.Status === 'paused') throw new ConflictError(`container ${rec.Id} is already paused`);
    if (rec.State.Status === 'restarting') throw new ConflictError(`Container ${rec.Id} is restarting, wait until the container is running`);
    if (!this.isRunning(rec)) throw new ConflictError(`container ${rec.Id} is not running`);
    try {
      await this.runtime.pause(rec.Id);
    } catch (e) {
      // It exited meanwhile (the runtime no longer knows it): not running, not a daemon failure.
      if (processGone(rec.State.Pid)) throw new ConflictError(`container ${rec.Id} is not running`);
      throw e;
    }
    // Frozen as it ended (its exit recorded meanwhile): the record must not say paused.
    if (rec.State.Status !== 'running') throw new ConflictError(`container ${rec.Id} is not running`);
    this.health?.stopped(rec.Id); // as dockerd: no probes while paused
    rec.State.Status = 'paused';
    await this.store.save(rec);
    this.events.publish('container', 'pause', rec.Id, this.attrs(rec));
  }

  unpause(ref: string): Promise<void> {
    const rec = this.store.get(ref);
    return this.freezeQueue.run(rec.Id, () => this.unpauseNow(rec));
  }

  private async unpauseNow(rec: ContainerRecord): Promise<void> {
    const notPaused = () => new ConflictError(`Container ${rec.Id} is not paused`);
    if (rec.State.Status !== 'paused') throw notPaused();
    try {
      await this.runtime.resume(rec.Id);
    } catch (e) {
      // A stop or kill thawed it and it ended meanwhile (crun no longer knows it): a 409, as when
      // it was never paused, not a daemon failure (fuzz seed 1010370919).
      if (rec.State.Status !== 'paused' || processGone(rec.State.Pid)) throw notPaused();
      throw e;
    }
    if (rec.State.Status !== 'paused') throw notPaused(); // thawed and ended (or thawed by a stop) meanwhile
    rec.State.Status = 'running';
    this.health?.started(rec, true);
    await this.store.save(rec);
    this.events.publish('container', 'unpause', rec.Id, this.attrs(rec));
  }

  /**
   * A frozen process takes no signal until it is thawed: after SIGKILL or the stop signal a
   * paused container is resumed, as dockerd (and runc's kill) do.
   */
  private async thawForSignal(rec: ContainerRecord): Promise<void> {
    if (rec.State.Status !== 'paused') return;
    try {
      await this.runtime.resume(rec.Id);
    } catch { /* it may be gone already */ }
    if (rec.State.Status === 'paused') {
      rec.State.Status = 'running';
      await this.store.save(rec).catch(logFailure(`recording that ${rec.Id} is no longer paused`));
      this.events.publish('container', 'unpause', rec.Id, this.attrs(rec));
    }
  }

  /** docker rename: the name index moves with one atomic record write; event `rename`. */
  async rename(ref: string, newName: string): Promise<void> {
    if (!ref || !newName) throw new InvalidParameterError('Neither old nor new names may be empty');
    const rec = this.store.get(ref);
    const name = newName.replace(/^\//, '');
    if (name === rec.Name) throw new InvalidParameterError('Renaming a container with the same name as its current name');
    if (!VALID_NAME.test(name)) {
      throw new InvalidParameterError(`Error when allocating new name: Invalid container name (/${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    }
    if (!this.store.claimName(name, rec.Id)) {
      throw new ConflictError(`Error when allocating new name: Conflict. The container name "/${name}" is already in use by container "${this.store.holderOf(name)}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    const oldName = rec.Name;
    rec.Name = name;
    try {
      await this.store.save(rec);
    } catch (e) {
      rec.Name = oldName;
      this.store.releaseName(name, rec.Id);
      throw e;
    }
    this.store.releaseName(oldName, rec.Id);
    this.events.publish('container', 'rename', rec.Id, { ...this.attrs(rec), oldName: `/${oldName}` });
  }

  /** POST /containers/prune: remove stopped containers matching the filters (until, label, label!). */
  async prune(filters: Map<string, string[]>): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
    const f = parsePruneFilters(filters, ['until', 'label', 'label!']);
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const rec of this.store.all()) {
      if (this.isRunning(rec) || rec.State.Status === 'restarting' || rec.State.Status === 'removing') continue;
      if (this.starting.has(rec.Id)) continue;
      if (!pruneMatches(f, Date.parse(rec.Created), rec.Config.Labels)) continue;
      const size = await dirSize(join(this.store.dir(rec.Id), 'upper'));
      try {
        await this.remove(rec.Id);
      } catch {
        continue; // started or removed meanwhile
      }
      deleted.push(rec.Id);
      reclaimed += size;
    }
    this.events.publish('container', 'prune', '', { reclaimed: String(reclaimed) });
    return { ContainersDeleted: deleted, SpaceReclaimed: reclaimed };
  }

  // ---- wait ----

  /** Resolves when the condition is met; the API writes the headers before awaiting this. */
  async wait(ref: string, condition: string = 'not-running'): Promise<{ StatusCode: number; Error: { Message: string } | null }> {
    if (!(WAIT_CONDITIONS as readonly string[]).includes(condition)) throw new InvalidParameterError(`invalid condition: "${condition}"`);
    const rec = this.store.get(ref);
    const hub = this.hubs.of(rec.Id);
    const result = () => ({ StatusCode: rec.State.ExitCode, Error: rec.State.Error ? { Message: rec.State.Error } : null });
    if (condition === 'not-running' && !this.isRunning(rec)) return result();
    if (condition === 'removed') {
      await hub.nextRemoval();
      // The container is gone; a start error was already returned by start itself.
      return { StatusCode: rec.State.ExitCode, Error: null };
    }
    await hub.nextExit();
    return result();
  }

  // ---- remove ----

  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const rec = this.store.get(ref);
    // Marked before any wait: a start that comes now is refused; one already under way is let
    // finish, so its mounts and runtime never race the removal of the folder under them.
    if (this.removals.has(rec.Id)) throw new ConflictError(`removal of container ${ref} is already in progress`);
    this.removals.add(rec.Id);
    try {
      await this.startInProgress(rec);
      await this.removeMarked(ref, rec, opts);
    } finally {
      this.removals.delete(rec.Id);
    }
  }

  private async removeMarked(ref: string, rec: ContainerRecord, opts: { force?: boolean; volumes?: boolean }): Promise<void> {
    // The state may already say "exited" while the exit is still being recorded and torn down.
    await this.exiting.get(rec.Id);
    if (rec.State.Status === 'restarting') {
      if (!opts.force) {
        throw new ConflictError(`cannot remove container "${ref}": container is restarting: stop the container before removing or force remove`);
      }
      await this.startInProgress(rec);
      rec.StoppedByUser = true;
      await this.exiting.get(rec.Id);
      await this.cancelRestart(rec);
    }
    if (this.isRunning(rec)) {
      if (!opts.force) {
        throw new ConflictError(`cannot remove container "${ref}": container is running: stop the container before removing or force remove`);
      }
      const exited = this.nextExit(rec.Id);
      rec.StoppedByUser = true;
      this.runtime.kill(rec.State.Pid, 'SIGKILL');
      await this.thawForSignal(rec);
      await exited;
      await this.exiting.get(rec.Id);
      if (!this.store.find(rec.Id)) return; // AutoRemove got there first
    }
    if (rec.State.Status === 'removing') throw new ConflictError(`removal of container ${ref} is already in progress`);
    await this.removeNow(rec, !!opts.volumes);
  }

  private async removeNow(rec: ContainerRecord, removeVolumes = false): Promise<void> {
    if (!this.store.find(rec.Id)) return;
    // In memory only, to turn away a concurrent start or rm; the removal itself is one rename.
    rec.State.Status = 'removing';
    const dir = this.store.dir(rec.Id);
    await this.runtime.cleanup(rec.Id, dir, join(dir, 'rootfs')).catch(logFailure(`cleaning up ${rec.Id} for removal`));
    await this.network?.release(rec).catch(logFailure(`releasing the network of ${rec.Id}`));
    await this.store.delete(rec);
    this.events.publish('container', 'destroy', rec.Id, this.attrs(rec));
    await this.mounts?.removed(rec, removeVolumes).catch(logFailure(`releasing the volumes of ${rec.Id}`));
    await this.onRemoved?.(rec).catch(logFailure(`freeing the image layers of ${rec.Id}`));
    this.hubs.remove(rec.Id);
  }

  // ---- logs and attach ----

  /**
   * Logged records, then (with follow) live ones until the container stops. Checks the request at
   * once (404, bad times), so the API can answer with an error before it sends its headers.
   */
  logs(ref: string, req: LogsRequest): { tty: boolean; records: AsyncGenerator<OutputRecord> } {
    if (!req.stdout && !req.stderr) throw new InvalidParameterError('Bad parameters: you must choose at least one stream');
    const rec = this.store.get(ref);
    assertReadableLogs(rec.HostConfig);
    // Docker timestamps; "0" is no bound, as dockerd reads it.
    const seconds = (v: string | undefined) => (v && v !== '0' ? parseTimestamp(v) / 1000 : undefined);
    const opts: LogReadOptions = { stdout: req.stdout, stderr: req.stderr, tail: req.tail, since: seconds(req.since), until: seconds(req.until) };
    return { tty: rec.Config.Tty, records: this.readLogs(rec, opts, !!req.follow) };
  }

  private async *readLogs(rec: ContainerRecord, opts: LogReadOptions, followWanted: boolean): AsyncGenerator<OutputRecord> {
    const logPath = join(this.store.dir(rec.Id), 'container.log');
    const follow = followWanted && this.isRunning(rec);
    // Subscribe before reading the file so nothing falls between the two; drop duplicates by time.
    const live = follow ? this.hubs.of(rec.Id).subscribe(opts) : undefined;
    let lastNs = -1n;
    try {
      for await (const r of this.runtime.readLogs(logPath, opts)) {
        lastNs = r.timeNs;
        yield r;
      }
      if (!live) return;
      for await (const r of live.records) {
        if (r.timeNs <= lastNs) continue;
        if (opts.until !== undefined && Number(r.timeNs) / 1e9 > opts.until) break;
        yield r;
      }
    } finally {
      live?.stop();
    }
  }

  attach(ref: string, opts: AttachOptions): AttachSession {
    const rec = this.store.get(ref);
    const detachKeys = sessionDetachKeys(opts.detachKeys, rec.Config.Tty);
    const c = rec.Config;
    const session = attachSession(this.hubs.of(rec.Id), { tty: c.Tty, openStdin: c.OpenStdin, stdinOnce: c.StdinOnce }, opts, detachKeys,
      () => this.runtime.readLogs(join(this.store.dir(rec.Id), 'container.log'), { stdout: opts.stdout, stderr: opts.stderr }));
    this.events.publish('container', 'attach', rec.Id, this.attrs(rec)); // as dockerd, at every attach that goes ahead
    return session;
  }

  private attrs(rec: ContainerRecord): Record<string, string> {
    return containerEventAttributes(rec);
  }

  // ---- network attachments: the network side does the host work, this service writes the record ----

  /** POST /networks/{id}/connect. */
  async connectNetwork(containerRef: string, networkRef: string, cfg: EndpointConfig = {}): Promise<void> {
    const network = this.networking();
    const rec = this.store.get(containerRef);
    await network.connect(rec, networkRef, cfg);
    await this.store.save(rec);
  }

  /** POST /networks/{id}/disconnect. */
  async disconnectNetwork(containerRef: string, networkRef: string): Promise<void> {
    const network = this.networking();
    const rec = this.store.get(containerRef);
    await network.disconnect(rec, networkRef);
    await this.store.save(rec);
  }

  private networking(): NetworkManager {
    const network = this.network;
    if (!network) throw new NotFoundError('networking is disabled on this daemon');
    return network;
  }

  /** Close live connections (daemon shutdown); containers keep running under their shims. */
  detachAll(): void {
    this.hubs.closeAll();
  }
}

/**
 * Docker creates a missing WorkingDir; the rootfs is not mounted yet, so make it in the upper
 * layer. The container controls every component (a parent may be a symlink to `/`): the path is
 * resolved inside the layers and created one lstat-checked directory at a time (host/in-root.ts).
 */
async function ensureWorkingDir(rec: ContainerRecord, dir: string): Promise<void> {
  const wd = rec.Config.WorkingDir;
  if (!wd || wd === '/') return;
  const rel = wd.replace(/^\/+/, '');
  if (rel.split('/').includes('..')) throw new InvalidParameterError(`the working directory '${wd}' is invalid`);
  await mkdirInLayers([join(dir, 'upper'), ...rec.LowerDirs], rel);
}

/** Connections tried to a live shim at daemon start before it counts as lost. */
const REATTACH_ATTEMPTS = 3;
/** How long kill with SIGKILL waits for the exit to be recorded (dockerd's Kill waits 10 s). */
const KILL_EXIT_WAIT_MS = 10_000;

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  // Past setTimeout's 32-bit range Node fires at once: such a wait (24 days and more) has no end.
  const timeout = new Promise<false>((r) => { if (ms <= 2 ** 31 - 1) timer = setTimeout(() => r(false), ms); });
  try {
    return await Promise.race([p.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The record as the spec sees it: --link variables first, the container's own Env overriding them (dockerd's order). */
function withLinkEnv(rec: ContainerRecord, env: string[]): ContainerRecord {
  if (env.length === 0) return rec;
  const own = new Set(rec.Config.Env.map((e) => e.split('=')[0]));
  return { ...rec, Config: { ...rec.Config, Env: [...env.filter((e) => !own.has(e.split('=')[0])), ...rec.Config.Env] } };
}
