/**
 * Client side of the berth-shim socket protocol (see native/shim/berth-shim.c).
 *   frame = u8 type | u8 flags | u16 0 | u32 length (LE) | payload
 */
import { EventEmitter } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { closeSync, openSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { ExitStatus, OutputRecord, ShimConnection } from './types.js';
import { SystemError } from '../errors.js';

export const FRAME = {
  STDOUT: 0x01,
  STDERR: 0x02,
  STARTED: 0x03,
  START_ERROR: 0x04,
  EXIT: 0x05,
  HELLO: 0x06,
  LOG_ERROR: 0x07,
  GO: 0x10,
  STDIN: 0x11,
  STDIN_CLOSE: 0x12,
  RESIZE: 0x13,
} as const;

export interface ShimHello {
  shimPid: number;
  state: 'created' | 'starting' | 'running' | 'exited';
  /** container init pid, or -1 before it started */
  pid: number;
  startedAt: string;
}

export function encodeFrame(type: number, payload?: Buffer, flags = 0): Buffer {
  const n = payload?.length ?? 0;
  const b = Buffer.allocUnsafe(8 + n);
  b[0] = type;
  b[1] = flags;
  b.writeUInt16LE(0, 2);
  b.writeUInt32LE(n, 4);
  if (payload) payload.copy(b, 8);
  return b;
}

/** Incremental frame decoder. */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer, onFrame: (type: number, flags: number, payload: Buffer) => void): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    let off = 0;
    while (this.buf.length - off >= 8) {
      const len = this.buf.readUInt32LE(off + 4);
      if (this.buf.length - off < 8 + len) break;
      onFrame(this.buf[off]!, this.buf[off + 1]!, this.buf.subarray(off + 8, off + 8 + len));
      off += 8 + len;
    }
    this.buf = off === this.buf.length ? Buffer.alloc(0) : Buffer.from(this.buf.subarray(off));
  }
}

/**
 * A live connection to one shim. Events: 'output' (OutputRecord), 'exit' (ExitStatus), 'close'.
 * Internal events used by the runtime: 'hello' (ShimHello), 'started' ({pid, startedAt}),
 * 'startError' (string).
 */
export class ShimClient extends EventEmitter implements ShimConnection {
  hello?: ShimHello;
  exitStatus?: ExitStatus;
  closed = false;
  private readonly dec = new FrameDecoder();
  /** While held, 'output'/'exit'/'close' are queued (so none is lost before listeners attach). */
  private held = true;
  private queue: Array<[string, unknown[]]> = [];

  constructor(private readonly sock: Socket) {
    super();
    sock.setNoDelay?.(true);
    sock.on('data', (c: Buffer) => this.dec.push(c, (t, f, p) => this.onFrame(t, f, p)));
    sock.on('error', () => { /* surfaced as 'close' */ });
    sock.on('close', () => {
      this.closed = true;
      this.emit('lowclose');
      this.deliver('close');
    });
  }

  private deliver(ev: string, ...args: unknown[]): void {
    if (this.held) this.queue.push([ev, args]);
    else this.emit(ev, ...args);
  }

  /** Start delivering 'output'/'exit'/'close' (queued ones first). */
  release(): void {
    if (!this.held) return;
    this.held = false;
    const q = this.queue;
    this.queue = [];
    for (const [ev, args] of q) this.emit(ev, ...args);
  }

