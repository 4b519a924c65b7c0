import { InvalidParameterError } from '../../wire/errors.js';
import type { ExecCreateBody } from '../../engine/exec/service.js';
import { frame, STDOUT } from '../../util/stdcopy.js';
import { intParam, sendJson, type HijackContext, type Router } from '../router.js';
import { versionAtLeast } from '../version.js';
import { messageOf } from '../errors.js';
import { checkBody } from '../body.js';
import { EXEC_CREATE, EXEC_START } from '../schemas.js';
import { pumpSession, streamContentType, writeHijackHead } from '../hijack.js';

interface ExecStartBody { Detach?: boolean; Tty?: boolean; ConsoleSize?: [number, number] | null }

export function registerExecRoutes(router: Router): void {
  router.add('POST', '/containers/{id}/exec', async (ctx) => {
    const body = await ctx.json<ExecCreateBody>();
    if (!body || typeof body !== 'object') throw new InvalidParameterError('No exec command specified');
    checkBody(body, EXEC_CREATE);
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
  const body = checkBody(await ctx.json(), EXEC_START) as ExecStartBody;
  const exec = ctx.engine.exec;
  // Errors up to here are plain HTTP errors (404 no such exec, 409 container not running).
  const info = exec.check(id);
  const consoleSize = versionAtLeast(ctx.version, '1.42') && Array.isArray(body.ConsoleSize) ? body.ConsoleSize : undefined;
  const socket = ctx.socket;

  if (body.Detach) {
    await exec.start(id, { detach: true, consoleSize });
    // No hijack: a bare 200, and the connection ends (the server's response object is bypassed).
    ctx.headSent = true;
    socket.end(`HTTP/1.1 200 OK\r\nApi-Version: ${ctx.version}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    return;
  }

  const tty = body.Tty ?? info.tty;
  writeHijackHead(ctx, streamContentType(tty, ctx.version));

  let session;
  try {
    session = await exec.start(id, { detach: false, consoleSize });
  } catch (err) {
    // As dockerd: the error goes into the stream (stdout), the exec's ExitCode is 126. Not a 5xx
    // of ours: the process could not be started (no such executable, permission denied…).
    const msg = Buffer.from(messageOf(err) + '\r\n');
    socket.write(tty ? msg : frame(STDOUT, msg));
    socket.end();
    return;
  }
  if (!session) { socket.end(); return; }
  await pumpSession(ctx, session, {
    stdin: info.openStdin, framed: !tty,
  });
}
