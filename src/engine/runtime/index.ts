/**
 * The host runtime: crun (or runc) under one berth-shim per container.
 *
 * start(): write config.json, spawn the shim (it double-forks away from the daemon, mounts the
 * overlay rootfs itself and listens on <dir>/shim.sock), connect, send GO, wait for STARTED or
 * START_ERROR. Everything after that (output, exit, cleanup) is the shim's job; the daemon can
 * die and come back and connect() again at any time.
 */
import { unmountShareableShm } from '../host/shm.js';
import { hostCommand } from '../host/command.js';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, rmdir, readdir, writeFile } from 'node:fs/promises';
import { writePrivateFile } from '../data-root.js';
import { isMountPoint as isMounted } from '../mountinfo.js';
import { dirname, join, relative } from 'node:path';
import { NotFoundError, SystemError } from '../errors.js';
import { connectUnix, openShim, ShimClient } from './shimconn.js';
import { parseSignal } from './signals.js';
import { readLogs } from './logfile.js';
import { EXIT_FILE, readExitStatus } from './exit-file.js';
import { startExec } from './exec.js';
import { bundleShims, consoleSizeArgs, endShim, reapFailedShim, shimAlive, spawnShim } from './shim-launch.js';
import { translateStartError } from './start-errors.js';
import { SeccompCache } from './seccomp-cache.js';
import { logFailure } from '../log-failure.js';
import type { ExecRequest, ExitStatus, LogReadOptions, OutputRecord, RuntimeApi, ShimConnection, StartRequest, StartResult } from './types.js';

export { readLogs } from './logfile.js';
export { parseSignal, signalName } from './signals.js';
export { buildSpec, generateSpec, resolveUser, daemonHardLimits } from './spec.js';
export type { SpecInput, BindMount, SpecMount, Rlimit } from './spec.js';
export { ShimClient } from './shimconn.js';


export const SHIM_SOCKET = 'shim.sock';
/** How long a shim that reported its container's exit gets to flush and end before it is killed. */
const SHIM_FINISH_MS = 3000;
export { EXIT_FILE } from './exit-file.js';

export interface RuntimeOptions {
  /** absolute paths of the OCI runtimes; defaults found on PATH */
  crunPath?: string;
  runcPath?: string;
  /** runtime state roots (--root); default the runtime's own (/run/crun, /run/runc) */
  crunRoot?: string;
  runcRoot?: string;
  /** cgroup parent used in specs (must match spec.linux.cgroupsPath's parent); default /berth */
  cgroupParent?: string;
  /** how long start() waits for the container to be running; default 30 s */
  startTimeoutMs?: number;
}

function which(name: string, fallbacks: string[]): string {
  for (const d of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    const p = join(d, name);
    if (existsSync(p)) return p;
  }
  for (const p of fallbacks) if (existsSync(p)) return p;
  return name;
}

/**
 * Prepare the host once at daemon startup (idempotent): crun 1.8 refuses cgroup v1 hybrid while
 * the unified hierarchy holds the hugetlb controller, so mount hugetlb as a v1 hierarchy.
 */
export async function ensureHostReady(): Promise<{ cgroup: 'v1' | 'v2'; actions: string[] }> {
  const actions: string[] = [];
  const mounts = await readFile('/proc/self/mounts', 'utf8');
  const cgroupRoot = mounts.split('\n').find((l) => l.split(' ')[1] === '/sys/fs/cgroup');
  if (cgroupRoot?.split(' ')[2] === 'cgroup2') return { cgroup: 'v2', actions };
  let unifiedControllers = '';
  try { unifiedControllers = await readFile('/sys/fs/cgroup/unified/cgroup.controllers', 'utf8'); } catch { /* no unified */ }
  const hugetlbMounted = mounts.split('\n').some((l) => l.split(' ')[1] === '/sys/fs/cgroup/hugetlb');
  if (!hugetlbMounted && unifiedControllers.split(/\s+/).includes('hugetlb')) {
    await mkdir('/sys/fs/cgroup/hugetlb', { recursive: true });
    try {
      await hostCommand('mount', ['-t', 'cgroup', '-o', 'hugetlb', 'cgroup', '/sys/fs/cgroup/hugetlb']);
      actions.push('mounted hugetlb cgroup v1 hierarchy at /sys/fs/cgroup/hugetlb');
    } catch (e) {
      // a concurrent caller may have won the race
      const again = await readFile('/proc/self/mounts', 'utf8');
      if (!again.split('\n').some((l) => l.split(' ')[1] === '/sys/fs/cgroup/hugetlb')) {
        throw new SystemError(`cannot mount the hugetlb cgroup hierarchy: ${(e as Error).message}`, e);
      }
    }
  }
  return { cgroup: 'v1', actions };
}


