/**
 * Contract between the container engine and the host runtime (crun under berth-shim).
 * The engine decides *what* runs (the OCI spec, the layers); the runtime makes it run, keeps it
 * running without the daemon, and reports output and exit.
 */
import type { EventEmitter } from 'node:events';

export interface RootfsLayout {
  /** overlay lowerdirs, TOP layer first (as overlayfs wants them). Empty for a scratch image. */
  lowerDirs: string[];
  upperDir: string;
  workDir: string;
  /** mount point: <container dir>/rootfs */
  target: string;
}

export interface StartRequest {
  id: string;
  /** The container's own directory (bundle): config.json, shim socket, log, exit file live here. */
  dir: string;
  rootfs: RootfsLayout;
  /** The OCI runtime spec (config.json contents), already generated. */
  spec: object;
  /** Path of the container's log file (our own record format, see runtime/logfile.ts). */
  logPath: string;
  /** Keep stdin open for attach (docker -i). */
  openStdin: boolean;
  tty: boolean;
  runtime?: 'crun' | 'runc';
  /** Log rotation: rotate the log file before it would exceed this many bytes (0/undefined: never). */
  logMaxSize?: number;
  /** Files kept including the current one (log, log.1 … log.N-1); default 5. */
  logMaxFiles?: number;
}

/** One `docker exec` process in a running container (runtime/exec.ts). */
export interface ExecRequest {
  /** The running container the process joins. */
  containerId: string;
  /** This exec's own folder (<container dir>/exec/<exec id>): process.json, shim.sock, exit.json. */
  dir: string;
  /** The OCI runtime-spec `process` object to run. */
  process: object;
  /** Keep a stdin pipe (docker exec -i). */
  openStdin: boolean;
  tty: boolean;
  runtime?: 'crun' | 'runc';
}

export interface ExitStatus {
  /** Docker's exit code: the process's code, or 128+signal. */
  exitCode: number;
  /** RFC3339Nano, when the process ended. */
  finishedAt: string;
  oomKilled: boolean;
}

export interface StartResult {
  /** PID of the container's init process (host pid namespace). */
  pid: number;
  /** PID of its supervisor (berth-shim). */
  shimPid: number;
  /** RFC3339Nano */
  startedAt: string;
}

/** One record of container output as the shim logs and streams it. */
export interface OutputRecord {
  stream: 'stdout' | 'stderr';
  /** nanoseconds since epoch */
  timeNs: bigint;
  /** true when this record does not end with a newline (a partial line) */
  partial: boolean;
  data: Buffer;
}

/** The live side of an attach or an exec, as the API pumps it over a hijacked connection. */
export interface StreamSession {
  /** Records to send, in order; the iterator ends when the process stops (or the client detaches). */
  output: AsyncIterable<OutputRecord>;
  /** False: the process is not taking stdin as fast; pause the client until stdinWritable(). */
  writeStdin(data: Buffer): boolean;
  stdinWritable(): Promise<void>;
  /** The client half-closed: close the process's stdin; output keeps flowing. */
  endStdin(): void;
  /** The client went away: stop queueing output (the process goes on). */
  detach(): void;
  /** Bytes on stdin that detach the client (TTY only, as dockerd); empty: none. */
  detachKeys: readonly number[];
}

/**
 * A live connection to one container's shim. Emits:
 *  'output' (rec: OutputRecord)   as the container writes
 *  'exit'   (status: ExitStatus)  once, when the container's init ends
 *  'close'  ()                    when the connection ends (shim gone)
 */
export interface ShimConnection extends EventEmitter {
  /** False when the shim is not taking stdin as fast: wait for stdinWritable() before more. */
  writeStdin(data: Buffer): boolean;
  /** Resolves when stdin may be written again (or the connection is gone). */
  stdinWritable(): Promise<void>;
  closeStdin(): void;
  resize(height: number, width: number): void;
  close(): void;
}

export interface LogReadOptions {
  /** seconds (float) since epoch; records at or after */
  since?: number;
  /** seconds (float) since epoch; records before */
  until?: number;
  /** last N records; undefined = all */
  tail?: number;
  stdout: boolean;
  stderr: boolean;
}

export interface RuntimeApi {
  /**
   * Mount rootfs, write config.json, start the shim, connect to it, and only then let the shim
   * start the container, so no output is missed by attached clients. Resolves once running.
   * Rejects with a BerthError whose message contains Docker's wording for the CLI's exit-code
   * mapping ("executable file not found" -> 127, "permission denied" -> 126).
   */
  start(req: StartRequest): Promise<{ result: StartResult; conn: ShimConnection }>;
  /**
   * Run a process in a running container under its own shim (exec mode), connect to it, and
   * resolve once it runs; output and exit come over the returned connection, nothing is logged.
   * Rejects with Docker's wording ("OCI runtime exec failed: …") when the process cannot start.
   */
  exec(req: ExecRequest): Promise<{ result: StartResult; conn: ShimConnection }>;
  /** Connect to a running container's shim (also after a daemon restart). */
  connect(dir: string): Promise<ShimConnection>;
  /** Send a signal to the container's init process. */
  kill(pid: number, signal: string | number): void;
  /** Whether the shim of a container is still alive (after a daemon restart). */
  isAlive(shimPid: number): boolean;
  /** Read the exit file the shim wrote, if the container has ended. */
  readExit(dir: string): Promise<ExitStatus | undefined>;
  /**
   * After exit: end any shim of the container still alive (`shimPid`, the one that reported the
   * exit, gets a moment to finish), delete runtime state, unmount rootfs. Idempotent.
   */
  cleanup(id: string, dir: string, rootfsTarget: string, shimPid?: number): Promise<void>;
  /**
   * The OCI runtime still holds state for this ID, or a shim may still serve its folder `dir`
   * (a start or an exit cut short by a crash).
   */
  leftover?(id: string, dir?: string): boolean;
  /** Read logged records (for `logs`), optionally filtered. */
  readLogs(logPath: string, opts: LogReadOptions): AsyncIterable<OutputRecord>;
  /** Freeze every process of a running container (`crun pause`, the freezer cgroup). */
  pause(id: string): Promise<void>;
  /** Thaw a paused container (`crun resume`). */
  resume(id: string): Promise<void>;
  /**
   * Whether the container's freezer cgroup holds it frozen (or freezing); undefined when that
   * cannot be read. Told apart from the record after a crash: a pause may have outlived its answer.
   */
  frozen?(id: string): Promise<boolean | undefined>;
  /** Change a running container's cgroup limits (`crun update --resources`, OCI linux.resources). */
  update(id: string, dir: string, resources: object): Promise<void>;
}
