/**
 * The per-container output hub: a container's shim connection, its output records and its exit
 * fan out from here to attach sessions, `logs -f` followers and waiters, whether they came before
 * start (`docker run` attaches first) or after. Stdin written before the shim is connected waits
 * here until it is.
 *
 * Memory is bounded per reader and for stdin: a live reader that falls MAX_QUEUED_BYTES behind is
 * dropped (its stream ends; the container never waits on a client and the log file keeps every
 * line), and a stdin writer is told to wait (writeStdin() false, then stdinWritable()) while the
 * shim or, before start, this hub holds as much as it takes.
 */
import { EventEmitter } from 'node:events';
import type { ExitStatus, OutputRecord, ShimConnection, StreamSession } from '../runtime/types.js';

/** Output queued for one live reader past which it is dropped (a client that stopped reading). */
export const MAX_QUEUED_BYTES = 4 * 1024 * 1024;
/** Stdin held before the container runs, past which its writers wait. */
export const MAX_PENDING_STDIN = 1024 * 1024;

/** The streams a reader wants. */
export interface StreamSelection { stdout: boolean; stderr: boolean }

/** Live records until the container exits or is removed; stop() ends it early. */
export interface Subscription {
  records: AsyncIterable<OutputRecord>;
  stop(): void;
  /** True once the reader fell MAX_QUEUED_BYTES behind and was cut off. */
  readonly dropped: boolean;
}

export class OutputHub {
  private readonly emitter = new EventEmitter();
  private connection?: ShimConnection;
  private pendingStdin: Buffer[] = [];
  private pendingBytes = 0;
  private stdinClosed = false;

  constructor() { this.emitter.setMaxListeners(0); }

  get conn(): ShimConnection | undefined { return this.connection; }

  /** Take the shim's output from now on; stdin that came early goes to it first. */
  connect(conn: ShimConnection): void {
    this.connection = conn;
    for (const chunk of this.pendingStdin) conn.writeStdin(chunk);
    this.pendingStdin = [];
    this.pendingBytes = 0;
    if (this.stdinClosed) conn.closeStdin();
    conn.on('output', (r: OutputRecord) => this.emitter.emit('output', r));
    this.emitter.emit('connected');
  }

  /** Forget the connection (it closed, or the container exited); returns what it was. */
  disconnect(only?: ShimConnection): ShimConnection | undefined {
    const conn = this.connection;
    if (!only || only === conn) this.connection = undefined;
    return conn;
  }

  /** False: wait for stdinWritable() before writing more. */
  writeStdin(data: Buffer): boolean {
    if (this.connection) return this.connection.writeStdin(data);
    this.pendingStdin.push(data);
    this.pendingBytes += data.length;
    return this.pendingBytes < MAX_PENDING_STDIN;
  }