/** Overlay data must fit in one page: fall back to paths relative to their common parent. */
function overlayArgs(r: StartRequest['rootfs']): string[] {
  if (!r.lowerDirs.length) return ['--lower', '', '--upper', r.upperDir, '--target', r.target];
  const abs = `lowerdir=${r.lowerDirs.join(':')},upperdir=${r.upperDir},workdir=${r.workDir}`;
  if (abs.length < 3900) {
    return ['--lower', r.lowerDirs.join(':'), '--upper', r.upperDir, '--work', r.workDir, '--target', r.target];
  }
  const all = [...r.lowerDirs, r.upperDir, r.workDir];
  let common = dirname(all[0]!);
  while (!all.every((p) => p.startsWith(common + '/')) && common !== '/') common = dirname(common);
  const rel = (p: string): string => relative(common, p);
  return ['--mount-cwd', common, '--lower', r.lowerDirs.map(rel).join(':'), '--upper', rel(r.upperDir),
    '--work', rel(r.workDir), '--target', r.target];
}

export class HostRuntime implements RuntimeApi {
  private readonly crun: string;
  private readonly runc: string;
  private readonly opts: RuntimeOptions;
  /** crun's compiled seccomp filters, handed back to later starts (seccomp-cache.ts) */
  private readonly seccomp = new SeccompCache();

  constructor(opts: RuntimeOptions = {}) {
    this.opts = opts;
    this.crun = opts.crunPath ?? which('crun', ['/usr/bin/crun', '/usr/local/bin/crun']);
    this.runc = opts.runcPath ?? which('runc', ['/usr/sbin/runc', '/usr/bin/runc', '/usr/local/sbin/runc']);
  }

  private runtimeBin(name: 'crun' | 'runc' = 'crun'): string { return name === 'runc' ? this.runc : this.crun; }
  private runtimeRoot(name: 'crun' | 'runc' = 'crun'): string | undefined { return name === 'runc' ? this.opts.runcRoot : this.opts.crunRoot; }
  private defaultStateDir(name: 'crun' | 'runc'): string {
    return this.runtimeRoot(name) ?? (name === 'runc' ? '/run/runc' : '/run/crun');
  }

  async start(req: StartRequest): Promise<{ result: StartResult; conn: ShimConnection }> {
    const runtime = req.runtime ?? 'crun';
    const sock = join(req.dir, SHIM_SOCKET);
    const spec = req.spec as { root?: { path?: string }; process?: { args?: string[]; consoleSize?: { height: number; width: number } }; linux?: { cgroupsPath?: string; seccomp?: { listenerPath?: string } }; annotations?: Record<string, string> };
    if (spec.root && !spec.root.path) spec.root.path = req.rootfs.target;
    const seccompKey = runtime === 'crun' ? this.seccomp.keyOf(spec, this.runtimeBin(runtime)) : undefined;
    const precompiled = this.seccomp.apply(spec, seccompKey);
    await Promise.all([
      mkdir(req.rootfs.target, { recursive: true }),
      writePrivateFile(join(req.dir, 'config.json'), JSON.stringify(req.spec)),
      rm(join(req.dir, EXIT_FILE), { force: true }),
    ]);
    const args = ['--id', req.id, '--bundle', req.dir, '--runtime', this.runtimeBin(runtime), '--log', req.logPath,
      '--socket', sock, '--exit', join(req.dir, EXIT_FILE)];
    const root = this.runtimeRoot(runtime);
    if (root) args.push('--runtime-root', root);
    if (req.openStdin) args.push('--stdin');
    if (req.tty) args.push('--tty', ...consoleSizeArgs(spec.process));
    if (req.logMaxSize && req.logMaxSize > 0) {
      args.push('--log-max-size', String(Math.floor(req.logMaxSize)), '--log-max-files', String(Math.max(1, Math.floor(req.logMaxFiles ?? 5))));
    }
    if (spec.linux?.cgroupsPath) args.push('--cgroup', spec.linux.cgroupsPath.startsWith('/') ? spec.linux.cgroupsPath : `/${spec.linux.cgroupsPath}`);
    args.push(...overlayArgs(req.rootfs));

    const trace = process.env.BERTH_RUNTIME_TRACE ? { t0: performance.now() } : undefined;
    const shimPid = await spawnShim(args);
    const tReady = trace ? performance.now() : 0;
    const conn = new ShimClient(connectUnix(sock));
    conn.go(); // queued until connected
    const timeoutMs = this.opts.startTimeoutMs ?? 30000;
    type Outcome = { ok: true; pid: number; startedAt: string } | { ok: false; msg: string; closed: boolean };
    const outcome = await new Promise<Outcome>((resolve) => {
      const t = setTimeout(() => resolve({ ok: false, msg: `timeout after ${timeoutMs} ms waiting for the container to start`, closed: false }), timeoutMs);
      conn.once('started', (s: { pid: number; startedAt: string }) => {
        clearTimeout(t);
        // crun's compiled filter sits in its state folder until the container is deleted: read it at once
        if (seccompKey && !precompiled) void this.seccomp.learn(seccompKey, this.defaultStateDir(runtime), req.id);
        resolve({ ok: true, ...s });
      });
      conn.once('startError', (m: string) => { clearTimeout(t); resolve({ ok: false, msg: m, closed: false }); });
      conn.once('lowclose', () => { clearTimeout(t); resolve({ ok: false, msg: 'berth-shim closed the connection before the container started', closed: true }); });
    });
    if (trace) {
      const t = performance.now();
      process.stderr.write(`berth runtime: shim ready ${(tReady - trace.t0).toFixed(1)} ms, running ${(t - tReady).toFixed(1)} ms${seccompKey ? `, seccomp ${precompiled ? 'precompiled' : 'compiled by crun'}` : ''}\n`);
    }
    if (outcome.ok) {
      setImmediate(() => conn.release());
      return { result: { pid: outcome.pid, shimPid, startedAt: outcome.startedAt }, conn };
    }
    // failure: the shim deletes and unmounts, then exits; make sure of it
    await reapFailedShim(conn, shimPid);
    await this.cleanup(req.id, req.dir, req.rootfs.target).catch(logFailure(`cleaning up after the failed start of ${req.id}`));
    throw new SystemError(translateStartError(outcome.msg, spec.process?.args?.[0]));
  }

