/**
 * The per-container output hub: a container's shim connection, its output records and its exit
 * fan out from here to attach sessions, `logs -f` followers and waiters, whether they came before
 * start (`docker run` attaches first) or after. Stdin written before the shim is connected waits
 * here until it is.
 */
import { EventEmitter } from 'node:events';
import type { ExitStatus, OutputRecord, ShimConnection } from '../runtime/types.js';

/** The streams a reader wants. */
export interface StreamSelection { stdout: boolean; stderr: boolean }

/** Live records until the container exits or is removed; stop() ends it early. */
export interface Subscription {
  records: AsyncIterable<OutputRecord>;
  stop(): void;
}

export class OutputHub {
  private readonly emitter = new EventEmitter();
  private connection?: ShimConnection;
  private pendingStdin: Buffer[] = [];
  private stdinClosed = false;

  constructor() { this.emitter.setMaxListeners(0); }

  get conn(): ShimConnection | undefined { return this.connection; }

  /** A new run: stdin may be written and closed again. */
  reset(): void { this.stdinClosed = false; }

  /** Take the shim's output from now on; stdin that came early goes to it first. */
  connect(conn: ShimConnection): void {
    this.connection = conn;
    for (const chunk of this.pendingStdin) conn.writeStdin(chunk);
    this.pendingStdin = [];
    if (this.stdinClosed) conn.closeStdin();
    conn.on('output', (r: OutputRecord) => this.emitter.emit('output', r));
  }

  /** Forget the connection (it closed, or the container exited); returns what it was. */
  disconnect(only?: ShimConnection): ShimConnection | undefined {
    const conn = this.connection;
    if (!only || only === conn) this.connection = undefined;
    return conn;
  }

  writeStdin(data: Buffer): void {
    if (this.connection) this.connection.writeStdin(data);
    else this.pendingStdin.push(data);
  }

  closeStdin(): void {
    this.stdinClosed = true;
    this.connection?.closeStdin();
  }

  /** The container exited: followers end, waiters wake. */
  exited(status: ExitStatus): void { this.emitter.emit('exit', status); }

  /** The container is gone: everyone still listening ends. */
  removed(): void { this.emitter.emit('removed'); }

  nextExit(): Promise<ExitStatus> {
    return new Promise((resolve) => this.emitter.once('exit', resolve));
  }

  nextRemoval(): Promise<void> {
    return new Promise((resolve) => this.emitter.once('removed', () => resolve()));
  }

  /** A queue of live records, ending at exit or removal. */
  subscribe(filter: StreamSelection): Subscription {
    const emitter = this.emitter;
    const queue: OutputRecord[] = [];
    let ended = false;
    let wake: (() => void) | undefined;
    const onOutput = (r: OutputRecord) => {
      if ((r.stream === 'stdout' && !filter.stdout) || (r.stream === 'stderr' && !filter.stderr)) return;
      queue.push(r);
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
          while (queue.length) yield queue.shift()!;
          if (ended) return;
          await new Promise<void>((r) => { wake = r; });
          wake = undefined;
        }
      } finally {
        stop();
      }
    }
    return { records: records(), stop };
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

export interface AttachSession {
  /** Whether the container has a TTY (raw output) or not (stdout and stderr framed apart). */
  tty: boolean;
  /** Records to send, in order; the iterator ends when the container stops (or at once without stream). */
  output: AsyncIterable<OutputRecord>;
  writeStdin(data: Buffer): void;
  /** The client closed its stdin (half-close). */
  endStdin(): void;
  detach(): void;
  /** Bytes on stdin that detach the client (TTY only, as dockerd). */
  detachKeys: readonly number[];
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
    writeStdin(data: Buffer) { if (stdin) hub.writeStdin(data); },
    endStdin() { if (stdin && container.stdinOnce) hub.closeStdin(); },
    detach() { live?.stop(); },
  };
}
