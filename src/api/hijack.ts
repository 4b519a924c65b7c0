/**
 * What attach and exec start share once a connection is hijacked: the response head, stdin with
 * detach keys (TTY only, as dockerd), and output framed or raw with backpressure.
 */
import type { StreamSession } from '../engine/runtime/types.js';

export type { StreamSession };
import { frame, STDERR, STDOUT } from '../util/stdcopy.js';
import type { HijackContext } from './router.js';
import { versionAtLeast } from './version.js';

export const RAW_STREAM = 'application/vnd.docker.raw-stream';
export const MULTIPLEXED_STREAM = 'application/vnd.docker.multiplexed-stream';


/** Multiplexed framing for API >= 1.42 without a TTY; raw bytes otherwise. */
export function streamContentType(tty: boolean, version: string): string {
  return !tty && versionAtLeast(version, '1.42') ? MULTIPLEXED_STREAM : RAW_STREAM;
}

/** 101 after an Upgrade request, else a plain 200 with no framing: the socket is the stream. */
export function writeHijackHead(ctx: HijackContext, contentType: string): void {
  const head = ctx.upgrade
    ? `HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`
    : `HTTP/1.1 200 OK\r\nContent-Type: ${contentType}\r\n\r\n`;
  ctx.headSent = true;
  ctx.socket.write(head);
}

/** Detach keys matched across chunk boundaries; scan() returns where the sequence started, or -1. */
export function detachScanner(keys: readonly number[]) {
  let matched = 0;
  return {
    scan(chunk: Buffer): number {
      if (!keys.length) return -1;
      for (let i = 0; i < chunk.length; i++) {
        if (chunk[i] === keys[matched]) {
          matched++;
          if (matched === keys.length) { matched = 0; return Math.max(0, i + 1 - keys.length); }
        } else {
          matched = chunk[i] === keys[0] ? 1 : 0;
        }
      }
      return -1;
    },
  };
}

/**
 * Pump a session over a hijacked socket until its output ends or the client goes away.
 * `stdin` copies the client's bytes to the process, watching for the session's detach keys.
 */
export async function pumpSession(ctx: HijackContext, session: StreamSession, opts: {
  stdin: boolean; framed: boolean;
}): Promise<void> {
  const socket = ctx.socket;
  let gone = false;
  let waiting = false;
  socket.on('close', () => { gone = true; session.detach(); });
  if (opts.stdin) {
    const detach = detachScanner(session.detachKeys);
    // Backpressure: while the process's stdin is full the client is not read (its writes block
    // in its own kernel buffers), instead of its bytes piling up in the daemon.
    const write = (data: Buffer): void => {
      if (session.writeStdin(data) || waiting) return;
      waiting = true;
      socket.pause();
      void session.stdinWritable().then(() => {
        waiting = false;
        if (!gone) socket.resume();
      });
    };
    const feed = (chunk: Buffer): void => {
      const at = detach.scan(chunk);
      if (at >= 0) {
        if (at > 0) write(chunk.subarray(0, at));
        session.detach();
        socket.end();
        return;
      }
      write(chunk);
    };
    if (ctx.head.length) feed(ctx.head);
    socket.on('data', feed);
    socket.on('end', () => session.endStdin());
  } else {
    socket.on('data', () => undefined); // keep reading, so the client's half-close is seen
  }
  // The server may have paused the socket after reading the request body (see server.ts).
  if (!waiting) socket.resume();
  for await (const r of session.output) {
    if (gone) break;
    const data = opts.framed ? frame(r.stream === 'stdout' ? STDOUT : STDERR, r.data) : r.data;
    if (!socket.write(data)) await new Promise((res) => { socket.once('drain', res); socket.once('close', res); });
  }
  if (!gone) socket.end();
}