  exec(req: ExecRequest): Promise<{ result: StartResult; conn: ShimConnection }> {
    const runtime = req.runtime ?? 'crun';
    return startExec(req, { bin: this.runtimeBin(runtime), root: this.runtimeRoot(runtime), timeoutMs: this.opts.startTimeoutMs ?? 30000 });
  }

  async connect(dir: string): Promise<ShimConnection> {
    const sock = join(dir, SHIM_SOCKET);
    try {
      return await openShim(sock);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ECONNREFUSED') throw new NotFoundError(`no running shim for container in ${dir}`);
      throw new SystemError(`cannot connect to berth-shim: ${(e as Error).message}`, e);
    }
  }

  kill(pid: number, signal: string | number): void {
    const sig = parseSignal(signal);
    if (!(pid > 0)) throw new SystemError(`invalid container pid ${pid}`);
    try {
      process.kill(pid, sig);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') return; // already gone: the exit will be reported
      throw new SystemError(`cannot send signal ${sig} to ${pid}: ${(e as Error).message}`, e);
    }
  }

  isAlive(shimPid: number): boolean {
    return shimAlive(shimPid);
  }

  readExit(dir: string): Promise<ExitStatus | undefined> {
    return readExitStatus(join(dir, EXIT_FILE));
  }

  leftover(id: string, dir?: string): boolean {
    return existsSync(join(this.defaultStateDir('crun'), id)) || existsSync(join(this.defaultStateDir('runc'), id))
      || (dir !== undefined && existsSync(join(dir, SHIM_SOCKET)));
  }

