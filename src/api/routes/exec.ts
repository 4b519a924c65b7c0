import { InvalidParameterError } from '../../engine/errors.js';
import { parseDetachKeys, type ExecCreateBody } from '../../engine/exec/service.js';
import type { OutputRecord } from '../../engine/runtime/types.js';
import { frame, STDERR, STDOUT } from '../../util/stdcopy.js';
import { intParam, sendJson, type HijackContext, type Router } from '../router.js';
import { versionAtLeast } from '../version.js';
import { messageOf } from '../errors.js';
import { writeHijackHead } from './containers.js';

const RAW = 'application/vnd.docker.raw-stream';
const MUX = 'application/vnd.docker.multiplexed-stream';

interface ExecStartBody { Detach?: boolean; Tty?: boolean; ConsoleSize?: [number, number] | null }

export function registerExecRoutes(router: Router): void {
  router.add('POST', '/containers/{id}/exec', async (ctx) => {
    const body = await ctx.json<ExecCreateBody>();
    if (!body || typeof body !== 'object') throw new InvalidParameterError('No exec command specified');
    if (!versionAtLeast(ctx.version, '1.42')) delete body.ConsoleSize;
    const id = ctx.engine.exec.create(ctx.params[0], body);
    sendJson(ctx.res, 201, { Id: id });
  });

  router.add('GET', '/exec/{id}/json', (ctx) => {
    sendJson(ctx.res, 200, ctx.engine.exec.inspect(ctx.params[0]));
  });

  router.add('POST', '/exec/{id}/resize', (ctx) => {
    ctx.engine.exec.resize(ctx.params[0], intParam(ctx.query, 'h') ?? 0, intParam(ctx.query, 'w') ?? 0);
    ctx.res.writeHead(200, { 'Content-Length': '0' }).end();
  });

  router.hijack('POST', '/exec/{id}/start', execStart);
}

async function execStart(ctx: HijackContext): Promise<void> {
  const id = ctx.params[0];
  const body = (await ctx.json<ExecStartBody>()) ?? {};
  const exec = ctx.engine.exec;
  // Errors up to here are plain HTTP errors (404 no such exec, 409 container not running).
  const info = exec.check(id);
  const consoleSize = versionAtLeast(ctx.version, '1.42') && Array.isArray(body.ConsoleSize) ? body.ConsoleSize : undefined;
  const socket = ctx.socket;

  if (body.Detach) {
    await exec.start(id, { detach: true, consoleSize });
    // No hijack: a bare 200, and the connection ends (the server's response object is bypassed).
    socket.end(`HTTP/1.1 200 OK\r\nApi-Version: ${ctx.version}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    return;
  }

  const tty = body.Tty ?? info.tty;
  writeHijackHead(ctx, !tty && versionAtLeast(ctx.version, '1.42') ? MUX : RAW);
  const out = (stream: number, data: Buffer): boolean => socket.write(tty ? data : frame(stream, data));

  let session;
  try {
    session = await exec.start(id, { detach: false, consoleSize });
  } catch (err) {
    // As dockerd: the error goes into the stream (stdout), the exec's ExitCode is 126.
    out(STDOUT, Buffer.from(messageOf(err) + '\r\n'));
    socket.end();
    return;
  }
  if (!session) { socket.end(); return; }
  let gone = false;
  socket.on('close', () => { gone = true; session.detach(); });
  if (info.openStdin) {
    // As dockerd: detach keys are looked for only with a TTY; a plain stdin is copied verbatim.
    const detach = detachScanner(tty ? info.detachKeys || 'ctrl-p,ctrl-q' : '');
    const feed = (chunk: Buffer): void => {
      const at = detach.scan(chunk);
      if (at >= 0) {
        if (at > 0) session.writeStdin(chunk.subarray(0, at));
        session.detach();
        socket.end();
        return;
      }
      session.writeStdin(chunk);
    };
    if (ctx.head.length) feed(ctx.head);
    socket.on('data', feed);
    // The client half-closed its side: close the process's stdin; output keeps flowing.
    socket.on('end', () => session.endStdin());
  } else {
    socket.on('data', () => undefined);
  }
  for await (const r of session.output as AsyncIterable<OutputRecord>) {
    if (gone) break;
    if (!out(r.stream === 'stdout' ? STDOUT : STDERR, r.data)) await new Promise((res) => { socket.once('drain', res); socket.once('close', res); });
  }
  if (!gone) socket.end();
}

/** Detach keys matched across chunk boundaries; returns where the sequence started, or -1. */
function detachScanner(spec: string) {
  const keys = parseDetachKeys(spec);
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