  /** Resolves when stdin takes more: the shim drained, or the early stdin went to a new run. */
  stdinWritable(): Promise<void> {
    if (this.connection) return this.connection.stdinWritable();
    if (this.pendingBytes < MAX_PENDING_STDIN) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.emitter.off('connected', done);
        this.emitter.off('removed', done);
        resolve();
      };
      this.emitter.on('connected', done);
      this.emitter.on('removed', done);
    });
  }

  /**
   * The attached client's stdin ended. Kept for the coming run when the container has not started
   * yet (`echo hi | docker run -i` often closes before the start), so the end always reaches it.
   */
  closeStdin(): void {
    this.stdinClosed = true;
    this.connection?.closeStdin();
  }

  /** The container exited: followers end, waiters wake; the next run starts with a fresh stdin. */
  exited(status: ExitStatus): void {
    this.stdinClosed = false;
    this.pendingStdin = [];
    this.pendingBytes = 0;
    this.emitter.emit('exit', status);
  }

  /** The container is gone: everyone still listening ends. */
  removed(): void { this.emitter.emit('removed'); }

  nextExit(): Promise<ExitStatus> {
    return new Promise((resolve) => this.emitter.once('exit', resolve));
  }

  nextRemoval(): Promise<void> {
    return new Promise((resolve) => this.emitter.once('removed', () => resolve()));
  }

  /** A queue of live records, ending at exit or removal, or when the reader falls too far behind. */
  subscribe(filter: StreamSelection, maxQueued = MAX_QUEUED_BYTES): Subscription {
    const emitter = this.emitter;
    const queue: OutputRecord[] = [];
    let queued = 0;
    let ended = false;
    let dropped = false;
    let wake: (() => void) | undefined;
    const onOutput = (r: OutputRecord) => {
      if ((r.stream === 'stdout' && !filter.stdout) || (r.stream === 'stderr' && !filter.stderr)) return;
      queue.push(r);
      queued += r.data.length;
      if (queued > maxQueued) {
        // A slow reader: cut it off rather than hold the container's output for it.
        dropped = true;
        queue.length = 0;
        queued = 0;
        stop();
        return;
      }
      wake?.();
    };
    const onEnd = () => { ended = true; wake?.(); };
    emitter.on('output', onOutput);
    emitter.once('exit', onEnd);
    emitter.once('removed', onEnd);
    const stop = () => {
      emitter.off('output', onOutput);
      emitter.off('exit', onEnd);
      emitter.off('removed', onEnd);
      onEnd();
    };
    async function* records(): AsyncGenerator<OutputRecord> {
      try {
        for (;;) {
          while (queue.length) {
            const r = queue.shift()!;
            queued -= r.data.length;
            yield r;
          }
          if (ended) return;
          await new Promise<void>((r) => { wake = r; });
          wake = undefined;
        }
      } finally {
        stop();
      }
    }
    return { records: records(), stop, get dropped() { return dropped; } };
  }
}

/** The hubs of all containers, made on first use. */
export class Hubs {
  private readonly hubs = new Map<string, OutputHub>();

  of(id: string): OutputHub {
    let hub = this.hubs.get(id);
    if (!hub) {
      hub = new OutputHub();
      this.hubs.set(id, hub);
    }
    return hub;
  }

  /** The hub, without making one. */
  peek(id: string): OutputHub | undefined { return this.hubs.get(id); }

  /** The container is gone: wake its listeners and drop the hub. */
  remove(id: string): void {
    const hub = this.hubs.get(id);
    if (!hub) return;
    hub.removed();
    this.hubs.delete(id);
  }

  /** Daemon shutdown: close the shim connections; containers keep running under their shims. */
  closeAll(): void {
    for (const hub of this.hubs.values()) hub.disconnect()?.close();
  }
}

export interface AttachOptions {
  stdin: boolean; stdout: boolean; stderr: boolean; logs: boolean; stream: boolean;
  /** `--detach-keys`; Docker's default when unset. */
  detachKeys?: string;
}

export interface AttachSession extends StreamSession {
  /** Whether the container has a TTY (raw output) or not (stdout and stderr framed apart). */
  tty: boolean;
}

/**
 * An attach to one container: the logged records first (`logs`), then live ones (`stream`; a
 * stream attach to a stopped container waits for its next run, as dockerd's `start -a`), and the
 * client's stdin when the container keeps it open.
 */
export function attachSession(hub: OutputHub, container: { tty: boolean; openStdin: boolean; stdinOnce: boolean },
  opts: AttachOptions, detachKeys: readonly number[], logged: () => AsyncIterable<OutputRecord>): AttachSession {
  const selection = { stdout: opts.stdout, stderr: opts.stderr };
  const live = opts.stream ? hub.subscribe(selection) : undefined;
  async function* output(): AsyncGenerator<OutputRecord> {
    try {
      if (opts.logs) yield* logged();
      if (live) yield* live.records;
    } finally {
      live?.stop();
    }
  }
  const stdin = opts.stdin && container.openStdin;
  return {
    tty: container.tty,
    detachKeys,
    output: output(),
    writeStdin(data: Buffer) { return stdin ? hub.writeStdin(data) : true; },
    stdinWritable: () => (stdin ? hub.stdinWritable() : Promise.resolve()),
    endStdin() { if (stdin && container.stdinOnce) hub.closeStdin(); },
    detach() { live?.stop(); },
  };
}