  async cleanup(id: string, dir: string, rootfsTarget: string, shimPid = 0): Promise<void> {
    // A shim of this container still alive goes first: the one that reported the exit is only
    // flushing (`shimPid`, given time to end), any other is an orphan of a start that a daemon crash
    // cut short (waiting for a GO that never comes, or running a container no record says runs).
    // Left alive, either would later unmount the rootfs, unlink the socket and write the exit file
    // that the next start of this container sets up at the same paths. One alive has its socket.
    if (shimPid > 0) await endShim(shimPid, SHIM_FINISH_MS);
    if (existsSync(join(dir, SHIM_SOCKET))) {
      for (const pid of bundleShims(dir)) {
        process.emitWarning(`berthd: ending berth-shim ${pid} left over by an earlier run of ${id}`);
        await endShim(pid, 0);
      }
    }
    // runtime state: only spawn the runtime when it still knows the container
    const stateDirs = [join(this.defaultStateDir('crun'), id), join(this.defaultStateDir('runc'), id)];
    const names: Array<'crun' | 'runc'> = ['crun', 'runc'];
    for (let i = 0; i < 2; i++) {
      if (!existsSync(stateDirs[i]!)) continue;
      const name = names[i]!;
      const root = this.runtimeRoot(name);
      const a = [...(root ? ['--root', root] : []), 'delete', '--force', id];
      // The runtime may have deleted it meanwhile; its state folder says whether it is still known.
      await hostCommand(this.runtimeBin(name), a).catch(() => undefined);
    }
    await unmountShareableShm(dir).catch(logFailure(`unmounting the shareable /dev/shm of ${id}`));
    // An orphan's rootfs may sit under this run's: every layer goes.
    for (let i = 0; i < 4 && rootfsTarget && (await isMounted(rootfsTarget)); i++) {
      try {
        await hostCommand('umount', ['-l', rootfsTarget]);
      } catch (e) {
        const msg = String((e as { stderr?: string }).stderr ?? (e as Error).message);
        if (!/not mounted|no mount point/i.test(msg)) throw new SystemError(`cannot unmount ${rootfsTarget}: ${msg.trim()}`, e);
      }
    }
    // stray cgroups (e.g. after a host crash); rmdir only succeeds on empty ones
    const parent = (this.opts.cgroupParent ?? '/berth').replace(/^\/?/, '');
    let controllers: string[] = [];
    try { controllers = await readdir('/sys/fs/cgroup'); } catch { /* none */ }
    // Most controllers have no such folder (ENOENT), and a busy one stays (EBUSY): both are fine.
    await Promise.all(controllers.map((c) => rmdir(join('/sys/fs/cgroup', c, parent, id)).catch(() => undefined)));
    await rm(join(dir, SHIM_SOCKET), { force: true }).catch(logFailure(`removing the shim socket of ${id}`));
  }

  readLogs(logPath: string, opts: LogReadOptions): AsyncIterable<OutputRecord> {
    return readLogs(logPath, opts);
  }

  pause(id: string): Promise<void> { return this.freezer('pause', id); }
  resume(id: string): Promise<void> { return this.freezer('resume', id); }

  /** Read from the freezer cgroup itself (v1 freezer.state, v2 cgroup.freeze): no runtime spawned. */
  async frozen(id: string): Promise<boolean | undefined> {
    const parent = (this.opts.cgroupParent ?? '/berth').replace(/^\/?/, '');
    try {
      return /^(FROZEN|FREEZING)/.test(await readFile(join('/sys/fs/cgroup/freezer', parent, id, 'freezer.state'), 'utf8'));
    } catch { /* not cgroup v1 */ }
    try {
      return (await readFile(join('/sys/fs/cgroup', parent, id, 'cgroup.freeze'), 'utf8')).trim() === '1';
    } catch {
      return undefined;
    }
  }

  /** `crun update --resources <file>`: the file sits in the container's folder and is removed after. */
  async update(id: string, dir: string, resources: object): Promise<void> {
    const { pids, ...rest } = resources as { pids?: { limit: number } };
    if (pids && pids.limit <= 0) {
      // crun writes -1 as is, which pids.max refuses: unlimited is "max", written here (v1, else v2)
      const parent = (this.opts.cgroupParent ?? '/berth').replace(/^\/?/, '');
      const v1 = join('/sys/fs/cgroup/pids', parent, id, 'pids.max');
      await writeFile(existsSync(v1) ? v1 : join('/sys/fs/cgroup', parent, id, 'pids.max'), 'max');
      resources = rest;
    }
    const file = join(dir, 'resources.json');
    await writePrivateFile(file, JSON.stringify(resources));
    try {
      await this.freezer('update', id, ['--resources', file]);
    } finally {
      await rm(file, { force: true });
    }
  }

  /** `crun pause|resume|update <id>` with whichever runtime knows the container. */
  private async freezer(action: 'pause' | 'resume' | 'update', id: string, extra: string[] = []): Promise<void> {
    const name: 'crun' | 'runc' = !existsSync(join(this.defaultStateDir('crun'), id)) && existsSync(join(this.defaultStateDir('runc'), id)) ? 'runc' : 'crun';
    const root = this.runtimeRoot(name);
    try {
      await hostCommand(this.runtimeBin(name), [...(root ? ['--root', root] : []), action, ...extra, id]);
    } catch (e) {
      const msg = String((e as { stderr?: string }).stderr || (e as Error).message).trim().split('\n').pop() ?? '';
      throw new SystemError(`cannot ${action} container ${id}: ${msg.replace(/^(crun|runc): /, '')}`, e);
    }
  }
}

export function createRuntime(opts: RuntimeOptions = {}): HostRuntime {
  return new HostRuntime(opts);
}
