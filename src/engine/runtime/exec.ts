/**
 * `docker exec`: one process in a running container, under its own berth-shim in exec mode
 * (`--exec-process`). The shim runs `<runtime> exec --detach --process process.json <id>`
 * instead of `run`, mounts nothing, deletes nothing, logs nothing, and otherwise speaks the same
 * socket protocol as a container's shim, so ShimClient serves both.
 *
 * Files of one exec live in its own folder (<container dir>/exec/<exec id>/): process.json,
 * shim.sock, container.pid, console.sock (TTY), exit.json. The caller removes the folder after
 * the exit.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SystemError } from '../errors.js';
import { connectUnix, ShimClient } from './shimconn.js';
import { consoleSizeArgs, reapFailedShim, spawnShim } from './shim-launch.js';
import { translateStartError } from './start-errors.js';
import { logFailure } from '../log-failure.js';
import type { ExecRequest, ShimConnection, StartResult } from './types.js';

export const EXEC_SOCKET = 'shim.sock';
export const EXEC_EXIT_FILE = 'exit.json';
export const EXEC_PROCESS_FILE = 'process.json';

export interface ExecRuntime {
  /** the OCI runtime binary */
  bin: string;
  /** its --root, if not the default */
  root?: string;
  timeoutMs: number;
}

/** Docker's wording for a process that cannot be started by exec (the CLI shows it, exits 126). */
export function translateExecError(msg: string, argv0: string | undefined): string {
  return translateStartError(msg, argv0)
    .replace(/^failed to create task for container: failed to create shim task: OCI runtime create failed: /, 'OCI runtime exec failed: exec failed: ');
}

export async function startExec(req: ExecRequest, rt: ExecRuntime): Promise<{ result: StartResult; conn: ShimConnection }> {
  const proc = req.process as { args?: string[]; terminal?: boolean; consoleSize?: { height: number; width: number } };
  proc.terminal = req.tty;
  await mkdir(req.dir, { recursive: true, mode: 0o700 });
  const processFile = join(req.dir, EXEC_PROCESS_FILE);
  await writeFile(processFile, JSON.stringify(proc));
  const sock = join(req.dir, EXEC_SOCKET);
  const args = ['--id', req.containerId, '--bundle', req.dir, '--runtime', rt.bin, '--log', '',
    '--socket', sock, '--exit', join(req.dir, EXEC_EXIT_FILE), '--exec-process', processFile];
  if (rt.root) args.push('--runtime-root', rt.root);
  if (req.openStdin) args.push('--stdin');
  if (req.tty) args.push('--tty', ...consoleSizeArgs(proc));

  const shimPid = await spawnShim(args);
  const conn = new ShimClient(connectUnix(sock));
  conn.go(); // queued until connected
  type Outcome = { ok: true; pid: number; startedAt: string } | { ok: false; msg: string };
  const outcome = await new Promise<Outcome>((resolve) => {
    const t = setTimeout(() => resolve({ ok: false, msg: `timeout after ${rt.timeoutMs} ms waiting for the exec process to start` }), rt.timeoutMs);
    conn.once('started', (s: { pid: number; startedAt: string }) => { clearTimeout(t); resolve({ ok: true, ...s }); });
    conn.once('startError', (m: string) => { clearTimeout(t); resolve({ ok: false, msg: m }); });
    conn.once('lowclose', () => { clearTimeout(t); resolve({ ok: false, msg: 'berth-shim closed the connection before the exec process started' }); });
  });
  if (outcome.ok) {
    // 'output'/'exit' stay queued until the caller has attached its listeners
    setImmediate(() => conn.release());
    return { result: { pid: outcome.pid, shimPid, startedAt: outcome.startedAt }, conn };
  }
  await reapFailedShim(conn, shimPid);
  await rm(req.dir, { recursive: true, force: true }).catch(logFailure(`removing the folder of a failed exec (${req.dir})`));
  throw new SystemError(translateExecError(outcome.msg, proc.args?.[0]));
}