  private onFrame(type: number, flags: number, p: Buffer): void {
    switch (type) {
      case FRAME.STDOUT:
      case FRAME.STDERR: {
        if (p.length < 8) return;
        const rec: OutputRecord = {
          stream: type === FRAME.STDOUT ? 'stdout' : 'stderr',
          timeNs: p.readBigUInt64LE(0),
          partial: (flags & 1) === 1,
          data: Buffer.from(p.subarray(8)),
        };
        this.deliver('output', rec);
        return;
      }
      case FRAME.HELLO:
        this.hello = JSON.parse(p.toString('utf8')) as ShimHello;
        this.emit('hello', this.hello);
        return;
      case FRAME.STARTED:
        this.emit('started', JSON.parse(p.toString('utf8')) as { pid: number; startedAt: string });
        return;
      case FRAME.START_ERROR:
        this.emit('startError', p.toString('utf8'));
        return;
      case FRAME.LOG_ERROR:
        // Log records the shim could not write (a full disk): dockerd logs them, so does berthd.
        process.emitWarning(`berthd: ${p.toString('utf8')}`);
        return;
      case FRAME.EXIT:
        this.exitStatus = JSON.parse(p.toString('utf8')) as ExitStatus;
        this.deliver('exit', this.exitStatus);
        return;
      default:
        return;
    }
  }

  /** Whether the socket takes more without queueing in our memory. */
  private send(frame: Buffer): boolean {
    if (this.closed || this.sock.destroyed) return true;
    return this.sock.write(frame);
  }

  go(): void { this.send(encodeFrame(FRAME.GO)); }

  /**
   * Backpressure: the shim stops reading its clients while the container's stdin holds 1 MiB
   * unwritten, so the socket fills and write() says so; the caller then waits for
   * stdinWritable() (and pauses its own source) instead of queueing here without a bound.
   */
  writeStdin(data: Buffer): boolean {
    // frames are capped at 1 MiB by the shim
    let ok = true;
    for (let off = 0; off < data.length; off += 512 * 1024) {
      ok = this.send(encodeFrame(FRAME.STDIN, data.subarray(off, off + 512 * 1024)));
    }
    return ok;
  }

  stdinWritable(): Promise<void> {
    const sock = this.sock;
    if (this.closed || sock.destroyed || !sock.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => { sock.off('drain', done); sock.off('close', done); resolve(); };
      sock.on('drain', done);
      sock.on('close', done);
    });
  }

  closeStdin(): void { this.send(encodeFrame(FRAME.STDIN_CLOSE)); }

  resize(height: number, width: number): void {
    const p = Buffer.alloc(4);
    p.writeUInt16LE(Math.max(0, Math.min(65535, height | 0)), 0);
    p.writeUInt16LE(Math.max(0, Math.min(65535, width | 0)), 2);
    this.send(encodeFrame(FRAME.RESIZE, p));
  }

  close(): void {
    if (!this.sock.destroyed) this.sock.end();
    this.sock.destroy();
  }
}

const SUN_PATH_MAX = 108;

/**
 * Connect to a unix socket whose path may be longer than sun_path allows (a long --data-root):
 * such a path is reached through a descriptor of its folder, /proc/self/fd/N/name, as the shim
 * binds it.
 */
export function connectUnix(path: string): Socket {
  if (Buffer.byteLength(path) < SUN_PATH_MAX) return netConnect(path);
  const fd = openSync(dirname(path), 'r');
  const sock = netConnect(`/proc/self/fd/${fd}/${basename(path)}`);
  // Exactly once: closing twice could close a descriptor that has been reused meanwhile.
  let open = true;
  const release = () => {
    if (!open) return;
    open = false;
    closeSync(fd);
  };
  sock.once('connect', release);
  sock.once('error', release);
  sock.once('close', release);
  return sock;
}

/** Open a socket to a shim. Resolves once the HELLO frame has arrived. */
export function openShim(sockPath: string, timeoutMs = 5000): Promise<ShimClient> {
  return new Promise((resolve, reject) => {
    const sock = connectUnix(sockPath);
    const client = new ShimClient(sock);
    let done = false;
    const timer = setTimeout(() => fail(new SystemError(`timeout connecting to shim at ${sockPath}`)), timeoutMs);
    const fail = (e: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      reject(e);
    };
    sock.once('error', fail);
    client.once('hello', () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.off('error', fail);
      resolve(client);
      setImmediate(() => client.release());
    });
    client.once('lowclose', () => fail(new SystemError(`shim at ${sockPath} closed the connection`)));
  });
}
